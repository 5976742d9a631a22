// Lockstep reference + RTL queue engine: see queue_engine_lockstep.h.
#include "tlm-model/queue_engine/queue_engine_lockstep.h"

#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "tlm-model/queue_engine/queue_engine_ref.h"
#include "tlm-model/queue_engine/queue_engine_rtl.h"

namespace chio::model {

namespace {

std::string fields(std::initializer_list<std::pair<const char*, unsigned>> kv) {
    std::ostringstream s;
    bool first = true;
    for (const auto& [k, v] : kv) {
        s << (first ? "" : " ") << k << "=" << v;
        first = false;
    }
    return s.str();
}

template <typename T>
std::string wrap(const char* name, const T& body) {
    return std::string(name) + "{" + body + "}";
}

template <typename T>
std::string list(const std::vector<T>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + to_string(v[i]);
    return s + "]";
}

}  // namespace

std::string to_string(const qe_wq_cfg& c) {
    return wrap("wq_cfg", fields({{"wqid", c.wqid},
                                  {"enable", c.enable},
                                  {"sched", c.sched},
                                  {"owner_fn", c.owner_fn},
                                  {"log_size", c.log_size}}));
}
std::string to_string(const qe_cr_cfg& c) {
    return wrap("cr_cfg", fields({{"crid", c.crid},
                                  {"enable", c.enable},
                                  {"owner_fn", c.owner_fn},
                                  {"log_size", c.log_size},
                                  {"target", c.target}}));
}
std::string to_string(const qe_db& d) {
    return wrap("db", fields({{"fn", d.fn}, {"wqid", d.wqid}, {"pi", d.pi}}));
}
std::string to_string(const qe_deq_req& r) { return wrap("deq_req", fields({{"wqid", r.wqid}})); }
std::string to_string(const qe_deq_resp& r) {
    return wrap("deq_resp", std::string("status=") + spec::qe::to_string(r.status) + " " +
                                fields({{"wqid", r.wqid}, {"index", r.index}}));
}
std::string to_string(const qe_deq_commit& c) {
    return wrap("deq_commit", fields({{"wqid", c.wqid}}));
}
std::string to_string(const qe_cq_req& r) { return wrap("cq_req", fields({{"crid", r.crid}})); }
std::string to_string(const qe_cq_resp& r) {
    return wrap("cq_resp", std::string("status=") + spec::qe::to_string(r.status) + " " +
                               fields({{"crid", r.crid}, {"index", r.index}, {"phase", r.phase}}));
}
std::string to_string(const qe_cq_commit& c) {
    return wrap("cq_commit", fields({{"crid", c.crid}, {"solicited", c.solicited}}));
}
std::string to_string(const qe_arm& a) {
    return wrap("arm", fields({{"fn", a.fn},
                               {"crid", a.crid},
                               {"ci", a.ci},
                               {"arm", a.arm},
                               {"solicited", a.solicited}}));
}
std::string to_string(const qe_work& w) { return wrap("work", fields({{"wqid", w.wqid}})); }
std::string to_string(const qe_event& e) {
    return wrap("event", fields({{"crid", e.crid}, {"target", e.target}}));
}
std::string to_string(const qe_err& e) {
    return wrap("err", std::string("code=") + spec::qe::to_string(e.code) + " " +
                           fields({{"is_cr", e.is_cr}, {"id", e.id}, {"fn", e.fn}}));
}

queue_engine_lockstep::queue_engine_lockstep(const queue_engine_options& opt)
    : m_ref(std::make_unique<queue_engine_ref>()), m_rtl(std::make_unique<queue_engine_rtl>(opt)) {}

void queue_engine_lockstep::fail(const std::string& input, const std::string& what,
                                 const std::string& ref, const std::string& rtl) {
    ++m_mismatches;
    std::ostringstream s;
    s << "queue engine lockstep mismatch at call #" << m_calls << " (" << what << ")\n"
      << "  input: " << input << "\n"
      << "  model: " << ref << "\n"
      << "  rtl:   " << rtl << "\n";
    std::cerr << s.str();
    throw std::runtime_error(s.str());
}

template <typename T>
void queue_engine_lockstep::compare_response(const std::string& input, const T& ref, const T& rtl) {
    ++m_compared;
    if (!(ref == rtl)) fail(input, "response", to_string(ref), to_string(rtl));
}

namespace {
template <typename T, typename Pop>
std::vector<T> drain(Pop pop) {
    std::vector<T> v;
    T x;
    while (pop(x)) v.push_back(x);
    return v;
}
}  // namespace

void queue_engine_lockstep::compare_outputs(const std::string& input) {
    auto check = [&](const char* stream, const auto& ref, const auto& rtl, auto& keep) {
        m_compared += std::max(ref.size(), rtl.size());
        if (ref != rtl) fail(input, std::string(stream) + " stream", list(ref), list(rtl));
        keep.insert(keep.end(), ref.begin(), ref.end());
    };
    check("work", drain<qe_work>([&](qe_work& x) { return m_ref->pop_work(x); }),
          drain<qe_work>([&](qe_work& x) { return m_rtl->pop_work(x); }), m_work);
    check("event", drain<qe_event>([&](qe_event& x) { return m_ref->pop_event(x); }),
          drain<qe_event>([&](qe_event& x) { return m_rtl->pop_event(x); }), m_event);
    check("err", drain<qe_err>([&](qe_err& x) { return m_ref->pop_err(x); }),
          drain<qe_err>([&](qe_err& x) { return m_rtl->pop_err(x); }), m_err);
}

void queue_engine_lockstep::wq_cfg(const qe_wq_cfg& c) {
    ++m_calls;
    m_ref->wq_cfg(c);
    m_rtl->wq_cfg(c);
    compare_outputs(to_string(c));
}

void queue_engine_lockstep::cr_cfg(const qe_cr_cfg& c) {
    ++m_calls;
    m_ref->cr_cfg(c);
    m_rtl->cr_cfg(c);
    compare_outputs(to_string(c));
}

void queue_engine_lockstep::db(const qe_db& d) {
    ++m_calls;
    m_ref->db(d);
    m_rtl->db(d);
    compare_outputs(to_string(d));
}

qe_deq_resp queue_engine_lockstep::deq(const qe_deq_req& r) {
    ++m_calls;
    const qe_deq_resp ref = m_ref->deq(r);
    const qe_deq_resp rtl = m_rtl->deq(r);
    compare_response(to_string(r), ref, rtl);
    compare_outputs(to_string(r));
    return ref;
}

void queue_engine_lockstep::deq_commit(const qe_deq_commit& c) {
    ++m_calls;
    m_ref->deq_commit(c);
    m_rtl->deq_commit(c);
    compare_outputs(to_string(c));
}

qe_cq_resp queue_engine_lockstep::cq(const qe_cq_req& r) {
    ++m_calls;
    const qe_cq_resp ref = m_ref->cq(r);
    const qe_cq_resp rtl = m_rtl->cq(r);
    compare_response(to_string(r), ref, rtl);
    compare_outputs(to_string(r));
    return ref;
}

void queue_engine_lockstep::cq_commit(const qe_cq_commit& c) {
    ++m_calls;
    m_ref->cq_commit(c);
    m_rtl->cq_commit(c);
    compare_outputs(to_string(c));
}

void queue_engine_lockstep::arm(const qe_arm& a) {
    ++m_calls;
    m_ref->arm(a);
    m_rtl->arm(a);
    compare_outputs(to_string(a));
}

namespace {
template <typename T>
bool pop_front(std::deque<T>& q, T& out) {
    if (q.empty()) return false;
    out = q.front();
    q.pop_front();
    return true;
}
}  // namespace

bool queue_engine_lockstep::pop_work(qe_work& w) { return pop_front(m_work, w); }
bool queue_engine_lockstep::pop_event(qe_event& e) { return pop_front(m_event, e); }
bool queue_engine_lockstep::pop_err(qe_err& e) { return pop_front(m_err, e); }

}  // namespace chio::model
