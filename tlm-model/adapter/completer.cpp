// The requester's side of the wire: ACK/NAK and response handling, retransmission on timeout
// and after RNR NAKs, completion in order (IBA 1.4 9.7.5).
#include <algorithm>
#include <cstring>

#include "tlm-model/adapter/qp_engine.h"

namespace chio::model {

using spec::cqe_status;
using spec::roce::aeth_syndrome;
using spec::roce::opcode;
namespace pk = spec::packed;

namespace {

constexpr uint8_t AETH_KIND_SHIFT = 5;
constexpr uint8_t AETH_KIND_ACK = 0, AETH_KIND_RNR = 1, AETH_KIND_NAK = 3;

bool is_response(opcode op) {
    return op == opcode::RC_ACKNOWLEDGE || op == opcode::RC_ATOMIC_ACKNOWLEDGE ||
           op == opcode::RC_RDMA_READ_RESPONSE_FIRST ||
           op == opcode::RC_RDMA_READ_RESPONSE_MIDDLE || op == opcode::RC_RDMA_READ_RESPONSE_LAST ||
           op == opcode::RC_RDMA_READ_RESPONSE_ONLY;
}

}  // namespace

sc_core::sc_time qp_engine::ack_timeout(const qp_ctx& q) const {
    // Local ACK timeout: 4.096 us * 2^timeout; 0 disables the timer (IBA 11.2.4.2).
    const auto t = static_cast<uint32_t>(pk::QP_TIMERS_TIMEOUT.get(q.attrs.timers));
    if (t == 0) return sc_core::SC_ZERO_TIME;
    return sc_core::sc_time(4.096 * static_cast<double>(1ull << t), sc_core::SC_US);
}

void qp_engine::arm_timer(uint32_t qpn) {
    const qp_ctx* q = m_core.ctx.qp(qpn);
    requester_state& r = tp(qpn).req;
    if (q == nullptr || r.outstanding.empty()) {
        r.deadline = sc_core::SC_ZERO_TIME;
        return;
    }
    const sc_core::sc_time to = ack_timeout(*q);
    r.deadline =
        to == sc_core::SC_ZERO_TIME ? sc_core::SC_ZERO_TIME : sc_core::sc_time_stamp() + to;
    if (r.deadline != sc_core::SC_ZERO_TIME) {
        m_timed.insert(qpn);
        wake_timer(r.deadline);
    }
}

void qp_engine::wake_timer(sc_core::sc_time at) {
    // The timer thread re-scans every deadline whenever it wakes, so a deadline no earlier than
    // the one it sleeps until is found then; only an earlier one needs a wake-up. (Waking it for
    // every re-armed timer left one cancelled timeout per packet in SystemC's timed-event queue,
    // each held there until its time, milliseconds later: the queue grew to thousands of dead
    // entries and its heap operations were a fifth of the simulator's CPU time.)
    if (!m_timer_sleeps_timed || at < m_timer_wake) m_timer_ev.notify(sc_core::SC_ZERO_TIME);
}

void qp_engine::ack_up_to(uint32_t qpn, uint32_t psn) {
    requester_state& r = tp(qpn).req;
    bool progress = false;
    // SENDs and WRITEs complete when acknowledged; a READ or atomic only by its response.
    while (!r.outstanding.empty()) {
        const outstanding_wr& wr = r.outstanding.front();
        if (wr.kind == wr_kind::read || wr.kind == wr_kind::atomic) break;
        if (psn_diff(wr.last_psn, psn) > 0) break;
        complete_front(qpn, cqe_status::SUCCESS);
        progress = true;
        if (live(qpn) == nullptr) return;
    }
    if (progress) {
        if (const qp_ctx* q = m_core.ctx.qp(qpn)) {
            r.retry_left = static_cast<uint32_t>(pk::QP_TIMERS_RETRY_CNT.get(q->attrs.timers));
        }
        arm_timer(qpn);
    }
}

void qp_engine::retransmit(uint32_t qpn, uint32_t from_psn) {
    requester_state& r = tp(qpn).req;
    std::vector<packet_ptr> again;
    for (auto& wr : r.outstanding) {
        if (psn_diff(wr.last_psn, from_psn) < 0) continue;
        if (wr.kind == wr_kind::read) {
            // The READ is asked again from its start; responses restart too.
            wr.received = 0;
            wr.resp_packets = 0;
            again.push_back(wr.packets.front());
            continue;
        }
        for (const auto& p : wr.packets) {
            // Packets the send thread has not sent yet are not retransmissions: they go in
            // their own turns, after these.
            if (!r.unsent.empty() && psn_diff(p->psn, r.unsent.front()->psn) >= 0) break;
            if (psn_diff(p->psn, from_psn) >= 0) again.push_back(p);
        }
    }
    m_tc.retransmits += again.size();
    arm_timer(qpn);
    for (const auto& p : again) {
        if (live(qpn) == nullptr) return;
        transmit(qpn, p);
    }
}

void qp_engine::on_response(uint32_t qpn, const roce_packet& p) {
    qp_ctx* q = live(qpn);
    if (q == nullptr || q->type != spec::qp_type::RC || q->state == spec::qp_state::ERR) return;
    requester_state& r = tp(qpn).req;
    const bool has_aeth = p.opcode != opcode::RC_RDMA_READ_RESPONSE_MIDDLE;
    if (has_aeth) {
        const uint8_t kind = p.aeth.syndrome >> AETH_KIND_SHIFT;
        if (kind == AETH_KIND_RNR) {
            ++m_tc.rnr_naks_received;
            ack_up_to(qpn, (p.psn - 1) & PSN_MASK);
            if (live(qpn) == nullptr || r.outstanding.empty()) return;
            const bool infinite = pk::QP_TIMERS_RNR_RETRY.get(q->attrs.timers) == 7;
            if (!infinite && r.rnr_left == 0) {
                complete_front(qpn, cqe_status::RNR_RETRY_EXC_ERR);
                return;
            }
            if (!infinite) --r.rnr_left;
            r.rnr_pending = true;
            r.rnr_psn = p.psn;
            r.rnr_until = sc_core::sc_time_stamp() +
                          sc_core::sc_time(rnr_timer_us(p.aeth.syndrome & 31), sc_core::SC_US);
            r.deadline = sc_core::SC_ZERO_TIME;
            m_timed.insert(qpn);
            wake_timer(r.rnr_until);
            return;
        }
        if (kind == AETH_KIND_NAK) {
            ack_up_to(qpn, (p.psn - 1) & PSN_MASK);
            if (live(qpn) == nullptr || r.outstanding.empty()) return;
            const auto code = static_cast<aeth_syndrome>(p.aeth.syndrome);
            if (code == aeth_syndrome::NAK_PSN_SEQ_ERR) {
                retransmit(qpn, p.psn);  // go back N (IBA 9.7.5.2.2)
                return;
            }
            complete_front(qpn, code == aeth_syndrome::NAK_REM_ACCESS_ERR
                                    ? cqe_status::REM_ACCESS_ERR
                                : code == aeth_syndrome::NAK_INV_REQ ? cqe_status::REM_INV_REQ_ERR
                                                                     : cqe_status::REM_OP_ERR);
            return;
        }
        if (kind != AETH_KIND_ACK) return;
        if (p.opcode == opcode::RC_ACKNOWLEDGE) {
            ack_up_to(qpn, p.psn);
            return;
        }
    }
    // READ responses and atomic acknowledgements: they also acknowledge everything before.
    auto it =
        std::find_if(r.outstanding.begin(), r.outstanding.end(), [&](const outstanding_wr& w) {
            return (w.kind == wr_kind::read || w.kind == wr_kind::atomic) &&
                   psn_diff(p.psn, w.first_psn) >= 0 && psn_diff(p.psn, w.last_psn) <= 0;
        });
    if (it == r.outstanding.end()) {
        ++m_tc.duplicates;  // a response for something already done: ignore
        return;
    }
    const uint16_t fn = q->fn;
    // DMA waits may let other threads change the list: find the entry again by its first PSN.
    const uint32_t key = it->first_psn;
    auto refind = [&] {
        return std::find_if(r.outstanding.begin(), r.outstanding.end(),
                            [&](const outstanding_wr& w) { return w.first_psn == key; });
    };
    if (it->kind == wr_kind::atomic) {
        if (p.opcode != opcode::RC_ATOMIC_ACKNOWLEDGE) return;
        const uint64_t orig = p.atomic_ack.orig;
        const uint64_t pa = it->target.empty() ? 0 : it->target.front().pa;
        if (pa != 0) m_core.dma->write(fn, pa, &orig, 8);
        if (live(qpn) == nullptr) return;
        it = refind();
        if (it == r.outstanding.end()) return;
    } else {
        if (p.opcode == opcode::RC_ATOMIC_ACKNOWLEDGE) return;
        // Responses arrive in order; anything else waits for the retransmission.
        if (psn_diff(p.psn, (it->first_psn + it->resp_packets) & PSN_MASK) != 0) return;
        const uint32_t seg = static_cast<uint32_t>(p.payload.size());
        if (it->received + seg > it->length) return;
        uint32_t off = it->received, done = 0;
        const std::vector<local_segment> targets = it->target;
        for (const auto& t : targets) {
            if (off >= t.len) {
                off -= static_cast<uint32_t>(t.len);
                continue;
            }
            const uint32_t n = std::min<uint32_t>(static_cast<uint32_t>(t.len) - off, seg - done);
            write_data(fn, t.pa + off, p.payload.data() + done, n);
            done += n;
            off = 0;
            if (done == seg) break;
        }
        if (live(qpn) == nullptr) return;
        it = refind();
        if (it == r.outstanding.end()) return;
        it->received += seg;
        ++it->resp_packets;
        const bool last = p.opcode == opcode::RC_RDMA_READ_RESPONSE_LAST ||
                          p.opcode == opcode::RC_RDMA_READ_RESPONSE_ONLY;
        if (!last) {
            arm_timer(qpn);
            return;
        }
    }
    if (live(qpn) == nullptr) return;
    const uint32_t first = it->first_psn;
    ack_up_to(qpn, (first - 1) & PSN_MASK);
    if (live(qpn) == nullptr || r.outstanding.empty() || r.outstanding.front().first_psn != first) {
        return;
    }
    complete_front(qpn, cqe_status::SUCCESS);
    arm_timer(qpn);
    if (r.stalled) {
        m_core.sched.activate(qpn);
        m_core.work_ev.notify(sc_core::SC_ZERO_TIME);
    }
}

void qp_engine::rx_thread() {
    // One packet is parsed at a time, each for rx_process_ns from its arrival or from the end of
    // the previous packet's handling, whichever is later. The port wakes this thread when an
    // idle parser's packet is parsed; a packet that queued meanwhile is waited for here.
    const sc_core::sc_time parse(m_t.rx_process_ns, sc_core::SC_NS);
    m_port.set_parse_time(parse);
    sc_core::sc_time handled;  // when the previous packet's handling ended
    for (;;) {
        packet_ptr p;
        sc_core::sc_time arrived;
        if (!m_port.pop(p, arrived)) {
            sc_core::wait(m_port.rx_event());
            continue;
        }
        const sc_core::sc_time parsed = std::max(arrived, handled) + parse;
        if (parsed > sc_core::sc_time_stamp()) sc_core::wait(parsed - sc_core::sc_time_stamp());
        handle_packet(std::move(p));
        handled = sc_core::sc_time_stamp();
    }
}

void qp_engine::handle_packet(packet_ptr p) {
    const uint32_t qpn = p->dest_qp;
    if (qpn >= spec::limits::MAX_QP) return;  // no such QP: silently dropped
    // A packet for one function's address reaches only that function's QPs.
    if (!m_core.ingress_allowed(*p)) return;
    // A suspended function's state is being saved: nothing it receives may change it. The
    // peer retransmits to wherever the function resumes (docs/migration.md).
    if (frozen(qpn)) {
        ++m_core.ctx.fns[m_core.ctx.qps[qpn].fn].rx_dropped;
        return;
    }
    if (p->opcode == opcode::UD_SEND_ONLY || p->opcode == opcode::UD_SEND_ONLY_WITH_IMM) {
        on_ud(qpn, *p);
    } else if (is_response(p->opcode)) {
        on_response(qpn, *p);
    } else {
        on_request(qpn, *p);
    }
}

void qp_engine::timer_thread() {
    for (;;) {
        // The earliest deadline among the QPs with a timer running.
        sc_core::sc_time next = sc_core::SC_ZERO_TIME;
        uint32_t who = 0;
        bool any = false;
        for (auto it = m_timed.begin(); it != m_timed.end();) {
            const requester_state& r = tp(*it).req;
            const bool rnr = r.rnr_pending;
            const bool ack = !r.outstanding.empty() && r.deadline != sc_core::SC_ZERO_TIME;
            if (!rnr && !ack) {
                it = m_timed.erase(it);
                continue;
            }
            if (frozen(*it)) {  // held while suspended; RESUME_VF wakes this thread
                ++it;
                continue;
            }
            const sc_core::sc_time t = rnr ? r.rnr_until : r.deadline;
            if (!any || t < next) {
                next = t;
                who = *it;
                any = true;
            }
            ++it;
        }
        if (!any) {
            m_timer_sleeps_timed = false;
            sc_core::wait(m_timer_ev);
            continue;
        }
        const sc_core::sc_time now = sc_core::sc_time_stamp();
        if (next > now) {
            m_timer_sleeps_timed = true;
            m_timer_wake = next;
            sc_core::wait(next - now, m_timer_ev);
            continue;
        }
        qp_ctx* q = live(who);
        requester_state& r = tp(who).req;
        if (q == nullptr || q->state == spec::qp_state::ERR) {
            r.rnr_pending = false;
            r.deadline = sc_core::SC_ZERO_TIME;
            continue;
        }
        if (r.rnr_pending) {
            r.rnr_pending = false;
            retransmit(who, r.rnr_psn);
            continue;
        }
        ++m_tc.timeouts;
        if (r.retry_left == 0) {
            r.deadline = sc_core::SC_ZERO_TIME;
            complete_front(who, cqe_status::RETRY_EXC_ERR);
            continue;
        }
        --r.retry_left;
        retransmit(who, r.outstanding.front().first_psn);
    }
}

}  // namespace chio::model
