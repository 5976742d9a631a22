// Lost and delayed MSI-X (catalogue H3): the driver's bounded wait times out, the poll after it
// finds the completions; nothing is lost and no recovery beyond the poll is needed.
#include <gtest/gtest.h>

#include "support/fault_check.h"

namespace chio {
namespace {

using cosim::fault_kind;

void expect_handled(fault_kind k, uint64_t seed, uint32_t count = 32) {
    test::expect_fault_handled(k, seed, count);
}

TEST(FaultMsix, Lost) { expect_handled(fault_kind::msix_lost, 4); }

TEST(FaultMsix, Delayed) { expect_handled(fault_kind::msix_delay, 9); }

}  // namespace
}  // namespace chio
