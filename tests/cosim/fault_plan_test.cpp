// The --fault grammar (cosim/fault_plan.h): every kind parses by name, parameters land in
// their fields, and bad text gets a one-line error naming the field and value.
#include "cosim/fault_plan.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

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

TEST(FaultPlan, ProbabilityHostAndFunctionAreRead) {
    fault_spec f;
    std::string err;
    ASSERT_TRUE(parse_fault("link.loss:p=0.25,host=1", f, err)) << err;
    EXPECT_DOUBLE_EQ(f.p, 0.25);
    EXPECT_TRUE(f.p_set);
    EXPECT_EQ(f.host, 1u);
    ASSERT_TRUE(parse_fault("host.flr:fn=3,after=7", f, err)) << err;
    EXPECT_EQ(f.fn, 3u);
    ASSERT_TRUE(parse_fault("link.down:delay_us=300", f, err)) << err;
    EXPECT_TRUE(f.delay_set);
    EXPECT_FALSE(parse_fault("link.loss:p=1.5", f, err));
    EXPECT_NE(err.find("p=1.5"), std::string::npos) << err;
    EXPECT_FALSE(parse_fault("link.loss:p=nan", f, err));
    EXPECT_FALSE(parse_fault("link.corrupt:p=", f, err));
    EXPECT_FALSE(parse_fault("host.flr:fn=0", f, err));
    EXPECT_NE(err.find("fn=0"), std::string::npos) << err;
    EXPECT_FALSE(parse_fault("host.flr:fn=99", f, err));
}

// The AER frozen channel (catalogue H8): when it hits and how long the channel stays frozen
// before the OS's slot reset.
TEST(FaultPlan, AerFrozenReadsItsTimeAndHold) {
    fault_spec f;
    std::string err;
    ASSERT_TRUE(parse_fault("host.aer_frozen:after=30,delay_us=250", f, err)) << err;
    EXPECT_EQ(f.kind, fault_kind::host_aer_frozen);
    EXPECT_STREQ(to_string(f.kind), "host.aer_frozen");
    EXPECT_EQ(f.after, 30u);
    EXPECT_TRUE(f.after_set);
    EXPECT_EQ(f.delay_us, 250u);
    EXPECT_TRUE(f.delay_set);
    ASSERT_TRUE(parse_fault("host.aer_frozen", f, err)) << err;
    EXPECT_FALSE(f.after_set);
    EXPECT_FALSE(f.delay_set);
    // Bad text: one line naming the kind, the field and the value; nothing half-parsed.
    f.delay_us = 77;
    EXPECT_FALSE(parse_fault("host.aer_frozen:delay_us=soon", f, err));
    EXPECT_EQ(err,
              "fault host.aer_frozen: bad value in 'delay_us=soon' (want key=unsigned 32-bit)");
    EXPECT_EQ(err.find('\n'), std::string::npos);
    EXPECT_FALSE(parse_fault("host.aer_frozen:after=10,hold=5", f, err));
    EXPECT_EQ(err, "fault host.aer_frozen: unknown parameter 'hold'");
    EXPECT_EQ(f.delay_us, 77u);
}

std::string write_temp(const std::string& name, const std::string& text) {
    const std::string path = std::string(CHIO_BINARY_DIR) + "/" + name;
    std::ofstream(path) << text;
    return path;
}

TEST(FaultPlan, ConfigFileReadsStringsAndObjects) {
    const std::string path = write_temp(
        "fault_plan_good.json",
        R"({"faults": ["pcie.ur_read:after=3", {"kind": "link.loss", "p": 0.05, "host": 1}]})");
    std::vector<fault_spec> v;
    std::string err;
    ASSERT_TRUE(load_fault_config(path, v, err)) << err;
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].kind, fault_kind::pcie_ur_read);
    EXPECT_EQ(v[0].after, 3u);
    EXPECT_EQ(v[1].kind, fault_kind::link_loss);
    EXPECT_DOUBLE_EQ(v[1].p, 0.05);
    EXPECT_EQ(v[1].host, 1u);
    std::remove(path.c_str());
}

TEST(FaultPlan, BadConfigFilesNameTheElementAndField) {
    const struct {
        const char* json;
        const char* says;
    } cases[] = {
        {R"({"faults": [{"kind": "dev.fatal", "syndrome": "x"}]})", "faults[0]: field 'syndrome'"},
        {R"({"faults": ["pcie.ur_read", "bogus.kind"]})", "faults[1]: fault: unknown kind"},
        {R"({"faults": [{"after": 3}]})", "faults[0]: want a spec string"},
        {R"({"faults": [{"kind": "link.loss", "p": 2}]})", "p=2"},
        {R"({"faults": {}})", "not an array"},
        {R"({"hosts": 2})", "no \"faults\""},
        {"[1, 2", "not a JSON object"},
    };
    for (const auto& c : cases) {
        const std::string path = write_temp("fault_plan_bad.json", c.json);
        std::vector<fault_spec> v;
        std::string err;
        EXPECT_FALSE(load_fault_config(path, v, err)) << c.json;
        EXPECT_NE(err.find(c.says), std::string::npos) << c.json << " -> " << err;
        EXPECT_TRUE(v.empty());
        std::remove(path.c_str());
    }
    std::vector<fault_spec> v;
    std::string err;
    EXPECT_FALSE(load_fault_config("/nonexistent/faults.json", v, err));
    EXPECT_NE(err.find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace chio::cosim
