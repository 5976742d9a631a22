#include "testbenches/scenarios/rc_pair.h"

#include <cstring>

namespace chio::tb {

namespace {

bool build(drv::device& dev, const rc_pair_options& o, rc_side& s, std::string& err) {
    s.dev = &dev;
    drv::cmd_result r;
    if (!dev.create_pd(s.pd).ok() || !dev.query_port(s.port).ok()) {
        err = "CREATE_PD/QUERY_PORT refused";
        return false;
    }
    s.scq = dev.create_cq(o.cq_log, r);
    s.rcq = s.scq ? dev.create_cq(o.cq_log, r) : nullptr;
    if (!s.rcq) {
        err = std::string("CREATE_CQ: ") + spec::cmd::to_string(r.status);
        return false;
    }
    s.qp = dev.create_qp(spec::qp_type::RC, *s.scq, *s.rcq, o.sq_log, o.rq_log, r, s.pd);
    if (!s.qp) {
        err = std::string("CREATE_QP: ") + spec::cmd::to_string(r.status);
        return false;
    }
    s.buf = dev.io().dma_alloc(o.buffer_bytes, 4096);
    namespace af = spec::access_flags;
    const uint32_t access = af::LOCAL_WRITE | af::REMOTE_WRITE | af::REMOTE_READ;
    if (s.buf.cpu == nullptr) {
        err = "dma_alloc of " + std::to_string(o.buffer_bytes) + " bytes failed";
        return false;
    }
    const drv::cmd_result m =
        dev.reg_mr(s.pd, s.buf.bus, s.buf.size, s.buf.bus, access, s.lkey, s.rkey);
    if (!m.ok()) {
        err = std::string("REG_MR: ") + spec::cmd::to_string(m.status);
        return false;
    }
    std::memset(s.buf.cpu, 0, s.buf.size);
    return true;
}

// RESET -> INIT -> RTR -> RTS towards peer, with the attributes each transition requires.
bool connect(rc_side& s, const rc_side& peer, const rc_pair_options& o, std::string& err) {
    namespace a = spec::qp_attr;
    using spec::qp_state;
    namespace af = spec::access_flags;
    drv::qp_attr_values v;
    v.dest_qpn = peer.qp->qpn();
    v.rq_psn = (0x100 + peer.qp->qpn()) & 0xFFFFFF;
    v.sq_psn = (0x100 + s.qp->qpn()) & 0xFFFFFF;
    v.dest_mac = peer.port.mac;
    v.dest_gid_hi = peer.port.gid_hi;
    v.dest_gid_lo = peer.port.gid_lo;
    v.path_mtu = spec::path_mtu::MTU_4096;
    v.access_flags = af::LOCAL_WRITE | af::REMOTE_WRITE | af::REMOTE_READ;
    v.timeout = o.timeout;
    v.retry_cnt = o.retry_cnt;
    v.rnr_retry = 7;
    v.min_rnr_timer = 1;
    v.max_rd_atomic = 16;
    const struct {
        qp_state st;
        uint32_t mask;
    } steps[] = {
        {qp_state::INIT, a::STATE | a::PKEY_INDEX | a::PORT | a::ACCESS_FLAGS},
        {qp_state::RTR, a::STATE | a::AV | a::PATH_MTU | a::DEST_QPN | a::RQ_PSN |
                            a::MAX_DEST_RD_ATOMIC | a::MIN_RNR_TIMER},
        {qp_state::RTS,
         a::STATE | a::SQ_PSN | a::TIMEOUT | a::RETRY_CNT | a::RNR_RETRY | a::MAX_QP_RD_ATOMIC},
    };
    for (const auto& st : steps) {
        const drv::cmd_result r = s.qp->modify(s.dev->cmd(), st.st, st.mask, v);
        if (!r.ok()) {
            err = std::string("MODIFY_QP to ") + spec::to_string(st.st) + ": " +
                  spec::cmd::to_string(r.status);
            return false;
        }
    }
    return true;
}

}  // namespace

bool rc_pair::open(drv::device& da, drv::device& db, const rc_pair_options& o, std::string& err) {
    return build(da, o, a, err) && build(db, o, b, err) && connect(a, b, o, err) &&
           connect(b, a, o, err);
}

void rc_pair::close() {
    if (a.qp) a.dev->destroy_qp(*a.qp);
    if (b.qp) b.dev->destroy_qp(*b.qp);
    a.qp.reset();
    b.qp.reset();
}

}  // namespace chio::tb
