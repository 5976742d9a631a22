// C++ reference queue engine: the rules are stated in queue_engine_ref.h.
#include "tlm-model/queue_engine/queue_engine_ref.h"

namespace chio::model {

namespace {

using spec::qe::error;
using spec::qe::status;

// (a - b) mod 2^16: the distance from b forward to a on free-running 16-bit counters.
uint32_t dist(uint16_t a, uint16_t b) { return static_cast<uint16_t>(a - b); }

uint32_t ring_size(uint8_t log_size) { return 1u << log_size; }

// Range rule shared by work-queue doorbells and ring consumer doorbells: the new index may
// advance from the old one by at most a ring, and stay at most a ring ahead of `behind`.
bool in_range(uint16_t ahead, uint16_t behind, uint16_t next, uint16_t old, uint8_t log_size) {
    return dist(ahead, behind) <= ring_size(log_size) && dist(next, old) <= ring_size(log_size);
}

template <typename T>
bool pop(std::deque<T>& q, T& out) {
    if (q.empty()) return false;
    out = q.front();
    q.pop_front();
    return true;
}

}  // namespace

queue_engine_ref::queue_engine_ref() : m_wq(spec::qe::NUM_WQ), m_cr(spec::qe::NUM_CR) {}

void queue_engine_ref::push_err(error code, bool is_cr, uint16_t id, uint8_t fn) {
    m_err.push_back(qe_err{code, is_cr, id, fn});
}

void queue_engine_ref::wq_cfg(const qe_wq_cfg& c) {
    if (c.wqid >= spec::qe::NUM_WQ || c.log_size > spec::limits::MAX_WQ_LOG_SIZE) return;
    wq_state s;
    s.enable = c.enable;
    s.sched = c.sched;
    s.owner = c.owner_fn;
    s.log_size = c.log_size;
    m_wq[c.wqid] = s;
}

void queue_engine_ref::cr_cfg(const qe_cr_cfg& c) {
    if (c.crid >= spec::qe::NUM_CR || c.log_size > spec::limits::MAX_CQ_LOG_SIZE) return;
    cr_state s;
    s.enable = c.enable;
    s.owner = c.owner_fn;
    s.log_size = c.log_size;
    s.target = c.target;
    m_cr[c.crid] = s;
}

void queue_engine_ref::db(const qe_db& d) {
    if (d.wqid >= spec::qe::NUM_WQ || !m_wq[d.wqid].enable) {
        push_err(error::DB_DISABLED, false, d.wqid, d.fn);
        return;
    }
    wq_state& q = m_wq[d.wqid];
    if (d.fn != q.owner) {
        push_err(error::DB_OWNER, false, d.wqid, d.fn);
        return;
    }
    if (!in_range(d.pi, q.ci, d.pi, q.pi, q.log_size)) {
        push_err(error::DB_RANGE, false, d.wqid, d.fn);
        return;
    }
    q.pi = d.pi;
    if (q.sched && q.fetch != q.pi && !q.queued) {
        q.queued = true;
        m_work.push_back(qe_work{d.wqid});
    }
}

qe_deq_resp queue_engine_ref::deq(const qe_deq_req& r) {
    qe_deq_resp resp;
    resp.wqid = r.wqid;
    if (r.wqid >= spec::qe::NUM_WQ || !m_wq[r.wqid].enable) {
        resp.status = status::DISABLED;
        return resp;
    }
    wq_state& q = m_wq[r.wqid];
    q.queued = false;
    if (q.fetch == q.pi) {
        resp.status = status::EMPTY;
        return resp;
    }
    resp.status = status::OK;
    resp.index = q.fetch;
    ++q.fetch;
    if (q.sched && q.fetch != q.pi) {
        q.queued = true;
        m_work.push_back(qe_work{r.wqid});
    }
    return resp;
}

void queue_engine_ref::deq_commit(const qe_deq_commit& c) {
    if (c.wqid >= spec::qe::NUM_WQ || !m_wq[c.wqid].enable ||
        m_wq[c.wqid].ci == m_wq[c.wqid].fetch) {
        push_err(error::BAD_COMMIT, false, c.wqid, 0);
        return;
    }
    ++m_wq[c.wqid].ci;
}

qe_cq_resp queue_engine_ref::cq(const qe_cq_req& r) {
    qe_cq_resp resp;
    resp.crid = r.crid;
    if (r.crid >= spec::qe::NUM_CR || !m_cr[r.crid].enable || m_cr[r.crid].error) {
        resp.status = status::DISABLED;
        return resp;
    }
    cr_state& q = m_cr[r.crid];
    if (dist(q.pi, q.ci) == ring_size(q.log_size)) {
        resp.status = status::FULL;
        q.error = true;
        push_err(error::CQ_OVERFLOW, true, r.crid, 0);
        return resp;
    }
    resp.status = status::OK;
    resp.index = q.pi;
    resp.phase = ((q.pi >> q.log_size) & 1u) == 0;
    ++q.pi;
    return resp;
}

void queue_engine_ref::cq_commit(const qe_cq_commit& c) {
    if (c.crid >= spec::qe::NUM_CR || !m_cr[c.crid].enable || m_cr[c.crid].cpi == m_cr[c.crid].pi) {
        push_err(error::BAD_COMMIT, true, c.crid, 0);
        return;
    }
    cr_state& q = m_cr[c.crid];
    ++q.cpi;
    if (q.armed && (!q.armed_solicited || c.solicited)) {
        q.armed = false;
        q.armed_solicited = false;
        m_event.push_back(qe_event{c.crid, q.target});
    }
}

void queue_engine_ref::arm(const qe_arm& a) {
    if (a.crid >= spec::qe::NUM_CR || !m_cr[a.crid].enable) {
        push_err(error::DB_DISABLED, true, a.crid, a.fn);
        return;
    }
    cr_state& q = m_cr[a.crid];
    if (a.fn != q.owner) {
        push_err(error::DB_OWNER, true, a.crid, a.fn);
        return;
    }
    // The consumer index is the "producer" of free slots: it may not pass cpi.
    if (!in_range(q.cpi, a.ci, a.ci, q.ci, q.log_size)) {
        push_err(error::DB_RANGE, true, a.crid, a.fn);
        return;
    }
    q.ci = a.ci;
    if (!a.arm) return;
    if (!a.solicited && q.cpi != q.ci) {
        q.armed = false;
        q.armed_solicited = false;
        m_event.push_back(qe_event{a.crid, q.target});
        return;
    }
    q.armed = true;
    q.armed_solicited = a.solicited;
}

bool queue_engine_ref::pop_work(qe_work& w) { return pop(m_work, w); }
bool queue_engine_ref::pop_event(qe_event& e) { return pop(m_event, e); }
bool queue_engine_ref::pop_err(qe_err& e) { return pop(m_err, e); }

}  // namespace chio::model
