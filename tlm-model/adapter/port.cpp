#include "tlm-model/adapter/port.h"

#include <algorithm>

#include "tlm-model/sim_time.h"

namespace chio::model {

using sc_core::sc_time;

port::port(port_config& cfg) : m_cfg(cfg) {}

void port::transmit(packet_ptr p) {
    if (!m_cfg.up) {
        ++m_counters.tx_dropped;
        return;
    }
    // Serialization: the frame occupies the port for its wire bytes at the port rate.
    const double ns = static_cast<double>(wire_occupancy(*p)) * 8.0 / m_cfg.gbps;
    const sc_time start = std::max(sc_core::sc_time_stamp(), m_busy_until);
    m_busy_until = start + ns_time(ns);
    sc_core::wait(m_busy_until - sc_core::sc_time_stamp());
    ++m_counters.tx_packets;
    m_counters.tx_bytes += wire_size(*p);
    if (m_tap) m_tap(*p);
    if (is_local(p->dst_mac)) {
        receive(std::move(p));  // loopback: the port turns the frame around
    } else if (m_wire) {
        m_wire(std::move(p));
    } else {
        ++m_counters.tx_dropped;
    }
}

void port::receive(packet_ptr p) {
    if (!m_cfg.up || !is_local(p->dst_mac)) {
        ++m_counters.rx_dropped;
        return;
    }
    if (p->corrupt) {
        // ICRC mismatch: silently dropped (IBA 1.4 section 9.8.3.1), counted.
        ++m_counters.rx_corrupt;
        return;
    }
    ++m_counters.rx_packets;
    m_counters.rx_bytes += wire_size(*p);
    // A later notification never displaces an earlier pending one, and the receive thread
    // drains the queue before it waits again, so no packet is left without a wake.
    m_rx.emplace_back(std::move(p), sc_core::sc_time_stamp());
    m_rx_ev.notify(m_parse);
}

void port::link_state_changed(bool up) {
    if (m_cfg.up == up) return;
    m_cfg.up = up;
    if (m_on_state) m_on_state(up);
}

bool port::pop(packet_ptr& p, sc_time& arrived) {
    if (m_rx.empty()) return false;
    p = std::move(m_rx.front().first);
    arrived = m_rx.front().second;
    m_rx.pop_front();
    return true;
}

}  // namespace chio::model
