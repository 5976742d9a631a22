// The send path of the QP engine: fetch, validate, gather, deliver, complete.
#include <algorithm>
#include <cstring>

#include "tlm-model/adapter/qp_engine.h"

namespace chio::model {

using spec::cqe_status;
using spec::qp_state;
using spec::wqe_opcode;
using spec::qe::status;

namespace {

sc_core::sc_time ns(double v) { return sc_core::sc_time(v, sc_core::SC_NS); }

bool is_send(uint8_t op) {
    return op == static_cast<uint8_t>(wqe_opcode::SEND) ||
           op == static_cast<uint8_t>(wqe_opcode::SEND_WITH_IMM);
}

}  // namespace

void qp_engine::process_send(uint32_t qpn, uint16_t index) {
    qp_ctx* q = live(qpn);
    if (q == nullptr) return;
    const uint16_t fn = q->fn;
    const uint64_t slot = index & ((1u << q->sq_log_size) - 1);
    spec::send_wqe w{};
    ++m_core.counters.wqes;
    const bool fetched = m_core.dma->read(fn, q->sq_addr + slot * sizeof(w), &w, sizeof(w));
    if (live(qpn) == nullptr) return;
    sc_core::wait(ns(m_t.wqe_process_ns));
    q = live(qpn);
    if (q == nullptr) return;
    if (!fetched) {
        // Descriptor fetch failed (catalogue G1): the wr_id is unknown.
        ++m_core.counters.dma_errors;
        w = spec::send_wqe{};
        w.flags = spec::wqe_flags::SIGNALED;
        complete_send(qpn, index, w, cqe_status::LOC_QP_OP_ERR, 0);
        return;
    }
    if (q->state == qp_state::ERR) {
        complete_send(qpn, index, w, cqe_status::WR_FLUSH_ERR, 0);
        return;
    }
    // Opcodes beyond SEND arrive with the RDMA transports; until then the device reports them
    // as invalid for this QP (LOC_QP_OP_ERR), as it does for any unknown opcode.
    if (!is_send(w.opcode) || q->type != spec::qp_type::RC) {
        complete_send(qpn, index, w, cqe_status::LOC_QP_OP_ERR, 0);
        return;
    }
    std::vector<uint8_t> payload;
    cqe_status st = cqe_status::SUCCESS;
    if (!gather(fn, w, payload, st)) {
        if (live(qpn) != nullptr) complete_send(qpn, index, w, st, 0);
        return;
    }
    if (live(qpn) == nullptr) return;
    st = deliver(qpn, w, payload);
    if (live(qpn) == nullptr) return;
    complete_send(qpn, index, w, st, static_cast<uint32_t>(payload.size()));
}

bool qp_engine::gather(uint16_t fn, const spec::send_wqe& w, std::vector<uint8_t>& payload,
                       cqe_status& st) {
    if (w.flags & spec::wqe_flags::INLINE) {
        if (w.inline_len > spec::limits::MAX_INLINE) {
            st = cqe_status::LOC_QP_OP_ERR;
            return false;
        }
        payload.resize(w.inline_len);
        std::memcpy(payload.data(), reinterpret_cast<const uint8_t*>(w.sg_list), w.inline_len);
        return true;
    }
    if (w.num_sge > spec::limits::MAX_SGE) {
        st = cqe_status::LOC_QP_OP_ERR;
        return false;
    }
    uint64_t total = 0;
    for (unsigned i = 0; i < w.num_sge; ++i) total += w.sg_list[i].length;
    if (total > spec::limits::MAX_MSG_SIZE) {
        st = cqe_status::LOC_LEN_ERR;
        return false;
    }
    payload.resize(total);
    uint64_t off = 0;
    for (unsigned i = 0; i < w.num_sge; ++i) {
        const auto& s = w.sg_list[i];
        if (s.length == 0) continue;
        if (!m_core.dma->read(fn, s.addr, payload.data() + off, s.length)) {
            // Never send what could not be read (catalogue G2).
            ++m_core.counters.dma_errors;
            st = cqe_status::LOC_PROT_ERR;
            return false;
        }
        off += s.length;
    }
    return true;
}

cqe_status qp_engine::deliver(uint32_t src_qpn, const spec::send_wqe& w,
                              const std::vector<uint8_t>& payload) {
    const qp_ctx* src = live(src_qpn);
    if (src == nullptr) return cqe_status::WR_FLUSH_ERR;
    const uint32_t dst_qpn = src->attrs.dest_qpn;
    // Serialization through the port (loopback turns around at the port).
    sc_core::wait(ns(static_cast<double>(payload.size()) * 8.0 / m_t.port_gbps));
    qe_deq_resp r{};
    for (uint32_t attempt = 0;; ++attempt) {
        const qp_ctx* d = m_core.ctx.qp(dst_qpn);
        // A message to a QP that does not exist or cannot receive is dropped; the requester
        // retries until its retry count runs out.
        if (d == nullptr || (d->state != qp_state::RTR && d->state != qp_state::RTS) ||
            d->type != spec::qp_type::RC) {
            return cqe_status::RETRY_EXC_ERR;
        }
        r = m_core.qe->deq({rq_wqid(dst_qpn)});
        m_core.collect();
        if (r.status == status::OK) break;
        if (attempt + 1 >= m_t.rnr_retry) return cqe_status::RNR_RETRY_EXC_ERR;
        sc_core::wait(ns(m_t.rnr_timer_ns));  // receiver not ready: back off and retry
        if (live(src_qpn) == nullptr) return cqe_status::WR_FLUSH_ERR;
    }
    qp_ctx* d = m_core.ctx.qp(dst_qpn);
    if (d == nullptr) return cqe_status::RETRY_EXC_ERR;
    const uint16_t dfn = d->fn;
    spec::recv_wqe rw{};
    const uint64_t slot = r.index & ((1u << d->rq_log_size) - 1);
    const bool fetched = m_core.dma->read(dfn, d->rq_addr + slot * sizeof(rw), &rw, sizeof(rw));
    d = m_core.ctx.qp(dst_qpn);
    if (d == nullptr) return cqe_status::RETRY_EXC_ERR;

    spec::cqe c{};
    c.wr_id = rw.wr_id;
    c.qpn = dst_qpn;
    c.src_qp = src_qpn;
    c.wqe_index = r.index;
    c.opcode = static_cast<uint8_t>(spec::cqe_opcode::RECV);
    cqe_status requester = cqe_status::SUCCESS;
    cqe_status responder = cqe_status::SUCCESS;
    uint64_t capacity = 0;
    if (!fetched) {
        ++m_core.counters.dma_errors;
        responder = cqe_status::LOC_QP_OP_ERR;
        requester = cqe_status::REM_OP_ERR;
    } else if (rw.num_sge > spec::limits::MAX_RECV_SGE) {
        responder = cqe_status::LOC_QP_OP_ERR;  // malformed receive WQE (catalogue D9)
        requester = cqe_status::REM_OP_ERR;
    } else {
        for (unsigned i = 0; i < rw.num_sge; ++i) capacity += rw.sg_list[i].length;
        if (capacity < payload.size()) {
            responder = cqe_status::LOC_LEN_ERR;  // catalogue C10
            requester = cqe_status::REM_INV_REQ_ERR;
        }
    }
    if (responder == cqe_status::SUCCESS) {
        uint64_t off = 0;
        for (unsigned i = 0; i < rw.num_sge && off < payload.size(); ++i) {
            const auto& s = rw.sg_list[i];
            const uint64_t n = std::min<uint64_t>(s.length, payload.size() - off);
            if (n == 0) continue;
            if (!m_core.dma->write(dfn, s.addr, payload.data() + off, n)) {
                ++m_core.counters.dma_errors;
                responder = cqe_status::LOC_PROT_ERR;
                requester = cqe_status::REM_OP_ERR;
                break;
            }
            off += n;
        }
    }
    d = m_core.ctx.qp(dst_qpn);
    if (d == nullptr || d->state == qp_state::RESET) return requester;
    c.status = static_cast<uint8_t>(responder);
    c.byte_len = responder == cqe_status::SUCCESS ? static_cast<uint32_t>(payload.size()) : 0;
    if (w.opcode == static_cast<uint8_t>(wqe_opcode::SEND_WITH_IMM)) {
        c.imm = w.imm;
        c.flags |= spec::cqe_flags::WITH_IMM;
    }
    const bool solicited = (w.flags & spec::wqe_flags::SOLICITED) != 0;
    if (solicited) c.flags |= spec::cqe_flags::SOLICITED;
    m_events.write_cqe(d->recv_cqn, c, solicited);
    m_core.qe->deq_commit({rq_wqid(dst_qpn)});
    m_core.collect();
    m_core.counters.payload_bytes += c.byte_len;
    if (responder != cqe_status::SUCCESS) to_error(dst_qpn);
    return requester;
}

void qp_engine::complete_send(uint32_t qpn, uint16_t index, const spec::send_wqe& w,
                              cqe_status st, uint32_t byte_len) {
    qp_ctx* q = live(qpn);
    if (q == nullptr) return;
    // Errors and flushes always complete; successes only when signaled.
    const bool error = st != cqe_status::SUCCESS;
    if (error || (w.flags & spec::wqe_flags::SIGNALED)) {
        spec::cqe c{};
        c.wr_id = w.wr_id;
        c.status = static_cast<uint8_t>(st);
        c.byte_len = error ? 0 : byte_len;
        c.qpn = qpn;
        c.wqe_index = index;
        c.opcode = static_cast<uint8_t>(spec::cqe_opcode::SEND);
        m_events.write_cqe(q->send_cqn, c, false);
    }
    m_core.qe->deq_commit({sq_wqid(qpn)});
    m_core.collect();
    if (error && st != cqe_status::WR_FLUSH_ERR) to_error(qpn);
}

}  // namespace chio::model
