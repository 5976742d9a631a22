// What every scenario reports (the --stats fields of docs/overview.md and docs/scenarios.md).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace chio::tb {

struct scenario_result {
    bool ok = false;            // every completion seen once, every byte verified, no error
    std::string error;          // first failure, one line
    uint64_t sends = 0;         // work requests posted (send queue)
    uint32_t message_size = 0;  // bytes per message when the scenario chose it (0: --size)
    uint64_t expected = 0;      // completions expected
    uint64_t seen = 0;
    uint64_t lost = 0;
    uint64_t duplicated = 0;
    uint64_t error_completions = 0;
    uint64_t bytes_verified = 0;
    uint64_t data_mismatches = 0;
    std::map<std::string, uint64_t> per_opcode;  // work requests per opcode
    std::map<std::string, double> figures;       // scenario-specific numbers (latency, ...)
    // Scenario-specific sections merged into the stats JSON at the top level (qos, isolation).
    nlohmann::json sections = nlohmann::json::object();

    // Sets ok from the counts; keeps the first error.
    void finish() {
        lost = expected > seen ? expected - seen : 0;
        ok = error.empty() && lost == 0 && duplicated == 0 && data_mismatches == 0 &&
             error_completions == 0;
    }
    void fail(const std::string& why) {
        if (error.empty()) error = why;
    }
};

// Deterministic message contents: byte k of message i depends only on (seed, i, k).
inline void fill_pattern(uint8_t* p, uint64_t len, uint64_t seed, uint64_t i) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ull ^ (i + 1) * 0xBF58476D1CE4E5B9ull;
    for (uint64_t k = 0; k < len; ++k) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[k] = static_cast<uint8_t>(x);
    }
}

}  // namespace chio::tb
