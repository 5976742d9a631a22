// Surprise removal (catalogue H6, I5): reads return all ones, writes vanish, no DMA. The driver
// takes the all-ones status as removal, flushes every outstanding WQE exactly once, refuses
// recovery, and never loops for ever.
#include <gtest/gtest.h>

#include <cstdio>

#include "testbenches/scenarios/faults.h"

namespace chio {
namespace {

using cosim::fault_kind;

// Runs one fault scenario (one elaboration per process: one per TEST) and checks the
// invariants every fault must keep: injected and detected, zero lost and zero duplicated
// completions, and recovery where the device is still there.
void expect_handled(fault_kind k, uint64_t seed) {
    tb::sim_options o;
    o.seed = seed;
    o.count = 32;
    std::printf("fault %s seed %llu\n", cosim::to_string(k), static_cast<unsigned long long>(seed));
    const tb::fault_outcome r = tb::run_fault_scenario(k, o);
    std::printf("  %s\n", r.note);
    EXPECT_GT(r.injected, 0u);
    EXPECT_EQ(r.detected, 1u);
    EXPECT_GT(r.expected, 0u);
    EXPECT_EQ(r.seen, r.expected);
    EXPECT_EQ(r.lost, 0u);
    EXPECT_EQ(r.duplicated, 0u);
    if (r.recoverable) {
        EXPECT_EQ(r.recovered, 1u);
    }
    EXPECT_TRUE(tb::fault_passed(r));
}

TEST(FaultRemoval, SurpriseRemoval) { expect_handled(fault_kind::host_removal, 12); }

}  // namespace
}  // namespace chio
