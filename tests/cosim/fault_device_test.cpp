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

// The driver notices a stopped heartbeat only after health_max_misses periods; the scenario
// waits (bounded) on the health monitor when the traffic ends first, so a small count passes.
TEST(FaultDevice, HeartbeatStops) { expect_handled(fault_kind::dev_heartbeat, 8, 16); }

// The same with the stop timed past the traffic's end (after=, microseconds): the device is
// idle when it hangs, and the monitor still declares it lost.
TEST(FaultDevice, HeartbeatStopsWhileIdle) {
    tb::sim_options o;
    o.seed = 9;
    o.count = 16;
    tb::fault_scenario s{"dev.heartbeat", {}};
    s.spec.kind = fault_kind::dev_heartbeat;
    s.spec.after = 2000;
    s.spec.after_set = true;
    test::expect_outcome_handled(tb::run_fault_scenario(s, o));
}

}  // namespace
}  // namespace chio
