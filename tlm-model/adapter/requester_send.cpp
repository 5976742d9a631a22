// Packetizing a send WQE: RC messages segmented by path MTU with PSNs, kept for retransmission
// until acknowledged (IBA 1.4 9.7.1); UD datagrams of at most one MTU, complete when sent.
#include <algorithm>
#include <cstring>

#include "tlm-model/adapter/qp_engine.h"

namespace chio::model {

using spec::cqe_status;
using spec::wqe_opcode;
using spec::roce::opcode;

namespace {

// FIRST/MIDDLE/LAST/ONLY opcode of a segmented SEND or WRITE (IBA table 38).
opcode segment_opcode(wqe_opcode op, bool first, bool last) {
    const bool imm = op == wqe_opcode::SEND_WITH_IMM || op == wqe_opcode::RDMA_WRITE_WITH_IMM;
    if (op == wqe_opcode::SEND || op == wqe_opcode::SEND_WITH_IMM) {
        if (first && last) return imm ? opcode::RC_SEND_ONLY_WITH_IMM : opcode::RC_SEND_ONLY;
        if (first) return opcode::RC_SEND_FIRST;
        if (last) return imm ? opcode::RC_SEND_LAST_WITH_IMM : opcode::RC_SEND_LAST;
        return opcode::RC_SEND_MIDDLE;
    }
    if (first && last)
        return imm ? opcode::RC_RDMA_WRITE_ONLY_WITH_IMM : opcode::RC_RDMA_WRITE_ONLY;
    if (first) return opcode::RC_RDMA_WRITE_FIRST;
    if (last) return imm ? opcode::RC_RDMA_WRITE_LAST_WITH_IMM : opcode::RC_RDMA_WRITE_LAST;
    return opcode::RC_RDMA_WRITE_MIDDLE;
}

}  // namespace

bool qp_engine::send_rc(uint32_t qpn, outstanding_wr& wr, staged_wqe& e) {
    const std::vector<uint8_t>& payload = e.payload;
    qp_ctx* q = live(qpn);
    if (q == nullptr) return false;
    requester_state& r = tp(qpn).req;
    const spec::send_wqe& w = wr.wqe;
    const auto op = static_cast<wqe_opcode>(w.opcode);
    const uint32_t mtu = mtu_bytes(*q);
    const roce_packet base = make_packet(qpn, q->attrs.dest_qpn, q->attrs.av);
    const bool solicited = (w.flags & spec::wqe_flags::SOLICITED) != 0;

    if (wr.kind == wr_kind::read) {
        roce_packet p = base;
        p.opcode = opcode::RC_RDMA_READ_REQUEST;
        p.psn = r.next_psn;
        p.ack_req = true;
        p.reth = {w.remote_addr, w.rkey, wr.length};
        // A READ request consumes one PSN per response packet (IBA 9.7.2).
        const uint32_t n = std::max<uint32_t>(1, (wr.length + mtu - 1) / mtu);
        wr.first_psn = r.next_psn;
        wr.last_psn = (r.next_psn + n - 1) & PSN_MASK;
        r.next_psn = (r.next_psn + n) & PSN_MASK;
        wr.packets.push_back(std::make_shared<const roce_packet>(std::move(p)));
        ++r.rd_atomic;
    } else if (wr.kind == wr_kind::atomic) {
        roce_packet p = base;
        p.opcode =
            op == wqe_opcode::ATOMIC_CMP_AND_SWP ? opcode::RC_COMPARE_SWAP : opcode::RC_FETCH_ADD;
        p.psn = r.next_psn;
        p.ack_req = true;
        p.atomic = {w.remote_addr, w.rkey,
                    op == wqe_opcode::ATOMIC_CMP_AND_SWP ? w.swap : w.compare_add, w.compare_add};
        wr.first_psn = wr.last_psn = r.next_psn;
        r.next_psn = (r.next_psn + 1) & PSN_MASK;
        wr.packets.push_back(std::make_shared<const roce_packet>(std::move(p)));
        ++r.rd_atomic;
    } else {
        const uint32_t len = static_cast<uint32_t>(payload.size());
        const uint32_t n = std::max<uint32_t>(1, (len + mtu - 1) / mtu);
        wr.first_psn = r.next_psn;
        for (uint32_t i = 0; i < n; ++i) {
            roce_packet p = base;
            const bool first = i == 0, last = i + 1 == n;
            p.opcode = segment_opcode(op, first, last);
            p.psn = r.next_psn;
            r.next_psn = (r.next_psn + 1) & PSN_MASK;
            p.ack_req = last;
            p.solicited = last && solicited;
            if (first && wr.kind == wr_kind::write) p.reth = {w.remote_addr, w.rkey, len};
            if (last) p.imm = w.imm;
            const uint32_t off = i * mtu, seg = std::min(mtu, len - off);
            if (n == 1) {
                // The whole message in one packet: the staged copy becomes the packet's (the
                // staged entry is dropped after this), so the data path copies the bytes once.
                p.payload = std::move(e.payload);
            } else {
                p.payload.assign(payload.begin() + off, payload.begin() + off + seg);
            }
            wr.packets.push_back(std::make_shared<const roce_packet>(std::move(p)));
        }
        wr.last_psn = (r.next_psn - 1) & PSN_MASK;
    }
    // The packets go one per scheduling turn, each once its payload chunk has arrived; the
    // first possibly in this one (qp_engine.h).
    r.unsent.assign(wr.packets.begin(), wr.packets.end());
    r.unsent_ready.assign(wr.packets.size(), e.ready);
    for (size_t i = 0; i < r.unsent_ready.size() && i < e.chunk_ready.size(); ++i) {
        r.unsent_ready[i] = std::max(e.ready, e.chunk_ready[i]);
    }
    r.outstanding.push_back(std::move(wr));
    if (r.deadline == sc_core::SC_ZERO_TIME) arm_timer(qpn);
    return live(qpn) != nullptr;
}

void qp_engine::send_next(uint32_t qpn) {
    requester_state& r = tp(qpn).req;
    if (r.unsent.empty() || live(qpn) == nullptr) return;
    const packet_ptr p = std::move(r.unsent.front());
    r.unsent.pop_front();
    transmit(qpn, p);
    // The ACK timeout runs from the last packet sent, not from the WQE's start: a message paced
    // by a rate limit over many turns must not time out before its last packet leaves.
    if (live(qpn) != nullptr && r.deadline != sc_core::SC_ZERO_TIME) arm_timer(qpn);
}

void qp_engine::send_ud(uint32_t qpn, staged_wqe& e) {
    qp_ctx* q = live(qpn);
    const spec::send_wqe& w = e.wqe;
    const ah_ctx* ah = m_core.ctx.ah(w.ud_ah);
    // The address handle must (still) belong to this function and the QP's PD.
    if (ah == nullptr || ah->fn != q->fn || ah->pd != q->pd) {
        complete(qpn, e.index, w, cqe_status::LOC_QP_OP_ERR, 0);
        return;
    }
    const address_vector av = ah->av;
    // A datagram is one packet: larger than the MTU is a local length error (IBA 9.8.2).
    if (e.payload.size() > mtu_bytes(*q)) {
        complete(qpn, e.index, w, cqe_status::LOC_LEN_ERR, 0);
        return;
    }
    roce_packet p = make_packet(qpn, w.ud_qpn, av);
    const bool imm = w.opcode == static_cast<uint8_t>(wqe_opcode::SEND_WITH_IMM);
    p.opcode = imm ? opcode::UD_SEND_ONLY_WITH_IMM : opcode::UD_SEND_ONLY;
    p.psn = tp(qpn).req.next_psn;
    tp(qpn).req.next_psn = (p.psn + 1) & PSN_MASK;
    p.solicited = (w.flags & spec::wqe_flags::SOLICITED) != 0;
    p.imm = w.imm;
    // A Q_Key with the high bit set means "use the QP's own Q_Key" (IBA 10.2.5).
    p.deth = {(w.ud_qkey & 0x80000000u) ? q->attrs.qkey : w.ud_qkey, qpn};
    p.payload = std::move(e.payload);
    const uint32_t len = static_cast<uint32_t>(p.payload.size());
    transmit(qpn, std::make_shared<const roce_packet>(std::move(p)));
    complete(qpn, e.index, w, cqe_status::SUCCESS, len);
}

}  // namespace chio::model
