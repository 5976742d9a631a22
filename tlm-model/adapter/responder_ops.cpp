// The responder's dispatch: PSN checking, RDMA WRITE, RDMA READ, atomics, ACK coalescing
// (IBA 1.4 9.7.3-9.7.5), and UD datagram reception (9.8).
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

constexpr uint8_t AETH_ACK_NO_CREDITS = 0x1F;

bool one_of(opcode op, std::initializer_list<opcode> l) {
    return std::find(l.begin(), l.end(), op) != l.end();
}

bool is_send(opcode op) {
    return one_of(
        op, {opcode::RC_SEND_FIRST, opcode::RC_SEND_MIDDLE, opcode::RC_SEND_LAST,
             opcode::RC_SEND_LAST_WITH_IMM, opcode::RC_SEND_ONLY, opcode::RC_SEND_ONLY_WITH_IMM});
}

bool is_write(opcode op) {
    return one_of(op, {opcode::RC_RDMA_WRITE_FIRST, opcode::RC_RDMA_WRITE_MIDDLE,
                       opcode::RC_RDMA_WRITE_LAST, opcode::RC_RDMA_WRITE_LAST_WITH_IMM,
                       opcode::RC_RDMA_WRITE_ONLY, opcode::RC_RDMA_WRITE_ONLY_WITH_IMM});
}

// The 40-byte GRH a UD receive buffer starts with (IBA 11.4.1.1; RoCEv2 Annex A17.4.5.1: for
// IPv4 the first 20 bytes are zero and the IPv4 header follows).
std::array<uint8_t, 40> make_grh(const roce_packet& p) {
    std::array<uint8_t, 40> g{};
    if (p.l3 == l3_proto::ipv4) {
        uint8_t* h = g.data() + 20;
        h[0] = 0x45;
        const auto total = static_cast<uint16_t>(ip_size(p));
        h[2] = static_cast<uint8_t>(total >> 8);
        h[3] = static_cast<uint8_t>(total);
        h[8] = p.hop_limit;
        h[9] = 17;  // UDP
        std::memcpy(h + 12, p.src_ip.data() + 12, 4);
        std::memcpy(h + 16, p.dst_ip.data() + 12, 4);
    } else {
        g[0] = 0x60;
        g[6] = 17;  // next header: UDP
        g[7] = p.hop_limit;
        std::memcpy(g.data() + 8, p.src_ip.data(), 16);
        std::memcpy(g.data() + 24, p.dst_ip.data(), 16);
    }
    return g;
}

}  // namespace

void qp_engine::on_request(uint32_t qpn, const roce_packet& p) {
    qp_ctx* q = live(qpn);
    // Requests to a QP that cannot receive are dropped; the requester times out (IBA 9.9).
    if (q == nullptr || q->type != spec::qp_type::RC ||
        (q->state != qp_state::RTR && q->state != qp_state::RTS && q->state != qp_state::SQD)) {
        return;
    }
    responder_state& s = tp(qpn).resp;
    const int32_t d = psn_diff(p.psn, s.epsn);
    if (d > 0) {
        // A gap: NAK once until the expected packet arrives (class B, no state change).
        if (!s.nak_sent) {
            s.nak_sent = true;
            ++m_tc.seq_naks_sent;
            send_ack(qpn, p, static_cast<uint8_t>(aeth_syndrome::NAK_PSN_SEQ_ERR), s.epsn);
        }
        return;
    }
    const bool dup = d < 0;
    if (dup)
        ++m_tc.duplicates;
    else
        s.nak_sent = false;

    const uint32_t access = q->attrs.access_flags;
    if (p.opcode == opcode::RC_RDMA_READ_REQUEST || p.opcode == opcode::RC_COMPARE_SWAP ||
        p.opcode == opcode::RC_FETCH_ADD) {
        const bool read = p.opcode == opcode::RC_RDMA_READ_REQUEST;
        if (dup && !read) {
            // Replay the saved result; an atomic is never executed twice (IBA 9.7.5.1.3).
            for (const auto& a : s.atomics) {
                if (a.psn != p.psn) continue;
                roce_packet r = make_packet(qpn, q->attrs.dest_qpn, q->attrs.av);
                r.opcode = opcode::RC_ATOMIC_ACKNOWLEDGE;
                r.psn = p.psn;
                r.aeth = {AETH_ACK_NO_CREDITS, s.msn};
                r.atomic_ack.orig = a.orig;
                respond(qpn, std::make_shared<const roce_packet>(std::move(r)),
                        sc_core::SC_ZERO_TIME);
            }
            return;
        }
        if (read) {
            // Responder resources (max_dest_rd_atomic): a READ beyond them waits until an
            // earlier one's response has left. A conforming requester never sends more; this
            // also bounds what a flood of READ requests can hold. Before every check below, so
            // they see the QP and its keys as they are after the wait.
            const uint32_t resources = std::max<uint32_t>(
                1,
                static_cast<uint32_t>(pk::QP_RD_ATOMIC_MAX_DEST_RD_ATOMIC.get(q->attrs.rd_atomic)));
            while (s.reads_queued >= resources) {
                sc_core::wait(m_response_left_ev);
                q = live(qpn);
                // A QP that cannot answer any more drops the request, as on arrival.
                if (q == nullptr || (q->state != qp_state::RTR && q->state != qp_state::RTS &&
                                     q->state != qp_state::SQD)) {
                    return;
                }
            }
        }
        // A new READ/atomic inside an unfinished SEND or WRITE breaks the opcode sequence (D3).
        // A duplicate READ does not: go-back-N retransmits it while a later message may be half
        // received, and it is answered again without touching that message (IBA 9.7.5.1.3).
        if (!dup && (s.in_send || s.in_write)) {
            return responder_error(qpn, p, aeth_syndrome::NAK_INV_REQ, cqe_status::LOC_QP_OP_ERR);
        }
        const uint32_t need = read ? af::REMOTE_READ : af::REMOTE_ATOMIC;
        const uint64_t va = read ? p.reth.va : p.atomic.va;
        const uint32_t rkey = read ? p.reth.rkey : p.atomic.rkey;
        const uint32_t len = read ? p.reth.dma_len : 8;
        // The QP must allow the operation (D4), atomics must be aligned (C7), and the key must
        // cover it (D5).
        if (!(q->attrs.access_flags & need) || (!read && (va & 7))) {
            return responder_error(qpn, p, aeth_syndrome::NAK_INV_REQ, cqe_status::REM_INV_REQ_ERR);
        }
        uint64_t pa = 0;
        if (check_access(m_core.ctx, q->fn, q->pd, rkey, va, len, need, pa) != access_result::ok) {
            return responder_error(qpn, p, aeth_syndrome::NAK_REM_ACCESS_ERR,
                                   cqe_status::REM_ACCESS_ERR);
        }
        const uint16_t fn = q->fn;
        const uint32_t mtu = mtu_bytes(*q);
        std::vector<uint8_t> data(len);
        // A READ's data is requested as split reads per MTU chunk (read_pipeline.cpp), and each
        // response packet leaves once its chunk has arrived: the reads overlap the response's
        // serialization instead of preceding all of it. An atomic reads its 8 bytes at once.
        std::vector<sc_core::sc_time> chunk_ready;
        const bool got = !len || (read ? read_chunks(fn, {{pa, len}}, data.data(), mtu,
                                                     sc_core::sc_time_stamp(), chunk_ready)
                                       : m_core.dma->read(fn, pa, data.data(), len));
        if (!got) {
            if (!read) ++m_core.counters.dma_errors;  // read_chunks counted its own
            return responder_error(qpn, p, aeth_syndrome::NAK_REM_OP_ERR, cqe_status::LOC_PROT_ERR);
        }
        q = live(qpn);
        if (q == nullptr) return;
        if (!read) {
            uint64_t orig = 0;
            std::memcpy(&orig, data.data(), 8);
            const uint64_t next = p.opcode == opcode::RC_COMPARE_SWAP
                                      ? (orig == p.atomic.compare ? p.atomic.swap_add : orig)
                                      : orig + p.atomic.swap_add;
            if (!m_core.dma->write(fn, pa, &next, 8)) ++m_core.counters.dma_errors;
            q = live(qpn);
            if (q == nullptr) return;
            s.atomics.push_back({p.psn, orig});
            if (s.atomics.size() > responder_state::MAX_SAVED_ATOMICS) s.atomics.pop_front();
            s.epsn = (s.epsn + 1) & PSN_MASK;
            s.msn = (s.msn + 1) & PSN_MASK;
            roce_packet r = make_packet(qpn, q->attrs.dest_qpn, q->attrs.av);
            r.opcode = opcode::RC_ATOMIC_ACKNOWLEDGE;
            r.psn = p.psn;
            r.aeth = {AETH_ACK_NO_CREDITS, s.msn};
            r.atomic_ack.orig = orig;
            respond(qpn, std::make_shared<const roce_packet>(std::move(r)), sc_core::SC_ZERO_TIME);
            return;
        }
        // READ: one response packet per MTU, PSNs from the request's (IBA 9.7.4.1.4), each
        // leaving once its chunk has arrived (response_queue.cpp); the receive thread goes on.
        const uint32_t n = std::max<uint32_t>(1, (len + mtu - 1) / mtu);
        if (!dup) {
            s.epsn = (p.psn + n) & PSN_MASK;
            s.msn = (s.msn + 1) & PSN_MASK;
        }
        const roce_packet base = make_packet(qpn, q->attrs.dest_qpn, q->attrs.av);
        for (uint32_t i = 0; i < n; ++i) {
            roce_packet r = base;
            r.opcode = n == 1       ? opcode::RC_RDMA_READ_RESPONSE_ONLY
                       : i == 0     ? opcode::RC_RDMA_READ_RESPONSE_FIRST
                       : i + 1 == n ? opcode::RC_RDMA_READ_RESPONSE_LAST
                                    : opcode::RC_RDMA_READ_RESPONSE_MIDDLE;
            r.psn = (p.psn + i) & PSN_MASK;
            r.aeth = {AETH_ACK_NO_CREDITS, s.msn};
            const uint32_t off = i * mtu, seg = std::min(mtu, len - off);
            r.payload.assign(data.begin() + off, data.begin() + off + seg);
            respond(qpn, std::make_shared<const roce_packet>(std::move(r)),
                    i < chunk_ready.size() ? chunk_ready[i] : sc_core::SC_ZERO_TIME, i + 1 == n);
        }
        return;
    }
    if (dup) {
        // A duplicate SEND or WRITE was already executed: acknowledge again (class B).
        send_ack(qpn, p, AETH_ACK_NO_CREDITS, (s.epsn - 1) & PSN_MASK);
        return;
    }
    cqe_status err = cqe_status::SUCCESS;
    if (is_send(p.opcode)) {
        const bool first = one_of(
            p.opcode, {opcode::RC_SEND_FIRST, opcode::RC_SEND_ONLY, opcode::RC_SEND_ONLY_WITH_IMM});
        // Opcode sequence: FIRST/ONLY only between messages, MIDDLE/LAST only inside (D3).
        if (first == s.in_send || s.in_write) {
            return responder_error(qpn, p, aeth_syndrome::NAK_INV_REQ, cqe_status::LOC_QP_OP_ERR);
        }
        if (!responder_send(qpn, p, err)) return;
    } else if (is_write(p.opcode)) {
        const bool first =
            one_of(p.opcode, {opcode::RC_RDMA_WRITE_FIRST, opcode::RC_RDMA_WRITE_ONLY,
                              opcode::RC_RDMA_WRITE_ONLY_WITH_IMM});
        const bool last =
            !one_of(p.opcode, {opcode::RC_RDMA_WRITE_FIRST, opcode::RC_RDMA_WRITE_MIDDLE});
        const bool imm = one_of(
            p.opcode, {opcode::RC_RDMA_WRITE_LAST_WITH_IMM, opcode::RC_RDMA_WRITE_ONLY_WITH_IMM});
        if (first == s.in_write || s.in_send) {
            return responder_error(qpn, p, aeth_syndrome::NAK_INV_REQ, cqe_status::LOC_QP_OP_ERR);
        }
        if (first) {
            if (!(access & af::REMOTE_WRITE)) {
                return responder_error(qpn, p, aeth_syndrome::NAK_INV_REQ,
                                       cqe_status::REM_INV_REQ_ERR);
            }
            uint64_t pa = 0;
            if (check_access(m_core.ctx, q->fn, q->pd, p.reth.rkey, p.reth.va, p.reth.dma_len,
                             af::REMOTE_WRITE, pa) != access_result::ok) {
                return responder_error(qpn, p, aeth_syndrome::NAK_REM_ACCESS_ERR,
                                       cqe_status::REM_ACCESS_ERR);
            }
            s.in_write = true;
            s.write_pa = pa;
            s.write_len = p.reth.dma_len;
            s.write_off = 0;
        }
        const auto len = static_cast<uint32_t>(p.payload.size());
        if (uint64_t{s.write_off} + len > s.write_len ||
            (last && s.write_off + len != s.write_len)) {
            return responder_error(qpn, p, aeth_syndrome::NAK_INV_REQ, cqe_status::REM_INV_REQ_ERR);
        }
        // WRITE with immediate consumes a receive WQE: check for one before touching memory, so
        // an RNR NAK leaves the packet to be retried whole.
        qe_deq_resp rq{};
        const uint16_t wqid = recv_wqid(qpn, q->srqn);
        if (imm) {
            rq = m_core.qe->deq({wqid});
            m_core.collect();
            if (rq.status != spec::qe::status::OK) {
                // An RNR NAKed packet leaves no trace (IBA 9.7.5.2.8): its retry must find the
                // responder as before it, so a WRITE_ONLY_WITH_IMM does not stay "in a write"
                // and its retry is not taken for a FIRST inside a message.
                if (first) s.in_write = false;
                ++m_tc.rnr_naks_sent;
                const auto timer =
                    static_cast<uint8_t>(pk::QP_TIMERS_MIN_RNR_TIMER.get(q->attrs.timers));
                send_ack(qpn, p,
                         static_cast<uint8_t>(static_cast<uint8_t>(aeth_syndrome::RNR_NAK) | timer),
                         p.psn);
                return;
            }
        }
        const uint16_t fn = q->fn;
        if (len && !write_data(fn, s.write_pa + s.write_off, p.payload.data(), len)) {
            ++m_core.counters.dma_errors;
        }
        q = live(qpn);
        if (q == nullptr) return;
        s.write_off += len;
        s.epsn = (s.epsn + 1) & PSN_MASK;
        m_core.counters.payload_bytes += len;
        if (last) {
            s.in_write = false;
            s.msn = (s.msn + 1) & PSN_MASK;
            if (imm) {
                // The receive WQE's wr_id identifies the completion; its buffers are not used
                // (a refused read completes with wr_id 0).
                spec::recv_wqe rw{};
                sc_core::sc_time arrival;
                const uint64_t wr_id =
                    fetch_recv_wqe(qpn, *q, wqid, rq.index, rw, arrival) ? rw.wr_id : 0;
                if (arrival > sc_core::SC_ZERO_TIME) sc_core::wait(arrival);
                q = live(qpn);
                if (q == nullptr) return;
                spec::cqe c{};
                c.wr_id = wr_id;
                c.byte_len = s.write_len;
                c.imm = p.imm;
                c.flags = spec::cqe_flags::WITH_IMM;
                c.qpn = qpn;
                c.src_qp = q->attrs.dest_qpn;
                c.wqe_index = rq.index;
                c.opcode = static_cast<uint8_t>(spec::cqe_opcode::RECV_RDMA_WITH_IMM);
                retire_and_complete(wqid, q->recv_cqn, c, p.solicited);
            }
        }
    } else {
        return responder_error(qpn, p, aeth_syndrome::NAK_INV_REQ, cqe_status::LOC_QP_OP_ERR);
    }
    // ACK when asked, and at least every ack_coalesce packets (IBA 9.7.5.1.1).
    responder_state& s2 = tp(qpn).resp;
    if (live(qpn) == nullptr) return;
    if (p.ack_req || ++s2.unacked >= m_t.ack_coalesce) {
        send_ack(qpn, p, AETH_ACK_NO_CREDITS, p.psn);
    }
}

void qp_engine::on_ud(uint32_t qpn, const roce_packet& p) {
    qp_ctx* q = live(qpn);
    // Datagrams to a QP that cannot take them, with the wrong Q_Key, or with no receive WQE
    // posted are silently dropped and counted (IBA 9.8.3, 10.2.5).
    if (q == nullptr || q->type != spec::qp_type::UD ||
        (q->state != qp_state::RTR && q->state != qp_state::RTS && q->state != qp_state::SQE) ||
        p.deth.qkey != q->attrs.qkey) {
        ++m_tc.ud_dropped;
        return;
    }
    const qe_deq_resp d = m_core.qe->deq({rq_wqid(qpn)});
    m_core.collect();
    if (d.status != spec::qe::status::OK) {
        ++m_tc.ud_dropped;
        return;
    }
    const uint16_t fn = q->fn;
    spec::recv_wqe rw{};
    const bool fetched = m_core.dma->read(
        fn, q->rq_addr + (d.index & ((1u << q->rq_log_size) - 1)) * sizeof(rw), &rw, sizeof(rw));
    if (live(qpn) == nullptr) return;
    spec::cqe c{};
    c.wr_id = rw.wr_id;
    c.qpn = qpn;
    c.src_qp = p.deth.src_qp;
    c.wqe_index = d.index;
    c.opcode = static_cast<uint8_t>(spec::cqe_opcode::RECV);
    cqe_status st = cqe_status::SUCCESS;
    if (!fetched || rw.num_sge > spec::limits::MAX_RECV_SGE) {
        st = cqe_status::LOC_QP_OP_ERR;
    } else {
        std::vector<uint8_t> buf(spec::roce::GRH + p.payload.size());
        const auto grh = make_grh(p);
        std::memcpy(buf.data(), grh.data(), grh.size());
        if (!p.payload.empty())
            std::memcpy(buf.data() + grh.size(), p.payload.data(), p.payload.size());
        if (scatter(qpn, rw, 0, buf.data(), static_cast<uint32_t>(buf.size()), st)) {
            st = cqe_status::SUCCESS;
            c.byte_len = static_cast<uint32_t>(buf.size());
            c.flags |= spec::cqe_flags::GRH;
            if (p.opcode == opcode::UD_SEND_ONLY_WITH_IMM) {
                c.imm = p.imm;
                c.flags |= spec::cqe_flags::WITH_IMM;
            }
            if (p.solicited) c.flags |= spec::cqe_flags::SOLICITED;
            m_core.counters.payload_bytes += p.payload.size();
        }
    }
    q = live(qpn);
    if (q == nullptr) return;
    c.status = static_cast<uint8_t>(st);
    // A bad datagram completes its receive WQE with the error; the QP stays usable, since UD
    // gives no delivery guarantee the error could break.
    retire_and_complete(rq_wqid(qpn), q->recv_cqn, c, p.solicited);
}

}  // namespace chio::model
