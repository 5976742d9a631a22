// The responder's outgoing packets. A READ response leaves as its data arrives from host memory;
// the receive thread does not wait for that (it issues the reads and goes on with the next
// request), so the reads of the next READ overlap this one's response, as on adapters that keep
// several responder resources (max_dest_rd_atomic) busy at once. Responses of one QP leave in
// the order the receive thread produced them, which is PSN order: an ACK or NAK of a later
// request never passes a READ response still waiting for its data (the requester would take
// that as the READ response lost, IBA 9.7.5.1.1 and 9.9.2).
#include <algorithm>

#include "tlm-model/adapter/qp_engine.h"

namespace chio::model {

void qp_engine::respond(uint32_t qpn, packet_ptr p, sc_core::sc_time ready, bool ends_read) {
    responder_state& s = tp(qpn).resp;
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    if (s.responses_queued == 0 && ready <= now) {
        transmit(qpn, std::move(p));
        return;
    }
    if (s.response_gen == 0) s.response_gen = ++m_response_gens;
    ready = std::max({ready, now, s.last_response_ready});
    s.last_response_ready = ready;
    ++s.responses_queued;
    if (ends_read) ++s.reads_queued;
    m_responses.push({ready, ++m_response_seq, qpn, s.response_gen, std::move(p), ends_read});
    m_response_ev.notify(sc_core::SC_ZERO_TIME);
}

void qp_engine::response_thread() {
    for (;;) {
        if (m_responses.empty()) {
            sc_core::wait(m_response_ev);
            continue;
        }
        const sc_core::sc_time now = sc_core::sc_time_stamp();
        if (m_responses.top().ready > now) {
            // An earlier response queued meanwhile wakes the thread.
            sc_core::wait(m_responses.top().ready - now, m_response_ev);
            continue;
        }
        queued_response r = m_responses.top();
        m_responses.pop();
        // A QP reset since the response was queued (destroyed, reset, its function reset, its
        // VF moved away): its responses go with it.
        if (tp(r.qpn).resp.response_gen != r.gen) {
            m_response_left_ev.notify(sc_core::SC_ZERO_TIME);
            continue;
        }
        // port::transmit returns when the frame has left; until then the response still counts
        // as queued, so the QP's next packet cannot pass it.
        if (live(r.qpn) != nullptr) transmit(r.qpn, std::move(r.p));
        responder_state& s = tp(r.qpn).resp;
        if (s.response_gen == r.gen) {
            --s.responses_queued;
            if (r.ends_read) --s.reads_queued;
        }
        m_response_left_ev.notify(sc_core::SC_ZERO_TIME);
    }
}

}  // namespace chio::model
