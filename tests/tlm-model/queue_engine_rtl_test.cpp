// The Verilated queue engine's own behavior beyond the seam rules (those are in
// queue_engine_test.cpp): trace file time stamps and set-up errors.
#include "tlm-model/queue_engine/queue_engine_rtl.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace chio::model {
namespace {

constexpr uint8_t FN = 3;

// The RTL trace is a VCD in ps whose time stamps never go back, follow now_ps() when it is ahead,
// and advance by one clock per clock when it is not.
TEST(queue_engine_rtl, vcd_time_follows_clock_and_now) {
    const std::string path = ::testing::TempDir() + "qe_trace_test.vcd";
    uint64_t now = 0;
    {
        queue_engine_options opt;
        opt.trace_file = path;
        opt.clock_ps = 4000;
        opt.now_ps = [&now] { return now; };
        auto e = make_queue_engine(queue_engine_kind::rtl, opt);
        now = 1000000000;  // 1 ms: far ahead of the reset clocks
        e->wq_cfg({1, true, true, FN, 2});
        e->db({FN, 1, 1});
    }
    std::ifstream in(path);
    ASSERT_TRUE(in.good()) << path;
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_NE(text.str().find("$timescale 1ps $end"), std::string::npos);
    std::istringstream lines(text.str());
    std::string line;
    std::vector<uint64_t> stamps;
    while (std::getline(lines, line)) {
        if (line.size() > 1 && line[0] == '#') stamps.push_back(std::stoull(line.substr(1)));
    }
    // Power-on reset and RAM clearing are not traced: the first traced clock is at the model's
    // time, and the clocks of one batch follow it one clock_ps apart.
    ASSERT_GE(stamps.size(), 4u);
    EXPECT_EQ(stamps[0], now);
    for (size_t i = 1; i < stamps.size(); ++i) EXPECT_GT(stamps[i], stamps[i - 1]);
    EXPECT_EQ(stamps[2] - stamps[0], 4000u);
    std::remove(path.c_str());
}

// A trace file that cannot be created is a set-up error naming the file, not a crash.
TEST(queue_engine_rtl, unwritable_trace_file_is_reported) {
    queue_engine_options opt;
    opt.trace_file = "/nonexistent-dir/qe.vcd";
    try {
        queue_engine_rtl e(opt);
        FAIL() << "expected an exception";
    } catch (const std::runtime_error& ex) {
        EXPECT_NE(std::string(ex.what()).find(opt.trace_file), std::string::npos) << ex.what();
    }
}

// Engines are independent: each has its own Verilator context and state, and one outlives
// another in any order (Verilator 5.006 hung at exit when the current context was stale).
TEST(queue_engine_rtl, two_engines_do_not_share_state) {
    queue_engine_rtl a;
    {
        queue_engine_rtl b;
        a.wq_cfg({1, true, false, FN, 2});
        a.db({FN, 1, 2});
        EXPECT_EQ(a.deq({1}).status, spec::qe::status::OK);
        EXPECT_EQ(b.deq({1}).status, spec::qe::status::DISABLED);
    }
    EXPECT_EQ(a.deq({1}).status, spec::qe::status::OK);
    auto c = std::make_unique<queue_engine_rtl>();
    EXPECT_EQ(c->deq({1}).status, spec::qe::status::DISABLED);
    EXPECT_GT(a.cycles(), 0u);
}

}  // namespace
}  // namespace chio::model
