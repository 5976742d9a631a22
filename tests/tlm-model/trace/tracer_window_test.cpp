// Cheap recording: time window, scope filter and triggered capture, checked by reading the
// written VCD back (tests/support/vcd_signals.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/vcd_signals.h"
#include "tlm-model/trace/tracer.h"

namespace chio::model {
namespace {

namespace fs = std::filesystem;
using test::changes;

fs::path test_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    fs::path dir = fs::path(CHIO_BINARY_DIR) / "test-out" / "trace-window" / info->name();
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// A counter that steps every 100 ps from 100 to 1000 (values 1..10), and a bit that rises at 450.
void record_ramp(tracer& t) {
    auto n = t.add("host0.adapter0.cqe", "count", 32);
    auto b = t.add("host0.adapter0.pf0.doorbell", "valid", 1);
    for (uint64_t i = 1; i <= 10; ++i) {
        if (i == 5) t.set(b, 1, 450);
        t.set(n, i, i * 100);
    }
}

TEST(tracer_window, keeps_changes_in_the_window_and_the_values_current_at_its_start) {
    const fs::path out = test_dir() / "run.vcd";
    {
        tracer_options o;
        o.from_ps = 350;
        o.to_ps = 700;
        tracer t(out.string(), o);
        record_ramp(t);
    }
    const auto v = test::read_vcd_signals(out.string());
    EXPECT_EQ(v.of("host0.adapter0.cqe.count"),
              (changes{{350, 3}, {400, 4}, {500, 5}, {600, 6}, {700, 7}}));
    EXPECT_EQ(v.of("host0.adapter0.pf0.doorbell.valid"), (changes{{450, 1}}));
    EXPECT_EQ(v.times.front(), 350u);
    EXPECT_EQ(v.times.back(), 700u);
}

TEST(tracer_window, leaves_scopes_the_filter_does_not_keep_out_of_the_file) {
    const fs::path dir = test_dir();
    std::ofstream(dir / "qe.vcd") << "$timescale 1ps $end\n$scope module top $end\n"
                                     "$var wire 1 ! clk_i $end\n$scope module u_arb $end\n"
                                     "$var wire 3 # grant [2:0] $end\n$upscope $end\n"
                                     "$upscope $end\n$enddefinitions $end\n#0\n0!\nb0 #\n"
                                     "#200\n1!\nb10 #\n#300\n0!\n";
    const fs::path out = dir / "run.vcd";
    {
        tracer_options o;
        o.scopes = "*.cqe,*.queue_engine.u_arb";
        tracer t(out.string(), o);
        record_ramp(t);
        t.add_vcd((dir / "qe.vcd").string(), "host0.adapter0.queue_engine");
    }
    const auto v = test::read_vcd_signals(out.string());
    EXPECT_TRUE(v.has("host0.adapter0.cqe.count"));
    EXPECT_FALSE(v.has("host0.adapter0.pf0.doorbell.valid"));
    EXPECT_FALSE(v.has("host0.adapter0.queue_engine.clk_i"));
    EXPECT_EQ(v.of("host0.adapter0.queue_engine.u_arb.grant"), (changes{{0, 0}, {200, 2}}));
    EXPECT_EQ(v.of("host0.adapter0.cqe.count").size(), 10u);
}

TEST(tracer_window, windows_a_merged_vcd_like_its_own_signals) {
    const fs::path dir = test_dir();
    std::ofstream(dir / "qe.vcd") << "$timescale 1ps $end\n$scope module top $end\n"
                                     "$var wire 1 ! clk_i $end\n$upscope $end\n"
                                     "$enddefinitions $end\n#0\n0!\n#200\n1!\n#400\n0!\n"
                                     "#600\n1!\n#800\n0!\n";
    const fs::path out = dir / "run.vcd";
    {
        tracer_options o;
        o.from_ps = 300;
        o.to_ps = 650;
        tracer t(out.string(), o);
        record_ramp(t);
        t.add_vcd((dir / "qe.vcd").string(), "host0.adapter0.queue_engine");
    }
    const auto v = test::read_vcd_signals(out.string());
    EXPECT_EQ(v.of("host0.adapter0.queue_engine.clk_i"), (changes{{300, 1}, {400, 0}, {600, 1}}));
    EXPECT_EQ(v.times.front(), 300u);
}

TEST(tracer_window, triggered_capture_writes_only_the_window_around_the_trigger) {
    const fs::path out = test_dir() / "run.vcd";
    {
        tracer_options o;
        o.triggered = true;
        o.pre_ps = 250;
        o.post_ps = 200;
        tracer t(out.string(), o);
        auto n = t.add("host0.adapter0.cqe", "count", 32);
        auto err = t.add("host0.adapter0.cqe", "status", 8);
        for (uint64_t i = 1; i <= 20; ++i) {
            t.set(n, i, i * 100);
            if (i == 12) {
                t.set(err, 5, 1200);
                t.trigger(1200, "error completion");
                t.trigger(1300, "second error");  // only the first counts
            }
        }
        EXPECT_TRUE(t.triggered());
        EXPECT_EQ(t.trigger_reason(), "error completion");
        EXPECT_EQ(t.window_from_ps(), 950u);
        EXPECT_EQ(t.window_to_ps(), 1400u);
    }
    const auto v = test::read_vcd_signals(out.string());
    // Value at the window start (9, set at 900), the ring's changes, then the post-trigger span.
    EXPECT_EQ(v.of("host0.adapter0.cqe.count"),
              (changes{{950, 9}, {1000, 10}, {1100, 11}, {1200, 12}, {1300, 13}, {1400, 14}}));
    EXPECT_EQ(v.of("host0.adapter0.cqe.status"), (changes{{1200, 5}}));
}

TEST(tracer_window, a_full_ring_shortens_the_pre_trigger_span_instead_of_growing) {
    const fs::path out = test_dir() / "run.vcd";
    {
        tracer_options o;
        o.triggered = true;
        o.pre_ps = 1'000'000;
        o.post_ps = 0;
        o.ring_entries = 4;
        tracer t(out.string(), o);
        auto n = t.add("host0.adapter0.cqe", "count", 32);
        for (uint64_t i = 1; i <= 10; ++i) t.set(n, i, i * 100);
        t.trigger(1000, "invariant");
    }
    const auto v = test::read_vcd_signals(out.string());
    // Four changes held (700..1000); 6 was folded into the base at 600.
    EXPECT_EQ(v.of("host0.adapter0.cqe.count"),
              (changes{{600, 6}, {700, 7}, {800, 8}, {900, 9}, {1000, 10}}));
}

TEST(tracer_window, a_trigger_that_never_fires_leaves_declarations_only) {
    const fs::path out = test_dir() / "run.vcd";
    {
        tracer_options o;
        o.triggered = true;
        tracer t(out.string(), o);
        record_ramp(t);
        EXPECT_FALSE(t.triggered());
    }
    const auto v = test::read_vcd_signals(out.string());
    EXPECT_TRUE(v.has("host0.adapter0.cqe.count"));
    EXPECT_TRUE(v.times.empty());
}

TEST(tracer_window, rejects_a_window_that_ends_before_it_starts) {
    tracer_options o;
    o.from_ps = 10;
    o.to_ps = 5;
    EXPECT_THROW(tracer((test_dir() / "run.vcd").string(), o), std::invalid_argument);
    o = {};
    o.scopes = "a,,b";
    EXPECT_THROW(tracer((test_dir() / "run.vcd").string(), o), std::invalid_argument);
}

}  // namespace
}  // namespace chio::model
