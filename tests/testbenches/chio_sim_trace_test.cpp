// chio-sim's recording options end to end: the program is run as a user runs it and the files
// it writes (waveform, save file, stats) are read back. Checks what the files show, not their
// bytes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/vcd_signals.h"

namespace chio::tb {
namespace {

namespace fs = std::filesystem;

const std::string A = "host0.adapter0";
const std::string QE = "host0.adapter0.queue_engine";

fs::path test_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    fs::path dir = fs::path(CHIO_BINARY_DIR) / "test-out" / "chio-sim-trace" / info->name();
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

struct run {
    int status = -1;
    std::string err;  // stderr
};

run chio_sim(const fs::path& dir, const std::string& args) {
    const fs::path sim = fs::path(CHIO_BINARY_DIR) / "testbenches" / "chio-sim";
    const std::string cmd = "cd '" + dir.string() + "' && '" + sim.string() + "' loopback " + args +
                            " >stdout.txt 2>stderr.txt";
    run r;
    const int rc = std::system(cmd.c_str());
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    std::ifstream in(dir / "stderr.txt");
    std::stringstream ss;
    ss << in.rdbuf();
    r.err = ss.str();
    return r;
}

nlohmann::json stats(const fs::path& dir) {
    std::ifstream in(dir / "stats.json");
    return nlohmann::json::parse(in);
}

TEST(chio_sim_trace, triggered_capture_writes_the_window_around_an_injected_error) {
    const fs::path dir = test_dir();
    const run r = chio_sim(dir,
                           "--queue-engine lockstep --count 300 --size 512 --inject-error 250 "
                           "--trace-trigger error --trace-pre 4us --trace-post 2us "
                           "--trace run.vcd --stats stats.json --quiet");
    EXPECT_EQ(r.status, 1) << "the injected error fails the scenario: " << r.err;
    const nlohmann::json j = stats(dir);
    const auto& trig = j.at("trace").at("trigger");
    ASSERT_TRUE(trig.at("fired").get<bool>());
    EXPECT_NE(trig.at("reason").get<std::string>().find("LOC_LEN_ERR"), std::string::npos);
    const auto t_ps = static_cast<uint64_t>(trig.at("time_ns").get<double>() * 1000 + 0.5);
    const auto from = static_cast<uint64_t>(j["trace"]["window_ns"][0].get<double>() * 1000 + 0.5);
    EXPECT_EQ(from, t_ps - 4000000);

    const auto v = test::read_vcd_signals((dir / "run.vcd").string());
    ASSERT_FALSE(v.times.empty());
    EXPECT_EQ(v.times.front(), from) << "values at the window start come first";
    EXPECT_LE(v.times.back(), t_ps + 2000000) << "nothing after the post-trigger span";
    // The error completion itself, with the wr_id of the injected message.
    EXPECT_NE(v.at(A + ".cqe.status", t_ps), 0);
    EXPECT_EQ(v.at(A + ".cqe.wr_id", t_ps), 250);
    // Hundreds of messages ran before the window; the file starts with their count, not at 1.
    EXPECT_GT(v.of(A + ".cqe.count").front().second, 400u);
    // The RTL's signals come from a re-run of the window (the first run did not trace the
    // RTL): it must be the same simulation, so each doorbell the model recorded in the window
    // is taken on the RTL's db stream at once (within a few clocks: the RTL's stamps never go
    // back, so they may trail the model's).
    EXPECT_TRUE(j["trace"]["trigger"]["rtl_rerun"].get<bool>());
    EXPECT_EQ(j["trace"]["trigger"]["rtl_rerun_error"], "");
    EXPECT_GT(v.of(QE + ".clk_i").size(), 10u);
    std::vector<uint64_t> db_takes;
    for (const auto& [t, valid] : v.of(QE + ".db_valid_i")) {
        if (valid == 1) db_takes.push_back(t);
    }
    const auto& doorbells = v.of(A + ".pf0.doorbell.count");
    ASSERT_GT(doorbells.size(), 1u);
    // A take trails its doorbell by up to TAKE_PS, and the window ends at a fixed time after
    // the trigger: a doorbell in the window's last TAKE_PS may have its take cut off by the
    // end. The RTL takes a doorbell when its input is free, at most one per two clocks; in this
    // run the longest trail is 150 ns (a doorbell at 180.040 us taken at 180.191 us; before
    // DMA writes reached host memory at their arrival, the driver's reposts fell elsewhere and
    // every take came within 100 ns).
    constexpr uint64_t TAKE_PS = 250000;
    const auto to = static_cast<uint64_t>(j["trace"]["window_ns"][1].get<double>() * 1000 + 0.5);
    size_t owed = 0;  // doorbells after the first whose take must be in the window
    for (size_t i = 1; i < doorbells.size(); ++i) {
        if (doorbells[i].first + TAKE_PS <= to) ++owed;
    }
    ASSERT_GE(db_takes.size(), owed) << "one db transfer per doorbell after the first";
    ASSERT_LE(db_takes.size(), doorbells.size() - 1) << "no db transfer without a doorbell";
    for (size_t i = 1; i < doorbells.size() && i - 1 < db_takes.size(); ++i) {
        EXPECT_GE(db_takes[i - 1], doorbells[i].first);
        EXPECT_LE(db_takes[i - 1], doorbells[i].first + TAKE_PS) << "doorbell " << i;
    }
    EXPECT_TRUE(fs::exists(dir / "run.gtkw"));
}

TEST(chio_sim_trace, a_time_window_keeps_only_its_changes) {
    const fs::path dir = test_dir();
    const run r = chio_sim(dir,
                           "--queue-engine rtl --count 20 --trace-from 34us --trace-to 44us "
                           "--trace run.vcd --stats stats.json --quiet");
    ASSERT_EQ(r.status, 0) << r.err;
    const auto v = test::read_vcd_signals((dir / "run.vcd").string());
    ASSERT_FALSE(v.times.empty());
    // The first doorbell rings at 33.50 us (after bring-up), so the window opens on traffic.
    EXPECT_EQ(v.times.front(), 34000000u);
    EXPECT_LE(v.times.back(), 44000000u);
    EXPECT_GT(v.at(A + ".pf0.doorbell.count", 34000000), 0) << "state at the start is shown";
}

TEST(chio_sim_trace, a_scope_filter_leaves_out_other_scopes_and_the_rtl_trace) {
    const fs::path dir = test_dir();
    // A pattern starting with a wildcard could match inside the RTL: it is recorded, then
    // filtered when merged.
    run r = chio_sim(dir,
                     "--queue-engine rtl --count 10 --trace-scope '*.cqe' "
                     "--trace run.vcd --stats stats.json --quiet");
    ASSERT_EQ(r.status, 0) << r.err;
    auto v = test::read_vcd_signals((dir / "run.vcd").string());
    for (const auto& [name, width] : v.widths) {
        EXPECT_EQ(name.rfind(A + ".cqe.", 0), 0u) << name;
    }
    EXPECT_EQ(v.of(A + ".cqe.count").back().second, 20u);
    // A pattern that rules the RTL's scope out spares recording it at all.
    r = chio_sim(dir,
                 "--queue-engine rtl --count 10 --trace-scope host0.adapter0.cqe "
                 "--trace run.vcd --stats stats.json --quiet");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_FALSE(stats(dir).at("trace").at("rtl_traced").get<bool>());
    v = test::read_vcd_signals((dir / "run.vcd").string());
    EXPECT_EQ(v.of(A + ".cqe.count").back().second, 20u);
    EXPECT_FALSE(v.has(QE + ".clk_i"));
}

TEST(chio_sim_trace, bad_recording_options_get_one_line_naming_option_and_value) {
    const fs::path dir = test_dir();
    struct bad {
        const char* args;
        const char* option;
        const char* value;
    } cases[] = {
        {"--trace x.vcd --trace-from 10xs", "--trace-from", "10xs"},
        {"--trace x.vcd --trace-to -5us", "--trace-to", "-5us"},
        {"--trace x.vcd --trace-trigger sometimes", "--trace-trigger", "sometimes"},
        {"--trace x.vcd --trace-scope 'a,,b'", "--trace-scope", "a,,b"},
        {"--trace-from 10us", "--trace-from", "--trace"},
        {"--count 10 --inject-error 10", "--inject-error", "10"},
    };
    for (const bad& b : cases) {
        const run r = chio_sim(dir, b.args);
        EXPECT_EQ(r.status, 2) << b.args;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_NE(r.err.find(b.option), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(b.value), std::string::npos) << r.err;
    }
}

}  // namespace
}  // namespace chio::tb
