// PCIe faults on the adapter's DMA (catalogue G1-G5): UR and CA on reads and writes, poisoned
// completions and completion timeouts during live traffic. A failed read ends its WQE with an
// error completion and the QP in ERR; a failed CQE write makes the CQ unusable and the driver
// resets the device; either way every WR completes exactly once.
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

TEST(FaultPcie, UrOnRead) { expect_handled(fault_kind::pcie_ur_read, 3); }

TEST(FaultPcie, UrOnWrite) { expect_handled(fault_kind::pcie_ur_write, 2); }

TEST(FaultPcie, CaOnRead) { expect_handled(fault_kind::pcie_ca_read, 5); }

TEST(FaultPcie, CaOnWrite) { expect_handled(fault_kind::pcie_ca_write, 19); }

TEST(FaultPcie, PoisonedCompletion) { expect_handled(fault_kind::pcie_poison, 7); }

TEST(FaultPcie, CompletionTimeout) { expect_handled(fault_kind::pcie_timeout, 11); }

}  // namespace
}  // namespace chio
