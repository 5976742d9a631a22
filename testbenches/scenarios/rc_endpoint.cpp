#include "testbenches/scenarios/rc_endpoint.h"

namespace chio::tb {

namespace a = spec::qp_attr;
namespace af = spec::access_flags;
using spec::qp_state;

namespace {
constexpr uint64_t HEALTH_WATCH_NS = 100'000;  // see wait_completion()
}  // namespace

bool rc_endpoint::open(drv::bus& b, const rc_endpoint_options& o) {
    dev = std::make_unique<drv::device>(b, o.device);
    if (!dev->probe()) {
        error = "bring-up: " + dev->last_error();
        return false;
    }
    drv::cmd_result r;
    if (!dev->create_pd(pd).ok() || !dev->query_port(port).ok()) {
        error = "CREATE_PD or QUERY_PORT failed";
        return false;
    }
    scq = dev->create_cq(o.cq_log, r);
    rcq = scq ? dev->create_cq(o.cq_log, r) : nullptr;
    if (!rcq) {
        error = std::string("CREATE_CQ: ") + spec::cmd::to_string(r.status);
        return false;
    }
    qp = dev->create_qp(spec::qp_type::RC, *scq, *rcq, o.sq_log, o.rq_log, r, pd);
    if (!qp) {
        error = std::string("CREATE_QP: ") + spec::cmd::to_string(r.status);
        return false;
    }
    buf = b.dma_alloc(o.buffer_bytes, 4096);
    if (buf.cpu == nullptr) {
        error = "no host memory for the buffer";
        return false;
    }
    const uint32_t access =
        af::LOCAL_WRITE | af::REMOTE_WRITE | af::REMOTE_READ | af::REMOTE_ATOMIC;
    if (!dev->reg_mr(pd, buf.bus, buf.size, buf.bus, access, lkey, rkey).ok()) {
        error = "REG_MR failed";
        return false;
    }
    return true;
}

void rc_endpoint::publish(rendezvous& rv, const std::string& name, uint32_t psn) const {
    rv.put(name, {qp->qpn(), psn, port.mac, port.gid_hi, port.gid_lo, buf.bus, rkey});
}

bool rc_endpoint::open_self_connected(drv::bus& b, const rc_endpoint_options& o) {
    constexpr uint32_t PSN = 7;
    rendezvous rv;
    if (!open(b, o)) return false;
    publish(rv, "self", PSN);
    return connect(rv, "self", PSN, o);
}

bool rc_endpoint::connect(rendezvous& rv, const std::string& peer, uint32_t my_psn,
                          const rc_endpoint_options& o) {
    const std::vector<uint64_t> p = rv.get(peer);
    drv::qp_attr_values v;
    v.dest_qpn = static_cast<uint32_t>(p[0]);
    v.rq_psn = static_cast<uint32_t>(p[1]);
    v.sq_psn = my_psn;
    v.dest_mac = p[2];
    v.dest_gid_hi = p[3];
    v.dest_gid_lo = p[4];
    v.path_mtu = o.mtu;
    v.access_flags = af::LOCAL_WRITE | af::REMOTE_WRITE | af::REMOTE_READ | af::REMOTE_ATOMIC;
    v.timeout = o.timeout;
    v.retry_cnt = o.retry_cnt;
    v.rnr_retry = o.rnr_retry;
    v.min_rnr_timer = o.min_rnr_timer;
    peer_addr = p[5];
    peer_rkey = static_cast<uint32_t>(p[6]);
    auto& c = dev->cmd();
    const struct {
        qp_state s;
        uint32_t mask;
    } steps[] = {{qp_state::INIT, a::STATE | a::PKEY_INDEX | a::PORT | a::ACCESS_FLAGS},
                 {qp_state::RTR, a::STATE | a::AV | a::PATH_MTU | a::DEST_QPN | a::RQ_PSN |
                                     a::MAX_DEST_RD_ATOMIC | a::MIN_RNR_TIMER},
                 {qp_state::RTS, a::STATE | a::SQ_PSN | a::TIMEOUT | a::RETRY_CNT | a::RNR_RETRY |
                                     a::MAX_QP_RD_ATOMIC}};
    for (const auto& s : steps) {
        const drv::cmd_result r = qp->modify(c, s.s, s.mask, v);
        if (!r.ok()) {
            error = std::string("MODIFY_QP to ") + spec::to_string(s.s) + ": " +
                    spec::cmd::to_string(r.status);
            return false;
        }
    }
    return true;
}

bool rc_endpoint::wait_completion(spec::cqe& out, uint64_t timeout_ns) {
    drv::bus& b = dev->io();
    const uint64_t deadline = b.now_ns() + timeout_ns;
    // A wait past HEALTH_WATCH_NS also watches the device, once per health period (catalogue
    // H1, H2, H6; --fault): a lost device completes nothing, so the wait ends at the verdict
    // instead of at its bound. Shorter waits (the data path) are not slowed.
    uint64_t next_health = b.now_ns() + HEALTH_WATCH_NS;
    for (;;) {
        if (scq->poll(&out, 1) == 1 || rcq->poll(&out, 1) == 1) return true;
        const uint64_t now = b.now_ns();
        if (now >= deadline) return false;
        if (now >= next_health) {
            if (dev->check_health() != drv::health::ok) return false;
            next_health = now + uint64_t{spec::limits::HEALTH_PERIOD_US} * 1000;
        }
        b.relax();
    }
}

void rc_endpoint::close() {
    if (!dev) return;
    if (qp) dev->destroy_qp(*qp);
    if (scq) scq->destroy(dev->cmd());
    if (rcq) rcq->destroy(dev->cmd());
    if (lkey) dev->dereg_mr(lkey);
    dev->destroy_pd(pd);
    dev->io().dma_free(buf);
    buf = {};
}

}  // namespace chio::tb
