// Verified RC traffic between two functions for the isolation scenario: `count` work requests, a
// seeded mix of SENDs and RDMA WRITEs of 1..size bytes, `depth` in flight. Every completion is
// recorded per CQ in order (wr_id, status, opcode, length) and digested; every byte that arrived
// is compared with what was sent. The digests depend only on the seed and the options, so a run
// under attack can be compared with a run without.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "testbenches/scenarios/rc_pair.h"

namespace chio::tb {

class victim_traffic {
public:
    struct report {
        uint64_t expected = 0, seen = 0, lost = 0, duplicated = 0, errors = 0;
        uint64_t bytes_verified = 0, data_mismatches = 0;
        uint64_t completion_digest = 0, data_digest = 0;
    };

    // pair: connected, side a on the victim, side b on its peer; buffers of count * size bytes.
    victim_traffic(rc_pair& pair, uint64_t count, uint32_t size, uint32_t depth, uint64_t seed);

    // Posts no request numbered at or above n (n > count acts as count); default: count.
    void set_budget(uint64_t n) { m_budget = n < m_count ? n : m_count; }
    // Posts while fewer than depth are in flight and polls both CQs once.
    void step();
    bool done() const;
    // After done() (or giving up): the accounting and the byte-for-byte check.
    report finish() const;
    uint64_t error_completions() const { return m_errors; }

private:
    struct completion {
        uint64_t wr_id;
        uint8_t status, opcode;
        uint32_t len;
    };
    bool is_send(uint64_t i) const { return m_send[i] != 0; }
    void poll(drv::completion_queue& cq, std::vector<completion>& log, std::vector<uint8_t>& seen);

    rc_pair& m_pair;
    uint64_t m_count;
    uint32_t m_size, m_depth;
    uint64_t m_seed;
    std::vector<uint8_t> m_send;  // per request: 1 SEND, 0 RDMA WRITE
    std::vector<uint32_t> m_len;
    uint64_t m_posted = 0, m_sends_posted = 0, m_budget = 0;
    std::vector<completion> m_scq_log, m_rcq_log;
    std::vector<uint8_t> m_scq_seen, m_rcq_seen;  // per wr_id: completions seen
    uint64_t m_errors = 0, m_duplicates = 0;
};

}  // namespace chio::tb
