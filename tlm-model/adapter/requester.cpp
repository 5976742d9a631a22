// The requester's send path: fetch, validate, gather, packetize, transmit (IBA 1.4 9.4, 9.7).
#include <algorithm>
#include <cstring>
#include <deque>
#include <utility>

#include "tlm-model/adapter/memory_protection.h"
#include "tlm-model/adapter/qp_engine.h"
#include "tlm-model/sim_time.h"

namespace chio::model {

using spec::cqe_status;
using spec::qp_state;
using spec::wqe_opcode;
using spec::roce::opcode;
namespace af = spec::access_flags;
namespace pk = spec::packed;

namespace {

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
    if (up) m_core.sched.charge(qpn, occupancy, time_ns(sc_core::sc_time_stamp()));
    m_port.transmit(std::move(p));
    if (up && m_core.probes.tx) {
        // port::transmit returns when the frame has left: it occupied the port until now.
        const sc_core::sc_time end = sc_core::sc_time_stamp();
        const sc_core::sc_time ser =
            ns_time(static_cast<double>(occupancy) * 8.0 / m_port.config().gbps);
        const qp_ctx* q = m_core.ctx.qp(qpn);
        m_core.probes.tx(q != nullptr ? q->fn : 0, qpn, occupancy, end - ser, end);
    }
}

cqe_status qp_engine::gather(uint32_t qpn, const spec::send_wqe& w, staged_wqe& e) {
    qp_ctx* q = live(qpn);
    const uint32_t mtu = mtu_bytes(*q);
    if (w.flags & spec::wqe_flags::INLINE) {
        if (w.inline_len > spec::limits::MAX_INLINE) return cqe_status::LOC_QP_OP_ERR;
        e.payload.assign(reinterpret_cast<const uint8_t*>(w.sg_list),
                         reinterpret_cast<const uint8_t*>(w.sg_list) + w.inline_len);
        e.chunk_ready.assign((e.payload.size() + mtu - 1) / mtu, e.ready);
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
    e.payload.resize(total);
    // Never send what could not be read (catalogue G2).
    if (!read_chunks(q->fn, segs, e.payload.data(), mtu, e.ready, e.chunk_ready)) {
        return cqe_status::LOC_PROT_ERR;
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

void qp_engine::prefetch(uint32_t qpn) {
    requester_state& r = tp(qpn).req;
    // The fetch stage runs ahead only in RTS (SQD starts nothing new; ERR/SQE flush in order).
    // It takes a WQE while the queue engine has one (a pending work token) and the staging
    // buffer has room; the first WQE is always taken, whatever its size, since its payload
    // streams through the read tags chunk by chunk.
    for (;;) {
        const qp_ctx* q = live(qpn);
        if (q == nullptr || q->state != qp_state::RTS || !m_core.sched.pending(qpn)) return;
        if (!r.staged.empty() &&
            (r.staged.size() >= m_t.stage_wqes || r.staged_bytes >= m_t.stage_bytes)) {
            return;
        }
        m_core.sched.consume(qpn);
        const qe_deq_resp d = m_core.qe->deq({sq_wqid(qpn)});
        m_core.collect();
        if (d.status != spec::qe::status::OK) return;
        stage_wqe(qpn, d.index);
    }
}

bool qp_engine::fetch_wqe(uint32_t qpn, const qp_ctx& q, uint16_t index, spec::send_wqe& out,
                          sc_core::sc_time& delay) {
    requester_state& r = tp(qpn).req;
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    const uint32_t size = 1u << q.sq_log_size;
    // How many WQEs one read from ring index `from` brings: only posted ones (below the accepted
    // producer index: the driver may still be writing the others), at most wqes_per_fetch, and
    // none past the ring's end (one contiguous read).
    auto batch = [&](uint16_t from) -> uint32_t {
        if (!m_core.posted_pi) return from == index ? 1 : 0;
        const uint32_t posted = static_cast<uint16_t>(m_core.posted_pi(sq_wqid(qpn)) - from);
        if (posted == 0 || posted > size) return 0;
        return std::min({std::max(m_t.wqes_per_fetch, 1u), posted, size - (from & (size - 1))});
    };
    // One descriptor read of n WQEs from `from` into r.ahead. The read lands in a buffer of its
    // own: under fault injection it may wait, and a QP reset meanwhile replaces r.ahead.
    auto read_ahead = [&](uint16_t from, uint32_t n, sc_core::sc_time& d) {
        ++m_core.counters.wqe_reads;
        std::vector<spec::send_wqe> got(n);
        const uint64_t addr = q.sq_addr + uint64_t{from & (size - 1u)} * sizeof(spec::send_wqe);
        const bool ok = m_core.dma->read_at(q.fn, addr, got.data(), n * sizeof(spec::send_wqe), d);
        r.ahead = ok ? std::move(got) : std::vector<spec::send_wqe>{};
        r.ahead_first = from;
        r.ahead_failed = false;
        r.ahead_at = now + d;
        return ok;
    };
    if (r.ahead_failed && r.ahead_first == index) {
        r.ahead_failed = false;
        ++r.ahead_first;
        return false;
    }
    if (!r.ahead.empty() && r.ahead_first == index) {
        out = r.ahead.front();
        r.ahead.erase(r.ahead.begin());
        ++r.ahead_first;
        delay = r.ahead_at > now ? r.ahead_at - now : sc_core::SC_ZERO_TIME;
        // The last copy is taken: the next posted WQEs are read now, so their fetch overlaps
        // this one's payload reads. A refused read fails the first of them on its turn.
        if (r.ahead.empty()) {
            sc_core::sc_time d;
            const uint32_t n = batch(r.ahead_first);
            if (n > 0 && !read_ahead(r.ahead_first, n, d)) r.ahead_failed = true;
        }
        return true;
    }
    r.ahead.clear();
    r.ahead_failed = false;
    const uint32_t n = std::max(batch(index), 1u);
    if (n == 1) {
        ++m_core.counters.wqe_reads;
        const uint64_t slot = index & (size - 1u);
        return m_core.dma->read_at(q.fn, q.sq_addr + slot * sizeof(out), &out, sizeof(out), delay);
    }
    if (!read_ahead(index, n, delay)) return false;
    out = r.ahead.front();
    r.ahead.erase(r.ahead.begin());
    ++r.ahead_first;
    return true;
}

void qp_engine::stage_wqe(uint32_t qpn, uint16_t index) {
    qp_ctx* q = live(qpn);
    if (q == nullptr) return;
    requester_state& r = tp(qpn).req;
    staged_wqe e;
    e.index = index;
    ++m_core.counters.wqes;
    // Single fetch (split transaction: the stage goes on while it is in flight); decode takes
    // wqe_process_ns after it arrives, and a WQE is never ready before the one ahead of it. A
    // WQE the driver wrote into the doorbell page is already here: no read, only the decode.
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    // Copies read ahead for indices the stage has passed are not needed any more.
    while (!r.ahead.empty() && static_cast<int16_t>(r.ahead_first - index) < 0) {
        r.ahead.erase(r.ahead.begin());
        ++r.ahead_first;
    }
    if (r.ahead_failed && static_cast<int16_t>(r.ahead_first - index) < 0) r.ahead_failed = false;
    if (r.db_wqe_valid && r.db_wqe_index == index) {
        r.db_wqe_valid = false;
        e.wqe = r.db_wqe;
        e.fetched = true;
        ++m_core.counters.wqes_from_doorbell;
    } else {
        // A copy for a later index waits for it; one the stage has passed is stale.
        if (r.db_wqe_valid && static_cast<int16_t>(r.db_wqe_index - index) < 0) {
            r.db_wqe_valid = false;
        }
        e.fetched = fetch_wqe(qpn, *q, index, e.wqe, delay);
    }
    e.ready = now + delay + ns_time(m_t.wqe_process_ns);
    if (!r.staged.empty()) e.ready = std::max(e.ready, r.staged.back().ready);
    const spec::send_wqe& w = e.wqe;
    const auto op = static_cast<wqe_opcode>(w.opcode);
    const bool payload = op == wqe_opcode::SEND || op == wqe_opcode::SEND_WITH_IMM ||
                         op == wqe_opcode::RDMA_WRITE || op == wqe_opcode::RDMA_WRITE_WITH_IMM;
    if (!e.fetched) {
        // Descriptor fetch failed (catalogue G1): the wr_id is unknown.
        ++m_core.counters.dma_errors;
        e.wqe = spec::send_wqe{};
        e.wqe.flags = spec::wqe_flags::SIGNALED;
        e.st = cqe_status::LOC_QP_OP_ERR;
    } else if (q->state != qp_state::RTS) {
        // ERR/SQE: the WQE is only flushed; nothing is checked or read.
    } else if (!valid_for(q->type, w.opcode)) {
        e.st = cqe_status::LOC_QP_OP_ERR;
    } else if (q->type == spec::qp_type::UD) {
        // The address handle must belong to this function and the QP's PD.
        const ah_ctx* ah = m_core.ctx.ah(w.ud_ah);
        e.st = (ah == nullptr || ah->fn != q->fn || ah->pd != q->pd) ? cqe_status::LOC_QP_OP_ERR
                                                                     : gather(qpn, w, e);
    } else if (payload) {
        e.st = gather(qpn, w, e);
    }
    if (m_core.ctx.qp(qpn) == nullptr) return;
    r.staged_bytes += e.payload.size();
    r.staged.push_back(std::move(e));
}

}  // namespace chio::model
