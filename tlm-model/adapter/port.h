// The adapter's network port: serializes outgoing packets at the port rate and queues incoming
// ones for the receive thread.
//
// Contract: transmit() is called from an adapter thread and returns when the packet has left the
// port (busy-until per port, so two threads sending share the port's bandwidth). A packet for
// the port's own MAC or a function's MAC turns around inside the adapter (loopback); anything
// else goes to the
// attached wire (set_wire). receive() is the wire's entry point: it never blocks and may be
// called from any process. A port that is down drops both ways, counting.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <systemc>
#include <utility>

#include "tlm-model/adapter/adapter_core.h"
#include "tlm-model/fabric/link.h"
#include "tlm-model/fabric/packet.h"

namespace chio::model {

using packet_ptr = std::shared_ptr<const roce_packet>;

struct port_counters {
    uint64_t tx_packets = 0, tx_bytes = 0, rx_packets = 0, rx_bytes = 0;
    uint64_t tx_dropped = 0, rx_dropped = 0, rx_corrupt = 0;
};

class port : public eth_port_if {
public:
    explicit port(port_config& cfg);

    // Where packets for other adapters go (a link's or switch's input). Unset: dropped.
    void set_wire(std::function<void(packet_ptr)> wire) { m_wire = std::move(wire); }
    void set_tap(std::function<void(const roce_packet&)> tap) { m_tap = std::move(tap); }
    // The MACs this adapter answers to besides the port's own: every enabled function's
    // assigned MAC (the embedded switch delivers between functions without leaving the port).
    void set_local_macs(std::function<bool(const mac_address&)> is_local) {
        m_is_local = std::move(is_local);
    }
    bool is_local(const mac_address& m) const {
        return m == m_cfg.mac || (m_is_local && m_is_local(m));
    }

    void transmit(packet_ptr p);
    void receive(packet_ptr p) override;
    // The wire went down or came up: the port follows, and the owner hears of it.
    void link_state_changed(bool up) override;
    void on_state_change(std::function<void(bool)> f) { m_on_state = std::move(f); }

    // Receive thread side. The receive thread parses a packet for `parse` after its arrival;
    // rx_event() fires when the first packet that arrives while nothing is queued has been
    // parsed, so an idle receive thread wakes once per packet, not at the arrival and again
    // after the parse. pop() gives each packet with its arrival time.
    void set_parse_time(sc_core::sc_time parse) { m_parse = parse; }
    bool pop(packet_ptr& p, sc_core::sc_time& arrived);
    sc_core::sc_event& rx_event() { return m_rx_ev; }

    const port_config& config() const { return m_cfg; }
    const port_counters& counters() const { return m_counters; }

private:
    port_config& m_cfg;
    std::function<void(packet_ptr)> m_wire;
    std::function<void(const roce_packet&)> m_tap;
    std::function<void(bool)> m_on_state;
    std::function<bool(const mac_address&)> m_is_local;
    sc_core::sc_time m_busy_until;
    sc_core::sc_time m_parse;
    std::deque<std::pair<packet_ptr, sc_core::sc_time>> m_rx;  // with its arrival time
    sc_core::sc_event m_rx_ev;
    port_counters m_counters;
};

}  // namespace chio::model
