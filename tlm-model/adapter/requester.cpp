// The requester's send path: fetch, validate, gather, packetize, transmit (IBA 1.4 9.4, 9.7).
#include <algorithm>
#include <cstring>

#include "tlm-model/adapter/memory_protection.h"
#include "tlm-model/adapter/qp_engine.h"

namespace chio::model {

using spec::cqe_status;
using spec::qp_state;
using spec::wqe_opcode;
using spec::roce::opcode;
namespace af = spec::access_flags;
namespace pk = spec::packed;

namespace {

sc_core::sc_time ns(double v) { return sc_core::sc_time(v, sc_core::SC_NS); }

bool valid_for(spec::qp_type t, uint8_t op) {
    if (op > static_cast<uint8_t>(wqe_opcode::ATOMIC_FETCH_AND_ADD)) return false;
    if (t == spec::qp_type::UD) {
        return op == static_cast<uint8_t>(wqe_opcode::SEND) ||
               op == static_cast<uint8_t>(wqe_opcode::SEND_WITH_IMM);
    }
    return true;
}

}  // namespace

roce_packet qp_engine::make_packet(uint32_t src_qpn, uint32_t dest_qp,
                                   const address_vector& av) const {
    roce_packet p;
    // The sending function's identity (adapter_identity.cpp): the PF's is the port's.
    m_core.source_identity(src_qpn, p.src_mac, p.src_ip);
    p.dst_mac = av.dest_mac;
    p.dst_ip = av.dest_gid;
    p.l3 = is_ipv4_mapped(av.dest_gid) ? l3_proto::ipv4 : l3_proto::ipv6;
    // The UDP source port spreads flows over ECMP paths (RoCEv2, Annex A17.3.1): one per QP.
    p.udp_sport = static_cast<uint16_t>(0xC000 | (src_qpn & 0x3FFF));
    p.dest_qp = dest_qp & PSN_MASK;
    return p;
}

void qp_engine::transmit(uint32_t qpn, packet_ptr p) {
    ++m_tc.per_opcode_tx[static_cast<uint8_t>(p->opcode)];
    // Spoof check: a packet with a source other than its function's assignment never leaves
    // (and, never on the wire, is not charged to the function's share).
    if (!m_core.egress_allowed(qpn, *p)) return;
    const bool up = m_port.config().up;  // a port that is down drops the frame: nothing to charge
    const uint64_t occupancy = wire_occupancy(*p);
    // Every frame a send queue puts on the wire counts to its weights and caps, retransmissions
    // included (charged when the frame is handed to the port).
    if (up) m_core.sched.charge(qpn, occupancy, sc_core::sc_time_stamp().to_seconds() * 1e9);
    m_port.transmit(std::move(p));
    if (up && m_core.probes.tx) {
        // port::transmit returns when the frame has left: it occupied the port until now.
        const sc_core::sc_time end = sc_core::sc_time_stamp();
        const sc_core::sc_time ser(static_cast<double>(occupancy) * 8.0 / m_port.config().gbps,
                                   sc_core::SC_NS);
        const qp_ctx* q = m_core.ctx.qp(qpn);
        m_core.probes.tx(q != nullptr ? q->fn : 0, qpn, occupancy, end - ser, end);
    }
}

cqe_status qp_engine::gather(uint32_t qpn, const spec::send_wqe& w, std::vector<uint8_t>& payload) {
    qp_ctx* q = live(qpn);
    if (w.flags & spec::wqe_flags::INLINE) {
        if (w.inline_len > spec::limits::MAX_INLINE) return cqe_status::LOC_QP_OP_ERR;
        payload.assign(reinterpret_cast<const uint8_t*>(w.sg_list),
                       reinterpret_cast<const uint8_t*>(w.sg_list) + w.inline_len);
        return cqe_status::SUCCESS;
    }
    if (w.num_sge > spec::limits::MAX_SGE) return cqe_status::LOC_QP_OP_ERR;
    uint64_t total = 0;
    for (unsigned i = 0; i < w.num_sge; ++i) total += w.sg_list[i].length;
    if (total > spec::limits::MAX_MSG_SIZE) return cqe_status::LOC_LEN_ERR;
    // Every key is checked before any byte moves (catalogue invariant 8).
    std::vector<local_segment> segs;
    for (unsigned i = 0; i < w.num_sge; ++i) {
        const auto& s = w.sg_list[i];
        uint64_t pa = 0;
        if (check_access(m_core.ctx, q->fn, q->pd, s.lkey, s.addr, s.length, 0, pa) !=
            access_result::ok) {
            return cqe_status::LOC_PROT_ERR;
        }
        if (s.length) segs.push_back({pa, s.length});
    }
    payload.resize(total);
    uint64_t off = 0;
    const uint16_t fn = q->fn;
    for (const auto& s : segs) {
        if (!m_core.dma->read(fn, s.pa, payload.data() + off, s.len)) {
            // Never send what could not be read (catalogue G2).
            ++m_core.counters.dma_errors;
            return cqe_status::LOC_PROT_ERR;
        }
        off += s.len;
    }
    m_core.counters.payload_bytes += total;
    return cqe_status::SUCCESS;
}

cqe_status qp_engine::check_local_targets(uint32_t qpn, const spec::send_wqe& w,
                                          std::vector<local_segment>& out, uint32_t& total) {
    const qp_ctx* q = live(qpn);
    if (w.num_sge > spec::limits::MAX_SGE || (w.flags & spec::wqe_flags::INLINE)) {
        return cqe_status::LOC_QP_OP_ERR;
    }
    uint64_t sum = 0;
    for (unsigned i = 0; i < w.num_sge; ++i) {
        const auto& s = w.sg_list[i];
        uint64_t pa = 0;
        // READ and atomic results are written locally: the MR needs LOCAL_WRITE (C9).
        if (check_access(m_core.ctx, q->fn, q->pd, s.lkey, s.addr, s.length, af::LOCAL_WRITE, pa) !=
            access_result::ok) {
            return cqe_status::LOC_PROT_ERR;
        }
        if (s.length) out.push_back({pa, s.length});
        sum += s.length;
    }
    if (sum > spec::limits::MAX_MSG_SIZE) return cqe_status::LOC_LEN_ERR;
    total = static_cast<uint32_t>(sum);
    return cqe_status::SUCCESS;
}

void qp_engine::process_wqe(uint32_t qpn, uint16_t index) {
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
    // A WQE that fails here completes in posting order (IBA 10.8.3: a work queue completes in
    // order; the driver drops a completion behind a later one): the earlier WQEs still waiting
    // for their acknowledgement go first, flushed, since the error puts the QP in ERR; then the
    // failing WQE with its own status.
    auto fail = [&](const spec::send_wqe& wqe, cqe_status err) {
        requester_state& rs = m_tp[qpn].req;
        // ERR first: writing each flush CQE takes simulated time, and an acknowledgement that
        // arrives meanwhile must not complete a later outstanding WQE with success after an
        // earlier one was flushed (the completer ignores responses to a QP in ERR).
        if (!rs.outstanding.empty()) to_error(qpn);
        while (!rs.outstanding.empty() && live(qpn) != nullptr) {
            complete_front(qpn, cqe_status::WR_FLUSH_ERR);
        }
        // An earlier WQE's error decided meanwhile (its CQE still being written) means this one
        // is behind an error: flushed.
        if (rs.error_decided) err = cqe_status::WR_FLUSH_ERR;
        if (live(qpn) != nullptr) complete(qpn, index, wqe, err, 0);
    };
    if (!fetched) {
        // Descriptor fetch failed (catalogue G1): the wr_id is unknown.
        ++m_core.counters.dma_errors;
        w = spec::send_wqe{};
        w.flags = spec::wqe_flags::SIGNALED;
        fail(w, cqe_status::LOC_QP_OP_ERR);
        return;
    }
    if (q->state == qp_state::ERR || q->state == qp_state::SQE) {
        // The QP entered ERR while this WQE was being fetched: flushed in posting order, so the
        // WQEs still waiting for their acknowledgement go first (the pending flush() would
        // otherwise complete them after this later one).
        requester_state& rs = m_tp[qpn].req;
        while (!rs.outstanding.empty() && live(qpn) != nullptr) {
            complete_front(qpn, cqe_status::WR_FLUSH_ERR);
        }
        if (live(qpn) != nullptr) complete(qpn, index, w, cqe_status::WR_FLUSH_ERR, 0);
        return;
    }
    if (!valid_for(q->type, w.opcode)) {
        fail(w, cqe_status::LOC_QP_OP_ERR);
        return;
    }
    std::vector<uint8_t> payload;
    if (q->type == spec::qp_type::UD) {
        send_ud(qpn, index, w, payload);
        return;
    }
    outstanding_wr wr;
    wr.index = index;
    wr.wqe = w;
    const auto op = static_cast<wqe_opcode>(w.opcode);
    cqe_status st = cqe_status::SUCCESS;
    if (op == wqe_opcode::RDMA_READ || op == wqe_opcode::ATOMIC_CMP_AND_SWP ||
        op == wqe_opcode::ATOMIC_FETCH_AND_ADD) {
        wr.kind = op == wqe_opcode::RDMA_READ ? wr_kind::read : wr_kind::atomic;
        st = check_local_targets(qpn, w, wr.target, wr.length);
        // An atomic operates on exactly 8 aligned bytes (IBA 9.4.5; catalogue C7).
        if (st == cqe_status::SUCCESS && wr.kind == wr_kind::atomic &&
            (wr.length != 8 || (w.remote_addr & 7) != 0)) {
            st = cqe_status::LOC_QP_OP_ERR;
        }
        requester_state& r = m_tp[qpn].req;
        const uint32_t limit = std::max<uint32_t>(
            1, static_cast<uint32_t>(pk::QP_RD_ATOMIC_MAX_RD_ATOMIC.get(q->attrs.rd_atomic)));
        if (st == cqe_status::SUCCESS && r.rd_atomic >= limit) {
            // Wait for a slot: the completer resumes this WQE when a response arrives.
            r.stalled = true;
            r.stalled_index = index;
            return;
        }
    } else {
        wr.kind = (op == wqe_opcode::SEND || op == wqe_opcode::SEND_WITH_IMM) ? wr_kind::send
                                                                              : wr_kind::write;
        st = gather(qpn, w, payload);
        wr.length = static_cast<uint32_t>(payload.size());
    }
    if (live(qpn) == nullptr) return;
    if (st != cqe_status::SUCCESS) {
        fail(w, st);
        return;
    }
    send_rc(qpn, wr, payload);
}

}  // namespace chio::model
