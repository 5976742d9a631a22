#include "testbenches/scenarios/victim_traffic.h"

#include <cstring>

#include "testbenches/scenarios/result.h"

namespace chio::tb {

namespace {

// FNV-1a over the bytes of v, chained.
uint64_t fnv(uint64_t h, const void* v, size_t n) {
    const auto* p = static_cast<const uint8_t*>(v);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

}  // namespace

victim_traffic::victim_traffic(rc_pair& pair, uint64_t count, uint32_t size, uint32_t depth,
                               uint64_t seed)
    : m_pair(pair),
      m_count(count),
      m_size(size),
      m_depth(depth),
      m_seed(seed),
      m_send(count),
      m_len(count),
      m_scq_seen(count),
      m_rcq_seen(count) {
    m_budget = count;
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<uint32_t> len(1, size);
    for (uint64_t i = 0; i < count; ++i) {
        m_send[i] = static_cast<uint8_t>(rng() & 1);
        m_len[i] = len(rng);
        fill_pattern(m_pair.a.cpu() + i * size, m_len[i], seed, i);
    }
}

void victim_traffic::step() {
    while (m_posted < m_budget && m_posted - m_scq_log.size() < m_depth) {
        const uint64_t i = m_posted;
        drv::send_wr w;
        w.wr_id = i;
        w.sg_list[0] = {m_pair.a.addr(i * m_size), m_len[i], m_pair.a.lkey};
        w.num_sge = 1;
        if (is_send(i)) {
            // The receive for this SEND first (RC consumes receives in order): wr_id = the
            // request's number, so a completion names the message it carried.
            drv::recv_wr r;
            r.wr_id = i;
            r.sg_list[0] = {m_pair.b.addr(i * m_size), m_size, m_pair.b.lkey};
            r.num_sge = 1;
            if (m_pair.b.qp->post_recv(r) != 0) break;
            ++m_sends_posted;
            w.opcode = spec::wqe_opcode::SEND;
        } else {
            w.opcode = spec::wqe_opcode::RDMA_WRITE;
            w.remote_addr = m_pair.b.addr(i * m_size);
            w.rkey = m_pair.b.rkey;
        }
        if (m_pair.a.qp->post_send(w) != 0) break;
        ++m_posted;
    }
    poll(*m_pair.a.scq, m_scq_log, m_scq_seen);
    poll(*m_pair.b.rcq, m_rcq_log, m_rcq_seen);
}

void victim_traffic::poll(drv::completion_queue& cq, std::vector<completion>& log,
                          std::vector<uint8_t>& seen) {
    spec::cqe wc[16];
    const int n = cq.poll(wc, 16);
    for (int k = 0; k < n; ++k) {
        const uint64_t id = wc[k].wr_id;
        if (wc[k].status != static_cast<uint8_t>(spec::cqe_status::SUCCESS)) ++m_errors;
        if (id < m_count && seen[id]++ != 0) ++m_duplicates;
        log.push_back({id, wc[k].status, wc[k].opcode, wc[k].byte_len});
    }
}

bool victim_traffic::done() const {
    return m_scq_log.size() >= m_count && m_rcq_log.size() >= m_sends_posted && m_posted == m_count;
}

victim_traffic::report victim_traffic::finish() const {
    report r;
    r.expected = m_count + m_sends_posted;
    r.seen = m_scq_log.size() + m_rcq_log.size() - m_duplicates;
    for (uint64_t i = 0; i < m_count; ++i) {
        if (m_scq_seen[i] == 0) ++r.lost;
        if (is_send(i) && m_rcq_seen[i] == 0) ++r.lost;
    }
    r.duplicated = m_duplicates;
    r.errors = m_errors;
    uint64_t h = 0xCBF29CE484222325ull;
    for (const auto* log : {&m_scq_log, &m_rcq_log}) {
        for (const completion& c : *log) {
            h = fnv(h, &c.wr_id, sizeof c.wr_id);
            h = fnv(h, &c.status, 1);
            h = fnv(h, &c.opcode, 1);
            h = fnv(h, &c.len, sizeof c.len);
        }
        h = fnv(h, "|", 1);
    }
    r.completion_digest = h;
    std::vector<uint8_t> want(m_size);
    uint64_t d = 0xCBF29CE484222325ull;
    for (uint64_t i = 0; i < m_count; ++i) {
        fill_pattern(want.data(), m_len[i], m_seed, i);
        const uint8_t* got = m_pair.b.cpu() + i * m_size;
        if (std::memcmp(want.data(), got, m_len[i]) != 0) ++r.data_mismatches;
        r.bytes_verified += m_len[i];
        d = fnv(d, got, m_len[i]);
    }
    r.data_digest = d;
    return r;
}

}  // namespace chio::tb
