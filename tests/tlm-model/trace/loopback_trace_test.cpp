// The recorders on a known scenario: the loopback (N SENDs of one QP to another) with the queue
// engine in lockstep. The waveform and the span log it produces are read back and checked for
// the signals and transitions the scenario must show; no golden files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <systemc>

#include "cosim/platform.h"
#include "support/vcd_signals.h"
#include "testbenches/scenarios/loopback.h"
#include "tlm-model/trace/adapter_spans.h"
#include "tlm-model/trace/adapter_trace.h"
#include "tlm-model/trace/tracer.h"

namespace chio::model {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t N = 6;  // messages
const std::string A = "host0.adapter0";
const std::string QE = "host0.adapter0.queue_engine";

fs::path test_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    fs::path dir = fs::path(CHIO_BINARY_DIR) / "test-out" / "loopback-trace" / info->name();
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

uint64_t now_ps() {
    return static_cast<uint64_t>(sc_core::sc_time_stamp().value() /
                                 sc_core::sc_time(1, sc_core::SC_PS).value());
}

struct run_result {
    tb::loopback_result lb;
    adapter_counters counters;
    uint64_t span_events = 0;
};

// Runs the loopback as chio-sim does: the RTL's VCD merged below the adapter at the end.
run_result run_traced(const fs::path& dir) {
    tb::sim_options o;
    o.count = N;
    o.size = 1024;
    o.depth = 4;
    const std::string rtl_vcd = (dir / "rtl.vcd").string();
    tracer t((dir / "run.vcd").string());
    cosim::platform_params p;
    p.adapter.qe_kind = queue_engine_kind::lockstep;
    p.adapter.qe_options.trace_file = rtl_vcd;
    p.adapter.qe_options.now_ps = now_ps;
    auto plat = std::make_unique<cosim::platform>("host0", p);
    attach_adapter_trace(plat->adapter, t, A);
    adapter_spans spans((dir / "spans.json").string(), plat->adapter, A);
    run_result r;
    plat->run_driver([&](drv::bus& b) { r.lb = tb::run_loopback(b, o); });
    sc_core::sc_start();
    r.counters = plat->adapter.counters();
    spans.close();
    r.span_events = spans.events();
    plat.reset();  // closes the RTL's VCD
    t.add_vcd(rtl_vcd, QE);
    t.close();
    return r;
}

// Every change of a counter signal is one step up from the previous value, starting at 1.
void expect_counts_in_steps_of_one(const test::changes& c, uint64_t last, const std::string& what) {
    ASSERT_FALSE(c.empty()) << what << " never changed";
    for (size_t i = 0; i < c.size(); ++i) {
        EXPECT_EQ(c[i].second, i + 1) << what << " change " << i << " at " << c[i].first;
    }
    EXPECT_EQ(c.back().second, last) << what;
}

// Times at which valid and ready are both high (a transfer on the stream).
std::vector<uint64_t> handshakes(const test::vcd_signals& v, const std::string& valid,
                                 const std::string& ready) {
    std::vector<uint64_t> out;
    for (const auto& [t, value] : v.of(valid)) {
        if (value == 1 && v.at(ready, t) == 1) out.push_back(t);
    }
    return out;
}

TEST(loopback_trace, waveform_shows_doorbells_rtl_handshakes_dma_and_cqes_on_one_timeline) {
    const fs::path dir = test_dir();
    const run_result r = run_traced(dir);
    ASSERT_TRUE(r.lb.ok) << r.lb.error;
    const auto v = test::read_vcd_signals((dir / "run.vcd").string());

    // The model's signals and the RTL's, in one hierarchy.
    for (const char* s : {"pf0.doorbell.count", "pf0.doorbell.wqid", "dma.rd_count", "dma.wr_count",
                          "cqe.count", "cqe.status", "qp.state", "cmd.count"}) {
        EXPECT_TRUE(v.has(A + "." + s)) << s;
    }
    for (const char* s : {"clk_i", "db_valid_i", "deq_req_valid_i", "deq_req_ready_o",
                          "deq_resp_valid_o", "deq_resp_index_o", "cq_req_valid_i",
                          "cq_resp_valid_o", "chio_queue_engine.deq_req_valid_i"}) {
        EXPECT_TRUE(v.has(QE + "." + s)) << s;
    }
    for (const auto& [name, width] : v.widths) {
        EXPECT_EQ(name.rfind("host0.", 0), 0u) << name << " is outside the model's hierarchy";
    }

    // Counters step once per event: the driver rings one SQ or RQ doorbell per post (the
    // adapter's own doorbell counter also counts CQ doorbells, which this signal does not).
    expect_counts_in_steps_of_one(v.of(A + ".pf0.doorbell.count"), 2 * N, "doorbell.count");
    expect_counts_in_steps_of_one(v.of(A + ".cqe.count"), 2 * N, "cqe.count");
    for (const auto& [t, status] : v.of(A + ".cqe.status")) EXPECT_EQ(status, 0u) << "at " << t;
    EXPECT_GE(v.of(A + ".dma.rd_count").back().second, 2 * N) << "a WQE and a payload per SEND";

    // The RTL takes each doorbell on db, and dequeues a send and a receive WQE per message.
    EXPECT_GE(handshakes(v, QE + ".db_valid_i", QE + ".db_ready_o").size(), 2 * N);
    const auto deqs = handshakes(v, QE + ".deq_req_valid_i", QE + ".deq_req_ready_o");
    EXPECT_GE(deqs.size(), 2 * N);
    uint64_t resp_rises = 0;
    for (const auto& [t, value] : v.of(QE + ".deq_resp_valid_o")) resp_rises += value;
    EXPECT_GE(resp_rises, 2 * N);

    // One work request in order: first SQ doorbell, then a dequeue, then the first CQE.
    uint64_t first_sq_db = UINT64_MAX;
    for (const auto& [t, wqid] : v.of(A + ".pf0.doorbell.wqid")) {
        if (wqid % 2 == 0) {
            first_sq_db = t;
            break;
        }
    }
    ASSERT_NE(first_sq_db, UINT64_MAX);
    const auto first_deq_after =
        std::find_if(deqs.begin(), deqs.end(), [&](uint64_t t) { return t >= first_sq_db; });
    ASSERT_NE(first_deq_after, deqs.end());
    EXPECT_LT(*first_deq_after, v.of(A + ".cqe.count").front().first);
    EXPECT_TRUE(std::is_sorted(v.times.begin(), v.times.end()));
}

TEST(loopback_trace, span_log_holds_every_event_and_one_span_per_work_request) {
    const fs::path dir = test_dir();
    const run_result r = run_traced(dir);
    ASSERT_TRUE(r.lb.ok) << r.lb.error;
    std::ifstream in(dir / "spans.json");
    const nlohmann::json j = nlohmann::json::parse(in);
    std::map<std::string, uint64_t> by_cat;
    uint64_t x_events = 0;
    for (const auto& e : j.at("traceEvents")) {
        if (e.at("ph") != "X") continue;
        ++x_events;
        ++by_cat[e.at("cat").get<std::string>()];
        EXPECT_GE(e.at("dur").get<double>(), 0.0);
        EXPECT_TRUE(e.contains("ts") && e.contains("pid") && e.contains("tid") &&
                    e.contains("args"));
        if (e.at("cat") == "work_request") {
            EXPECT_GT(e.at("dur").get<double>(), 0.0) << "doorbell to CQE takes time";
            EXPECT_EQ(e.at("args").at("status"), "SUCCESS");
        }
    }
    EXPECT_EQ(x_events, r.span_events);
    EXPECT_EQ(by_cat["doorbell"], 2 * N);  // one per post; CQ doorbells are not SQ/RQ doorbells
    EXPECT_EQ(by_cat["cqe"], 2 * N);
    EXPECT_EQ(by_cat["work_request"], 2 * N);
    EXPECT_EQ(by_cat["command"], r.counters.commands);
    EXPECT_GE(by_cat["dma"], 2 * N);
    EXPECT_GT(by_cat["qp_state"], 0u);
}

}  // namespace
}  // namespace chio::model
