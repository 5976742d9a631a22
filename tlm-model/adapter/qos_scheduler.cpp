#include "tlm-model/adapter/qos_scheduler.h"

#include <algorithm>

namespace chio::model {

namespace {

// Mb/s to bytes per nanosecond.
double bytes_per_ns(double mbps) { return mbps / 8000.0; }

// A bucket this close to empty counts as empty, not negative: refilling to exactly the time
// ready_at() names can leave a rounding error of a few ulps, which must not cost another wait.
constexpr double TOKEN_EPS = 1e-3;  // bytes

// The ready list is an ordered set of (tag, qpn) kept as a sorted vector: inserting a present
// element changes nothing, as std::set::insert.
using ready_list = std::vector<std::pair<double, uint32_t>>;

void ready_insert(ready_list& v, const std::pair<double, uint32_t>& x) {
    const auto it = std::lower_bound(v.begin(), v.end(), x);
    if (it == v.end() || *it != x) v.insert(it, x);
}

// true: x was there.
bool ready_erase(ready_list& v, const std::pair<double, uint32_t>& x) {
    const auto it = std::lower_bound(v.begin(), v.end(), x);
    if (it == v.end() || *it != x) return false;
    v.erase(it);
    return true;
}

void erase_value(std::vector<uint32_t>& v, uint32_t x) {
    const auto it = std::find(v.begin(), v.end(), x);
    if (it != v.end()) v.erase(it);
}

}  // namespace

qos_scheduler::qos_scheduler(const device_contexts& ctx, const qos_params& p) : m_ctx(ctx), m_p(p) {
    clear();
}

double qos_scheduler::bucket::refill(double rate_mbps, double now_ns, double depth) {
    if (rate_mbps <= 0.0) {
        tokens = 0.0;  // uncapped: a cap set later starts from an empty bucket, at its rate
    } else if (now_ns > at_ns) {
        tokens = std::min(depth, tokens + bytes_per_ns(rate_mbps) * (now_ns - at_ns));
    }
    at_ns = std::max(at_ns, now_ns);
    return tokens >= -TOKEN_EPS ? std::max(tokens, 0.0) : tokens;
}

double qos_scheduler::ready_at(double tokens, double rate_mbps, double now_ns) {
    return now_ns + (-tokens) / bytes_per_ns(rate_mbps);
}

uint16_t qos_scheduler::fn_of(uint32_t qpn) const { return m_ctx.qps[qpn].fn; }

// A weight of 0 would give an entity no share at all and an infinite tag step; it counts as 1.
double qos_scheduler::qp_weight(uint32_t qpn) const {
    return std::max<uint32_t>(1, m_ctx.qps[qpn].qos_weight);
}
double qos_scheduler::fn_weight(uint16_t fn) const {
    return fn < m_ctx.fns.size() ? std::max<uint32_t>(1, m_ctx.fns[fn].qos_weight) : 1.0;
}
double qos_scheduler::qp_rate(uint32_t qpn) const {
    return static_cast<double>(m_ctx.qps[qpn].rate_limit_mbps);
}
double qos_scheduler::fn_rate(uint16_t fn) const {
    return fn < m_ctx.fns.size() ? static_cast<double>(m_ctx.fns[fn].max_rate_mbps) : 0.0;
}

qos_scheduler::fn_sched& qos_scheduler::fn_state(uint16_t fn) {
    if (fn >= m_fns.size()) {
        m_fns.resize(fn + 1u);
    }
    return m_fns[fn];
}

void qos_scheduler::clear() {
    m_qps.assign(m_ctx.qps.size(), qp_sched{});
    m_fns.clear();
    m_active.clear();
    m_vtime = 0.0;
}

bool qos_scheduler::scheduled(uint32_t qpn) const {
    return qpn < m_qps.size() && m_qps[qpn].st != qstate::idle;
}

void qos_scheduler::activate(uint32_t qpn) {
    if (qpn >= m_qps.size()) return;
    ++m_counters.activations;
    qp_sched& s = m_qps[qpn];
    s.pending = true;
    if (s.st == qstate::idle) enqueue(qpn);
}

void qos_scheduler::consume(uint32_t qpn) {
    if (qpn < m_qps.size()) m_qps[qpn].pending = false;
}

void qos_scheduler::enqueue(uint32_t qpn) {
    qp_sched& s = m_qps[qpn];
    s.st = qstate::waiting;
    s.fn = fn_of(qpn);
    fn_sched& f = fn_state(s.fn);
    // Start-time fair queueing: a (re)activated entity starts at its level's virtual time.
    s.tag = std::max(s.tag, f.vtime);
    f.arrivals.push_back(qpn);
    if (!f.listed) {
        f.listed = true;
        f.tag = std::max(f.tag, m_vtime);
        m_active.push_back(s.fn);
    }
}

double qos_scheduler::sort_in(uint16_t fn, double now_ns) {
    fn_sched& f = m_fns[fn];
    for (const uint32_t qpn : f.arrivals) ready_insert(f.ready, {m_qps[qpn].tag, qpn});
    f.arrivals.clear();
    double earliest = -1.0;
    auto note = [&](double t) { earliest = earliest < 0.0 ? t : std::min(earliest, t); };
    // Rate-limited queues whose bucket refilled rejoin at the function's virtual time.
    for (size_t i = 0; i < f.limited.size();) {
        const uint32_t qpn = f.limited[i];
        qp_sched& s = m_qps[qpn];
        const double rate = qp_rate(qpn);
        if (s.b.refill(rate, now_ns, m_p.burst_bytes) >= 0.0) {
            s.tag = std::max(s.tag, f.vtime);
            ready_insert(f.ready, {s.tag, qpn});
            f.limited[i] = f.limited.back();
            f.limited.pop_back();
        } else {
            note(ready_at(s.b.tokens, rate, now_ns));
            ++i;
        }
    }
    // The head must have tokens; a head over its limit waits aside (limits may change at any
    // time, so this is checked at the decision, not at charge time).
    while (!f.ready.empty()) {
        const uint32_t qpn = f.ready.begin()->second;
        qp_sched& s = m_qps[qpn];
        const double rate = qp_rate(qpn);
        if (s.b.refill(rate, now_ns, m_p.burst_bytes) >= 0.0) break;
        f.ready.erase(f.ready.begin());
        f.limited.push_back(qpn);
        note(ready_at(s.b.tokens, rate, now_ns));
    }
    return earliest;
}

qos_pick qos_scheduler::pick(double now_ns) {
    qos_pick out;
    auto note = [&](double t) {
        if (t >= 0.0) out.ready_ns = out.ready_ns < 0.0 ? t : std::min(out.ready_ns, t);
    };
    int best = -1;
    for (size_t i = 0; i < m_active.size();) {
        const uint16_t fn = m_active[i];
        fn_sched& f = m_fns[fn];
        if (f.empty()) {  // went idle: leaves the list, and earns no credit while away
            f.listed = false;
            m_active[i] = m_active.back();
            m_active.pop_back();
            continue;
        }
        ++i;
        // A suspended function (SUSPEND_VF, docs/migration.md) keeps its queues listed but is
        // not served; RESUME_VF wakes the send thread.
        if (fn < m_ctx.fns.size() && m_ctx.fns[fn].suspended) continue;
        const double rate = fn_rate(fn);
        if (f.b.refill(rate, now_ns, m_p.burst_bytes) < 0.0) {
            note(ready_at(f.b.tokens, rate, now_ns));
            continue;
        }
        note(sort_in(fn, now_ns));
        if (f.ready.empty()) continue;
        // A function that waited for tokens rejoins at the virtual time, like an idle one.
        f.tag = std::max(f.tag, m_vtime);
        if (best < 0 || f.tag < m_fns[static_cast<size_t>(best)].tag) best = fn;
    }
    if (best < 0) {
        if (out.ready_ns >= 0.0) ++m_counters.capped_waits;
        return out;
    }
    fn_sched& f = m_fns[static_cast<size_t>(best)];
    m_vtime = f.tag;
    const auto head = f.ready.begin();
    f.vtime = head->first;
    out.found = true;
    out.qpn = head->second;
    f.ready.erase(head);
    m_qps[out.qpn].st = qstate::in_service;
    ++m_counters.picks;
    return out;
}

void qos_scheduler::charge(uint32_t qpn, uint64_t bytes, double now_ns) {
    if (qpn >= m_qps.size()) return;
    m_counters.charged_bytes += bytes;
    const double l = static_cast<double>(bytes);
    qp_sched& s = m_qps[qpn];
    const uint16_t fn = s.st == qstate::idle ? fn_of(qpn) : s.fn;
    fn_sched& f = fn_state(fn);
    // A queue sorted by its tag is re-sorted (charges from outside a turn: retransmissions).
    const bool sorted = s.st == qstate::waiting && ready_erase(f.ready, {s.tag, qpn});
    s.tag += l / qp_weight(qpn);
    if (sorted) ready_insert(f.ready, {s.tag, qpn});
    const double qrate = qp_rate(qpn);
    if (qrate > 0.0) {
        s.b.refill(qrate, now_ns, m_p.burst_bytes);
        s.b.tokens -= l;
    }
    f.tag += l / fn_weight(fn);
    const double frate = fn_rate(fn);
    if (frate > 0.0) {
        f.b.refill(frate, now_ns, m_p.burst_bytes);
        f.b.tokens -= l;
    }
}

void qos_scheduler::finish(uint32_t qpn, bool more) {
    if (qpn >= m_qps.size() || m_qps[qpn].st != qstate::in_service) return;
    qp_sched& s = m_qps[qpn];
    s.st = qstate::idle;
    if (more || s.pending) enqueue(qpn);
}

void qos_scheduler::forget(uint32_t qpn) {
    if (qpn >= m_qps.size()) return;
    qp_sched& s = m_qps[qpn];
    if (s.st == qstate::waiting && s.fn < m_fns.size()) {
        fn_sched& f = m_fns[s.fn];
        erase_value(f.arrivals, qpn);
        erase_value(f.limited, qpn);
        ready_erase(f.ready, {s.tag, qpn});
    }
    s = qp_sched{};
}

}  // namespace chio::model
