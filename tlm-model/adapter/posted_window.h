// The device's posted writes still on their way to the host: payload writes of received data and
// CQEs. A writer goes on at once after issuing one, and waits only while `limit` of them have not
// arrived yet, as a device out of the root port's posted-header credits would (PCIe 3.0 section
// 2.6.1: a transmitter holds a TLP until the receiver advertises credits for its type). One
// window per adapter, because the credits belong to its link, not to one engine.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <systemc>

namespace chio::model {

class posted_window {
public:
    // Writes allowed in flight, at least one: the QP engine sets it from
    // qp_engine_timing::posted_writes_in_flight, the one source of its default.
    void set_limit(uint32_t n) { m_limit = std::max<uint32_t>(n, 1); }

    // Waits (SystemC thread only) until fewer than limit() writes are in flight.
    void admit() {
        for (;;) {
            const sc_core::sc_time now = sc_core::sc_time_stamp();
            while (!m_arrivals.empty() && m_arrivals.front() <= now) m_arrivals.pop_front();
            if (m_arrivals.size() < m_limit) return;
            sc_core::wait(m_arrivals.front() - now);
        }
    }
    // A write issued now that arrives `delay` from now. Posted writes of one link stay in order
    // (PCIe 3.0 section 2.4.1), so arrivals are recorded first in, first out.
    void issued(const sc_core::sc_time& delay) {
        m_arrivals.push_back(sc_core::sc_time_stamp() + delay);
    }

private:
    uint32_t m_limit = 1;
    std::deque<sc_core::sc_time> m_arrivals;
};

}  // namespace chio::model
