// VF FLR during traffic (catalogue H7) in the fault scenario: the reset VF's driver sees the
// function reset, completes every outstanding WR once (flushed), re-initialises and carries
// traffic again; the bystander VFs' flow completes with zero errors (the scenario fails
// otherwise).
#include <gtest/gtest.h>

#include "support/fault_check.h"

namespace chio {
namespace {

using cosim::fault_kind;

TEST(FaultFlr, VfResetDuringTrafficFlushesOnceAndReinits) {
    test::expect_fault_handled(fault_kind::host_flr, 31);
}

// Another VF, reset at a set time (microseconds into the traffic).
TEST(FaultFlr, ThirdVfResetAtAGivenTime) {
    tb::sim_options o;
    o.seed = 32;
    o.count = 64;
    tb::fault_scenario s{"host.flr", {}};
    s.spec.kind = fault_kind::host_flr;
    s.spec.fn = 3;
    s.spec.after = 20;
    s.spec.after_set = true;
    const tb::fault_outcome r = tb::run_fault_scenario(s, o);
    test::expect_outcome_handled(r);
    EXPECT_NE(std::string(r.note).find("function_reset"), std::string::npos) << r.note;
}

}  // namespace
}  // namespace chio
