// Hosts and the fabric between them: loopback (one host; packets turn around in the adapter's
// port), pair (two hosts joined by one link) or star (N hosts on a switch). Host i's adapter has
// MAC 02:c4:10:00:00:<i+1> and GID ::ffff:10.0.0.<i+1>. With a pcap path, every frame that
// enters the fabric (or, in loopback, leaves the port) is written there.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cosim/platform.h"
#include "tlm-model/fabric/link.h"
#include "tlm-model/fabric/pcap_writer.h"
#include "tlm-model/fabric/switch.h"

namespace chio::cosim {

enum class topology_kind { loopback, pair, star };

struct topology_params {
    topology_kind kind = topology_kind::loopback;
    unsigned hosts = 1;  // star only; loopback has 1, pair 2
    model::link_direction_config link;
    uint64_t seed = 1;
    std::string pcap;
    platform_params host;  // per-host settings; the port identity is assigned per host
};

class topology {
public:
    explicit topology(const topology_params& p);
    // As above, with host 0's queue-engine options replaced (e.g. the one host whose RTL is
    // traced).
    topology(const topology_params& p, const model::queue_engine_options& host0_qe);
    ~topology();

    unsigned size() const { return static_cast<unsigned>(m_hosts.size()); }
    platform& host(unsigned i) { return *m_hosts.at(i); }
    model::link* wire() { return m_link.get(); }                   // pair only
    model::eth_switch* fabric_switch() { return m_switch.get(); }  // star only
    // Flushes and closes the pcap; false when writing it failed.
    bool close();

private:
    void build(const topology_params& p, const model::queue_engine_options* host0_qe);

    std::vector<std::unique_ptr<platform>> m_hosts;
    std::unique_ptr<model::link> m_link;
    std::unique_ptr<model::eth_switch> m_switch;
    std::unique_ptr<model::pcap_writer> m_pcap;
};

model::mac_address host_mac(unsigned i);
model::gid host_gid(unsigned i);

}  // namespace chio::cosim
