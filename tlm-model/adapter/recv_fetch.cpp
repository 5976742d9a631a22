// Receive WQE fetch for the responder (SEND, RDMA WRITE with immediate). A QP's receive queue,
// or its SRQ, is read ahead (qp_engine_timing::recv_wqes_per_fetch), as adapters cache receive
// WQEs, so a stream of messages does not wait out one descriptor read per message;
// docs/performance.md "Receive WQE read-ahead" states the rules and what they cost.
#include <algorithm>

#include "tlm-model/adapter/qp_engine.h"

namespace chio::model {

bool qp_engine::fetch_recv_wqe(uint32_t qpn, const qp_ctx& q, uint16_t wqid, uint16_t index,
                               spec::recv_wqe& out, sc_core::sc_time& delay) {
    delay = sc_core::SC_ZERO_TIME;
    recv_read_ahead* ra = &tp(qpn).resp.rq_ahead;
    uint64_t base = q.rq_addr;
    uint8_t log = q.rq_log_size;
    if (q.srqn >= 0) {
        // An SRQ's WQEs go to whichever of its QPs a message reaches first: its copies are the
        // SRQ's, taken in ring order by all of them.
        const srq_ctx* sq = m_core.ctx.srq(static_cast<uint32_t>(q.srqn));
        if (sq == nullptr) return false;
        base = sq->ring;
        log = sq->log_size;
        ra = &m_srq_ahead[static_cast<size_t>(q.srqn)];
        if (ra->srq_incarnation != sq->incarnation) {
            *ra = recv_read_ahead{};
            ra->srq_incarnation = sq->incarnation;
        }
    }
    const uint16_t fn = q.fn;
    const uint32_t size = 1u << log;
    auto addr_of = [&](uint16_t i) {
        return base + uint64_t{i & (size - 1u)} * sizeof(spec::recv_wqe);
    };
    const uint32_t per_fetch = std::max(m_t.recv_wqes_per_fetch, 1u);
    if (per_fetch == 1 || !m_core.posted_pi) {
        ra->copies.clear();
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
    // Under fault injection the read may wait, and a reset of the queue meanwhile starts a new
    // run (the QP's transport state or the SRQ's copies replaced).
    auto read_ahead = [&](uint16_t from, uint32_t n) {
        ++m_core.counters.recv_wqe_reads;
        std::vector<spec::recv_wqe> got(n);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        const uint64_t run = ra->run;
        const bool ok =
            m_core.dma->read_at(fn, addr_of(from), got.data(), n * sizeof(spec::recv_wqe), d);
        if (ra->run != run) return;
        const sc_core::sc_time at = sc_core::sc_time_stamp() + d;
        if (!ok) {
            ra->copies.push_back({spec::recv_wqe{}, at, false});
            return;
        }
        for (const spec::recv_wqe& w : got) ra->copies.push_back({w, at, true});
    };
    if (ra->copies.empty() || ra->first != index) {
        // No copy for it (the first message, or copies run out): this WQE's own read, which
        // brings the posted WQEs after it.
        ra->copies.clear();
        ra->run = ++m_rq_ahead_runs;
        ra->first = index;
        read_ahead(index, std::max(batch(index, per_fetch), 1u));
        if (ra->copies.empty()) return false;  // the queue was reset while the read waited
    }
    const recv_read_ahead::copy c = ra->copies.front();
    ra->copies.erase(ra->copies.begin());
    ++ra->first;
    out = c.wqe;
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    delay = c.at > now ? c.at - now : sc_core::SC_ZERO_TIME;
    if (!c.ok) return false;  // the WQEs after it are read again on their turns
    // Half the copies are taken: the next posted WQEs are read now, so that read overlaps the
    // messages still covered by copies.
    if (ra->copies.size() <= per_fetch / 2 && (ra->copies.empty() || ra->copies.back().ok)) {
        const auto next = static_cast<uint16_t>(ra->first + ra->copies.size());
        const uint32_t n = batch(next, per_fetch - static_cast<uint32_t>(ra->copies.size()));
        if (n > 0) read_ahead(next, n);
    }
    return true;
}

}  // namespace chio::model
