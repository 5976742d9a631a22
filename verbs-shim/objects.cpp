// libibverbs object verbs: protection domains, memory regions, completion queues and channels,
// shared receive queues and address handles (queue pairs: qp.cpp). Each is created in the service
// on the process's simulated adapter; the library keeps the ibv_* struct the application reads.
#include <endian.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "verbs-shim/shim.h"

using namespace chio::shim;
namespace proto = chio::shim::proto;

#undef ibv_reg_mr

namespace {

// CQs per completion channel, for ibv_get_cq_event.
std::mutex g_channels_lock;
std::vector<shim_cq*> g_channel_cqs;

template <typename T>
bool read_resp(const std::vector<uint8_t>& b, T& out) {
    if (b.size() != sizeof(T)) return false;
    std::memcpy(&out, b.data(), sizeof(T));
    return true;
}

uint32_t handle_of(ibv_pd* p) { return p ? reinterpret_cast<shim_pd*>(p)->h : 0; }

void gid_to_wire(const ibv_gid& g, proto::ah_attr& out) {
    uint64_t hi = 0, lo = 0;
    std::memcpy(&hi, g.raw, 8);
    std::memcpy(&lo, g.raw + 8, 8);
    out.dgid_hi = be64toh(hi);
    out.dgid_lo = be64toh(lo);
}

void ah_to_wire(const ibv_ah_attr& a, proto::ah_attr& out) {
    gid_to_wire(a.grh.dgid, out);
    out.is_global = a.is_global;
    out.sl = a.sl;
    out.port_num = a.port_num;
}

}  // namespace

extern "C" {

ibv_pd* ibv_alloc_pd(ibv_context* context) {
    std::vector<uint8_t> body;
    proto::handle_resp out{};
    if (const int e = call(proto::op::ALLOC_PD, nullptr, 0, &body)) {
        return shim_fail<ibv_pd*>(e, nullptr);
    }
    if (!read_resp(body, out)) return shim_fail<ibv_pd*>(EIO, nullptr);
    auto* p = new (std::nothrow) shim_pd();
    if (p == nullptr) return shim_fail<ibv_pd*>(ENOMEM, nullptr);
    p->pd.context = context;
    p->pd.handle = out.handle;
    p->h = out.handle;
    return &p->pd;
}

int ibv_dealloc_pd(ibv_pd* pd) {
    if (pd == nullptr) return EINVAL;
    if (const int e = call_handle(proto::op::DEALLOC_PD, handle_of(pd))) return e;
    delete reinterpret_cast<shim_pd*>(pd);
    return 0;
}

ibv_mr* ibv_reg_mr_iova2(ibv_pd* pd, void* addr, size_t length, uint64_t iova,
                         unsigned int access) {
    if (pd == nullptr || addr == nullptr || length == 0) return shim_fail<ibv_mr*>(EINVAL, nullptr);
    proto::reg_mr_req r{};
    r.pd = handle_of(pd);
    // Optional access flags (relaxed ordering, ...) are hints a device may ignore.
    r.access = access & ~static_cast<unsigned>(IBV_ACCESS_OPTIONAL_RANGE);
    r.addr = reinterpret_cast<uintptr_t>(addr);
    r.length = length;
    r.iova = iova;
    std::vector<uint8_t> body;
    proto::reg_mr_resp out{};
    if (const int e = call(proto::op::REG_MR, &r, sizeof(r), &body)) {
        return shim_fail<ibv_mr*>(e, nullptr);
    }
    if (!read_resp(body, out)) return shim_fail<ibv_mr*>(EIO, nullptr);
    auto* m = new (std::nothrow) shim_mr();
    if (m == nullptr) return shim_fail<ibv_mr*>(ENOMEM, nullptr);
    m->h = out.handle;
    m->mr.context = pd->context;
    m->mr.pd = pd;
    m->mr.addr = addr;
    m->mr.length = length;
    m->mr.handle = out.handle;
    m->mr.lkey = out.lkey;
    m->mr.rkey = out.rkey;
    return &m->mr;
}

ibv_mr* ibv_reg_mr(ibv_pd* pd, void* addr, size_t length, int access) {
    return ibv_reg_mr_iova2(pd, addr, length, reinterpret_cast<uintptr_t>(addr),
                            static_cast<unsigned>(access));
}

int ibv_dereg_mr(ibv_mr* mr) {
    if (mr == nullptr) return EINVAL;
    auto* m = reinterpret_cast<shim_mr*>(mr);
    if (const int e = call_handle(proto::op::DEREG_MR, m->h)) return e;
    delete m;
    return 0;
}

ibv_comp_channel* ibv_create_comp_channel(ibv_context* context) {
    auto* ch = new (std::nothrow) shim_channel();
    if (ch == nullptr) return shim_fail<ibv_comp_channel*>(ENOMEM, nullptr);
    ch->ch.context = context;
    ch->ch.fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ch->ch.refcnt = 0;
    return &ch->ch;
}

int ibv_destroy_comp_channel(ibv_comp_channel* channel) {
    if (channel == nullptr) return EINVAL;
    if (channel->refcnt) return EBUSY;
    if (channel->fd >= 0) ::close(channel->fd);
    delete reinterpret_cast<shim_channel*>(channel);
    return 0;
}

ibv_cq* ibv_create_cq(ibv_context* context, int cqe, void* cq_context, ibv_comp_channel* channel,
                      int comp_vector) {
    if (comp_vector != 0 || cqe <= 0) return shim_fail<ibv_cq*>(EINVAL, nullptr);
    proto::create_cq_req r{cqe, 0};
    std::vector<uint8_t> body;
    proto::create_cq_resp out{};
    if (const int e = call(proto::op::CREATE_CQ, &r, sizeof(r), &body)) {
        return shim_fail<ibv_cq*>(e, nullptr);
    }
    if (!read_resp(body, out)) return shim_fail<ibv_cq*>(EIO, nullptr);
    auto* c = new (std::nothrow) shim_cq();
    if (c == nullptr) return shim_fail<ibv_cq*>(ENOMEM, nullptr);
    std::memset(&c->cq, 0, sizeof(c->cq));
    c->h = out.handle;
    c->cq.context = context;
    c->cq.channel = channel;
    c->cq.cq_context = cq_context;
    c->cq.handle = out.handle;
    c->cq.cqe = out.cqe;
    pthread_mutex_init(&c->cq.mutex, nullptr);
    pthread_cond_init(&c->cq.cond, nullptr);
    if (channel) {
        ++channel->refcnt;
        std::lock_guard<std::mutex> l(g_channels_lock);
        g_channel_cqs.push_back(c);
    }
    return &c->cq;
}

int ibv_destroy_cq(ibv_cq* cq) {
    if (cq == nullptr) return EINVAL;
    auto* c = reinterpret_cast<shim_cq*>(cq);
    if (const int e = call_handle(proto::op::DESTROY_CQ, c->h)) return e;
    if (cq->channel) {
        --cq->channel->refcnt;
        std::lock_guard<std::mutex> l(g_channels_lock);
        for (auto it = g_channel_cqs.begin(); it != g_channel_cqs.end(); ++it) {
            if (*it == c) {
                g_channel_cqs.erase(it);
                break;
            }
        }
    }
    delete c;
    return 0;
}

// Completion events without interrupts to the process: an armed CQ of the channel "fires"
// when the service has a completion for it. The completions fetched to find out are kept and
// returned first by the next ibv_poll_cq, so none is lost or reordered. Waits by polling with a
// short sleep (simulated time advances in the service meanwhile).
int ibv_get_cq_event(ibv_comp_channel* channel, ibv_cq** cq, void** cq_context) {
    if (channel == nullptr || cq == nullptr || cq_context == nullptr) return shim_fail(EINVAL, -1);
    for (;;) {
        std::vector<shim_cq*> armed;
        {
            std::lock_guard<std::mutex> l(g_channels_lock);
            for (shim_cq* c : g_channel_cqs) {
                if (c->cq.channel == channel && c->armed) armed.push_back(c);
            }
        }
        for (shim_cq* c : armed) {
            if (c->early.empty()) {
                proto::handle_req r{c->h, 16};
                std::vector<uint8_t> body;
                if (const int e = call(proto::op::POLL_CQ, &r, sizeof(r), &body)) {
                    return shim_fail(e, -1);
                }
                for (size_t i = 0; i + sizeof(proto::wc) <= body.size(); i += sizeof(proto::wc)) {
                    proto::wc w{};
                    std::memcpy(&w, body.data() + i, sizeof(w));
                    ibv_wc o;
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
                    c->early.push_back(o);
                }
            }
            if (!c->early.empty()) {
                c->armed = false;
                *cq = &c->cq;
                *cq_context = c->cq.cq_context;
                return 0;
            }
        }
        ::usleep(50);
    }
}

void ibv_ack_cq_events(ibv_cq* cq, unsigned int nevents) {
    if (cq == nullptr) return;
    pthread_mutex_lock(&cq->mutex);
    cq->comp_events_completed += nevents;
    pthread_cond_signal(&cq->cond);
    pthread_mutex_unlock(&cq->mutex);
}

ibv_srq* ibv_create_srq(ibv_pd* pd, ibv_srq_init_attr* srq_init_attr) {
    if (pd == nullptr || srq_init_attr == nullptr) return shim_fail<ibv_srq*>(EINVAL, nullptr);
    proto::create_srq_req r{handle_of(pd), srq_init_attr->attr.max_wr, srq_init_attr->attr.max_sge,
                            0};
    std::vector<uint8_t> body;
    proto::create_srq_resp out{};
    if (const int e = call(proto::op::CREATE_SRQ, &r, sizeof(r), &body)) {
        return shim_fail<ibv_srq*>(e, nullptr);
    }
    if (!read_resp(body, out)) return shim_fail<ibv_srq*>(EIO, nullptr);
    auto* s = new (std::nothrow) shim_srq();
    if (s == nullptr) return shim_fail<ibv_srq*>(ENOMEM, nullptr);
    std::memset(&s->srq, 0, sizeof(s->srq));
    s->h = out.handle;
    s->srq.context = pd->context;
    s->srq.srq_context = srq_init_attr->srq_context;
    s->srq.pd = pd;
    s->srq.handle = out.handle;
    pthread_mutex_init(&s->srq.mutex, nullptr);
    pthread_cond_init(&s->srq.cond, nullptr);
    srq_init_attr->attr.max_wr = out.max_wr;
    srq_init_attr->attr.max_sge = out.max_sge;
    return &s->srq;
}

int ibv_destroy_srq(ibv_srq* srq) {
    if (srq == nullptr) return EINVAL;
    auto* s = reinterpret_cast<shim_srq*>(srq);
    if (const int e = call_handle(proto::op::DESTROY_SRQ, s->h)) return e;
    delete s;
    return 0;
}

ibv_ah* ibv_create_ah(ibv_pd* pd, ibv_ah_attr* attr) {
    if (pd == nullptr || attr == nullptr) return shim_fail<ibv_ah*>(EINVAL, nullptr);
    proto::create_ah_req r{};
    r.pd = handle_of(pd);
    ah_to_wire(*attr, r.attr);
    std::vector<uint8_t> body;
    proto::handle_resp out{};
    if (const int e = call(proto::op::CREATE_AH, &r, sizeof(r), &body)) {
        return shim_fail<ibv_ah*>(e, nullptr);
    }
    if (!read_resp(body, out)) return shim_fail<ibv_ah*>(EIO, nullptr);
    auto* a = new (std::nothrow) shim_ah();
    if (a == nullptr) return shim_fail<ibv_ah*>(ENOMEM, nullptr);
    a->h = out.handle;
    a->ah.context = pd->context;
    a->ah.pd = pd;
    a->ah.handle = out.handle;
    return &a->ah;
}

// The reply address of a received UD datagram: the sender's GID from the 40 bytes the device
// put in front of the data. RoCE v2 over IPv4 (RoCEv2 Annex A17.4.5.1) leaves the first 20
// bytes zero and puts the IPv4 header in the last 20: the GID is then ::ffff:<source IPv4>, as
// rdma-core derives it.
int ibv_init_ah_from_wc(ibv_context*, uint8_t port_num, ibv_wc* wc, ibv_grh* grh,
                        ibv_ah_attr* ah_attr) {
    if (wc == nullptr || grh == nullptr || ah_attr == nullptr || !(wc->wc_flags & IBV_WC_GRH)) {
        return shim_fail(EINVAL, -1);
    }
    std::memset(ah_attr, 0, sizeof(*ah_attr));
    ah_attr->is_global = 1;
    const auto* raw = reinterpret_cast<const uint8_t*>(grh);
    bool ipv4 = (raw[20] >> 4) == 4;
    for (int i = 0; i < 20 && ipv4; ++i) ipv4 = raw[i] == 0;
    if (ipv4) {
        std::memset(&ah_attr->grh.dgid, 0, sizeof(ah_attr->grh.dgid));
        ah_attr->grh.dgid.raw[10] = 0xFF;
        ah_attr->grh.dgid.raw[11] = 0xFF;
        std::memcpy(ah_attr->grh.dgid.raw + 12, raw + 20 + 12, 4);  // IPv4 source address
    } else {
        ah_attr->grh.dgid = grh->sgid;
    }
    ah_attr->grh.hop_limit = 0xFF;
    ah_attr->sl = wc->sl;
    ah_attr->port_num = port_num;
    return 0;
}

ibv_ah* ibv_create_ah_from_wc(ibv_pd* pd, ibv_wc* wc, ibv_grh* grh, uint8_t port_num) {
    ibv_ah_attr a;
    if (pd == nullptr || ibv_init_ah_from_wc(pd->context, port_num, wc, grh, &a) != 0) {
        return nullptr;
    }
    return ibv_create_ah(pd, &a);
}

int ibv_destroy_ah(ibv_ah* ah) {
    if (ah == nullptr) return EINVAL;
    auto* a = reinterpret_cast<shim_ah*>(ah);
    if (const int e = call_handle(proto::op::DESTROY_AH, a->h)) return e;
    delete a;
    return 0;
}

}  // extern "C"
