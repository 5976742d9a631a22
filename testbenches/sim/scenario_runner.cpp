#include "testbenches/sim/scenario_runner.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <systemc>

#include "cosim/platform.h"
#include "testbenches/scenarios/loopback.h"
#include "tlm-model/trace/adapter_trace.h"
#include "tlm-model/trace/gtkw_writer.h"
#include "tlm-model/trace/tracer.h"

namespace chio::tb {

namespace {

uint64_t sim_ps() {
    return static_cast<uint64_t>(sc_core::sc_time_stamp().value() /
                                 sc_core::sc_time(1, sc_core::SC_PS).value());
}

}  // namespace

int run_scenario(const sim_options& o) {
    const auto wall0 = std::chrono::steady_clock::now();
    std::unique_ptr<model::tracer> tr;
    std::string rtl_vcd;
    if (!o.trace.empty()) {
        tr = std::make_unique<model::tracer>(o.trace);
        if (o.queue_engine != model::queue_engine_kind::model) rtl_vcd = o.trace + ".rtl.vcd";
    }
    cosim::platform_params pp;
    pp.adapter.qe_kind = o.queue_engine;
    pp.adapter.qe_options.trace_file = rtl_vcd;
    pp.adapter.qe_options.now_ps = sim_ps;
    auto plat = std::make_unique<cosim::platform>("host0", pp);
    if (tr) model::attach_adapter_trace(plat->adapter, *tr, "host0.adapter0");

    loopback_result res;
    plat->run_driver([&](drv::bus& b) { res = run_loopback(b, o); });
    std::string sim_error;
    try {
        sc_core::sc_start();
    } catch (const std::exception& e) {
        // A lockstep mismatch stops the run with its report.
        sim_error = e.what();
    }
    const double sim_ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
    const uint64_t compared = plat->adapter.engine().compared();
    const uint64_t mismatches = plat->adapter.engine().mismatches();
    const uint64_t cycles = plat->adapter.engine().cycles();
    const auto counters = plat->adapter.counters();
    plat.reset();  // closes the RTL's VCD so it can be merged
    if (tr) {
        // The RTL's signals hang below the adapter that holds the queue engine.
        if (!rtl_vcd.empty()) tr->add_vcd(rtl_vcd, "host0.adapter0.queue_engine");
        tr->close();
        // A save file beside every trace, so it opens with the reviewer's signals in place.
        model::write_gtkw(model::gtkw_path_for(o.trace), o.trace, tr->written_signals());
        if (!rtl_vcd.empty()) std::remove(rtl_vcd.c_str());
    }
    const double wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    if (!sim_error.empty() && res.error.empty()) res.error = sim_error;
    const bool ok = res.ok && sim_error.empty() && mismatches == 0;

    nlohmann::json j;
    j["scenario"] = o.scenario;
    j["seed"] = o.seed;
    j["queue_engine"] = model::to_string(o.queue_engine);
    j["passed"] = ok;
    j["error"] = res.error;
    j["sends"] = res.sends;
    j["message_size"] = o.size;
    j["completions"] = {{"expected", res.expected},
                        {"seen", res.seen},
                        {"lost", res.lost},
                        {"duplicated", res.duplicated},
                        {"errors", res.error_completions}};
    j["bytes_verified"] = res.bytes_verified;
    j["data_mismatches"] = res.data_mismatches;
    j["lockstep"] = {{"compared", compared}, {"mismatches", mismatches}};
    j["rtl_cycles"] = cycles;
    j["sim_time_ns"] = sim_ns;
    j["wall_s"] = wall_s;
    j["slowdown"] = sim_ns > 0 ? wall_s / (sim_ns * 1e-9) : 0.0;
    j["wr_per_wall_s"] = wall_s > 0 ? static_cast<double>(res.sends) / wall_s : 0.0;
    j["adapter"] = {{"commands", counters.commands},
                    {"doorbells", counters.doorbells},
                    {"doorbell_errors", counters.doorbell_errors},
                    {"wqes", counters.wqes},
                    {"cqes", counters.cqes},
                    {"eqes", counters.eqes},
                    {"msix", counters.msix},
                    {"dma_errors", counters.dma_errors}};
    if (!o.stats.empty()) {
        std::ofstream f(o.stats);
        if (!f) throw std::runtime_error("cannot write --stats file '" + o.stats + "'");
        f << j.dump(2) << "\n";
    }
    if (!o.quiet) {
        std::printf("chio-sim %s  seed %llu  queue engine %s\n", o.scenario.c_str(),
                    static_cast<unsigned long long>(o.seed), model::to_string(o.queue_engine));
        std::printf("  sends                %llu x %u B\n",
                    static_cast<unsigned long long>(res.sends), o.size);
        std::printf(
            "  completions          %llu expected, %llu seen, %llu lost, %llu duplicated, "
            "%llu with error\n",
            static_cast<unsigned long long>(res.expected),
            static_cast<unsigned long long>(res.seen), static_cast<unsigned long long>(res.lost),
            static_cast<unsigned long long>(res.duplicated),
            static_cast<unsigned long long>(res.error_completions));
        std::printf("  bytes verified       %llu (%llu mismatches)\n",
                    static_cast<unsigned long long>(res.bytes_verified),
                    static_cast<unsigned long long>(res.data_mismatches));
        std::printf("  lockstep             %llu outputs compared, %llu mismatches\n",
                    static_cast<unsigned long long>(compared),
                    static_cast<unsigned long long>(mismatches));
        std::printf("  simulated time       %.3f us\n", sim_ns / 1000.0);
        std::printf("  wall time            %.3f s (slowdown %.0fx)\n", wall_s,
                    j["slowdown"].get<double>());
        if (!o.trace.empty()) std::printf("  waveform             %s\n", o.trace.c_str());
        if (!o.stats.empty()) std::printf("  stats                %s\n", o.stats.c_str());
        std::printf("  result               %s%s%s\n", ok ? "PASS" : "FAIL",
                    res.error.empty() ? "" : ": ", res.error.c_str());
    }
    return ok ? 0 : 1;
}

}  // namespace chio::tb
