// chio-sim's option parsing: times with units, and recording options that cannot hold.
#include "testbenches/scenarios/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chio::tb {
namespace {

TEST(options, parses_times_with_units_exactly) {
    uint64_t ps = 0;
    ASSERT_TRUE(parse_time_ps("10us", ps));
    EXPECT_EQ(ps, 10000000u);
    ASSERT_TRUE(parse_time_ps("2500ns", ps));
    EXPECT_EQ(ps, 2500000u);
    ASSERT_TRUE(parse_time_ps("1.5ms", ps));
    EXPECT_EQ(ps, 1500000000u);
    ASSERT_TRUE(parse_time_ps("23.797655us", ps));
    EXPECT_EQ(ps, 23797655u);
    ASSERT_TRUE(parse_time_ps("300ps", ps));
    EXPECT_EQ(ps, 300u);
    ASSERT_TRUE(parse_time_ps("42", ps));  // bare: picoseconds
    EXPECT_EQ(ps, 42u);
    ASSERT_TRUE(parse_time_ps("2s", ps));
    EXPECT_EQ(ps, 2000000000000u);
    ASSERT_TRUE(parse_time_ps("1.123456789012s", ps));
    EXPECT_EQ(ps, 1123456789012u);
    ASSERT_TRUE(parse_time_ps("1.0000000000009s", ps));  // below a picosecond: dropped
    EXPECT_EQ(ps, 1000000000000u);
    for (const char* bad :
         {"", "us", "10 us", "10xs", "-5us", ".5us", "5.us", "1.2.3ns", "99999999999999999999s"}) {
        EXPECT_FALSE(parse_time_ps(bad, ps)) << bad;
    }
}

TEST(options, takes_the_recording_options) {
    sim_options o;
    std::string err;
    ASSERT_TRUE(parse_options({"loopback", "--trace", "x.fst", "--trace-from", "10us",
                               "--trace-to=20us", "--trace-scope", "*.cqe", "--spans", "s.json"},
                              o, err))
        << err;
    EXPECT_EQ(o.trace_from_ps, 10000000u);
    EXPECT_EQ(o.trace_to_ps, 20000000u);
    EXPECT_EQ(o.trace_scope, "*.cqe");
    EXPECT_EQ(o.spans, "s.json");
    o = {};
    ASSERT_TRUE(
        parse_options({"loopback", "--trace", "x.fst", "--trace-trigger", "error", "--trace-pre",
                       "2us", "--trace-post", "1us", "--count", "10", "--inject-error", "9"},
                      o, err))
        << err;
    EXPECT_TRUE(o.trace_trigger);
    EXPECT_EQ(o.trace_pre_ps, 2000000u);
    EXPECT_EQ(o.trace_post_ps, 1000000u);
    EXPECT_EQ(o.inject_error, 9u);
}

TEST(options, refuses_recording_options_that_cannot_hold_naming_the_option) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"loopback", "--trace", "x.vcd", "--trace-from", "20us", "--trace-to", "10us"},
         "--trace-to"},
        {{"loopback", "--trace", "x.vcd", "--trace-trigger", "error", "--trace-from", "1us"},
         "--trace-trigger"},
        {{"loopback", "--trace-scope", "*.cqe"}, "--trace-scope"},
        {{"loopback", "--size", "1", "--inject-error", "0"}, "--inject-error"},
        {{"loopback", "--spans", ""}, "--spans"},
    };
    for (const auto& [args, option] : cases) {
        sim_options o;
        std::string err;
        EXPECT_FALSE(parse_options(args, o, err)) << option;
        EXPECT_NE(err.find(option), std::string::npos) << err;
        EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    }
}

TEST(options, takes_the_virtualization_scenario_options_and_names_bad_values) {
    sim_options o;
    std::string err;
    ASSERT_TRUE(parse_options(
        {"qos", "--weights", "3,1,65535", "--cap-gbps", "2.5", "--phase", "2ms", "--size", "4096"},
        o, err))
        << err;
    EXPECT_EQ(o.weights, (std::vector<uint32_t>{3, 1, 65535}));
    EXPECT_DOUBLE_EQ(o.cap_gbps, 2.5);
    EXPECT_EQ(o.phase_ns, 2'000'000u);
    EXPECT_TRUE(o.size_given);
    EXPECT_FALSE(o.depth_given);
    sim_options iso;
    ASSERT_TRUE(parse_options({"isolation", "--no-attacker"}, iso, err)) << err;
    EXPECT_FALSE(iso.attacker);
    const struct {
        std::vector<std::string> args;
        const char* names;
    } bad[] = {
        {{"qos", "--weights", "1,0"}, "option --weights: '1,0'"},
        {{"qos", "--weights", "1,,2"}, "option --weights: '1,,2'"},
        {{"qos", "--weights", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"}, "option --weights"},
        {{"qos", "--weights", "65536"}, "option --weights: '65536'"},
        {{"qos", "--cap-gbps", "0"}, "option --cap-gbps: '0'"},
        {{"qos", "--cap-gbps", "100.5"}, "option --cap-gbps: '100.5'"},
        {{"qos", "--phase", "100us"}, "option --phase: '100us'"},
    };
    for (const auto& b : bad) {
        sim_options x;
        EXPECT_FALSE(parse_options(b.args, x, err)) << b.names;
        EXPECT_EQ(err.rfind(b.names, 0), 0u) << err;
    }
}

TEST(options, takes_repeated_faults_in_order_and_names_a_bad_one) {
    sim_options o;
    std::string err;
    ASSERT_TRUE(parse_options({"rdma", "--fault", "link.loss:p=0.02", "--fault=dev.fatal:after=30",
                               "--fault", "host.flr:fn=2"},
                              o, err))
        << err;
    ASSERT_EQ(o.faults.size(), 3u);
    EXPECT_EQ(o.faults[0].kind, cosim::fault_kind::link_loss);
    EXPECT_DOUBLE_EQ(o.faults[0].p, 0.02);
    EXPECT_EQ(o.faults[1].kind, cosim::fault_kind::dev_fatal);
    EXPECT_EQ(o.faults[1].after, 30u);
    EXPECT_EQ(o.faults[2].fn, 2u);
    sim_options bad;
    EXPECT_FALSE(parse_options({"rdma", "--fault", "dev.fatal:after=x"}, bad, err));
    EXPECT_NE(err.find("option --fault: fault dev.fatal: bad value in 'after=x'"),
              std::string::npos)
        << err;
    sim_options bad_file;
    EXPECT_FALSE(parse_options({"rdma", "--fault-config", "/nonexistent.json"}, bad_file, err));
    EXPECT_NE(err.find("option --fault-config: /nonexistent.json: cannot read"), std::string::npos)
        << err;
}

}  // namespace
}  // namespace chio::tb

namespace chio::tb {
namespace {

TEST(options, scoreboard_is_on_unless_no_scoreboard_is_given) {
    sim_options on, off;
    std::string err;
    ASSERT_TRUE(parse_options({"loopback"}, on, err)) << err;
    EXPECT_TRUE(on.scoreboard);
    ASSERT_TRUE(parse_options({"loopback", "--no-scoreboard"}, off, err)) << err;
    EXPECT_FALSE(off.scoreboard);
}

}  // namespace
}  // namespace chio::tb
