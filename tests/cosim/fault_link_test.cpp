// Link faults (catalogue D7, H5) with live RC traffic between two hosts: frame loss and
// corruption are healed by retransmission (ICRC drops counted); a short outage is ridden out,
// a long one ends in RETRY_EXC_ERR with everything behind it flushed; the driver hears the
// port go down and up; exactly once either way, and new QPs work afterwards.
#include <gtest/gtest.h>

#include "support/fault_check.h"

namespace chio {
namespace {

using cosim::fault_kind;

TEST(FaultLink, LossIsRetransmitted) { test::expect_fault_handled(fault_kind::link_loss, 21); }

TEST(FaultLink, CorruptionIsDroppedByIcrcAndRetransmitted) {
    test::expect_fault_handled(fault_kind::link_corrupt, 22);
}

TEST(FaultLink, ShortOutageRecoversWithoutError) {
    test::expect_fault_handled(fault_kind::link_down, 23);
}

TEST(FaultLink, LongOutageExhaustsRetriesAndFlushes) {
    test::expect_fault_handled("link.down_long", 24);
}

// The outcome says how: the long outage must end in RETRY_EXC_ERR, the short one must not.
TEST(FaultLink, OutageLengthDecidesTheOutcome) {
    tb::sim_options o;
    o.seed = 25;
    o.count = 32;
    tb::fault_scenario s{"link.down", {}};
    s.spec.kind = fault_kind::link_down;
    s.spec.delay_us = 5000;
    s.spec.delay_set = true;
    const tb::fault_outcome r = tb::run_fault_scenario(s, o);
    test::expect_outcome_handled(r);
    EXPECT_NE(std::string(r.note).find("RETRY_EXC_ERR"), std::string::npos) << r.note;
}

}  // namespace
}  // namespace chio
