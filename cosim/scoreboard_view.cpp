// The scoreboard's completion accounting (cosim/scoreboard.h): what the driver posted, what
// the device wrote into the CQ rings, what the application received, and the end-of-run
// liveness check.
#include <string>

#include "cosim/scoreboard_state.h"
#include "driver/queue_pair.h"

namespace chio::cosim {

namespace {

using spec::cqe_opcode;
using spec::cqe_status;
using spec::wqe_opcode;

constexpr uint64_t MS = 1'000'000;
constexpr uint64_t MODIFY_GRACE_NS = 10'000;

bool legal_status(uint8_t s) {
    switch (static_cast<cqe_status>(s)) {
        case cqe_status::SUCCESS:
        case cqe_status::LOC_LEN_ERR:
        case cqe_status::LOC_QP_OP_ERR:
        case cqe_status::LOC_EEC_OP_ERR:
        case cqe_status::LOC_PROT_ERR:
        case cqe_status::WR_FLUSH_ERR:
        case cqe_status::MW_BIND_ERR:
        case cqe_status::BAD_RESP_ERR:
        case cqe_status::LOC_ACCESS_ERR:
        case cqe_status::REM_INV_REQ_ERR:
        case cqe_status::REM_ACCESS_ERR:
        case cqe_status::REM_OP_ERR:
        case cqe_status::RETRY_EXC_ERR:
        case cqe_status::RNR_RETRY_EXC_ERR:
        case cqe_status::GENERAL_ERR:
            return true;
    }
    return false;
}

// The CQE opcode the device reports for a send WQE opcode (ibv_wc_opcode of the WR).
int send_cqe_opcode(uint8_t wqe_op) {
    switch (static_cast<wqe_opcode>(wqe_op)) {
        case wqe_opcode::RDMA_WRITE:
        case wqe_opcode::RDMA_WRITE_WITH_IMM:
            return static_cast<int>(cqe_opcode::RDMA_WRITE);
        case wqe_opcode::RDMA_READ:
            return static_cast<int>(cqe_opcode::RDMA_READ);
        case wqe_opcode::ATOMIC_CMP_AND_SWP:
            return static_cast<int>(cqe_opcode::COMP_SWAP);
        case wqe_opcode::ATOMIC_FETCH_AND_ADD:
            return static_cast<int>(cqe_opcode::FETCH_ADD);
        case wqe_opcode::SEND:
        case wqe_opcode::SEND_WITH_IMM:
            return static_cast<int>(cqe_opcode::SEND);
    }
    return -1;
}

// Statuses a UD send can end with: no responder, no acknowledgement, so no remote or retry
// errors (IBA 11.6.2).
bool legal_for_ud_send(uint8_t s) {
    switch (static_cast<cqe_status>(s)) {
        case cqe_status::REM_INV_REQ_ERR:
        case cqe_status::REM_ACCESS_ERR:
        case cqe_status::REM_OP_ERR:
        case cqe_status::RETRY_EXC_ERR:
        case cqe_status::RNR_RETRY_EXC_ERR:
        case cqe_status::BAD_RESP_ERR:
            return false;
        default:
            return true;
    }
}

// A receive never ends with a requester-side error.
bool legal_for_recv(uint8_t s) {
    switch (static_cast<cqe_status>(s)) {
        case cqe_status::RETRY_EXC_ERR:
        case cqe_status::RNR_RETRY_EXC_ERR:
        case cqe_status::BAD_RESP_ERR:
        case cqe_status::REM_ACCESS_ERR:
        case cqe_status::REM_OP_ERR:
            return false;
        default:
            return true;
    }
}

uint64_t send_length(const spec::send_wqe& w) {
    if (w.flags & spec::wqe_flags::INLINE) return w.inline_len;
    const auto op = static_cast<wqe_opcode>(w.opcode);
    if (op == wqe_opcode::ATOMIC_CMP_AND_SWP || op == wqe_opcode::ATOMIC_FETCH_AND_ADD) return 8;
    uint64_t n = 0;
    for (unsigned i = 0; i < w.num_sge && i < spec::limits::MAX_SGE; ++i) n += w.sg_list[i].length;
    return n;
}

uint64_t recv_capacity(const spec::recv_wqe& w) {
    uint64_t n = 0;
    for (unsigned i = 0; i < w.num_sge && i < spec::limits::MAX_RECV_SGE; ++i) {
        n += w.sg_list[i].length;
    }
    return n;
}

// Which queue a CQE completes: the QP's send or receive queue, or its SRQ.
sb_queue* queue_of(sb_function& f, sb_qp& qp, bool recv, const char*& name) {
    if (!recv) {
        name = "sq";
        return &qp.sq;
    }
    if (qp.srqn != spec::cmd::NO_SRQ) {
        name = "srq";
        auto s = f.srqs.find(qp.srqn);
        return s == f.srqs.end() ? nullptr : &s->second.q;
    }
    name = "rq";
    return &qp.rq;
}

// Same WQE: equal index (an SRQ reuses a slot only when it is free, so its slot decides).
bool same_index(const sb_queue& q, const sb_wqe& e, uint16_t index, unsigned srq_log) {
    if (q.ordered) return e.index == index;
    const uint16_t mask = static_cast<uint16_t>((1u << srq_log) - 1);
    return (e.index & mask) == (index & mask);
}

unsigned srq_log_of(sb_function& f, const sb_qp& qp) {
    auto s = f.srqs.find(qp.srqn);
    return s == f.srqs.end() ? 16 : s->second.log_size;
}

}  // namespace

// One CQE the device wrote into slot `slot` of CQ `cq` (catalogue (b) 1-4, 13).
void scoreboard::state::device_cqe(sb_function& f, sb_cq& cq, uint32_t slot, const spec::cqe& c) {
    ++checks;
    const uint32_t mask = (1u << cq.log_size) - 1;
    const uint8_t phase = ((cq.pi >> cq.log_size) & 1u) ? 0 : 1;
    // Objects are named only for a violation: building the strings for every CQE cost more
    // than the checks themselves.
    const auto cq_obj = [&] {
        return "fn " + std::to_string(f.fn) + " cqn " + std::to_string(cq.cqn);
    };
    if (slot != (cq.pi & mask) || (c.owner & 1u) != phase) {
        fail("index-bounds", cq_obj(),
             "CQE written to slot " + std::to_string(slot) + " phase " +
                 std::to_string(c.owner & 1u) + "; the next entry is slot " +
                 std::to_string(cq.pi & mask) + " phase " + std::to_string(phase));
    }
    ++cq.pi;
    auto qit = f.qps.find(c.qpn);
    if (qit == f.qps.end()) {
        fail("index-bounds", cq_obj(),
             "CQE names qpn " + std::to_string(c.qpn) + ", no live QP of this function");
        return;
    }
    sb_qp& qp = qit->second;
    if (qp.void_) return;
    const bool recv = c.opcode >= static_cast<uint8_t>(cqe_opcode::RECV);
    const char* qname = "sq";
    sb_queue* q = queue_of(f, qp, recv, qname);
    const auto obj = [&] { return sb_object(f.fn, c.qpn, qname, c.wqe_index, c.wr_id); };
    if ((recv ? qp.recv_cqn : qp.send_cqn) != cq.cqn) {
        fail("index-bounds", obj(),
             "CQE on cqn " + std::to_string(cq.cqn) + ", the QP's " + qname +
                 " completes into cqn " + std::to_string(recv ? qp.recv_cqn : qp.send_cqn));
    }
    // Status legality (b3).
    const bool flush = c.status == static_cast<uint8_t>(cqe_status::WR_FLUSH_ERR);
    const bool error = c.status != static_cast<uint8_t>(cqe_status::SUCCESS);
    const bool opcode_known =
        recv ? (c.opcode == static_cast<uint8_t>(cqe_opcode::RECV) ||
                c.opcode == static_cast<uint8_t>(cqe_opcode::RECV_RDMA_WITH_IMM))
             : c.opcode <= static_cast<uint8_t>(cqe_opcode::FETCH_ADD);
    if (!legal_status(c.status) || !opcode_known) {
        fail("status-legality", obj(),
             "status " + std::to_string(c.status) + " opcode " + std::to_string(c.opcode) +
                 " is not a legal CQE");
        return;
    }
    if ((recv && !legal_for_recv(c.status)) ||
        (!recv && qp.type == spec::qp_type::UD && !legal_for_ud_send(c.status)) ||
        // An RDMA or atomic WR posted to UD fails with LOC_QP_OP_ERR under its own opcode.
        (qp.type == spec::qp_type::UD && !error &&
         c.opcode != static_cast<uint8_t>(cqe_opcode::SEND) &&
         c.opcode != static_cast<uint8_t>(cqe_opcode::RECV))) {
        fail("status-legality", obj(),
             std::string(spec::to_string(static_cast<cqe_status>(c.status))) + " with opcode " +
                 std::to_string(c.opcode) + " cannot happen on a " +
                 (qp.type == spec::qp_type::UD ? "UD" : "RC") + (recv ? " receive" : " send"));
    }
    // Error implies state (b4): after an error no success until RESET, and each work queue
    // reports at most one error of its own, the rest of it flushed. The send and receive
    // queues of one RC QP may each report their own first error (they fail independently, as
    // on mlx5 and rxe); a UD send error stops only the send queue (SQE).
    // A modify to ERR takes effect for work the device has not finished; a completion already
    // on its way (written within MODIFY_GRACE_NS of the command's completion) may still be a
    // success or its own error, as on hardware, where the CQE pipeline is not drained by the
    // command.
    const bool grace = qp.err_by_modify && sb_now_ns() < qp.err_ns + MODIFY_GRACE_NS;
    const bool queue_err = recv ? qp.rq_err : qp.sq_err;
    if (!flush && !grace && (queue_err || (qp.err && !error))) {
        fail("error-state", obj(),
             std::string(spec::to_string(static_cast<cqe_status>(c.status))) +
                 " after the QP went to error at t=" + std::to_string(qp.err_ns) +
                 " ns; only WR_FLUSH_ERR may follow until RESET");
    }
    if (error && !flush) {
        const bool rc = qp.type != spec::qp_type::UD;
        if (!qp.err && !qp.sq_err && !qp.rq_err) {
            qp.err_ns = sb_now_ns();
            qp.err_by_modify = false;
        }
        if (rc) qp.err = true;
        if (!recv) qp.sq_err = true;
        if (recv && rc) qp.rq_err = true;
    } else if (flush && !qp.err && qp.type != spec::qp_type::UD) {
        // A flush means the QP is in ERR (perhaps for a reason without a CQE of its own, e.g.
        // an overflowed CQ): no success may follow.
        qp.err = true;
        qp.err_ns = sb_now_ns();
        qp.err_by_modify = false;
    }
    if (q == nullptr) {
        fail("index-bounds", obj(), "receive completion for an SRQ never created");
        return;
    }
    // Exactly once and order (b1, b2).
    const unsigned srq_log = q->ordered ? 16 : srq_log_of(f, qp);
    size_t at = q->q.size();
    bool again = false;
    for (size_t i = 0; i < q->q.size(); ++i) {
        if (!same_index(*q, q->q[i], c.wqe_index, srq_log)) continue;
        if (q->q[i].dev_done) {
            again = true;
            continue;
        }
        at = i;
        break;
    }
    if (at == q->q.size()) {
        if (again || (q->ordered && q->was_retired(c.wqe_index))) {
            fail("exactly-once", obj(), "second completion of the same work request");
        } else {
            fail("index-bounds", obj(),
                 "wqe_index outside the posted window (next post would be " +
                     std::to_string(q->next) + ")");
        }
        return;
    }
    if (q->ordered) {
        for (size_t i = 0; i < at; ++i) {
            sb_wqe& e = q->q[i];
            if (e.dev_done) continue;
            if (recv || e.signaled) {
                fail("order", obj(),
                     "completed before index " + std::to_string(e.index) + " wr_id " +
                         std::to_string(e.wr_id) + " posted earlier");
                break;
            }
            e.dev_done = true;  // an unsignaled WR, covered by this later completion
        }
    }
    sb_wqe& e = q->q[at];
    e.dev_done = true;
    // Index bounds on lengths (b13, catalogue I2).
    if (!error) {
        if (!recv) {
            const int want = send_cqe_opcode(e.opcode);
            if (want >= 0 && c.opcode != want) {
                fail("status-legality", obj(),
                     "CQE opcode " + std::to_string(c.opcode) + " for a WR of opcode " +
                         std::to_string(e.opcode) + " (expected " + std::to_string(want) + ")");
            }
            if (c.byte_len > e.length) {
                fail("index-bounds", obj(),
                     "byte_len " + std::to_string(c.byte_len) + " > posted length " +
                         std::to_string(e.length));
            }
        } else if (c.opcode == static_cast<uint8_t>(cqe_opcode::RECV) && c.byte_len > e.length) {
            fail("index-bounds", obj(),
                 "byte_len " + std::to_string(c.byte_len) + " > posted receive buffers " +
                     std::to_string(e.length));
        }
    }
}

// End of run (b15): every send WR within its QP's retry bound, every WR of a QP in error
// flushed, judged against sim time.
void scoreboard::state::liveness(uint64_t now) {
    // Named references, not structured bindings: the lambda below captures them, which C++17
    // does not allow for bindings (clang rejects it; the sanitizer build is clang).
    for (auto& fe : fns) {
        const auto& fnum = fe.first;
        auto& f = fe.second;
        for (auto& qe : f.qps) {
            const auto& qpn = qe.first;
            auto& qp = qe.second;
            if (qp.void_ || qp.state == spec::qp_state::RESET) continue;
            if (qp_alive && !qp_alive(fnum, qpn)) continue;
            const bool in_err = qp.err || qp.state == spec::qp_state::ERR;
            // Retry bound: (retry_cnt + 1) transport timeouts of 4.096 us << timeout, plus
            // 10 ms for the path; timeout 0 (infinite) or RNR retry 7 (infinite) on a message
            // that can meet RNR has none.
            uint64_t bound = 10 * MS;
            const bool rc = qp.type == spec::qp_type::RC;
            if (rc) bound += (uint64_t{qp.retry_cnt} + 1) * (uint64_t{4096} << qp.timeout);
            auto check = [&](sb_queue& q, const char* name, bool sends) {
                for (const sb_wqe& e : q.q) {
                    if (e.dev_done || e.app_done) continue;
                    if (in_err) {
                        if (now > qp.err_ns + 10 * MS) {
                            fail("liveness", sb_object(fnum, qpn, name, e.index, e.wr_id),
                                 "QP in error since t=" + std::to_string(qp.err_ns) +
                                     " ns but this WR was never flushed");
                            return;
                        }
                        continue;
                    }
                    if (!sends) continue;  // a receive may wait for a message for ever
                    const auto op = static_cast<wqe_opcode>(e.opcode);
                    const bool may_rnr = op == wqe_opcode::SEND ||
                                         op == wqe_opcode::SEND_WITH_IMM ||
                                         op == wqe_opcode::RDMA_WRITE_WITH_IMM;
                    if (rc && (qp.timeout == 0 || (may_rnr && qp.rnr_retry == 7))) continue;
                    if (now > e.posted_ns + bound) {
                        fail("liveness", sb_object(fnum, qpn, name, e.index, e.wr_id),
                             "posted at t=" + std::to_string(e.posted_ns) +
                                 " ns, no completion by t=" + std::to_string(now) + " ns (bound " +
                                 std::to_string(bound) + " ns)");
                        return;
                    }
                }
            };
            check(qp.sq, "sq", true);
            if (qp.srqn == spec::cmd::NO_SRQ) check(qp.rq, "rq", false);
        }
    }
}

// --- the driver's observer ---

void sb_view::cq_created(uint32_t cqn, uint64_t ring, unsigned log_size) {
    sb_function& fs = f();
    for (auto it = fs.cq_rings.begin(); it != fs.cq_rings.end();) {
        it = it->second == cqn ? fs.cq_rings.erase(it) : std::next(it);
    }
    fs.cqs[cqn] = sb_cq{cqn, ring, log_size, 0};
    fs.cq_rings[ring] = cqn;
}

void sb_view::cq_destroyed(uint32_t cqn) {
    sb_function& fs = f();
    auto it = fs.cqs.find(cqn);
    if (it == fs.cqs.end()) return;
    fs.cq_rings.erase(it->second.ring);
    fs.cqs.erase(it);
}

void sb_view::qp_created(uint32_t qpn, spec::qp_type type, uint32_t send_cqn, uint32_t recv_cqn,
                         uint32_t srqn, unsigned sq_log, unsigned rq_log) {
    sb_qp qp;
    qp.type = type;
    qp.send_cqn = send_cqn;
    qp.recv_cqn = recv_cqn;
    qp.srqn = srqn;
    qp.sq_log = sq_log;
    qp.rq_log = rq_log;
    f().qps[qpn] = std::move(qp);
}

void sb_view::qp_modified(uint32_t qpn, spec::qp_state state, uint32_t attr_mask,
                          const drv::qp_attr_values& v) {
    auto it = f().qps.find(qpn);
    if (it == f().qps.end()) return;
    sb_qp& qp = it->second;
    if (attr_mask & spec::qp_attr::TIMEOUT) qp.timeout = v.timeout;
    if (attr_mask & spec::qp_attr::RETRY_CNT) qp.retry_cnt = v.retry_cnt;
    if (attr_mask & spec::qp_attr::RNR_RETRY) qp.rnr_retry = v.rnr_retry;
    if (!(attr_mask & spec::qp_attr::STATE)) return;
    qp.state = state;
    if (state == spec::qp_state::RESET) {
        // RESET drops every WQE without a completion (IBA 10.3.1); the rings restart at 0.
        qp.sq = sb_queue{};
        qp.rq = sb_queue{};
        qp.err = qp.sq_err = qp.rq_err = qp.void_ = false;
    } else if (state == spec::qp_state::ERR) {
        if (!qp.err) {
            qp.err_ns = sb_now_ns();
            qp.err_by_modify = true;
        }
        qp.err = qp.sq_err = qp.rq_err = true;
    } else if (state == spec::qp_state::RTS) {
        qp.sq_err = false;  // SQE -> RTS resumes a UD send queue
    }
}

void sb_view::qp_destroyed(uint32_t qpn) { f().qps.erase(qpn); }

void sb_view::srq_created(uint32_t srqn, unsigned log_size) {
    sb_srq s;
    s.log_size = log_size;
    s.q.ordered = false;
    f().srqs[srqn] = std::move(s);
}

namespace {

void post(scoreboard::state& s, uint16_t fn, uint32_t qpn, const char* name, sb_queue& q,
          unsigned log_size, sb_wqe e) {
    ++s.checks;
    if (e.index != q.next || q.q.size() >= (size_t{1} << log_size)) {
        s.fail("index-bounds", sb_object(fn, qpn, name, e.index, e.wr_id),
               "posted at index " + std::to_string(e.index) + " with " +
                   std::to_string(q.q.size()) + " outstanding; expected index " +
                   std::to_string(q.next) + " and at most " + std::to_string(1u << log_size));
    }
    q.next = static_cast<uint16_t>(e.index + 1);
    e.posted_ns = sb_now_ns();
    q.q.push_back(e);
}

}  // namespace

void sb_view::posted_send(uint32_t qpn, uint16_t index, const spec::send_wqe& w) {
    auto it = f().qps.find(qpn);
    if (it == f().qps.end()) return;
    sb_wqe e;
    e.index = index;
    e.wr_id = w.wr_id;
    e.opcode = w.opcode;
    e.signaled = (w.flags & spec::wqe_flags::SIGNALED) != 0;
    e.length = send_length(w);
    post(m_s, m_fn, qpn, "sq", it->second.sq, it->second.sq_log, e);
}

void sb_view::posted_recv(uint32_t qpn, uint16_t index, const spec::recv_wqe& w) {
    auto it = f().qps.find(qpn);
    if (it == f().qps.end()) return;
    sb_wqe e;
    e.index = index;
    e.wr_id = w.wr_id;
    e.length = recv_capacity(w);
    post(m_s, m_fn, qpn, "rq", it->second.rq, it->second.rq_log, e);
}

void sb_view::posted_srq_recv(uint32_t srqn, uint16_t index, const spec::recv_wqe& w) {
    auto it = f().srqs.find(srqn);
    if (it == f().srqs.end()) return;
    sb_wqe e;
    e.index = index;
    e.wr_id = w.wr_id;
    e.length = recv_capacity(w);
    post(m_s, m_fn, srqn, "srq", it->second.q, it->second.log_size, e);
}

// What the application received (b1 at the API): each WR once, in order, with the wr_id it
// posted, and from the device's ring only what the device wrote.
void sb_view::polled(const spec::cqe& c, bool soft) {
    ++m_s.checks;
    sb_function& fs = f();
    const bool recv = c.opcode >= static_cast<uint8_t>(cqe_opcode::RECV);
    auto qit = fs.qps.find(c.qpn);
    if (qit == fs.qps.end()) {
        m_s.fail("exactly-once", sb_object(m_fn, c.qpn, recv ? "rq" : "sq", c.wqe_index, c.wr_id),
                 "the application received a completion for a QP it never created");
        return;
    }
    sb_qp& qp = qit->second;
    const char* qname = "sq";
    sb_queue* q = queue_of(fs, qp, recv, qname);
    // Named only for a violation (building the string for every completion was a hot path).
    const auto obj = [&] { return sb_object(m_fn, c.qpn, qname, c.wqe_index, c.wr_id); };
    if (q == nullptr) return;
    const unsigned srq_log = q->ordered ? 16 : srq_log_of(fs, qp);
    size_t at = q->q.size();
    for (size_t i = 0; i < q->q.size(); ++i) {
        if (same_index(*q, q->q[i], c.wqe_index, srq_log) && !q->q[i].app_done) {
            at = i;
            break;
        }
    }
    if (at == q->q.size()) {
        m_s.fail("exactly-once", obj(),
                 "the application received a completion for no outstanding work request "
                 "(a duplicate, or never posted)");
        return;
    }
    sb_wqe& e = q->q[at];
    if (!soft && !e.dev_done && !qp.void_) {
        m_s.fail("exactly-once", obj(),
                 "the application received a completion the device never wrote");
    }
    if (e.wr_id != c.wr_id) {
        m_s.fail("exactly-once", obj(),
                 "delivered with wr_id " + std::to_string(c.wr_id) + ", posted as " +
                     std::to_string(e.wr_id));
    }
    if (q->ordered) {
        for (size_t i = 0; i < at; ++i) {
            sb_wqe& p = q->q[i];
            if (p.app_done) continue;
            if (recv || p.signaled || soft) {
                m_s.fail("order", obj(),
                         "delivered before index " + std::to_string(p.index) + " wr_id " +
                             std::to_string(p.wr_id) + " posted earlier");
                break;
            }
            p.app_done = p.dev_done = true;
        }
        e.app_done = e.dev_done = true;
        while (!q->q.empty() && q->q.front().app_done) {
            q->retire(q->q.front().index);
            q->q.pop_front();
        }
    } else {
        q->retire(q->q[at].index);
        q->q.erase(q->q.begin() + static_cast<std::ptrdiff_t>(at));
    }
}

void sb_view::mr_registered(uint32_t lkey, uint64_t pa, uint64_t length) {
    sb_function& fs = f();
    fs.mrs[lkey] = {pa, pa + length};
    fs.hit_lo = 1;
    fs.hit_hi = 0;
}

void sb_view::mr_deregistered(uint32_t lkey) {
    sb_function& fs = f();
    fs.mrs.erase(lkey);
    fs.hit_lo = 1;
    fs.hit_hi = 0;
}

void sb_view::command_done(spec::cmd::opcode op, spec::cmd::status /*st*/, bool timed_out) {
    ++m_s.checks;
    if (!timed_out) return;
    if (m_s.faults_injected && m_s.faults_injected()) return;
    m_s.fail("liveness",
             "fn " + std::to_string(m_fn) + " command " + std::to_string(static_cast<unsigned>(op)),
             "no completion within the command timeout on a device with no injected fault");
}

// The driver flushes every queue itself (soft completions); the device's CQs and this
// generation's completions are void from now on.
void sb_view::device_lost() {
    sb_function& fs = f();
    for (auto& [n, qp] : fs.qps) qp.void_ = true;
    fs.cqs.clear();
    fs.cq_rings.clear();
}

}  // namespace chio::cosim
