// Exactly-once bookkeeping for work requests: every test registers the wr_ids it posts per QP
// and queue, and hands every CQE it polls to record(). The tracker reports a completion for
// nothing posted, a second completion of the same request, and a completion that overtakes an
// earlier request of the same queue (IBA 10.8: a work queue completes in posting order; every
// request here is signaled, so none may be skipped). missing() lists what never completed.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "chio/spec/spec.h"

namespace chio::test {

class wr_tracker {
public:
    enum class queue : uint8_t { send, recv };

    // A queue: a QP's send or receive queue, or (for receives through a shared receive queue)
    // the SRQ, keyed by srq_key(). Completions of a shared queue are checked for loss and
    // duplicates but not for order: QPs take SRQ entries in ring order, yet finish them in
    // their own order.
    struct key {
        uint32_t id = 0;
        queue q = queue::send;
        bool operator<(const key& o) const { return id != o.id ? id < o.id : q < o.q; }
    };
    static uint32_t srq_key(uint32_t srqn) { return 0x80000000u | srqn; }

    // Receives of QP qpn come from the SRQ registered under srq_key(srqn).
    void use_srq(uint32_t qpn, uint32_t srqn) { m_srq_of[qpn] = srq_key(srqn); }

    void posted(uint32_t qpn, queue q, uint64_t wr_id) {
        m_queues[{qpn, q}].pending.push_back(wr_id);
        ++m_posted;
    }
    void posted_srq(uint32_t srqn, uint64_t wr_id) {
        m_queues[{srq_key(srqn), queue::recv}].pending.push_back(wr_id);
        ++m_posted;
    }

    static bool is_recv(const spec::cqe& c) {
        return c.opcode >= static_cast<uint8_t>(spec::cqe_opcode::RECV);
    }

    void record(const spec::cqe& c) {
        const queue q = is_recv(c) ? queue::recv : queue::send;
        uint32_t id = c.qpn;
        bool ordered = true;
        if (q == queue::recv) {
            auto s = m_srq_of.find(c.qpn);
            if (s != m_srq_of.end()) {
                id = s->second;
                ordered = false;
            }
        }
        const std::string what = std::string(q == queue::send ? "send" : "recv") + " qp " +
                                 std::to_string(c.qpn) + " wr_id " + std::to_string(c.wr_id) +
                                 " status " +
                                 spec::to_string(static_cast<spec::cqe_status>(c.status));
        m_log.push_back({key{id, q}, c});
        auto it = m_queues.find({id, q});
        if (it == m_queues.end()) {
            m_errors.push_back("completion for a queue never posted to: " + what);
            return;
        }
        auto& pend = it->second.pending;
        auto& done = it->second.done;
        for (size_t i = 0; i < pend.size(); ++i) {
            if (pend[i] != c.wr_id) continue;
            if (ordered && i != 0) {
                m_errors.push_back("out of order: " + what + " completed before wr_id " +
                                   std::to_string(pend.front()));
            }
            pend.erase(pend.begin() + static_cast<std::ptrdiff_t>(i));
            done[c.wr_id] = c;
            ++m_completed;
            return;
        }
        m_errors.push_back((done.count(c.wr_id) ? "duplicate completion: " : "never posted: ") +
                           what);
    }

    // Every posted request completed exactly once.
    bool all_done() const { return m_completed == m_posted; }
    uint64_t posted_count() const { return m_posted; }
    uint64_t completed_count() const { return m_completed; }
    const std::vector<std::string>& errors() const { return m_errors; }

    // Requests still waiting for their completion, one line each.
    std::string missing() const {
        std::string s;
        for (const auto& [k, qs] : m_queues) {
            for (uint64_t id : qs.pending) {
                s += std::string(k.q == queue::send ? "send" : "recv") + " queue " +
                     std::to_string(k.id) + " wr_id " + std::to_string(id) + " never completed\n";
            }
        }
        return s;
    }

    // The completion of a request, or nullptr while it has none.
    const spec::cqe* find(uint32_t qpn, queue q, uint64_t wr_id) const {
        uint32_t id = qpn;
        if (q == queue::recv) {
            auto s = m_srq_of.find(qpn);
            if (s != m_srq_of.end()) id = s->second;
        }
        auto it = m_queues.find({id, q});
        if (it == m_queues.end()) return nullptr;
        auto d = it->second.done.find(wr_id);
        return d == it->second.done.end() ? nullptr : &d->second;
    }

    // Every completion in arrival order.
    const std::vector<std::pair<key, spec::cqe>>& log() const { return m_log; }

private:
    struct per_queue {
        std::deque<uint64_t> pending;
        std::map<uint64_t, spec::cqe> done;
    };
    std::map<key, per_queue> m_queues;
    std::map<uint32_t, uint32_t> m_srq_of;
    std::vector<std::string> m_errors;
    std::vector<std::pair<key, spec::cqe>> m_log;
    uint64_t m_posted = 0, m_completed = 0;
};

}  // namespace chio::test
