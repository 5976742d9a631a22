// libibverbs queue-pair verbs: ibv_create_qp, ibv_create_qp_ex (the verbs_context operation,
// with the ibv_wr_* send operations), ibv_modify_qp, ibv_query_qp, ibv_destroy_qp, and the
// multicast calls chio does not offer. The QP lives in the service; the library keeps the
// ibv_qp_ex the application reads.
#include <endian.h>

#include <cstring>
#include <new>
#include <vector>

#include "verbs-shim/shim.h"

using namespace chio::shim;
namespace proto = chio::shim::proto;

namespace {

template <typename T>
bool read_resp(const std::vector<uint8_t>& b, T& out) {
    if (b.size() != sizeof(T)) return false;
    std::memcpy(&out, b.data(), sizeof(T));
    return true;
}

uint32_t handle_of(ibv_pd* p) { return p ? reinterpret_cast<shim_pd*>(p)->h : 0; }
uint32_t handle_of(ibv_cq* c) { return c ? reinterpret_cast<shim_cq*>(c)->h : 0; }
uint32_t handle_of(ibv_srq* s) { return s ? reinterpret_cast<shim_srq*>(s)->h : 0; }

void ah_to_wire(const ibv_ah_attr& a, proto::ah_attr& out) {
    uint64_t hi = 0, lo = 0;
    std::memcpy(&hi, a.grh.dgid.raw, 8);
    std::memcpy(&lo, a.grh.dgid.raw + 8, 8);
    out.dgid_hi = be64toh(hi);
    out.dgid_lo = be64toh(lo);
    out.is_global = a.is_global;
    out.sl = a.sl;
    out.port_num = a.port_num;
}

proto::qp_cap cap_to_wire(const ibv_qp_cap& c) {
    return {c.max_send_wr, c.max_recv_wr, c.max_send_sge, c.max_recv_sge, c.max_inline_data};
}

void cap_from_wire(const proto::qp_cap& w, ibv_qp_cap& c) {
    c.max_send_wr = w.max_send_wr;
    c.max_recv_wr = w.max_recv_wr;
    c.max_send_sge = w.max_send_sge;
    c.max_recv_sge = w.max_recv_sge;
    c.max_inline_data = w.max_inline_data;
}

// The send operations the ibv_wr_* API may ask for that chio's send queue executes.
constexpr uint64_t SUPPORTED_SEND_OPS =
    IBV_QP_EX_WITH_RDMA_WRITE | IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM | IBV_QP_EX_WITH_SEND |
    IBV_QP_EX_WITH_SEND_WITH_IMM | IBV_QP_EX_WITH_RDMA_READ | IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP |
    IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD;

ibv_qp* create_qp_common(ibv_context* ctx, ibv_pd* pd, ibv_qp_init_attr_ex& a, bool extended) {
    proto::create_qp_req r{};
    r.pd = handle_of(pd);
    r.send_cq = handle_of(a.send_cq);
    r.recv_cq = handle_of(a.recv_cq);
    r.srq = handle_of(a.srq);
    r.qp_type = a.qp_type;
    r.sq_sig_all = a.sq_sig_all ? 1 : 0;
    r.cap = cap_to_wire(a.cap);
    std::vector<uint8_t> body;
    proto::create_qp_resp out{};
    if (const int e = call(proto::op::CREATE_QP, &r, sizeof(r), &body)) {
        return shim_fail<ibv_qp*>(e, nullptr);
    }
    if (!read_resp(body, out)) return shim_fail<ibv_qp*>(EIO, nullptr);
    auto* q = new (std::nothrow) shim_qp();
    if (q == nullptr) return shim_fail<ibv_qp*>(ENOMEM, nullptr);
    std::memset(&q->qpx, 0, sizeof(q->qpx));
    q->h = out.handle;
    q->extended = extended;
    ibv_qp& b = q->qpx.qp_base;
    b.context = ctx;
    b.qp_context = a.qp_context;
    b.pd = pd;
    b.send_cq = a.send_cq;
    b.recv_cq = a.recv_cq;
    b.srq = a.srq;
    b.handle = out.handle;
    b.qp_num = out.qp_num;
    b.state = IBV_QPS_RESET;
    b.qp_type = a.qp_type;
    pthread_mutex_init(&b.mutex, nullptr);
    pthread_cond_init(&b.cond, nullptr);
    cap_from_wire(out.cap, a.cap);
    if (extended) fill_qp_ex_ops(q->qpx);
    return &b;
}

}  // namespace

namespace chio::shim {

ibv_qp* create_qp_ex_op(ibv_context* c, ibv_qp_init_attr_ex* a) {
    if (a == nullptr) return shim_fail<ibv_qp*>(EINVAL, nullptr);
    const uint32_t known = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
    // XRC domains, TSO, RSS, source QPNs, create flags: not offered, as a device without them.
    if ((a->comp_mask & ~known) != 0 || !(a->comp_mask & IBV_QP_INIT_ATTR_PD)) {
        return shim_fail<ibv_qp*>(EOPNOTSUPP, nullptr);
    }
    const bool ops = (a->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS) != 0;
    if (ops && (a->send_ops_flags & ~SUPPORTED_SEND_OPS) != 0) {
        return shim_fail<ibv_qp*>(EOPNOTSUPP, nullptr);
    }
    return create_qp_common(c, a->pd, *a, ops);
}

}  // namespace chio::shim

extern "C" {

ibv_qp* ibv_create_qp(ibv_pd* pd, ibv_qp_init_attr* qp_init_attr) {
    if (pd == nullptr || qp_init_attr == nullptr) return shim_fail<ibv_qp*>(EINVAL, nullptr);
    ibv_qp_init_attr_ex a;
    std::memset(&a, 0, sizeof(a));
    std::memcpy(&a, qp_init_attr, sizeof(*qp_init_attr));  // ibv_qp_init_attr is its prefix
    a.comp_mask = IBV_QP_INIT_ATTR_PD;
    a.pd = pd;
    ibv_qp* q = create_qp_common(pd->context, pd, a, false);
    if (q) qp_init_attr->cap = a.cap;
    return q;
}

ibv_qp_ex* ibv_qp_to_qp_ex(ibv_qp* qp) {
    auto* q = reinterpret_cast<shim_qp*>(qp);
    return q && q->extended ? &q->qpx : nullptr;
}

int ibv_modify_qp(ibv_qp* qp, ibv_qp_attr* attr, int attr_mask) {
    if (qp == nullptr || attr == nullptr) return EINVAL;
    proto::modify_qp_req r{};
    r.handle = reinterpret_cast<shim_qp*>(qp)->h;
    r.attr_mask = static_cast<uint32_t>(attr_mask);
    proto::qp_attr& w = r.attr;
    w.qp_state = attr->qp_state;
    w.cur_qp_state = attr->cur_qp_state;
    w.path_mtu = attr->path_mtu;
    w.qkey = attr->qkey;
    w.rq_psn = attr->rq_psn;
    w.sq_psn = attr->sq_psn;
    w.dest_qp_num = attr->dest_qp_num;
    w.qp_access_flags = attr->qp_access_flags;
    w.cap = cap_to_wire(attr->cap);
    w.pkey_index = attr->pkey_index;
    ah_to_wire(attr->ah_attr, w.ah);
    w.port_num = attr->port_num;
    w.max_rd_atomic = attr->max_rd_atomic;
    w.max_dest_rd_atomic = attr->max_dest_rd_atomic;
    w.min_rnr_timer = attr->min_rnr_timer;
    w.timeout = attr->timeout;
    w.retry_cnt = attr->retry_cnt;
    w.rnr_retry = attr->rnr_retry;
    if (const int e = call(proto::op::MODIFY_QP, &r, sizeof(r))) return e;
    if (attr_mask & IBV_QP_STATE) qp->state = attr->qp_state;
    return 0;
}

int ibv_query_qp(ibv_qp* qp, ibv_qp_attr* attr, int, ibv_qp_init_attr* init_attr) {
    if (qp == nullptr || attr == nullptr) return EINVAL;
    proto::handle_req r{reinterpret_cast<shim_qp*>(qp)->h, 0};
    std::vector<uint8_t> body;
    proto::query_qp_resp out{};
    if (const int e = call(proto::op::QUERY_QP, &r, sizeof(r), &body)) return e;
    if (!read_resp(body, out)) return EIO;
    const proto::qp_attr& w = out.attr;
    std::memset(attr, 0, sizeof(*attr));
    attr->qp_state = static_cast<ibv_qp_state>(w.qp_state);
    attr->cur_qp_state = static_cast<ibv_qp_state>(w.cur_qp_state);
    attr->path_mtu = static_cast<ibv_mtu>(w.path_mtu);
    attr->qkey = w.qkey;
    attr->rq_psn = w.rq_psn;
    attr->sq_psn = w.sq_psn;
    attr->dest_qp_num = w.dest_qp_num;
    attr->qp_access_flags = w.qp_access_flags;
    cap_from_wire(w.cap, attr->cap);
    attr->pkey_index = static_cast<uint16_t>(w.pkey_index);
    attr->ah_attr.is_global = static_cast<uint8_t>(w.ah.is_global);
    const uint64_t hi = htobe64(w.ah.dgid_hi), lo = htobe64(w.ah.dgid_lo);
    std::memcpy(attr->ah_attr.grh.dgid.raw, &hi, 8);
    std::memcpy(attr->ah_attr.grh.dgid.raw + 8, &lo, 8);
    attr->ah_attr.sl = static_cast<uint8_t>(w.ah.sl);
    attr->ah_attr.port_num = static_cast<uint8_t>(w.ah.port_num);
    attr->port_num = w.port_num;
    attr->max_rd_atomic = w.max_rd_atomic;
    attr->max_dest_rd_atomic = w.max_dest_rd_atomic;
    attr->min_rnr_timer = w.min_rnr_timer;
    attr->timeout = w.timeout;
    attr->retry_cnt = w.retry_cnt;
    attr->rnr_retry = w.rnr_retry;
    qp->state = attr->qp_state;
    if (init_attr) {
        std::memset(init_attr, 0, sizeof(*init_attr));
        init_attr->qp_context = qp->qp_context;
        init_attr->send_cq = qp->send_cq;
        init_attr->recv_cq = qp->recv_cq;
        init_attr->srq = qp->srq;
        cap_from_wire(out.init.cap, init_attr->cap);
        init_attr->qp_type = qp->qp_type;
        init_attr->sq_sig_all = static_cast<int>(out.init.sq_sig_all);
    }
    return 0;
}

int ibv_destroy_qp(ibv_qp* qp) {
    if (qp == nullptr) return EINVAL;
    auto* q = reinterpret_cast<shim_qp*>(qp);
    if (const int e = call_handle(proto::op::DESTROY_QP, q->h)) return e;
    delete q;
    return 0;
}

// Multicast needs a UD multicast group on the fabric: not offered by chio.
int ibv_attach_mcast(ibv_qp*, const ibv_gid*, uint16_t) { return EOPNOTSUPP; }
int ibv_detach_mcast(ibv_qp*, const ibv_gid*, uint16_t) { return EOPNOTSUPP; }

}  // extern "C"
