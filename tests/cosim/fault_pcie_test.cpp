// PCIe faults on the adapter's DMA (catalogue G1-G5): UR and CA on reads and writes, poisoned
// completions and completion timeouts during live traffic. A failed read ends its WQE with an
// error completion and the QP in ERR; a failed CQE write makes the CQ unusable and the driver
// resets the device; either way every WR completes exactly once.
#include <gtest/gtest.h>

#include "support/fault_check.h"

namespace chio {
namespace {

using cosim::fault_kind;

void expect_handled(fault_kind k, uint64_t seed, uint32_t count = 32) {
    test::expect_fault_handled(k, seed, count);
}

TEST(FaultPcie, UrOnRead) { expect_handled(fault_kind::pcie_ur_read, 3); }

TEST(FaultPcie, UrOnWrite) { expect_handled(fault_kind::pcie_ur_write, 2); }

TEST(FaultPcie, CaOnRead) { expect_handled(fault_kind::pcie_ca_read, 5); }

TEST(FaultPcie, CaOnWrite) { expect_handled(fault_kind::pcie_ca_write, 19); }

TEST(FaultPcie, PoisonedCompletion) { expect_handled(fault_kind::pcie_poison, 7); }

TEST(FaultPcie, CompletionTimeout) { expect_handled(fault_kind::pcie_timeout, 11); }

}  // namespace
}  // namespace chio
