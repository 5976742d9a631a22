// Consumer API: posting work requests (ibv_post_send, ibv_post_recv, ibv_post_srq_recv).
//
// Each request of the list is checked against the QP's state and its granted capabilities before
// it is written; the first one that fails stops the walk with its errno in the return value and
// itself in *bad_wr. Nothing of a rejected request reaches the ring (the driver's queue_pair and
// shared_receive_queue check and write one WQE atomically), so "nothing consumed" holds for it
// and for every request after it.
#include <cerrno>
#include <cstring>

#include "driver/verbs.h"
#include "driver/verbs_context.h"

namespace chio::verbs {

namespace {

constexpr unsigned KNOWN_SEND_FLAGS = SEND_FENCE | SEND_SIGNALED | SEND_SOLICITED | SEND_INLINE;

bool opcode_allowed(qp_type t, wr_opcode op) {
    if (t == qp_type::UD) return op == wr_opcode::SEND || op == wr_opcode::SEND_WITH_IMM;
    return static_cast<unsigned>(op) <= static_cast<unsigned>(wr_opcode::ATOMIC_FETCH_AND_ADD);
}

// Sends are accepted in RTS and SQD, and in ERR where the device flushes them (verbs: a
// post to a QP in the error state completes with a flush error); RESET, INIT, RTR and SQE (the
// driver does not yet recover a send queue error) are refused.
bool send_state_ok(qp_state s) {
    return s == qp_state::RTS || s == qp_state::SQD || s == qp_state::ERR;
}

// Translates one verbs request into the driver's form; 0 or EINVAL. `inl` receives inline bytes.
int build_send(const qp& q, const send_wr& w, drv::send_wr& d, uint8_t* inl) {
    if (w.num_sge < 0 || (w.num_sge > 0 && w.sg_list == nullptr)) return EINVAL;
    if ((w.send_flags & ~KNOWN_SEND_FLAGS) != 0 || !opcode_allowed(q.qp_type, w.opcode)) {
        return EINVAL;
    }
    d.wr_id = w.wr_id;
    d.opcode = w.opcode;
    d.flags = w.send_flags | (q.sq_sig_all ? SEND_SIGNALED : 0u);
    d.imm = w.imm_data;
    if (w.send_flags & SEND_INLINE) {
        // As in libibverbs, inline data is copied at post time from the gather list's addresses,
        // read as CPU pointers; lkeys are not looked at.
        uint64_t total = 0;
        for (int i = 0; i < w.num_sge; ++i) total += w.sg_list[i].length;
        if (total > q.cap.max_inline_data) return EINVAL;
        uint32_t at = 0;
        for (int i = 0; i < w.num_sge; ++i) {
            const sge& s = w.sg_list[i];
            if (s.length == 0) continue;
            if (s.addr == 0) return EINVAL;  // never copy from a null pointer
            std::memcpy(inl + at, reinterpret_cast<const void*>(static_cast<uintptr_t>(s.addr)),
                        s.length);
            at += s.length;
        }
        d.inline_data = inl;
        d.inline_len = at;
    } else {
        if (static_cast<uint32_t>(w.num_sge) > q.cap.max_send_sge) return EINVAL;
        d.num_sge = static_cast<uint32_t>(w.num_sge);
        for (int i = 0; i < w.num_sge; ++i) {
            d.sg_list[i] = {w.sg_list[i].addr, w.sg_list[i].length, w.sg_list[i].lkey};
        }
    }
    switch (w.opcode) {
        case wr_opcode::RDMA_WRITE:
        case wr_opcode::RDMA_WRITE_WITH_IMM:
        case wr_opcode::RDMA_READ:
            d.remote_addr = w.wr.rdma.remote_addr;
            d.rkey = w.wr.rdma.rkey;
            break;
        case wr_opcode::ATOMIC_CMP_AND_SWP:
        case wr_opcode::ATOMIC_FETCH_AND_ADD:
            d.remote_addr = w.wr.atomic.remote_addr;
            d.rkey = w.wr.atomic.rkey;
            d.compare_add = w.wr.atomic.compare_add;
            d.swap = w.wr.atomic.swap;
            break;
        default:
            break;
    }
    if (q.qp_type == qp_type::UD) {
        if (w.wr.ud.ah == nullptr || w.wr.ud.ah->ctx != q.ctx) return EINVAL;
        d.ah = w.wr.ud.ah->handle;
        d.remote_qpn = w.wr.ud.remote_qpn;
        d.remote_qkey = w.wr.ud.remote_qkey;
    }
    return 0;
}

int build_recv(const recv_wr& w, uint32_t max_sge, drv::recv_wr& d) {
    if (w.num_sge < 0 || static_cast<uint32_t>(w.num_sge) > max_sge ||
        (w.num_sge > 0 && w.sg_list == nullptr)) {
        return EINVAL;
    }
    d.wr_id = w.wr_id;
    d.num_sge = static_cast<uint32_t>(w.num_sge);
    for (int i = 0; i < w.num_sge; ++i) {
        d.sg_list[i] = {w.sg_list[i].addr, w.sg_list[i].length, w.sg_list[i].lkey};
    }
    return 0;
}

}  // namespace

int post_send(qp* q, send_wr* wr, send_wr** bad_wr) {
    if (q == nullptr) return EINVAL;
    for (send_wr* w = wr; w != nullptr; w = w->next) {
        drv::send_wr d;
        uint8_t inl[spec::limits::MAX_INLINE];
        int e = send_state_ok(q->m_impl->state()) ? build_send(*q, *w, d, inl) : EINVAL;
        if (e == 0) e = q->m_impl->post_send(d);
        if (e != 0) {
            if (bad_wr) *bad_wr = w;
            return e;
        }
    }
    return 0;
}

int post_recv(qp* q, recv_wr* wr, recv_wr** bad_wr) {
    if (q == nullptr) return EINVAL;
    for (recv_wr* w = wr; w != nullptr; w = w->next) {
        drv::recv_wr d;
        // A QP on an SRQ takes receives through post_srq_recv only; RESET refuses receives.
        int e = (q->srq != nullptr || q->m_impl->state() == qp_state::RESET)
                    ? EINVAL
                    : build_recv(*w, q->cap.max_recv_sge, d);
        if (e == 0) e = q->m_impl->post_recv(d);
        if (e != 0) {
            if (bad_wr) *bad_wr = w;
            return e;
        }
    }
    return 0;
}

int post_srq_recv(srq* s, recv_wr* wr, recv_wr** bad_wr) {
    if (s == nullptr) return EINVAL;
    for (recv_wr* w = wr; w != nullptr; w = w->next) {
        drv::recv_wr d;
        int e = build_recv(*w, s->max_sge, d);
        if (e == 0) e = s->m_impl->post_recv(d);
        if (e != 0) {
            if (bad_wr) *bad_wr = w;
            return e;
        }
    }
    return 0;
}

}  // namespace chio::verbs
