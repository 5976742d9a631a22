// The responder: incoming RC requests (SEND, RDMA WRITE, RDMA READ, atomics) and UD datagrams
// (IBA 1.4 9.7.3-9.7.5, 9.8). Every key check happens before any byte moves; every error NAKs
// the requester with the class IBA assigns and, for class C and D errors, moves the QP to ERR.
#include <algorithm>
#include <cstring>

#include "tlm-model/adapter/memory_protection.h"
#include "tlm-model/adapter/qp_engine.h"

namespace chio::model {

using spec::cqe_status;
using spec::qp_state;
using spec::roce::aeth_syndrome;
using spec::roce::opcode;
namespace af = spec::access_flags;
namespace pk = spec::packed;

namespace {

bool one_of(opcode op, std::initializer_list<opcode> l) {
    return std::find(l.begin(), l.end(), op) != l.end();
}

uint8_t nak(aeth_syndrome s) { return static_cast<uint8_t>(s); }

}  // namespace

void qp_engine::send_ack(uint32_t qpn, const roce_packet&, uint8_t syndrome, uint32_t psn) {
    qp_ctx* q = live(qpn);
    if (q == nullptr) return;
    responder_state& s = tp(qpn).resp;
    roce_packet a = make_packet(qpn, q->attrs.dest_qpn, q->attrs.av);
    a.opcode = opcode::RC_ACKNOWLEDGE;
    a.psn = psn & PSN_MASK;
    a.aeth = {syndrome, s.msn & PSN_MASK};
    s.unacked = 0;
    ++m_tc.acks_sent;
    respond(qpn, std::make_shared<const roce_packet>(std::move(a)), sc_core::SC_ZERO_TIME);
}

bool qp_engine::write_data(uint16_t fn, uint64_t pa, const void* src, size_t n) {
    // A posted write needs no completion (PCIe 3.0 section 2.4.1: posted requests stay in
    // order, so the CQE written after the data cannot pass it); the engine only waits when
    // posted_writes_in_flight are still on their way, as a device out of posted credits would.
    m_core.posted.admit();
    sc_core::sc_time delay;
    const bool ok = m_core.dma->post_write(fn, pa, src, n, delay);
    m_core.posted.issued(delay);
    return ok;
}

bool qp_engine::scatter(uint32_t qpn, const spec::recv_wqe& rw, uint32_t offset,
                        const uint8_t* data, uint32_t len, cqe_status& err) {
    qp_ctx* q = live(qpn);
    if (q == nullptr) return false;
    const uint16_t fn = q->fn;
    const uint32_t pd = q->pd;
    uint64_t capacity = 0;
    for (unsigned i = 0; i < rw.num_sge; ++i) capacity += rw.sg_list[i].length;
    if (uint64_t{offset} + len > capacity) {
        err = cqe_status::LOC_LEN_ERR;  // catalogue C10
        return false;
    }
    uint32_t skip = offset, done = 0;
    for (unsigned i = 0; i < rw.num_sge && done < len; ++i) {
        const auto& s = rw.sg_list[i];
        if (skip >= s.length) {
            skip -= s.length;
            continue;
        }
        const uint32_t n = std::min<uint32_t>(s.length - skip, len - done);
        uint64_t pa = 0;
        if (check_access(m_core.ctx, fn, pd, s.lkey, s.addr + skip, n, af::LOCAL_WRITE, pa) !=
            access_result::ok) {
            err = cqe_status::LOC_PROT_ERR;  // catalogue C9
            return false;
        }
        if (!write_data(fn, pa, data + done, n)) {
            ++m_core.counters.dma_errors;
            err = cqe_status::LOC_PROT_ERR;
            return false;
        }
        done += n;
        skip = 0;
    }
    return true;
}

void qp_engine::responder_error(uint32_t qpn, const roce_packet& p, aeth_syndrome code,
                                cqe_status local) {
    responder_state& s = tp(qpn).resp;
    qp_ctx* q = live(qpn);
    if (q == nullptr) return;
    if (s.in_send) {
        // The receive WQE this message consumed completes with the error, exactly once.
        s.in_send = false;
        spec::cqe c{};
        c.wr_id = s.rwqe.wr_id;
        c.status = static_cast<uint8_t>(local);
        c.qpn = qpn;
        c.wqe_index = s.rwqe_index;
        c.opcode = static_cast<uint8_t>(spec::cqe_opcode::RECV);
        retire_and_complete(s.rwqe_wqid, q->recv_cqn, c, false);
    }
    s.in_write = false;
    send_ack(qpn, p, nak(code), p.psn);
    to_error(qpn);
}

bool qp_engine::responder_send(uint32_t qpn, const roce_packet& p, cqe_status& err) {
    responder_state& s = tp(qpn).resp;
    qp_ctx* q = live(qpn);
    const bool first = one_of(
        p.opcode, {opcode::RC_SEND_FIRST, opcode::RC_SEND_ONLY, opcode::RC_SEND_ONLY_WITH_IMM});
    const bool last = one_of(p.opcode, {opcode::RC_SEND_LAST, opcode::RC_SEND_LAST_WITH_IMM,
                                        opcode::RC_SEND_ONLY, opcode::RC_SEND_ONLY_WITH_IMM});
    if (first) {
        const uint16_t wqid = recv_wqid(qpn, q->srqn);
        const qe_deq_resp d = m_core.qe->deq({wqid});
        m_core.collect();
        if (d.status != spec::qe::status::OK) {
            // Receiver not ready: NAK and let the requester retry (IBA 9.7.5.2.8).
            ++m_tc.rnr_naks_sent;
            const auto timer =
                static_cast<uint8_t>(pk::QP_TIMERS_MIN_RNR_TIMER.get(q->attrs.timers));
            send_ack(qpn, p, static_cast<uint8_t>(nak(aeth_syndrome::RNR_NAK) | timer), p.psn);
            return false;
        }
        // The WQE is this message's from the moment it is dequeued: a move to ERR while it is
        // fetched must flush it first, before the WQEs behind it (per-queue order, catalogue
        // F2; found by fuzz target packet). flush() takes the WQE of an unfinished message.
        s.in_send = true;
        s.rwqe = {};
        s.rwqe_index = d.index;
        s.rwqe_wqid = wqid;
        s.offset = 0;
        spec::recv_wqe rw{};
        sc_core::sc_time arrival;
        const bool fetched = fetch_recv_wqe(qpn, *q, wqid, d.index, rw, arrival);
        if (arrival > sc_core::SC_ZERO_TIME) sc_core::wait(arrival);
        if (live(qpn) == nullptr) return false;
        if (!s.in_send) return false;  // flushed during the fetch: it has completed
        s.rwqe = rw;
        if (!fetched || rw.num_sge > spec::limits::MAX_RECV_SGE) {
            err = cqe_status::LOC_QP_OP_ERR;  // malformed receive WQE (catalogue D9)
            responder_error(qpn, p, aeth_syndrome::NAK_REM_OP_ERR, err);
            return false;
        }
    }
    const auto len = static_cast<uint32_t>(p.payload.size());
    if (!scatter(qpn, s.rwqe, s.offset, p.payload.data(), len, err)) {
        if (live(qpn) == nullptr) return false;
        responder_error(qpn, p,
                        err == cqe_status::LOC_LEN_ERR ? aeth_syndrome::NAK_INV_REQ
                                                       : aeth_syndrome::NAK_REM_OP_ERR,
                        err);
        return false;
    }
    q = live(qpn);
    if (q == nullptr) return false;
    // The payload DMA takes simulated time, during which a move to ERR may have flushed this
    // message's receive WQE (flush() takes the WQE of an unfinished message): it has completed
    // then, and must not complete again (exactly once, catalogue F2).
    if (!s.in_send) return false;
    s.offset += len;
    s.epsn = (s.epsn + 1) & PSN_MASK;
    if (last) {
        spec::cqe c{};
        c.wr_id = s.rwqe.wr_id;
        c.byte_len = s.offset;
        c.qpn = qpn;
        c.src_qp = q->attrs.dest_qpn;
        c.wqe_index = s.rwqe_index;
        c.opcode = static_cast<uint8_t>(spec::cqe_opcode::RECV);
        if (one_of(p.opcode, {opcode::RC_SEND_LAST_WITH_IMM, opcode::RC_SEND_ONLY_WITH_IMM})) {
            c.imm = p.imm;
            c.flags |= spec::cqe_flags::WITH_IMM;
        }
        if (p.solicited) c.flags |= spec::cqe_flags::SOLICITED;
        s.in_send = false;
        s.msn = (s.msn + 1) & PSN_MASK;
        retire_and_complete(s.rwqe_wqid, q->recv_cqn, c, p.solicited);
        m_core.counters.payload_bytes += c.byte_len;
    }
    return true;
}

}  // namespace chio::model
