// Consumer API: device, buffers, protection domains, memory regions and address handles.
#include <cerrno>

#include "driver/verbs.h"
#include "driver/verbs_context.h"

namespace chio::verbs {

context* open_device(drv::bus& b, const open_options& o, std::string* error) {
    auto ctx = std::make_unique<context>();
    ctx->bus = &b;
    ctx->dev = std::make_unique<drv::device>(b, o.device);
    if (!ctx->dev->probe()) {
        if (error) *error = ctx->dev->last_error();
        return fail_null<context>(ENODEV);
    }
    return ctx.release();
}

int close_device(context* ctx) {
    if (ctx == nullptr) return EINVAL;
    // Children before parents, so that no destroy is refused as busy.
    while (!ctx->qps.empty()) {
        qp* q = ctx->qps.back().get();
        if (destroy_qp(q) != 0) ctx->qps.pop_back();
    }
    while (!ctx->srqs.empty()) {
        srq* s = ctx->srqs.back().get();
        if (destroy_srq(s) != 0) ctx->srqs.pop_back();
    }
    while (!ctx->ahs.empty()) {
        if (destroy_ah(ctx->ahs.back().get()) != 0) ctx->ahs.pop_back();
    }
    while (!ctx->mrs.empty()) {
        if (dereg_mr(ctx->mrs.back().get()) != 0) ctx->mrs.pop_back();
    }
    while (!ctx->cqs.empty()) {
        if (destroy_cq(ctx->cqs.back().get()) != 0) ctx->cqs.pop_back();
    }
    ctx->channels.clear();
    while (!ctx->pds.empty()) {
        if (dealloc_pd(ctx->pds.back().get()) != 0) ctx->pds.pop_back();
    }
    for (auto& [cpu, buf] : ctx->bufs) ctx->bus->dma_free(buf);
    delete ctx;
    return 0;
}

void abandon_device(context* ctx) {
    if (ctx == nullptr) return;
    // Children before parents, as close_device destroys them, so that no object outlives one it
    // refers to; each destructor gives back only its host memory.
    ctx->qps.clear();
    ctx->srqs.clear();
    ctx->ahs.clear();
    ctx->mrs.clear();
    ctx->cqs.clear();
    ctx->channels.clear();
    ctx->pds.clear();
    for (auto& [cpu, buf] : ctx->bufs) ctx->bus->dma_free(buf);
    delete ctx;
}

int query_device(context* ctx, device_attr* a) {
    if (ctx == nullptr || a == nullptr) return EINVAL;
    const drv::device_caps& c = ctx->dev->caps();
    *a = {};
    a->fw_ver = c.fw_rev;
    a->vendor_id = spec::pci::VENDOR_ID;
    a->vendor_part_id = spec::pci::DEVICE_ID;
    a->max_mr_size = spec::limits::MAX_MSG_SIZE;
    a->max_qp = c.max_qp;
    a->max_qp_wr = 1u << c.max_wq_log_size;
    a->max_sge = c.max_sge;
    a->max_recv_sge = c.max_recv_sge;
    a->max_inline_data = c.max_inline;
    a->max_cq = c.max_cq;
    a->max_cqe = 1u << spec::limits::MAX_CQ_LOG_SIZE;
    a->max_mr = spec::limits::MAX_MR;
    a->max_pd = spec::limits::MAX_PD;
    a->max_ah = spec::limits::MAX_AH;
    a->max_srq = spec::limits::MAX_SRQ;
    a->max_srq_wr = 1u << c.max_wq_log_size;
    a->max_srq_sge = c.max_recv_sge;
    // The QP context holds up to 255 (an 8-bit field); 16 is what the driver defaults to and what
    // the transport tests exercise, so that is what is promised.
    a->max_qp_rd_atom = 16;
    a->max_qp_init_rd_atom = 16;
    a->num_comp_vectors = 1;  // every CQ reports on the async EQ's vector
    a->phys_port_cnt = spec::limits::NUM_PORTS;
    return 0;
}

int query_port(context* ctx, uint8_t port_num, port_attr* a) {
    if (ctx == nullptr || a == nullptr || port_num != 1) return EINVAL;
    spec::cmd::query_port_out out{};
    if (const int e = to_errno(ctx->dev->query_port(out))) return e;
    *a = {};
    a->state = static_cast<port_state>(out.state);
    a->active_mtu = static_cast<mtu>(out.active_mtu);
    a->max_mtu = static_cast<mtu>(out.max_mtu);
    a->speed_gbps = out.speed_gbps;
    a->mac = out.mac;
    a->gid0 = {out.gid_hi, out.gid_lo};
    return 0;
}

int query_gid(context* ctx, uint8_t port_num, int index, gid* out) {
    if (out == nullptr || index != 0) return EINVAL;
    port_attr a;
    if (const int e = query_port(ctx, port_num, &a)) return e;
    *out = a.gid0;
    return 0;
}

void* alloc_buf(context* ctx, size_t size, size_t align) {
    if (ctx == nullptr || size == 0) return fail_null<void>(EINVAL);
    const drv::dma_buffer b = ctx->bus->dma_alloc(size, align);
    if (b.cpu == nullptr) return fail_null<void>(ENOMEM);
    ctx->bufs[reinterpret_cast<uintptr_t>(b.cpu)] = b;
    return b.cpu;
}

int free_buf(context* ctx, void* buf) {
    if (ctx == nullptr) return EINVAL;
    auto it = ctx->bufs.find(reinterpret_cast<uintptr_t>(buf));
    if (it == ctx->bufs.end()) return EINVAL;
    ctx->bus->dma_free(it->second);
    ctx->bufs.erase(it);
    return 0;
}

drv::device& driver_device(context* ctx) { return *ctx->dev; }
drv::bus& driver_bus(context* ctx) { return *ctx->bus; }

pd* alloc_pd(context* ctx) {
    if (ctx == nullptr) return fail_null<pd>(EINVAL);
    uint32_t pdn = 0;
    if (const int e = to_errno(ctx->dev->create_pd(pdn))) return fail_null<pd>(e);
    auto p = std::make_unique<pd>();
    p->ctx = ctx;
    p->handle = pdn;
    ctx->pds.push_back(std::move(p));
    return ctx->pds.back().get();
}

int dealloc_pd(pd* p) {
    if (p == nullptr) return EINVAL;
    if (p->refcnt != 0) return EBUSY;
    context* ctx = p->ctx;
    if (const int e = to_errno(ctx->dev->destroy_pd(p->handle))) return e;
    release(ctx->pds, p);
    return 0;
}

mr* reg_mr_iova(pd* p, uint64_t iova, size_t length, uint64_t bus_addr, int access) {
    if (p == nullptr) return fail_null<mr>(EINVAL);
    context* ctx = p->ctx;
    // Remote write or atomic access needs local write (ibv_reg_mr(3) refuses it the same way).
    if ((access & (ACCESS_REMOTE_WRITE | ACCESS_REMOTE_ATOMIC)) && !(access & ACCESS_LOCAL_WRITE)) {
        return fail_null<mr>(EINVAL);
    }
    uint32_t lkey = 0, rkey = 0;
    const drv::cmd_result r = ctx->dev->reg_mr(p->handle, iova, length, bus_addr,
                                               static_cast<uint32_t>(access), lkey, rkey);
    if (const int e = to_errno(r)) return fail_null<mr>(e);
    auto m = std::make_unique<mr>();
    m->ctx = ctx;
    m->pd = p;
    m->length = length;
    m->iova = iova;
    m->lkey = lkey;
    m->rkey = rkey;
    m->access = access;
    ++p->refcnt;
    ctx->mrs.push_back(std::move(m));
    return ctx->mrs.back().get();
}

mr* reg_mr(pd* p, void* addr, size_t length, int access) {
    if (p == nullptr || addr == nullptr) return fail_null<mr>(EINVAL);
    context* ctx = p->ctx;
    // Find the alloc_buf() buffer holding [addr, addr + length): the simulator's "pinning".
    const auto a = reinterpret_cast<uintptr_t>(addr);
    auto it = ctx->bufs.upper_bound(a);
    if (it == ctx->bufs.begin()) return fail_null<mr>(EFAULT);
    --it;
    const drv::dma_buffer& b = it->second;
    const uintptr_t off = a - it->first;
    if (off >= b.size || length > b.size - off) return fail_null<mr>(EFAULT);
    mr* m = reg_mr_iova(p, a, length, b.bus + off, access);
    if (m) m->addr = addr;
    return m;
}

int dereg_mr(mr* m) {
    if (m == nullptr) return EINVAL;
    context* ctx = m->ctx;
    if (const int e = to_errno(ctx->dev->dereg_mr(m->lkey))) return e;
    --m->pd->refcnt;
    release(ctx->mrs, m);
    return 0;
}

ah* create_ah(pd* p, ah_attr* attr) {
    if (p == nullptr || attr == nullptr || attr->port_num != 1) return fail_null<ah>(EINVAL);
    context* ctx = p->ctx;
    uint32_t ahn = 0;
    const drv::cmd_result r =
        ctx->dev->create_ah(p->handle, attr->dmac, attr->dgid.hi, attr->dgid.lo, ahn);
    if (const int e = to_errno(r)) return fail_null<ah>(e);
    auto a = std::make_unique<ah>();
    a->ctx = ctx;
    a->pd = p;
    a->handle = ahn;
    a->attr = *attr;
    ++p->refcnt;
    ctx->ahs.push_back(std::move(a));
    return ctx->ahs.back().get();
}

int destroy_ah(ah* a) {
    if (a == nullptr) return EINVAL;
    context* ctx = a->ctx;
    if (const int e = to_errno(ctx->dev->destroy_ah(a->handle))) return e;
    --a->pd->refcnt;
    release(ctx->ahs, a);
    return 0;
}

const char* wc_status_str(wc_status s) { return spec::to_string(s); }

const char* event_type_str(event_type t) {
    switch (t) {
        case event_type::QP_FATAL:
            return "QP_FATAL";
        case event_type::CQ_ERR:
            return "CQ_ERR";
        case event_type::PORT_ACTIVE:
            return "PORT_ACTIVE";
        case event_type::PORT_ERR:
            return "PORT_ERR";
        case event_type::DEVICE_FATAL:
            return "DEVICE_FATAL";
    }
    return "UNKNOWN";
}

}  // namespace chio::verbs
