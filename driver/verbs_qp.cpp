// Consumer API: queue pairs and shared receive queues (create, modify, query, destroy).
// Posting is in verbs_post.cpp.
#include <cerrno>

#include "driver/verbs.h"
#include "driver/verbs_context.h"

namespace chio::verbs {

namespace {

// QP capabilities are checked against the device's limits before anything is created.
bool caps_fit(const drv::device_caps& d, const qp_cap& c, bool has_srq) {
    const uint32_t max_wr = 1u << d.max_wq_log_size;
    return c.max_send_wr <= max_wr && c.max_send_sge <= d.max_sge &&
           c.max_inline_data <= d.max_inline &&
           (has_srq || (c.max_recv_wr <= max_wr && c.max_recv_sge <= d.max_recv_sge));
}

}  // namespace

qp* create_qp(pd* p, qp_init_attr* init) {
    if (p == nullptr || init == nullptr || init->send_cq == nullptr || init->recv_cq == nullptr) {
        return fail_null<qp>(EINVAL);
    }
    context* ctx = p->ctx;
    if (init->send_cq->ctx != ctx || init->recv_cq->ctx != ctx) return fail_null<qp>(EINVAL);
    if (init->qp_type != qp_type::RC && init->qp_type != qp_type::UD) return fail_null<qp>(EINVAL);
    // The device attaches SRQs to RC QPs only.
    if (init->srq != nullptr && (init->qp_type != qp_type::RC || init->srq->ctx != ctx)) {
        return fail_null<qp>(EINVAL);
    }
    const drv::device_caps& d = ctx->dev->caps();
    if (!caps_fit(d, init->cap, init->srq != nullptr)) return fail_null<qp>(EINVAL);
    const unsigned sq_log = log2_ceil(std::max(init->cap.max_send_wr, 1u));
    // A QP on an SRQ still has a (minimal, unused) receive ring: the device requires one.
    const unsigned rq_log = init->srq ? 1 : log2_ceil(std::max(init->cap.max_recv_wr, 1u));
    drv::cmd_result r;
    auto impl =
        ctx->dev->create_qp(init->qp_type, *init->send_cq->m_impl, *init->recv_cq->m_impl, sq_log,
                            rq_log, r, p->handle, init->srq ? init->srq->m_impl.get() : nullptr);
    if (!impl) return fail_null<qp>(to_errno(r) ? to_errno(r) : ENOMEM);
    // Report what the QP got, as ibv_create_qp does.
    init->cap.max_send_wr = 1u << sq_log;
    init->cap.max_recv_wr = init->srq ? 0 : 1u << rq_log;
    if (init->srq) init->cap.max_recv_sge = 0;
    auto q = std::make_unique<qp>();
    q->ctx = ctx;
    q->pd = p;
    q->qp_context = init->qp_context;
    q->send_cq = init->send_cq;
    q->recv_cq = init->recv_cq;
    q->srq = init->srq;
    q->qp_num = impl->qpn();
    q->qp_type = init->qp_type;
    q->cap = init->cap;
    q->sq_sig_all = init->sq_sig_all;
    q->m_impl = std::move(impl);
    ++p->refcnt;
    ++q->send_cq->refcnt;
    ++q->recv_cq->refcnt;
    if (q->srq) ++q->srq->refcnt;
    ctx->qps.push_back(std::move(q));
    return ctx->qps.back().get();
}

int modify_qp(qp* q, qp_attr* attr, int attr_mask) {
    if (q == nullptr || attr == nullptr) return EINVAL;
    // One port and the default P_Key only.
    if ((attr_mask & QP_PORT) && attr->port_num != 1) return EINVAL;
    if ((attr_mask & QP_PKEY_INDEX) && attr->pkey_index != 0) return EINVAL;
    drv::qp_attr_values v;
    v.dest_qpn = attr->dest_qp_num;
    v.rq_psn = attr->rq_psn;
    v.sq_psn = attr->sq_psn;
    v.path_mtu = attr->path_mtu;
    v.port = attr->port_num;
    v.access_flags = static_cast<uint32_t>(attr->qp_access_flags);
    v.qkey = attr->qkey;
    v.timeout = attr->timeout;
    v.retry_cnt = attr->retry_cnt;
    v.rnr_retry = attr->rnr_retry;
    v.min_rnr_timer = attr->min_rnr_timer;
    v.max_rd_atomic = attr->max_rd_atomic;
    v.max_dest_rd_atomic = attr->max_dest_rd_atomic;
    v.dest_mac = attr->ah_attr.dmac;
    v.dest_gid_hi = attr->ah_attr.dgid.hi;
    v.dest_gid_lo = attr->ah_attr.dgid.lo;
    // Without QP_STATE the device keeps the state; the command still names one, the current.
    const qp_state to = (attr_mask & QP_STATE) ? attr->qp_state : q->state;
    const drv::cmd_result r =
        q->m_impl->modify(q->ctx->dev->cmd(), to, static_cast<uint32_t>(attr_mask), v);
    if (const int e = to_errno(r)) return e;
    q->state = q->m_impl->state();
    return 0;
}

int query_qp(qp* q, qp_attr* attr, int /*attr_mask*/, qp_init_attr* init) {
    if (q == nullptr || attr == nullptr) return EINVAL;
    spec::cmd::query_qp_out o{};
    if (const int e = to_errno(q->m_impl->query(q->ctx->dev->cmd(), o))) return e;
    namespace pk = spec::packed;
    *attr = {};
    attr->qp_state = static_cast<qp_state>(o.state);
    attr->cur_qp_state = attr->qp_state;
    attr->dest_qp_num = o.dest_qpn;
    attr->rq_psn = o.rq_psn;
    attr->sq_psn = o.sq_psn;
    attr->path_mtu = static_cast<mtu>(o.path_mtu);
    attr->port_num = static_cast<uint8_t>(o.port);
    attr->qp_access_flags = static_cast<int>(o.access_flags);
    attr->qkey = o.qkey;
    attr->timeout = static_cast<uint8_t>(pk::QP_TIMERS_TIMEOUT.get(o.timers));
    attr->retry_cnt = static_cast<uint8_t>(pk::QP_TIMERS_RETRY_CNT.get(o.timers));
    attr->rnr_retry = static_cast<uint8_t>(pk::QP_TIMERS_RNR_RETRY.get(o.timers));
    attr->min_rnr_timer = static_cast<uint8_t>(pk::QP_TIMERS_MIN_RNR_TIMER.get(o.timers));
    attr->max_rd_atomic = static_cast<uint8_t>(pk::QP_RD_ATOMIC_MAX_RD_ATOMIC.get(o.rd_atomic));
    attr->max_dest_rd_atomic =
        static_cast<uint8_t>(pk::QP_RD_ATOMIC_MAX_DEST_RD_ATOMIC.get(o.rd_atomic));
    attr->ah_attr.dmac = o.dest_mac;
    attr->ah_attr.dgid = {o.dest_gid_hi, o.dest_gid_lo};
    attr->cap = q->cap;
    // The device may have moved the QP to ERR (or SQE) on its own; the QP follows it.
    q->state = attr->qp_state;
    if (init) {
        *init = {};
        init->qp_context = q->qp_context;
        init->send_cq = q->send_cq;
        init->recv_cq = q->recv_cq;
        init->srq = q->srq;
        init->cap = q->cap;
        init->qp_type = q->qp_type;
        init->sq_sig_all = q->sq_sig_all;
    }
    return 0;
}

int destroy_qp(qp* q) {
    if (q == nullptr) return EINVAL;
    context* ctx = q->ctx;
    if (const int e = to_errno(ctx->dev->destroy_qp(*q->m_impl))) return e;
    --q->pd->refcnt;
    --q->send_cq->refcnt;
    --q->recv_cq->refcnt;
    if (q->srq) --q->srq->refcnt;
    release(ctx->qps, q);
    return 0;
}

srq* create_srq(pd* p, srq_init_attr* init) {
    if (p == nullptr || init == nullptr) return fail_null<srq>(EINVAL);
    context* ctx = p->ctx;
    const drv::device_caps& d = ctx->dev->caps();
    if (init->max_wr > (1u << d.max_wq_log_size) || init->max_sge > d.max_recv_sge) {
        return fail_null<srq>(EINVAL);
    }
    const unsigned log = log2_ceil(std::max(init->max_wr, 1u));
    drv::cmd_result r;
    auto impl = ctx->dev->create_srq(p->handle, log, r);
    if (!impl) return fail_null<srq>(to_errno(r) ? to_errno(r) : ENOMEM);
    init->max_wr = 1u << log;
    auto s = std::make_unique<srq>();
    s->ctx = ctx;
    s->pd = p;
    s->srq_context = init->srq_context;
    s->handle = impl->srqn();
    s->max_wr = init->max_wr;
    s->max_sge = init->max_sge;
    s->m_impl = std::move(impl);
    ++p->refcnt;
    ctx->srqs.push_back(std::move(s));
    return ctx->srqs.back().get();
}

int destroy_srq(srq* s) {
    if (s == nullptr) return EINVAL;
    if (s->refcnt != 0) return EBUSY;
    context* ctx = s->ctx;
    if (const int e = to_errno(ctx->dev->destroy_srq(*s->m_impl))) return e;
    --s->pd->refcnt;
    release(ctx->srqs, s);
    return 0;
}

}  // namespace chio::verbs
