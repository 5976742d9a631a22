#include "testbenches/scenarios/fault_traffic.h"

#include <algorithm>

namespace chio::tb {

namespace {

using spec::qp_state;
namespace a = spec::qp_attr;

constexpr uint32_t MSG_SIZE = 1024;
constexpr uint32_t DEPTH = 16;

}  // namespace

fault_traffic::fault_traffic(traffic_end a, traffic_end b, const traffic_params& p) : m_p(p) {
    m_a.at = a;
    m_b.at = b;
}

fault_traffic::~fault_traffic() {
    for (end* e : {&m_a, &m_b}) {
        e->qp.reset();
        e->scq.reset();
        e->rcq.reset();
        if (e->buf.cpu != nullptr) e->at.bus->dma_free(e->buf);
    }
}

std::vector<drv::device*> fault_traffic::devices() const {
    if (m_a.at.dev == m_b.at.dev) return {m_a.at.dev};
    return {m_a.at.dev, m_b.at.dev};
}

bool fault_traffic::setup_end(end& e, std::string& err) {
    drv::device& d = *e.at.dev;
    drv::cmd_result r;
    if (!d.create_pd(e.pd).ok()) {
        err = "CREATE_PD failed";
        return false;
    }
    e.scq = d.create_cq(8, r);
    e.rcq = e.scq ? d.create_cq(8, r) : nullptr;
    e.qp = e.rcq ? d.create_qp(spec::qp_type::RC, *e.scq, *e.rcq, 6, 6, r, e.pd) : nullptr;
    if (!e.qp) {
        err = std::string("QP set-up failed: ") + spec::cmd::to_string(r.status);
        return false;
    }
    e.buf = e.at.bus->dma_alloc(DEPTH * MSG_SIZE, 4096);
    uint32_t rkey = 0;
    if (e.buf.cpu == nullptr || !d.reg_mr(e.pd, e.buf.bus, e.buf.size, e.buf.bus,
                                          spec::access_flags::LOCAL_WRITE, e.lkey, rkey)
                                     .ok()) {
        err = "buffer or REG_MR failed";
        return false;
    }
    return true;
}

bool fault_traffic::connect(end& from, const end& to, std::string& err) {
    spec::cmd::query_port_out peer{};
    if (!to.at.dev->query_port(peer).ok()) {
        err = "QUERY_PORT failed";
        return false;
    }
    drv::qp_attr_values v;
    v.dest_qpn = to.qp->qpn();
    v.access_flags = spec::access_flags::LOCAL_WRITE;
    v.dest_mac = peer.mac;
    v.dest_gid_hi = peer.gid_hi;
    v.dest_gid_lo = peer.gid_lo;
    v.timeout = m_p.timeout;
    const struct {
        qp_state s;
        uint32_t mask;
    } steps[] = {{qp_state::INIT, a::STATE | a::PKEY_INDEX | a::PORT | a::ACCESS_FLAGS},
                 {qp_state::RTR, a::STATE | a::AV | a::PATH_MTU | a::DEST_QPN | a::RQ_PSN |
                                     a::MAX_DEST_RD_ATOMIC | a::MIN_RNR_TIMER},
                 {qp_state::RTS, a::STATE | a::SQ_PSN | a::TIMEOUT | a::RETRY_CNT | a::RNR_RETRY |
                                     a::MAX_QP_RD_ATOMIC}};
    for (const auto& s : steps) {
        const drv::cmd_result r = from.qp->modify(from.at.dev->cmd(), s.s, s.mask, v);
        if (!r.ok()) {
            err = std::string("MODIFY_QP failed: ") + spec::cmd::to_string(r.status);
            return false;
        }
    }
    return true;
}

bool fault_traffic::setup(std::string& err) {
    return setup_end(m_a, err) && setup_end(m_b, err) && connect(m_a, m_b, err) &&
           connect(m_b, m_a, err);
}

void fault_traffic::start(uint64_t count) {
    m_count = count;
    m_send_seen.assign(count, 0);
    m_recv_seen.assign(count, 0);
    m_posted = m_recvs_posted = m_sends_done = m_recvs_done = 0;
    m_stop_posting = m_forced_err = m_timed_out = false;
    m_phase = phase{};
    m_start = m_last_progress = m_a.at.bus->now_ns();
}

void fault_traffic::post() {
    while (!m_stop_posting && m_posted < m_count &&
           m_posted - std::min(m_sends_done, m_recvs_done) < DEPTH) {
        const uint64_t slot = m_posted % DEPTH;
        drv::recv_wr rw;
        rw.wr_id = m_posted;
        rw.sg_list[0] = {m_b.buf.bus + slot * MSG_SIZE, MSG_SIZE, m_b.lkey};
        rw.num_sge = 1;
        drv::send_wr sw;
        sw.wr_id = m_posted;
        sw.sg_list[0] = {m_a.buf.bus + slot * MSG_SIZE, MSG_SIZE, m_a.lkey};
        sw.num_sge = 1;
        // A refused post (device lost) consumes nothing and expects nothing (C13).
        if (m_b.qp->post_recv(rw) != 0) {
            m_stop_posting = true;
            break;
        }
        ++m_recvs_posted;
        if (m_a.qp->post_send(sw) != 0) {
            m_stop_posting = true;
            break;
        }
        ++m_posted;
    }
}

bool fault_traffic::poll() {
    bool found = false;
    spec::cqe wc[32];
    for (drv::completion_queue* cq : {m_a.scq.get(), m_a.rcq.get(), m_b.scq.get(), m_b.rcq.get()}) {
        const int n = cq->poll(wc, 32);
        for (int k = 0; k < n; ++k) {
            const spec::cqe& c = wc[k];
            found = true;
            const bool recv = c.opcode >= static_cast<uint8_t>(spec::cqe_opcode::RECV);
            if (c.wr_id >= m_count || (recv ? m_recv_seen : m_send_seen)[c.wr_id]++ != 0) {
                ++m_phase.duplicated;
                continue;
            }
            ++m_phase.seen;
            ++(recv ? m_recvs_done : m_sends_done);
            if (c.status != static_cast<uint8_t>(spec::cqe_status::SUCCESS)) {
                ++m_phase.errors;
                m_stop_posting = true;
            }
            if (c.status == static_cast<uint8_t>(spec::cqe_status::RETRY_EXC_ERR)) {
                ++m_phase.retry_exc;
            }
        }
    }
    return found;
}

void fault_traffic::to_err() {
    m_forced_err = true;
    for (end* e : {&m_b, &m_a}) {
        if (!e->at.dev->lost()) e->qp->modify(e->at.dev->cmd(), qp_state::ERR, a::STATE);
    }
}

bool fault_traffic::step(const std::function<void(uint64_t)>& tick) {
    post();
    if (m_p.events) {
        // Interrupts of events already consumed are stale: drop them before arming, so the
        // next wait ends only for a new event (or times out).
        while (m_a.at.bus->wait_interrupt(m_a.at.dev->async_eq().vector(), 0)) {
        }
        m_a.scq->arm(false);
        m_b.rcq->arm(false);
    }
    const bool found = poll();
    m_progress = found;
    // Completions found after a wait that no interrupt ended: the bounded wait and the poll
    // after it rescued them (catalogue H3).
    if (found && m_timed_out) ++m_phase.polled_without_irq;
    m_timed_out = false;
    if (tick) tick(m_sends_done);
    for (drv::device* d : devices()) {
        d->poll_events();
        if (d->check_health() != drv::health::ok) m_stop_posting = true;
    }
    const uint64_t now = m_a.at.bus->now_ns();
    if (found) m_last_progress = now;
    if (m_sends_done == m_posted && m_recvs_done == m_recvs_posted &&
        (m_posted == m_count || m_stop_posting)) {
        return false;
    }
    if (now - m_start > m_p.run_limit_ns) return false;
    bool any_lost = false;
    for (drv::device* d : devices()) any_lost = any_lost || d->lost();
    if (!found && now - m_last_progress > m_p.stall_ns) {
        // Liveness (invariant 15): first move both QPs to ERR so the device flushes what it
        // holds; if even that does not complete them, the device is lost.
        m_stop_posting = true;
        m_last_progress = now;
        if (!m_forced_err && !any_lost) {
            to_err();
        } else {
            for (drv::device* d : devices()) d->declare_lost(drv::health::stalled);
        }
    } else if (m_phase.errors != 0 && !m_forced_err) {
        // A QP that reported an error is in ERR; its peer still holds receive WQEs for
        // messages that will not come: flush them too.
        to_err();
    }
    return true;
}

void fault_traffic::pause() {
    // With events the driver sleeps after every pass (the interrupt wakes it); polling spins
    // only while there is progress.
    if (m_p.events) {
        drv::device& d = *m_a.at.dev;
        const uint64_t irq0 = d.interrupts();
        d.wait_event(20'000);
        m_timed_out = d.interrupts() == irq0;
    } else if (!m_progress) {
        m_a.at.bus->relax();
    }
}

phase fault_traffic::result() const {
    phase p = m_phase;
    p.expected = m_posted + m_recvs_posted;
    p.ok = p.errors == 0 && p.seen == p.expected && p.duplicated == 0 && m_posted == m_count;
    return p;
}

phase fault_traffic::run(uint64_t count, const std::function<void(uint64_t)>& tick) {
    start(count);
    while (step(tick)) pause();
    return result();
}

}  // namespace chio::tb
