// The --fault grammar (cosim/fault_plan.h): every kind parses by name, parameters land in
// their fields, and bad text gets a one-line error naming the field and value.
#include "cosim/fault_plan.h"

#include <gtest/gtest.h>

namespace chio::cosim {
namespace {

TEST(FaultPlan, EveryKindRoundTrips) {
    for (fault_kind k : all_fault_kinds()) {
        fault_spec f;
        std::string err;
        ASSERT_TRUE(parse_fault(to_string(k), f, err)) << err;
        EXPECT_EQ(f.kind, k);
        EXPECT_FALSE(f.after_set);
    }
}

TEST(FaultPlan, ParametersAreRead) {
    fault_spec f;
    std::string err;
    ASSERT_TRUE(parse_fault("dev.fatal:after=40,count=2,syndrome=0xc", f, err)) << err;
    EXPECT_EQ(f.kind, fault_kind::dev_fatal);
    EXPECT_EQ(f.after, 40u);
    EXPECT_TRUE(f.after_set);
    EXPECT_EQ(f.count, 2u);
    EXPECT_EQ(f.syndrome, 0xcu);
    ASSERT_TRUE(parse_fault("msix.delay:delay_us=75", f, err)) << err;
    EXPECT_EQ(f.delay_us, 75u);
}

TEST(FaultPlan, BadTextNamesTheField) {
    fault_spec f;
    f.after = 99;
    std::string err;
    EXPECT_FALSE(parse_fault("pcie.bogus", f, err));
    EXPECT_NE(err.find("pcie.bogus"), std::string::npos);
    EXPECT_FALSE(parse_fault("pcie.ur_read:after=-1", f, err));
    EXPECT_NE(err.find("after=-1"), std::string::npos);
    EXPECT_FALSE(parse_fault("pcie.ur_read:after=99999999999", f, err));
    EXPECT_FALSE(parse_fault("pcie.ur_read:colour=3", f, err));
    EXPECT_NE(err.find("colour"), std::string::npos);
    EXPECT_FALSE(parse_fault("pcie.ur_read:after", f, err));
    EXPECT_EQ(f.after, 99u);  // nothing half-parsed into the output
}

}  // namespace
}  // namespace chio::cosim
