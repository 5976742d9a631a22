// Surprise removal (catalogue H6, I5): reads return all ones, writes vanish, no DMA. The driver
// takes the all-ones status as removal, flushes every outstanding WQE exactly once, refuses
// recovery, and never loops for ever.
#include <gtest/gtest.h>

#include "support/fault_check.h"

namespace chio {
namespace {

using cosim::fault_kind;

void expect_handled(fault_kind k, uint64_t seed, uint32_t count = 32) {
    test::expect_fault_handled(k, seed, count);
}

TEST(FaultRemoval, SurpriseRemoval) { expect_handled(fault_kind::host_removal, 12); }

}  // namespace
}  // namespace chio
