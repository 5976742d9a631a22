// eth_switch: an Ethernet switch of N ports, each joined by a link to one endpoint.
//
// Contract: connect() is called during elaboration, once per port; it creates the port's link
// (owned by the switch; side a is the switch, side b the endpoint), attaches both ends and enters
// the endpoint's MAC in the forwarding table, which is static: no learning, no flooding. The
// endpoint transmits through the eth_attachment connect() returns. A frame is forwarded once it
// has fully arrived (store and forward) to the port that owns its destination MAC, where the
// output port's link serializes it behind the frames already queued there (per-output-port
// queueing; the switch adds no latency of its own: fold it into the link latency). A frame for
// an unknown MAC, or for the port it came in on, is dropped and counted. The links' impairments,
// pcap taps and counters are reached through port_link().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "tlm-model/fabric/link.h"

namespace chio::model {

class eth_switch : public sc_core::sc_module {
public:
    eth_switch(sc_core::sc_module_name name, unsigned num_ports, uint64_t seed = 1);
    ~eth_switch() override;

    // Joins `endpoint` (MAC `mac`) to `port` by a new link with `cfg` in both directions. The
    // link of port p is seeded with seed + p. Returns the endpoint's attachment; a detached one
    // (attached() false) and `why` when the port is out of range or taken, the MAC is already on
    // another port, or cfg fails check().
    eth_attachment connect(unsigned port, eth_port_if& endpoint, const mac_address& mac,
                           const link_direction_config& cfg = {}, std::string* why = nullptr);

    // Points `mac` at `port` (a MAC that moved, e.g. a VM's after migration: the management
    // plane's update, as a gratuitous ARP would make a learning switch do). False for a port that
    // is out of range or not connected.
    bool learn(const mac_address& mac, unsigned port);

    unsigned num_ports() const { return static_cast<unsigned>(m_ports.size()); }
    // The link of a connected port; nullptr for an unconnected or out-of-range one.
    link* port_link(unsigned port) const;

    // Writes every frame an endpoint sends into the switch to `w`, once, at the time it left the
    // endpoint (the tap is on each port's endpoint-to-switch direction; forwarded copies are not
    // written again). Not owned.
    void set_pcap(pcap_writer* w);

    uint64_t forwarded() const { return m_forwarded; }
    uint64_t dropped_unknown() const { return m_dropped_unknown; }  // destination MAC not known
    uint64_t dropped_hairpin() const { return m_dropped_hairpin; }  // destination on the in-port

private:
    // The switch's side of one port's link.
    struct port : eth_port_if {
        eth_switch* sw = nullptr;
        unsigned index = 0;
        std::unique_ptr<link> wire;
        void receive(std::shared_ptr<const roce_packet> pkt) override;
    };

    void forward(unsigned in_port, std::shared_ptr<const roce_packet> pkt);

    std::vector<port> m_ports;
    std::map<mac_address, unsigned> m_table;
    uint64_t m_seed;
    pcap_writer* m_pcap = nullptr;
    uint64_t m_forwarded = 0;
    uint64_t m_dropped_unknown = 0;
    uint64_t m_dropped_hairpin = 0;
};

}  // namespace chio::model
