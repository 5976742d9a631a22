#include "fuzz/qp_pair.h"

#include <cstring>

namespace chio::fuzz {

namespace {
constexpr unsigned CQ_LOG = 8;  // 256 entries: more than a side can have outstanding
constexpr unsigned WQ_LOG = 6;  // 64-entry send and receive rings
}  // namespace

// Compared with memcmp against a guard-sized pattern: a byte loop here, instrumented for
// coverage and ASan, cost about 6% of every wqe input; the loop runs only to name the offset.
std::string qp_side::guard_damage() const {
    const auto* p = static_cast<const uint8_t*>(buf.cpu);
    if (p == nullptr) return {};
    static const std::vector<uint8_t> pattern(GUARD_BYTES, GUARD_FILL);
    for (const uint64_t start : {uint64_t{0}, uint64_t{GUARD_BYTES} + REGION_BYTES}) {
        if (std::memcmp(p + start, pattern.data(), GUARD_BYTES) == 0) continue;
        for (uint64_t i = start; i < start + GUARD_BYTES; ++i) {
            if (p[i] != GUARD_FILL) {
                return "byte at bus address " + std::to_string(buf.bus + i) + " is " +
                       std::to_string(p[i]);
            }
        }
    }
    return {};
}

qp_pair::~qp_pair() {
    for (qp_side* s : {&a, &b}) {
        s->qp.reset();
        s->scq.reset();
        s->rcq.reset();
        if (s->buf.cpu != nullptr) m_bus.dma_free(s->buf);
    }
}

bool qp_pair::build(qp_side& s, std::string& err) {
    auto keep = [](const spec::cqe&) { return true; };
    s.scq = std::make_unique<drv::completion_queue>(m_bus, m_dev->db_page(0), keep);
    s.rcq = std::make_unique<drv::completion_queue>(m_bus, m_dev->db_page(0), keep);
    const uint32_t eqn = m_dev->async_eq().eqn();
    if (!s.scq->create(m_dev->cmd(), CQ_LOG, eqn).ok() ||
        !s.rcq->create(m_dev->cmd(), CQ_LOG, eqn).ok()) {
        err = "CREATE_CQ";
        return false;
    }
    drv::cmd_result r;
    s.qp = m_dev->create_qp(spec::qp_type::RC, *s.scq, *s.rcq, WQ_LOG, WQ_LOG, r, m_pd);
    if (!s.qp) {
        err = std::string("CREATE_QP: ") + spec::cmd::to_string(r.status);
        return false;
    }
    s.buf = m_bus.dma_alloc(uint64_t{GUARD_BYTES} * 2 + REGION_BYTES, 4096);
    if (s.buf.cpu == nullptr) {
        err = "no DMA memory for the buffer";
        return false;
    }
    std::memset(s.buf.cpu, GUARD_FILL, s.buf.size);
    std::memset(s.region_cpu(), 0, REGION_BYTES);
    namespace af = spec::access_flags;
    const uint32_t access =
        af::LOCAL_WRITE | af::REMOTE_WRITE | af::REMOTE_READ | af::REMOTE_ATOMIC;
    if (!m_dev->reg_mr(m_pd, s.region(), REGION_BYTES, s.region(), access, s.lkey, s.rkey).ok() ||
        !m_dev->query_port(s.port).ok()) {
        err = "REG_MR or QUERY_PORT";
        return false;
    }
    return true;
}

// RESET -> INIT -> RTR -> RTS with the attributes each transition requires (as
// tests/support/two_sides.h), short timers: 4.096 us << 4 ACK timeout, one retry, one RNR retry.
bool qp_pair::connect(qp_side& s, const qp_side& peer, std::string& err) {
    namespace qa = spec::qp_attr;
    using spec::qp_state;
    namespace af = spec::access_flags;
    drv::qp_attr_values v;
    v.dest_qpn = peer.qp->qpn();
    v.rq_psn = initial_psn(peer.qp->qpn());
    v.sq_psn = initial_psn(s.qp->qpn());
    v.dest_mac = peer.port.mac;
    v.dest_gid_hi = peer.port.gid_hi;
    v.dest_gid_lo = peer.port.gid_lo;
    v.path_mtu = spec::path_mtu::MTU_1024;
    v.access_flags = af::REMOTE_WRITE | af::REMOTE_READ | af::REMOTE_ATOMIC;
    v.timeout = 4;
    v.retry_cnt = 1;
    v.rnr_retry = 1;
    v.min_rnr_timer = 1;
    v.max_rd_atomic = 4;
    v.max_dest_rd_atomic = 4;
    const struct {
        qp_state st;
        uint32_t mask;
    } steps[] = {
        {qp_state::INIT, qa::STATE | qa::PKEY_INDEX | qa::PORT | qa::ACCESS_FLAGS},
        {qp_state::RTR, qa::STATE | qa::AV | qa::PATH_MTU | qa::DEST_QPN | qa::RQ_PSN |
                            qa::MAX_DEST_RD_ATOMIC | qa::MIN_RNR_TIMER},
        {qp_state::RTS, qa::STATE | qa::SQ_PSN | qa::TIMEOUT | qa::RETRY_CNT | qa::RNR_RETRY |
                            qa::MAX_QP_RD_ATOMIC},
    };
    for (const auto& st : steps) {
        const drv::cmd_result r = s.qp->modify(m_dev->cmd(), st.st, st.mask, v);
        if (!r.ok()) {
            err = std::string("MODIFY_QP to ") + spec::to_string(st.st) + ": " +
                  spec::cmd::to_string(r.status);
            return false;
        }
    }
    return true;
}

bool qp_pair::open(std::string& err) {
    m_dev = std::make_unique<drv::device>(m_bus);
    if (!m_dev->probe()) {
        err = "probe: " + m_dev->last_error();
        return false;
    }
    if (!m_dev->create_pd(m_pd).ok()) {
        err = "CREATE_PD";
        return false;
    }
    return build(a, err) && build(b, err) && connect(a, b, err) && connect(b, a, err);
}

void qp_pair::poll() {
    spec::cqe wc[32];
    for (qp_side* s : {&a, &b}) {
        int n = s->scq->poll(wc, 32);
        s->send_cqes.insert(s->send_cqes.end(), wc, wc + n);
        n = s->rcq->poll(wc, 32);
        s->recv_cqes.insert(s->recv_cqes.end(), wc, wc + n);
    }
}

drv::cmd_result qp_pair::to_error(qp_side& s) {
    return s.qp->modify(m_dev->cmd(), spec::qp_state::ERR, spec::qp_attr::STATE);
}

}  // namespace chio::fuzz
