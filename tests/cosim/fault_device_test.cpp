// Device faults (catalogue H1, H2): an engine fatal error with a syndrome, and a firmware hang
// that stops the heartbeat. The driver's health check detects each, flushes every outstanding
// WQE exactly once, resets the device and runs traffic on new resources.
#include <gtest/gtest.h>

#include "support/fault_check.h"

namespace chio {
namespace {

using cosim::fault_kind;

void expect_handled(fault_kind k, uint64_t seed, uint32_t count = 32) {
    test::expect_fault_handled(k, seed, count);
}

TEST(FaultDevice, FatalWithSyndrome) { expect_handled(fault_kind::dev_fatal, 6); }

// The driver notices a stopped heartbeat only after health_max_misses periods, so the traffic
// must outlast that: with 32 WRs the pipelined send path finishes first and nothing is in flight
// to flush (the scenario then reports no error completion; a known limit of the scenario).
TEST(FaultDevice, HeartbeatStops) { expect_handled(fault_kind::dev_heartbeat, 8, 128); }

}  // namespace
}  // namespace chio
