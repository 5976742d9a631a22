// Receive WQE fetch for the responder (SEND, RDMA WRITE with immediate). A QP's own receive
// queue is read ahead (qp_engine_timing::recv_wqes_per_fetch), as adapters cache receive WQEs,
// so a stream of messages does not wait out one descriptor read per message; docs/performance.md
// "Receive WQE read-ahead" states the rules and what they cost.
#include <algorithm>

#include "tlm-model/adapter/qp_engine.h"

namespace chio::model {

bool qp_engine::fetch_recv_wqe(uint32_t qpn, const qp_ctx& q, uint16_t wqid, uint16_t index,
                               spec::recv_wqe& out, sc_core::sc_time& delay) {
    responder_state& s = tp(qpn).resp;
    delay = sc_core::SC_ZERO_TIME;
    uint64_t base = q.rq_addr;
    uint8_t log = q.rq_log_size;
    if (q.srqn >= 0) {
        const srq_ctx* sq = m_core.ctx.srq(static_cast<uint32_t>(q.srqn));
        base = sq != nullptr ? sq->ring : 0;
        log = sq != nullptr ? sq->log_size : 0;
    }
    const uint16_t fn = q.fn;
    const uint32_t size = 1u << log;
    auto addr_of = [&](uint16_t i) {
        return base + uint64_t{i & (size - 1u)} * sizeof(spec::recv_wqe);
    };
    const uint32_t per_fetch = std::max(m_t.recv_wqes_per_fetch, 1u);
    // A shared receive queue's WQEs go to whichever of its QPs a message reaches first, so no QP
    // may hold copies of them: each is read when its message arrives, as with one per fetch.
    if (q.srqn >= 0 || per_fetch == 1 || !m_core.posted_pi) {
        s.rq_ahead.clear();
        ++m_core.counters.recv_wqe_reads;
        return m_core.dma->read(fn, addr_of(index), &out, sizeof(out));
    }
    // How many WQEs one read from `from` may bring: posted ones only (below the accepted producer
    // index: the driver may still be writing the others), at most `want`, and none past the
    // ring's end (one contiguous read).
    auto batch = [&](uint16_t from, uint32_t want) -> uint32_t {
        const uint32_t posted = static_cast<uint16_t>(m_core.posted_pi(wqid) - from);
        if (posted == 0 || posted > size) return 0;
        return std::min({want, posted, size - (from & (size - 1u))});
    };
    // One read of n WQEs from `from`, appended as copies; refused, one failed copy for `from`.
    // Under fault injection the read may wait, and a QP reset meanwhile starts a new run.
    auto read_ahead = [&](uint16_t from, uint32_t n) {
        ++m_core.counters.recv_wqe_reads;
        std::vector<spec::recv_wqe> got(n);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        const uint64_t run = s.rq_ahead_run;
        const bool ok =
            m_core.dma->read_at(fn, addr_of(from), got.data(), n * sizeof(spec::recv_wqe), d);
        if (s.rq_ahead_run != run) return;
        const sc_core::sc_time at = sc_core::sc_time_stamp() + d;
        if (!ok) {
            s.rq_ahead.push_back({spec::recv_wqe{}, at, false});
            return;
        }
        for (const spec::recv_wqe& w : got) s.rq_ahead.push_back({w, at, true});
    };
    if (s.rq_ahead.empty() || s.rq_ahead_first != index) {
        // No copy for it (the first message, or copies run out): this WQE's own read, which
        // brings the posted WQEs after it.
        s.rq_ahead.clear();
        s.rq_ahead_run = ++m_rq_ahead_runs;
        s.rq_ahead_first = index;
        read_ahead(index, std::max(batch(index, per_fetch), 1u));
        if (s.rq_ahead.empty()) return false;  // the QP was reset while the read waited
    }
    const responder_state::recv_copy c = s.rq_ahead.front();
    s.rq_ahead.erase(s.rq_ahead.begin());
    ++s.rq_ahead_first;
    out = c.wqe;
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    delay = c.at > now ? c.at - now : sc_core::SC_ZERO_TIME;
    if (!c.ok) return false;  // the WQEs after it are read again on their turns
    // Half the copies are taken: the next posted WQEs are read now, so that read overlaps the
    // messages still covered by copies.
    if (s.rq_ahead.size() <= per_fetch / 2 && (s.rq_ahead.empty() || s.rq_ahead.back().ok)) {
        const auto next = static_cast<uint16_t>(s.rq_ahead_first + s.rq_ahead.size());
        const uint32_t n = batch(next, per_fetch - static_cast<uint32_t>(s.rq_ahead.size()));
        if (n > 0) read_ahead(next, n);
    }
    return true;
}

}  // namespace chio::model
