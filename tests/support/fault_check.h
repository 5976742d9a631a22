// The check every fault test makes (tests/cosim/fault_*_test.cpp): run one fault scenario (one
// elaboration per process, so one per TEST) and expect the invariants every fault must keep —
// injected and detected, zero lost and zero duplicated completions, and recovery where the
// device is still there, and a scoreboard that checked and found nothing.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "testbenches/scenarios/faults.h"

namespace chio::test {

// Checks one outcome against those invariants.
inline void expect_outcome_handled(const tb::fault_outcome& r) {
    std::printf("  %s\n", r.note);
    EXPECT_GT(r.injected, 0u);
    EXPECT_EQ(r.detected, 1u);
    EXPECT_GT(r.expected, 0u);
    EXPECT_EQ(r.seen, r.expected);
    EXPECT_EQ(r.lost, 0u);
    EXPECT_EQ(r.duplicated, 0u);
    EXPECT_GT(r.checks, 0u);
    EXPECT_EQ(r.violations, 0u) << r.violation;
    if (r.recoverable) {
        EXPECT_EQ(r.recovered, 1u);
    }
    EXPECT_TRUE(tb::fault_passed(r));
}

// name: a default scenario of `chio sim faults` (a kind's name, or e.g. "link.down_long").
// count: work requests of live traffic.
inline void expect_fault_handled(const std::string& name, uint64_t seed, uint32_t count = 32) {
    tb::sim_options o;
    o.seed = seed;
    o.count = count;
    std::printf("fault %s seed %llu\n", name.c_str(), static_cast<unsigned long long>(seed));
    expect_outcome_handled(tb::run_fault_scenario(name, o));
}

inline void expect_fault_handled(cosim::fault_kind k, uint64_t seed, uint32_t count = 32) {
    expect_fault_handled(std::string(cosim::to_string(k)), seed, count);
}

}  // namespace chio::test
