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

    // Waits (SystemC thread only) until fewer than the limit of writes are in flight. Writers
    // are admitted in the order they asked, as a device's posted TLPs leave in the order they
    // were queued: the completing engines rely on it. (Without the order, the receive thread
    // completing WQE 17 on its ACK and the send thread failing WQE 18 could both wait here and
    // wake in either order: 18's error CQE, the QP's ERR and 19's flush went out before 17's
    // success — `chio-sim faults --seed 45`.)
    void admit() {
        const uint64_t mine = m_asked++;
        for (;;) {
            const sc_core::sc_time now = sc_core::sc_time_stamp();
            while (!m_arrivals.empty() && m_arrivals.front() <= now) m_arrivals.pop_front();
            if (mine == m_admitted && m_arrivals.size() < m_limit) {
                ++m_admitted;
                // The next in line, if any asked meanwhile, looks again.
                if (m_asked != m_admitted) m_turn.notify(sc_core::SC_ZERO_TIME);
                return;
            }
            if (mine == m_admitted) {
                sc_core::wait(m_arrivals.front() - now);
            } else {
                sc_core::wait(m_turn);
            }
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
    uint64_t m_asked = 0;     // tickets handed out by admit()
    uint64_t m_admitted = 0;  // the ticket admitted next
    sc_core::sc_event m_turn;
};

}  // namespace chio::model
