#include "tlm-model/adapter/qp_engine.h"

#include <cstring>

namespace chio::model {

using spec::cqe_status;
using spec::qp_state;
using spec::qe::status;

qp_engine::qp_engine(adapter_core& core, event_unit& events, const qp_engine_timing& t)
    : m_core(core), m_events(events), m_t(t) {}

qp_ctx* qp_engine::live(uint32_t qpn) {
    qp_ctx* q = m_core.ctx.qp(qpn);
    return q != nullptr && q->state != qp_state::RESET ? q : nullptr;
}

void qp_engine::on_transition(uint32_t qpn, qp_state from, qp_state to) {
    qp_ctx* q = m_core.ctx.qp(qpn);
    if (q == nullptr) return;
    if (m_core.probes.qp_state) m_core.probes.qp_state(qpn, to);
    if (to == qp_state::RESET) {
        q->parked = false;
        m_core.qe->wq_cfg({sq_wqid(qpn), false, false, 0, 0});
        m_core.qe->wq_cfg({rq_wqid(qpn), false, false, 0, 0});
    } else if (from == qp_state::RESET) {
        const auto fn = static_cast<uint8_t>(q->fn);
        m_core.qe->wq_cfg({sq_wqid(qpn), true, true, fn, q->sq_log_size});
        m_core.qe->wq_cfg({rq_wqid(qpn), true, false, fn, q->rq_log_size});
    }
    m_core.collect();
    if (to == qp_state::ERR) m_core.request_flush(qpn);
    if (to == qp_state::RTS && q->parked) {
        q->parked = false;
        m_core.work.push_back(sq_wqid(qpn));
        m_core.work_ev.notify(sc_core::SC_ZERO_TIME);
    }
}

void qp_engine::on_doorbell(uint16_t wqid) {
    // Receive WQEs posted to a QP in ERR complete as flushed (catalogue C13); send WQEs reach
    // the same end through the scheduler.
    const qp_ctx* q = m_core.ctx.qp(wqid / 2u);
    if (q != nullptr && q->state == qp_state::ERR && (wqid & 1u)) m_core.request_flush(wqid / 2u);
}

void qp_engine::on_qe_error(const qe_err& e) {
    ++m_core.counters.doorbell_errors;
    // A doorbell index that jumps past the ring or backwards is a malformed queue: the owner's QP
    // goes to ERR (catalogue A4). Other refusals (unknown queue, wrong owner) have no effect on
    // the queue, so no other function can disturb it.
    if (e.code == spec::qe::error::DB_RANGE && !e.is_cr) {
        const uint32_t qpn = e.id / 2u;
        qp_ctx* q = m_core.ctx.qp(qpn);
        if (q != nullptr && q->state != qp_state::ERR && q->state != qp_state::RESET) {
            m_core.post_async(q->fn, spec::eqe_type::QP_FATAL, qpn);
            to_error(qpn);
        }
    }
}

void qp_engine::to_error(uint32_t qpn) {
    qp_ctx* q = m_core.ctx.qp(qpn);
    if (q == nullptr || q->state == qp_state::ERR) return;
    const qp_state from = q->state;
    q->state = qp_state::ERR;
    on_transition(qpn, from, qp_state::ERR);
}

void qp_engine::run() {
    for (;;) {
        if (!m_core.flushes.empty()) {
            const uint32_t qpn = m_core.flushes.front();
            m_core.flushes.pop_front();
            flush(qpn);
            continue;
        }
        if (m_core.work.empty()) {
            sc_core::wait(m_core.work_ev);
            continue;
        }
        const uint16_t wqid = m_core.work.front();
        m_core.work.pop_front();
        const uint32_t qpn = wqid / 2u;
        qp_ctx* q = m_core.ctx.qp(qpn);
        if (q == nullptr) continue;
        if (q->state != qp_state::RTS && q->state != qp_state::ERR) {
            q->parked = true;  // resumes on the move to RTS
            continue;
        }
        const qe_deq_resp r = m_core.qe->deq({wqid});
        m_core.collect();
        if (r.status != status::OK) continue;
        process_send(qpn, r.index);
    }
}

void qp_engine::flush(uint32_t qpn) {
    for (const bool recv : {false, true}) {
        for (;;) {
            qp_ctx* q = m_core.ctx.qp(qpn);
            if (q == nullptr || q->state != qp_state::ERR) return;
            const uint16_t wqid = recv ? rq_wqid(qpn) : sq_wqid(qpn);
            const qe_deq_resp r = m_core.qe->deq({wqid});
            m_core.collect();
            if (r.status != status::OK) break;
            // Fetch the WQE for its wr_id; a failed fetch still completes (wr_id 0).
            spec::cqe c{};
            const uint64_t base = recv ? q->rq_addr : q->sq_addr;
            const uint8_t log = recv ? q->rq_log_size : q->sq_log_size;
            const size_t sz = recv ? sizeof(spec::recv_wqe) : sizeof(spec::send_wqe);
            uint64_t wr_id = 0;
            const uint16_t fn = q->fn;
            if (m_core.dma->read(fn, base + (r.index & ((1u << log) - 1)) * sz, &wr_id, 8)) {
                c.wr_id = wr_id;
            }
            q = live(qpn);
            if (q == nullptr) return;
            c.status = static_cast<uint8_t>(cqe_status::WR_FLUSH_ERR);
            c.qpn = qpn;
            c.wqe_index = r.index;
            c.opcode = static_cast<uint8_t>(recv ? spec::cqe_opcode::RECV : spec::cqe_opcode::SEND);
            m_events.write_cqe(recv ? q->recv_cqn : q->send_cqn, c, false);
            m_core.qe->deq_commit({wqid});
            m_core.collect();
        }
    }
}

}  // namespace chio::model
