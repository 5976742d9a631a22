// Consumer API: completion queues, completion channels and asynchronous events.
//
// Every CQ reports its events on the device's async EQ (one MSI-X vector): the device sorts EQEs
// into CQ events and async events, and get_cq_event() hands each CQ event to the channel the CQ
// was created on. An event is reported once per arm (req_notify_cq), as in libibverbs.
#include <cerrno>

#include "driver/verbs.h"
#include "driver/verbs_context.h"

namespace chio::verbs {

namespace {

wc to_wc(const spec::cqe& c) {
    wc w;
    w.wr_id = c.wr_id;
    w.status = static_cast<wc_status>(c.status);
    w.opcode = static_cast<wc_opcode>(c.opcode);
    w.vendor_err = c.vendor_err;
    w.byte_len = c.byte_len;
    w.imm_data = c.imm;
    w.qp_num = c.qpn;
    w.src_qp = c.src_qp;
    w.wc_flags = c.flags & (WC_WITH_IMM | WC_GRH);
    return w;
}

// Moves the device's pending CQ events to the channels of the CQs they name.
void route_cq_events(context* ctx) {
    for (auto& c : ctx->cqs) {
        if (ctx->dev->take_cq_event(c->handle) && c->channel != nullptr) {
            c->channel->m_ready.push_back(c.get());
        }
    }
}

// A consumer that only polls its CQs would never learn that its device is gone: nothing on the
// poll path reads the device (CQEs are in host memory, doorbells are writes). So an empty poll
// also runs the driver's health check, at most once per health period (mlx5's health poll
// timer, scaled as spec limits.health_period_us is). When the device is found lost (removed,
// fatal, function reset), the driver flushes every outstanding WR into its CQs, once, and the
// next poll returns those completions.
void watch_health(context* ctx) {
    const uint64_t now = ctx->bus->now_ns();
    if (ctx->dev->lost() || now < ctx->next_health_ns) return;
    ctx->next_health_ns = now + uint64_t{spec::limits::HEALTH_PERIOD_US} * 1000;
    ctx->dev->check_health();
}

}  // namespace

comp_channel* create_comp_channel(context* ctx) {
    if (ctx == nullptr) return fail_null<comp_channel>(EINVAL);
    auto ch = std::make_unique<comp_channel>();
    ch->ctx = ctx;
    ctx->channels.push_back(std::move(ch));
    return ctx->channels.back().get();
}

int destroy_comp_channel(comp_channel* ch) {
    if (ch == nullptr) return EINVAL;
    if (ch->refcnt != 0) return EBUSY;
    release(ch->ctx->channels, ch);
    return 0;
}

cq* create_cq(context* ctx, int cqe, void* cq_context, comp_channel* channel, int comp_vector) {
    if (ctx == nullptr || cqe < 1 || comp_vector != 0) return fail_null<cq>(EINVAL);
    if (channel != nullptr && channel->ctx != ctx) return fail_null<cq>(EINVAL);
    const unsigned log = log2_ceil(static_cast<uint32_t>(cqe));
    if (log > spec::limits::MAX_CQ_LOG_SIZE) return fail_null<cq>(EINVAL);
    drv::cmd_result r;
    auto impl = ctx->dev->create_cq(log, r);
    if (!impl) return fail_null<cq>(to_errno(r) ? to_errno(r) : ENOMEM);
    auto c = std::make_unique<cq>();
    c->ctx = ctx;
    c->channel = channel;
    c->cq_context = cq_context;
    c->cqe = 1 << log;
    c->handle = impl->cqn();
    c->m_impl = std::move(impl);
    if (channel) ++channel->refcnt;
    ctx->cqs.push_back(std::move(c));
    return ctx->cqs.back().get();
}

int destroy_cq(cq* c) {
    if (c == nullptr) return EINVAL;
    if (c->refcnt != 0) return EBUSY;
    context* ctx = c->ctx;
    if (const int e = to_errno(c->m_impl->destroy(ctx->dev->cmd()))) return e;
    if (c->channel) {
        auto& q = c->channel->m_ready;
        for (auto it = q.begin(); it != q.end();) it = (*it == c) ? q.erase(it) : it + 1;
        --c->channel->refcnt;
    }
    ctx->dev->take_cq_event(c->handle);  // a late event must not reach a reused CQ number
    release(ctx->cqs, c);
    return 0;
}

int poll_cq(cq* c, int num_entries, wc* out) {
    if (c == nullptr || num_entries < 0 || (num_entries > 0 && out == nullptr)) return -EINVAL;
    // Poll in small batches through a CQE buffer on the stack; the ring is consumed in order.
    int n = 0;
    spec::cqe buf[16];
    while (n < num_entries) {
        const int want = std::min(num_entries - n, 16);
        const int got = c->m_impl->poll(buf, want);
        for (int i = 0; i < got; ++i) out[n + i] = to_wc(buf[i]);
        n += got;
        if (got < want) break;
    }
    if (n == 0) watch_health(c->ctx);
    return n;
}

int req_notify_cq(cq* c, int solicited_only) {
    if (c == nullptr) return EINVAL;
    c->m_impl->arm(solicited_only != 0);
    return 0;
}

int get_cq_event(comp_channel* ch, cq** out_cq, void** out_cq_context, uint64_t timeout_ns) {
    if (ch == nullptr || out_cq == nullptr) return EINVAL;
    context* ctx = ch->ctx;
    drv::bus& b = *ctx->bus;
    const uint64_t deadline = b.now_ns() + timeout_ns;
    for (;;) {
        route_cq_events(ctx);
        if (!ch->m_ready.empty()) {
            cq* c = ch->m_ready.front();
            ch->m_ready.pop_front();
            *out_cq = c;
            if (out_cq_context) *out_cq_context = c->cq_context;
            return 0;
        }
        const uint64_t now = b.now_ns();
        if (now >= deadline) return ETIMEDOUT;
        // Sleeps on the EQ's MSI-X vector; polls the EQ afterwards even on timeout.
        ctx->dev->wait_event(deadline - now);
    }
}

void ack_cq_events(cq* c, unsigned nevents) {
    if (c) c->comp_events_completed += nevents;
}

int get_async_event(context* ctx, async_event* ev, uint64_t timeout_ns) {
    if (ctx == nullptr || ev == nullptr) return EINVAL;
    drv::bus& b = *ctx->bus;
    auto& q = ctx->dev->async_events();
    const uint64_t deadline = b.now_ns() + timeout_ns;
    ctx->dev->poll_events();
    while (q.empty()) {
        const uint64_t now = b.now_ns();
        if (now >= deadline) return ETIMEDOUT;
        ctx->dev->wait_event(deadline - now);
    }
    const spec::eqe e = q.front();
    q.pop_front();
    *ev = {};
    ev->raw_type = e.type;
    ev->raw_data = e.data;
    switch (static_cast<spec::eqe_type>(e.type)) {
        case spec::eqe_type::QP_FATAL:
            ev->type = event_type::QP_FATAL;
            for (auto& p : ctx->qps) {
                if (p->qp_num == e.data) ev->qp = p.get();
            }
            break;
        case spec::eqe_type::CQ_ERROR:
            ev->type = event_type::CQ_ERR;
            for (auto& c : ctx->cqs) {
                if (c->handle == e.data) ev->cq = c.get();
            }
            break;
        case spec::eqe_type::PORT_CHANGE:
            ev->type = e.data == static_cast<uint32_t>(port_state::ACTIVE) ? event_type::PORT_ACTIVE
                                                                           : event_type::PORT_ERR;
            ev->port_num = 1;
            break;
        default:
            ev->type = event_type::DEVICE_FATAL;
            break;
    }
    return 0;
}

void ack_async_event(async_event*) {}

}  // namespace chio::verbs
