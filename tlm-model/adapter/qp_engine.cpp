#include "tlm-model/adapter/qp_engine.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "tlm-model/sim_time.h"

namespace chio::model {

using spec::cqe_status;
using spec::qp_state;
using spec::qe::status;
namespace pk = spec::packed;

qp_engine::qp_engine(adapter_core& core, event_unit& events, port& p, const qp_engine_timing& t)
    : m_core(core), m_events(events), m_port(p), m_t(t), m_tp(spec::limits::MAX_QP) {
    m_core.posted.set_limit(m_t.posted_writes_in_flight);
}

qp_ctx* qp_engine::live(uint32_t qpn) {
    qp_ctx* q = m_core.ctx.qp(qpn);
    return q != nullptr && q->state != qp_state::RESET ? q : nullptr;
}

bool qp_engine::frozen(uint32_t qpn) const {
    const qp_ctx& q = m_core.ctx.qps[qpn];
    return q.valid && q.fn < m_core.ctx.fns.size() && m_core.ctx.fns[q.fn].suspended;
}

uint32_t qp_engine::mtu_bytes(const qp_ctx& q) const {
    // Path MTU encoding: 256 B << (value - 1), capped by the port (IBA 9.8.1).
    const uint32_t path = q.attrs.path_mtu;
    const uint32_t port = static_cast<uint32_t>(m_core.port.max_mtu);
    const uint32_t e = path < port ? path : port;
    return 256u << (e - 1);
}

void qp_engine::on_transition(uint32_t qpn, qp_state from, qp_state to) {
    qp_ctx* q = m_core.ctx.qp(qpn);
    if (q == nullptr) return;
    if (m_core.probes.qp_state) m_core.probes.qp_state(qpn, to);
    qp_transport& t = tp(qpn);
    if (to == qp_state::RESET) {
        q->parked = false;
        m_core.sched.forget(qpn);
        t = qp_transport{};
        m_core.qe->wq_cfg({sq_wqid(qpn), false, false, 0, 0});
        m_core.qe->wq_cfg({rq_wqid(qpn), false, false, 0, 0});
    } else if (from == qp_state::RESET) {
        t = qp_transport{};
        const auto fn = static_cast<uint8_t>(q->fn);
        m_core.qe->wq_cfg({sq_wqid(qpn), true, true, fn, q->sq_log_size});
        if (q->srqn < 0) m_core.qe->wq_cfg({rq_wqid(qpn), true, false, fn, q->rq_log_size});
    }
    if (to == qp_state::RTR && from != qp_state::RTR) t.resp.epsn = q->attrs.rq_psn & PSN_MASK;
    if (to == qp_state::RTS && from == qp_state::RTR) {
        t.req.next_psn = q->attrs.sq_psn & PSN_MASK;
        t.req.retry_left = static_cast<uint32_t>(pk::QP_TIMERS_RETRY_CNT.get(q->attrs.timers));
        t.req.rnr_left = static_cast<uint32_t>(pk::QP_TIMERS_RNR_RETRY.get(q->attrs.timers));
    }
    m_core.collect();
    if (to == qp_state::ERR || to == qp_state::SQE) m_core.request_flush(qpn);
    if (to == qp_state::RTS && q->parked) {
        q->parked = false;
        m_core.sched.activate(qpn);
        m_core.work_ev.notify(sc_core::SC_ZERO_TIME);
    }
}

void qp_engine::on_doorbell(uint16_t wqid) {
    // Receive WQEs posted to a QP in ERR complete as flushed (catalogue C13); send WQEs reach
    // the same end through the scheduler.
    if (wqid >= 2 * spec::limits::MAX_QP) return;
    const qp_ctx* q = m_core.ctx.qp(wqid / 2u);
    if (q != nullptr && q->state == qp_state::ERR && (wqid & 1u)) m_core.request_flush(wqid / 2u);
}

void qp_engine::offer_wqe(uint32_t qpn, uint16_t index, const spec::send_wqe& w) {
    if (m_core.ctx.qp(qpn) == nullptr) return;
    requester_state& r = tp(qpn).req;
    r.db_wqe_valid = true;
    r.db_wqe_index = index;
    r.db_wqe = w;
}

void qp_engine::on_qe_error(const qe_err& e) {
    ++m_core.counters.doorbell_errors;
    // A doorbell index that jumps past the ring or backwards is a malformed queue: the owner's QP
    // goes to ERR (catalogue A4). Other refusals (unknown queue, wrong owner) have no effect on
    // the queue, so no other function can disturb it.
    if (e.code == spec::qe::error::DB_RANGE && !e.is_cr && e.id < 2 * spec::limits::MAX_QP) {
        const uint32_t qpn = e.id / 2u;
        qp_ctx* q = m_core.ctx.qp(qpn);
        if (q != nullptr && q->state != qp_state::ERR && q->state != qp_state::RESET) {
            m_core.post_async(q->fn, spec::eqe_type::QP_FATAL, qpn);
            to_error(qpn);
        }
    }
}

void qp_engine::on_cq_error(uint32_t cqn) {
    for (uint32_t qpn = 0; qpn < m_core.ctx.qps.size(); ++qpn) {
        const qp_ctx* q = m_core.ctx.qp(qpn);
        if (q != nullptr && (q->send_cqn == cqn || q->recv_cqn == cqn)) {
            m_core.post_async(q->fn, spec::eqe_type::QP_FATAL, qpn);
            to_error(qpn);
        }
    }
}

void qp_engine::to_send_queue_error(uint32_t qpn) {
    qp_ctx* q = m_core.ctx.qp(qpn);
    if (q == nullptr || q->state != qp_state::RTS) return;
    q->state = qp_state::SQE;
    on_transition(qpn, qp_state::RTS, qp_state::SQE);
}

void qp_engine::to_error(uint32_t qpn) {
    qp_ctx* q = m_core.ctx.qp(qpn);
    if (q == nullptr || q->state == qp_state::ERR || q->state == qp_state::RESET) return;
    const qp_state from = q->state;
    q->state = qp_state::ERR;
    on_transition(qpn, from, qp_state::ERR);
}

void qp_engine::retire(uint16_t wqid) {
    m_core.qe->deq_commit({wqid});
    m_core.collect();
}

void qp_engine::retire_and_complete(uint16_t wqid, uint32_t cqn, const spec::cqe& c,
                                    bool solicited) {
    retire(wqid);
    m_events.write_cqe(cqn, c, solicited);
}

void qp_engine::complete(uint32_t qpn, uint16_t index, const spec::send_wqe& w, cqe_status st,
                         uint32_t byte_len) {
    qp_ctx* q = live(qpn);
    if (q == nullptr) return;
    // Errors and flushes always complete; successes only when signaled.
    const bool error = st != cqe_status::SUCCESS;
    if (error && st != cqe_status::WR_FLUSH_ERR && q->type != spec::qp_type::UD) {
        tp(qpn).req.error_decided = true;
    }
    const bool ud = q->type == spec::qp_type::UD;
    retire(sq_wqid(qpn));  // before the CQE below (retire())
    if (error || (w.flags & spec::wqe_flags::SIGNALED)) {
        spec::cqe c{};
        c.wr_id = w.wr_id;
        c.status = static_cast<uint8_t>(st);
        c.byte_len = error ? 0 : byte_len;
        c.qpn = qpn;
        c.wqe_index = index;
        using op = spec::wqe_opcode;
        switch (static_cast<op>(w.opcode)) {
            case op::RDMA_WRITE:
            case op::RDMA_WRITE_WITH_IMM:
                c.opcode = static_cast<uint8_t>(spec::cqe_opcode::RDMA_WRITE);
                break;
            case op::RDMA_READ:
                c.opcode = static_cast<uint8_t>(spec::cqe_opcode::RDMA_READ);
                break;
            case op::ATOMIC_CMP_AND_SWP:
                c.opcode = static_cast<uint8_t>(spec::cqe_opcode::COMP_SWAP);
                break;
            case op::ATOMIC_FETCH_AND_ADD:
                c.opcode = static_cast<uint8_t>(spec::cqe_opcode::FETCH_ADD);
                break;
            default:
                c.opcode = static_cast<uint8_t>(spec::cqe_opcode::SEND);
                break;
        }
        m_events.write_cqe(q->send_cqn, c, false);
    }
    if (error && st != cqe_status::WR_FLUSH_ERR) {
        // A send error on a UD QP stops only its send queue (SQE: receives go on; IBA 10.3.1,
        // 11.6.2); on RC the whole QP goes to ERR.
        if (ud) {
            to_send_queue_error(qpn);
        } else {
            to_error(qpn);
        }
    }
}

void qp_engine::complete_front(uint32_t qpn, cqe_status st) {
    requester_state& r = tp(qpn).req;
    if (r.outstanding.empty()) return;
    const outstanding_wr wr = std::move(r.outstanding.front());
    r.outstanding.pop_front();
    // Unsent packets belong to the last WR: once it is gone (an error, or an acknowledgement
    // the peer had no right to send), they are never sent.
    if (r.outstanding.empty()) r.unsent.clear();
    if (wr.kind == wr_kind::read || wr.kind == wr_kind::atomic) --r.rd_atomic;
    complete(qpn, wr.index, wr.wqe, st, wr.length);
    if (r.error_wait && r.outstanding.empty()) {
        // The locally failed WQE behind them may complete now (error_wait).
        m_core.sched.activate(qpn);
        m_core.work_ev.notify(sc_core::SC_ZERO_TIME);
    }
}

void qp_engine::send_thread() {
    for (;;) {
        if (!m_core.flushes.empty()) {
            const uint32_t qpn = m_core.flushes.front();
            m_core.flushes.pop_front();
            flush(qpn);
            continue;
        }
        const sc_core::sc_time now = sc_core::sc_time_stamp();
        // Queues whose next packet's data has arrived return to the schedule.
        while (!m_data_wait.empty() && m_data_wait.begin()->first <= now) {
            const uint32_t qpn = m_data_wait.begin()->second;
            m_data_wait.erase(m_data_wait.begin());
            if (live(qpn) != nullptr) m_core.sched.activate(qpn);
        }
        const qos_pick p = m_core.sched.pick(time_ns(now));
        if (p.found) {
            m_core.sched.finish(p.qpn, serve(p.qpn));
            continue;
        }
        // Nothing can send now: sleep until the earliest token refill (rounded up to the time
        // resolution, so the bucket has refilled when we look again), the earliest data
        // arrival, or new work.
        bool timed = false;
        sc_core::sc_time until;
        if (p.ready_ns >= 0.0) {
            const double ps = std::ceil((p.ready_ns - time_ns(now)) * 1000.0);
            until = now + sc_core::sc_time(std::max(1.0, ps), sc_core::SC_PS);
            timed = true;
        }
        if (!m_data_wait.empty() && (!timed || m_data_wait.begin()->first < until)) {
            until = m_data_wait.begin()->first;
            timed = true;
        }
        if (timed) {
            sc_core::wait(until - now, m_core.work_ev);
        } else {
            sc_core::wait(m_core.work_ev);
        }
    }
}

bool qp_engine::serve(uint32_t qpn) {
    qp_ctx* q = m_core.ctx.qp(qpn);
    if (q == nullptr) return false;
    requester_state& r = tp(qpn).req;
    if (!r.unsent.empty()) {
        // A message in progress goes on in RTS, and in SQD (a drain finishes what it started).
        if (q->state == qp_state::RTS || q->state == qp_state::SQD) {
            if (!send_ready(qpn)) return false;
            prefetch(qpn);
            return !r.unsent.empty() || !r.staged.empty();
        }
        r.unsent.clear();  // ERR/SQE: the flush completes its WQE; the rest is never sent
    }
    if (q->state != qp_state::RTS && q->state != qp_state::ERR && q->state != qp_state::SQE) {
        m_core.sched.consume(qpn);
        q->parked = true;  // resumes on the move to RTS
        return false;
    }
    if (r.stalled) {
        // A READ/atomic waits for a slot; the completer activates the queue when one frees.
        const uint32_t limit = std::max<uint32_t>(
            1, static_cast<uint32_t>(
                   spec::packed::QP_RD_ATOMIC_MAX_RD_ATOMIC.get(q->attrs.rd_atomic)));
        if (r.rd_atomic >= limit && q->state != qp_state::ERR) {
            m_core.sched.consume(qpn);
            return false;
        }
        r.stalled = false;
    }
    if (r.error_wait) {
        if (!r.outstanding.empty() && q->state == qp_state::RTS) {
            m_core.sched.consume(qpn);
            return false;
        }
        r.error_wait = false;
    }
    if (r.staged.empty()) {
        if (q->state == qp_state::RTS) {
            prefetch(qpn);
        } else {
            // ERR/SQE: one WQE at a time from the ring, completed as flushed.
            m_core.sched.consume(qpn);
            const qe_deq_resp d = m_core.qe->deq({sq_wqid(qpn)});
            m_core.collect();
            if (d.status == status::OK) stage_wqe(qpn, d.index);
        }
        if (r.staged.empty() || live(qpn) == nullptr) return false;
    }
    // A datagram leaves whole, so it waits for all its data; an RC message for its WQE (its
    // packets then wait for their chunks one by one).
    const staged_wqe& head = r.staged.front();
    const sc_core::sc_time at =
        q->state == qp_state::RTS && q->type == spec::qp_type::UD ? head.all_ready() : head.ready;
    if (at > sc_core::sc_time_stamp()) {
        wait_data(qpn, at);
        return false;
    }
    start_staged(qpn);
    if (live(qpn) == nullptr) return false;
    if (r.stalled) {
        m_core.sched.consume(qpn);
        return false;
    }
    if (!r.unsent.empty() && !send_ready(qpn)) return false;
    prefetch(qpn);
    return !r.unsent.empty() || !r.staged.empty();
}

void qp_engine::flush(uint32_t qpn) {
    // In-flight WQEs first, in order, then everything still in the rings.
    requester_state& r = tp(qpn).req;
    r.unsent.clear();
    while (!r.outstanding.empty()) {
        if (live(qpn) == nullptr) return;
        complete_front(qpn, cqe_status::WR_FLUSH_ERR);
    }
    r.deadline = sc_core::SC_ZERO_TIME;
    r.rnr_pending = false;
    // Then the WQEs the fetch stage took from the ring, in order (their private copies carry
    // the wr_id).
    r.stalled = false;
    r.error_wait = false;
    while (!r.staged.empty()) {
        if (live(qpn) == nullptr) return;
        const staged_wqe e = std::move(r.staged.front());
        r.staged.pop_front();
        r.staged_bytes -= e.payload.size();
        complete(qpn, e.index, e.wqe, cqe_status::WR_FLUSH_ERR, 0);
    }
    responder_state& s = tp(qpn).resp;
    for (const bool recv : {false, true}) {
        for (;;) {
            qp_ctx* q = live(qpn);
            // SQE flushes the send queue only; ERR flushes both.
            if (q == nullptr || (q->state != qp_state::ERR && q->state != qp_state::SQE)) return;
            if (recv && q->state == qp_state::SQE) return;
            uint16_t wqid = recv ? recv_wqid(qpn, q->srqn) : sq_wqid(qpn);
            uint16_t index = 0;
            if (recv && s.in_send) {
                // A receive WQE consumed by a message that will never finish.
                s.in_send = false;
                wqid = s.rwqe_wqid;
                index = s.rwqe_index;
            } else {
                // A QP on an SRQ leaves the SRQ's WQEs to the other QPs.
                if (recv && q->srqn >= 0) break;
                const qe_deq_resp d = m_core.qe->deq({wqid});
                m_core.collect();
                if (d.status != status::OK) break;
                index = d.index;
            }
            // Fetch the WQE for its wr_id; a failed fetch still completes (wr_id 0).
            uint64_t base = recv ? q->rq_addr : q->sq_addr;
            uint8_t log = recv ? q->rq_log_size : q->sq_log_size;
            if (recv && q->srqn >= 0) {
                const srq_ctx* sq = m_core.ctx.srq(static_cast<uint32_t>(q->srqn));
                if (sq == nullptr) break;
                base = sq->ring;
                log = sq->log_size;
            }
            const size_t sz = recv ? sizeof(spec::recv_wqe) : sizeof(spec::send_wqe);
            // wr_id sits at a different offset in the two WQE layouts (send: after the control
            // word; receive: first), so read it from its own field.
            const size_t at =
                recv ? offsetof(spec::recv_wqe, wr_id) : offsetof(spec::send_wqe, wr_id);
            uint64_t wr_id = 0;
            const uint16_t fn = q->fn;
            m_core.dma->read(fn, base + (index & ((1u << log) - 1)) * sz + at, &wr_id, 8);
            q = live(qpn);
            if (q == nullptr) return;
            spec::cqe c{};
            c.wr_id = wr_id;
            c.status = static_cast<uint8_t>(cqe_status::WR_FLUSH_ERR);
            c.qpn = qpn;
            c.wqe_index = index;
            c.opcode = static_cast<uint8_t>(recv ? spec::cqe_opcode::RECV : spec::cqe_opcode::SEND);
            retire_and_complete(wqid, recv ? q->recv_cqn : q->send_cqn, c, false);
        }
    }
}

}  // namespace chio::model
