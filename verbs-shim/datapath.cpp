// The data path: the operations behind the inline ibv_post_send, ibv_post_recv,
// ibv_post_srq_recv, ibv_poll_cq and ibv_req_notify_cq (context->ops), and the ibv_wr_* calls of
// a QP created with send operations (struct ibv_qp_ex). Each post or poll is one request to the
// service; a list of work requests travels in one message.
#include <cstring>
#include <vector>

#include "verbs-shim/shim.h"

using namespace chio::shim;
namespace proto = chio::shim::proto;

namespace chio::shim {

// chio's wqe_flags (spec/chio.toml): SIGNALED 0x01, SOLICITED 0x02, INLINE 0x04, FENCE 0x08.
// A flag chio does not know (IP checksum offload, ...) maps to a bit chio refuses (EINVAL), as
// a device without the feature refuses the request.
uint32_t to_chio_send_flags(unsigned f) {
    uint32_t out = 0;
    if (f & IBV_SEND_SIGNALED) out |= 0x01;
    if (f & IBV_SEND_SOLICITED) out |= 0x02;
    if (f & IBV_SEND_INLINE) out |= 0x04;
    if (f & IBV_SEND_FENCE) out |= 0x08;
    const unsigned known =
        IBV_SEND_SIGNALED | IBV_SEND_SOLICITED | IBV_SEND_INLINE | IBV_SEND_FENCE;
    if (f & ~known) out |= 0x80;
    return out;
}

// chio's cqe_flags: WITH_IMM 0x01, GRH 0x02.
unsigned from_chio_wc_flags(uint32_t f) {
    unsigned out = 0;
    if (f & 0x01) out |= IBV_WC_WITH_IMM;
    if (f & 0x02) out |= IBV_WC_GRH;
    return out;
}

namespace {

// Inline data is copied now, from the process's memory, as libibverbs providers do at post
// time; more than the device's inline limit is refused as hardware refuses it.
int copy_inline(proto::send_wr& out, const ibv_sge* sg, int n) {
    uint32_t at = 0;
    for (int i = 0; i < n; ++i) {
        if (sg[i].length > proto::MAX_INLINE - at) return EINVAL;
        if (sg[i].length) {
            std::memcpy(out.inline_data + at,
                        reinterpret_cast<const void*>(static_cast<uintptr_t>(sg[i].addr)),
                        sg[i].length);
        }
        at += sg[i].length;
    }
    out.inline_len = at;
    return 0;
}

}  // namespace

int to_wire(const ibv_send_wr& w, bool ud, proto::send_wr& out) {
    std::memset(&out, 0, sizeof(out));
    if (w.num_sge < 0 || (w.num_sge > 0 && w.sg_list == nullptr)) return EINVAL;
    out.wr_id = w.wr_id;
    out.opcode = w.opcode;
    out.send_flags = to_chio_send_flags(w.send_flags);
    out.imm_data = w.imm_data;
    if (w.send_flags & IBV_SEND_INLINE) {
        if (const int e = copy_inline(out, w.sg_list, w.num_sge)) return e;
    } else {
        if (static_cast<uint32_t>(w.num_sge) > proto::MAX_SGE) return EINVAL;
        out.num_sge = static_cast<uint32_t>(w.num_sge);
        for (int i = 0; i < w.num_sge; ++i) {
            out.sg_list[i] = {w.sg_list[i].addr, w.sg_list[i].length, w.sg_list[i].lkey};
        }
    }
    if (w.opcode == IBV_WR_ATOMIC_CMP_AND_SWP || w.opcode == IBV_WR_ATOMIC_FETCH_AND_ADD) {
        out.remote_addr = w.wr.atomic.remote_addr;
        out.rkey = w.wr.atomic.rkey;
        out.compare_add = w.wr.atomic.compare_add;
        out.swap = w.wr.atomic.swap;
    } else if (!ud) {
        out.remote_addr = w.wr.rdma.remote_addr;
        out.rkey = w.wr.rdma.rkey;
    }
    if (ud) {
        if (w.wr.ud.ah == nullptr) return EINVAL;
        out.ah = reinterpret_cast<shim_ah*>(w.wr.ud.ah)->h;
        out.remote_qpn = w.wr.ud.remote_qpn;
        out.remote_qkey = w.wr.ud.remote_qkey;
    }
    return 0;
}

int post_send_list(shim_qp* q, std::vector<proto::send_wr>& wrs, uint32_t* bad_index) {
    for (size_t at = 0; at < wrs.size(); at += proto::MAX_LIST) {
        const size_t n = std::min<size_t>(proto::MAX_LIST, wrs.size() - at);
        std::vector<uint8_t> msg(sizeof(proto::post_req) + n * sizeof(proto::send_wr));
        proto::post_req h{q->h, static_cast<uint32_t>(n)};
        std::memcpy(msg.data(), &h, sizeof(h));
        std::memcpy(msg.data() + sizeof(h), wrs.data() + at, n * sizeof(proto::send_wr));
        std::vector<uint8_t> body;
        const int e = call(proto::op::POST_SEND, msg.data(), msg.size(), &body);
        if (e != 0) {
            proto::post_resp r{};
            if (body.size() == sizeof(r)) std::memcpy(&r, body.data(), sizeof(r));
            *bad_index = static_cast<uint32_t>(at) + (body.size() == sizeof(r) ? r.bad_index : 0);
            return e;
        }
    }
    return 0;
}

}  // namespace chio::shim

namespace {

int post_send(ibv_qp* qp, ibv_send_wr* wr, ibv_send_wr** bad_wr) {
    auto* q = reinterpret_cast<shim_qp*>(qp);
    const bool ud = qp->qp_type == IBV_QPT_UD;
    std::vector<proto::send_wr> wrs;
    std::vector<ibv_send_wr*> ptrs;
    int e = 0;
    ibv_send_wr* w = wr;
    for (; w != nullptr; w = w->next) {
        proto::send_wr o;
        if ((e = to_wire(*w, ud, o)) != 0) break;
        wrs.push_back(o);
        ptrs.push_back(w);
    }
    // The ones before a malformed request are posted, as the verbs rule says.
    uint32_t bad = 0;
    if (!wrs.empty()) {
        if (const int pe = post_send_list(q, wrs, &bad)) {
            if (bad_wr) *bad_wr = bad < ptrs.size() ? ptrs[bad] : wr;
            return pe;
        }
    }
    if (e != 0 && bad_wr) *bad_wr = w;
    return e;
}

int post_recv_common(proto::op o, uint32_t handle, ibv_recv_wr* wr, ibv_recv_wr** bad_wr) {
    std::vector<proto::recv_wr> wrs;
    std::vector<ibv_recv_wr*> ptrs;
    int e = 0;
    ibv_recv_wr* w = wr;
    for (; w != nullptr; w = w->next) {
        if (w->num_sge < 0 || static_cast<uint32_t>(w->num_sge) > proto::MAX_SGE ||
            (w->num_sge > 0 && w->sg_list == nullptr)) {
            e = EINVAL;
            break;
        }
        proto::recv_wr r{};
        r.wr_id = w->wr_id;
        r.num_sge = static_cast<uint32_t>(w->num_sge);
        for (int i = 0; i < w->num_sge; ++i) {
            r.sg_list[i] = {w->sg_list[i].addr, w->sg_list[i].length, w->sg_list[i].lkey};
        }
        wrs.push_back(r);
        ptrs.push_back(w);
    }
    for (size_t at = 0; at < wrs.size(); at += proto::MAX_LIST) {
        const size_t n = std::min<size_t>(proto::MAX_LIST, wrs.size() - at);
        std::vector<uint8_t> msg(sizeof(proto::post_req) + n * sizeof(proto::recv_wr));
        proto::post_req h{handle, static_cast<uint32_t>(n)};
        std::memcpy(msg.data(), &h, sizeof(h));
        std::memcpy(msg.data() + sizeof(h), wrs.data() + at, n * sizeof(proto::recv_wr));
        std::vector<uint8_t> body;
        if (const int pe = call(o, msg.data(), msg.size(), &body)) {
            proto::post_resp r{};
            if (body.size() == sizeof(r)) std::memcpy(&r, body.data(), sizeof(r));
            const size_t bad = at + r.bad_index;
            if (bad_wr) *bad_wr = bad < ptrs.size() ? ptrs[bad] : wr;
            return pe;
        }
    }
    if (e != 0 && bad_wr) *bad_wr = w;
    return e;
}

int post_recv(ibv_qp* qp, ibv_recv_wr* wr, ibv_recv_wr** bad_wr) {
    return post_recv_common(proto::op::POST_RECV, reinterpret_cast<shim_qp*>(qp)->h, wr, bad_wr);
}

int post_srq_recv(ibv_srq* srq, ibv_recv_wr* wr, ibv_recv_wr** bad_wr) {
    return post_recv_common(proto::op::POST_SRQ_RECV, reinterpret_cast<shim_srq*>(srq)->h, wr,
                            bad_wr);
}

int poll_cq(ibv_cq* cq, int num_entries, ibv_wc* wc) {
    if (num_entries < 0 || (num_entries > 0 && wc == nullptr)) return -EINVAL;
    auto* c = reinterpret_cast<shim_cq*>(cq);
    int got = 0;
    while (got < num_entries && !c->early.empty()) {
        wc[got++] = c->early.front();
        c->early.pop_front();
    }
    if (got == num_entries) return got;
    const uint32_t want =
        std::min<uint32_t>(proto::MAX_LIST, static_cast<uint32_t>(num_entries - got));
    proto::handle_req r{c->h, want};
    std::vector<uint8_t> body;
    if (call(proto::op::POLL_CQ, &r, sizeof(r), &body) != 0) return got ? got : -EIO;
    for (size_t i = 0; i + sizeof(proto::wc) <= body.size(); i += sizeof(proto::wc)) {
        proto::wc w{};
        std::memcpy(&w, body.data() + i, sizeof(w));
        ibv_wc& o = wc[got++];
        std::memset(&o, 0, sizeof(o));
        o.wr_id = w.wr_id;
        o.status = static_cast<ibv_wc_status>(w.status);
        o.opcode = static_cast<ibv_wc_opcode>(w.opcode);
        o.vendor_err = w.vendor_err;
        o.byte_len = w.byte_len;
        o.imm_data = w.imm_data;
        o.qp_num = w.qp_num;
        o.src_qp = w.src_qp;
        o.wc_flags = from_chio_wc_flags(w.wc_flags);
        o.pkey_index = static_cast<uint16_t>(w.pkey_index);
    }
    return got;
}

// Arming is the library's: ibv_get_cq_event watches armed CQs (objects.cpp).
int req_notify_cq(ibv_cq* cq, int) {
    reinterpret_cast<shim_cq*>(cq)->armed = true;
    return 0;
}

// --- ibv_wr_* (struct ibv_qp_ex): a batch built between wr_start and wr_complete ---

shim_qp* of(ibv_qp_ex* q) { return reinterpret_cast<shim_qp*>(q); }

proto::send_wr& begin_wr(ibv_qp_ex* qx, ibv_wr_opcode op) {
    shim_qp* q = of(qx);
    q->batch.emplace_back();
    proto::send_wr& w = q->batch.back();
    std::memset(&w, 0, sizeof(w));
    w.wr_id = qx->wr_id;
    w.opcode = op;
    w.send_flags = to_chio_send_flags(qx->wr_flags);
    return w;
}

proto::send_wr* last(ibv_qp_ex* qx) {
    shim_qp* q = of(qx);
    if (q->batch.empty()) {
        q->batch_error = EINVAL;  // a setter without a work request before it
        return nullptr;
    }
    return &q->batch.back();
}

void wr_start(ibv_qp_ex* qx) {
    of(qx)->batch.clear();
    of(qx)->batch_error = 0;
}

int wr_complete(ibv_qp_ex* qx) {
    shim_qp* q = of(qx);
    int e = q->batch_error;
    uint32_t bad = 0;
    if (e == 0 && !q->batch.empty()) e = post_send_list(q, q->batch, &bad);
    q->batch.clear();
    q->batch_error = 0;
    return e;
}

void wr_abort(ibv_qp_ex* qx) { wr_start(qx); }

void wr_send(ibv_qp_ex* qx) { begin_wr(qx, IBV_WR_SEND); }
void wr_send_imm(ibv_qp_ex* qx, __be32 imm) { begin_wr(qx, IBV_WR_SEND_WITH_IMM).imm_data = imm; }
void wr_rdma_write(ibv_qp_ex* qx, uint32_t rkey, uint64_t addr) {
    proto::send_wr& w = begin_wr(qx, IBV_WR_RDMA_WRITE);
    w.rkey = rkey;
    w.remote_addr = addr;
}
void wr_rdma_write_imm(ibv_qp_ex* qx, uint32_t rkey, uint64_t addr, __be32 imm) {
    proto::send_wr& w = begin_wr(qx, IBV_WR_RDMA_WRITE_WITH_IMM);
    w.rkey = rkey;
    w.remote_addr = addr;
    w.imm_data = imm;
}
void wr_rdma_read(ibv_qp_ex* qx, uint32_t rkey, uint64_t addr) {
    proto::send_wr& w = begin_wr(qx, IBV_WR_RDMA_READ);
    w.rkey = rkey;
    w.remote_addr = addr;
}
void wr_atomic_cmp_swp(ibv_qp_ex* qx, uint32_t rkey, uint64_t addr, uint64_t compare,
                       uint64_t swap) {
    proto::send_wr& w = begin_wr(qx, IBV_WR_ATOMIC_CMP_AND_SWP);
    w.rkey = rkey;
    w.remote_addr = addr;
    w.compare_add = compare;
    w.swap = swap;
}
void wr_atomic_fetch_add(ibv_qp_ex* qx, uint32_t rkey, uint64_t addr, uint64_t add) {
    proto::send_wr& w = begin_wr(qx, IBV_WR_ATOMIC_FETCH_AND_ADD);
    w.rkey = rkey;
    w.remote_addr = addr;
    w.compare_add = add;
}
// Operations chio's send queue does not have: the batch fails at wr_complete.
void wr_unsupported(ibv_qp_ex* qx) { of(qx)->batch_error = EOPNOTSUPP; }
void wr_bind_mw(ibv_qp_ex* qx, ibv_mw*, uint32_t, const ibv_mw_bind_info*) { wr_unsupported(qx); }
void wr_local_inv(ibv_qp_ex* qx, uint32_t) { wr_unsupported(qx); }
void wr_send_inv(ibv_qp_ex* qx, uint32_t) { wr_unsupported(qx); }
void wr_send_tso(ibv_qp_ex* qx, void*, uint16_t, uint16_t) { wr_unsupported(qx); }
void wr_set_xrc_srqn(ibv_qp_ex* qx, uint32_t) { wr_unsupported(qx); }
void wr_atomic_write(ibv_qp_ex* qx, uint32_t, uint64_t, const void*) { wr_unsupported(qx); }

void wr_set_ud_addr(ibv_qp_ex* qx, ibv_ah* ah, uint32_t remote_qpn, uint32_t remote_qkey) {
    if (proto::send_wr* w = last(qx)) {
        if (ah == nullptr) {
            of(qx)->batch_error = EINVAL;
            return;
        }
        w->ah = reinterpret_cast<shim_ah*>(ah)->h;
        w->remote_qpn = remote_qpn;
        w->remote_qkey = remote_qkey;
    }
}
void wr_set_sge(ibv_qp_ex* qx, uint32_t lkey, uint64_t addr, uint32_t length) {
    if (proto::send_wr* w = last(qx)) {
        w->num_sge = 1;
        w->sg_list[0] = {addr, length, lkey};
    }
}
void wr_set_sge_list(ibv_qp_ex* qx, size_t n, const ibv_sge* sg) {
    proto::send_wr* w = last(qx);
    if (w == nullptr) return;
    if (n > proto::MAX_SGE) {
        of(qx)->batch_error = EINVAL;
        return;
    }
    w->num_sge = static_cast<uint32_t>(n);
    for (size_t i = 0; i < n; ++i) w->sg_list[i] = {sg[i].addr, sg[i].length, sg[i].lkey};
}
void wr_set_inline_data(ibv_qp_ex* qx, void* addr, size_t length) {
    proto::send_wr* w = last(qx);
    if (w == nullptr) return;
    ibv_sge s{reinterpret_cast<uintptr_t>(addr), static_cast<uint32_t>(length), 0};
    w->send_flags |= 0x04;  // chio INLINE
    if (length > proto::MAX_INLINE || copy_inline(*w, &s, 1) != 0) of(qx)->batch_error = EINVAL;
}
void wr_set_inline_data_list(ibv_qp_ex* qx, size_t n, const ibv_data_buf* bufs) {
    proto::send_wr* w = last(qx);
    if (w == nullptr) return;
    std::vector<ibv_sge> s(n);
    for (size_t i = 0; i < n; ++i) {
        if (bufs[i].length > proto::MAX_INLINE) {
            of(qx)->batch_error = EINVAL;
            return;
        }
        s[i] = {reinterpret_cast<uintptr_t>(bufs[i].addr), static_cast<uint32_t>(bufs[i].length),
                0};
    }
    w->send_flags |= 0x04;
    if (copy_inline(*w, s.data(), static_cast<int>(n)) != 0) of(qx)->batch_error = EINVAL;
}

}  // namespace

namespace chio::shim {

void fill_context_ops(ibv_context_ops& ops) {
    ops.post_send = post_send;
    ops.post_recv = post_recv;
    ops.post_srq_recv = post_srq_recv;
    ops.poll_cq = poll_cq;
    ops.req_notify_cq = req_notify_cq;
}

void fill_qp_ex_ops(ibv_qp_ex& q) {
    q.wr_atomic_cmp_swp = wr_atomic_cmp_swp;
    q.wr_atomic_fetch_add = wr_atomic_fetch_add;
    q.wr_bind_mw = wr_bind_mw;
    q.wr_local_inv = wr_local_inv;
    q.wr_rdma_read = wr_rdma_read;
    q.wr_rdma_write = wr_rdma_write;
    q.wr_rdma_write_imm = wr_rdma_write_imm;
    q.wr_send = wr_send;
    q.wr_send_imm = wr_send_imm;
    q.wr_send_inv = wr_send_inv;
    q.wr_send_tso = wr_send_tso;
    q.wr_set_ud_addr = wr_set_ud_addr;
    q.wr_set_xrc_srqn = wr_set_xrc_srqn;
    q.wr_set_inline_data = wr_set_inline_data;
    q.wr_set_inline_data_list = wr_set_inline_data_list;
    q.wr_set_sge = wr_set_sge;
    q.wr_set_sge_list = wr_set_sge_list;
    q.wr_start = wr_start;
    q.wr_complete = wr_complete;
    q.wr_abort = wr_abort;
    q.wr_atomic_write = wr_atomic_write;
}

}  // namespace chio::shim
