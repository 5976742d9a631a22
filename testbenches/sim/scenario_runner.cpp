#include "testbenches/sim/scenario_runner.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <systemc>

#include "chio/spec/spec.h"
#include "cosim/adapter_params_cli.h"
#include "cosim/fault_schedule.h"
#include "cosim/pcie_link_params.h"
#include "cosim/platform.h"
#include "cosim/topology.h"
#include "testbenches/scenarios/isolation.h"
#include "testbenches/scenarios/loopback.h"
#include "testbenches/scenarios/pingpong.h"
#include "testbenches/scenarios/qos.h"
#include "testbenches/scenarios/rdma.h"
#include "testbenches/scenarios/topology_settings.h"
#include "testbenches/scenarios/ud.h"
#include "testbenches/scenarios/vms.h"
#include "testbenches/sim/run_recorders.h"
#include "tlm-model/trace/gtkw_writer.h"

namespace chio::tb {

namespace {

// Simulated time a run with --fault may take (see run_scenario()).
constexpr double FAULT_RUN_LIMIT_MS = 500.0;

uint64_t sim_ps() {
    return static_cast<uint64_t>(sc_core::sc_time_stamp().value() /
                                 sc_core::sc_time(1, sc_core::SC_PS).value());
}

// The vms scenario's topology file, checked against the hosts it will run on (their port rate,
// --adapter port_gbps included); false with a one-line error naming the field and value.
bool load_vms_config(const sim_options& o, const cosim::platform_params& host,
                     cosim::virt_config& cfg, std::string& err) {
    if (o.config.empty()) {
        err = "vms: needs --config FILE (e.g. testbenches/configs/two_hosts_four_vms.json)";
        return false;
    }
    cosim::virt_config_limits lim;
    lim.total_vfs = spec::pci::TOTAL_VFS;
    lim.port_gbps = host.adapter.port.gbps;
    lim.dram_bytes = host.dram_size;
    return cosim::load_virt_config(o.config, lim, cfg, err);
}

}  // namespace

int run_scenario(const sim_options& o) {
    const auto wall0 = std::chrono::steady_clock::now();
    cosim::topology_params tp;
    // The virtualization scenarios run on one adapter: its functions' traffic turns around in
    // its port (the embedded switch), so the port's egress carries all of it.
    const bool one_host =
        o.scenario == "loopback" || o.scenario == "qos" || o.scenario == "isolation";
    tp.kind = one_host             ? cosim::topology_kind::loopback
              : o.scenario == "ud" ? cosim::topology_kind::star
                                   : cosim::topology_kind::pair;
    tp.hosts = o.hosts;
    tp.seed = o.seed;
    tp.pcap = o.pcap;
    tp.link.loss = o.loss;
    tp.host.adapter.qe_kind = o.queue_engine;
    tp.host.scoreboard = o.scoreboard;
    tp.host.seed = o.seed;
    if (o.scenario == "qos") {
        // In loopback every frame crosses the host's PCIe link twice (payload read, then write),
        // so a Gen3 x16 link (113.7 Gb/s per direction) would be the bottleneck beside the
        // 100 Gb/s port and the port's scheduler would see no contention. A Gen4 x16 link
        // (227.4 Gb/s, 16 GT/s with 128b/130b; docs/performance.md) makes the port the
        // saturated resource whose shares the scenario measures.
        tp.host.link.tlp_rate_gbps = 227.4;
    }
    apply_param_settings(o, tp);
    cosim::virt_config vcfg;
    if (o.scenario == "vms") {
        std::string err;
        if (!load_vms_config(o, tp.host, vcfg, err)) {
            std::fprintf(stderr, "chio-sim: %s\n", err.c_str());
            return 2;
        }
    }
    run_recorders rec(o);
    tp.host.adapter.qe_options.now_ps = sim_ps;
    // Every host's queue engine would write the same RTL trace file: only host 0's is traced
    // (the recorders watch host 0; docs/waveforms.md).
    model::queue_engine_options traced = tp.host.adapter.qe_options;
    rec.set_rtl_trace_options(traced);
    auto topo = std::make_unique<cosim::topology>(tp, traced);
    rec.attach(topo->host(0).adapter);
    cosim::fault_schedule faults;
    {
        std::string err;
        if (!faults.apply(*topo, o.faults, o.seed, err)) {
            std::fprintf(stderr, "chio-sim: %s\n", err.c_str());
            return 2;
        }
    }

    scenario_result res;
    vms_scenario vms;
    if (o.scenario == "vms") {
        std::string err;
        if (!vms.setup(*topo, vcfg, o, err)) {
            std::fprintf(stderr, "chio-sim: %s: %s\n", o.config.c_str(), err.c_str());
            return 2;
        }
        vms.start();
    } else if (o.scenario == "loopback") {
        topo->host(0).run_driver([&](drv::bus& b) { res = run_loopback(b, o); });
    } else if (o.scenario == "pingpong") {
        start_pingpong(*topo, o, res);
    } else if (o.scenario == "rdma") {
        start_rdma(*topo, o, res);
    } else if (o.scenario == "qos") {
        start_qos(*topo, o, res);
    } else if (o.scenario == "isolation") {
        start_isolation(*topo, o, res);
    } else {
        start_ud(*topo, o, res);
    }
    std::string sim_error;
    try {
        if (o.stop_at_ps != UINT64_MAX) {
            sc_core::sc_start(sc_core::sc_time(static_cast<double>(o.stop_at_ps), sc_core::SC_PS));
        } else if (!o.faults.empty()) {
            // A scenario not written for faults can leave a driver waiting for a peer that gave
            // up (a rendezvous after a failed bring-up) while the heartbeat keeps time moving:
            // with --fault the run is bounded, and reaching the bound is a failure.
            sc_core::sc_start(sc_core::sc_time(FAULT_RUN_LIMIT_MS, sc_core::SC_MS));
            if (sc_core::sc_get_status() != sc_core::SC_STOPPED) {
                res.fail("stopped at the --fault run limit of " +
                         std::to_string(static_cast<int>(FAULT_RUN_LIMIT_MS)) +
                         " ms of simulated time: a driver never finished");
            }
        } else {
            sc_core::sc_start();
        }
    } catch (const std::exception& e) {
        // A lockstep mismatch stops the run with its report.
        sim_error = e.what();
    }
    const double sim_ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
    // Wall time of the simulation alone, apart from writing the outputs at the end.
    const double sim_wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    if (o.scenario == "vms") {
        vms.finish(res);
    } else if (o.scenario != "loopback") {
        res.finish();
    }
    uint64_t compared = 0, mismatches = 0, cycles = 0;
    model::adapter_counters counters;
    model::transport_counters tc;
    for (unsigned i = 0; i < topo->size(); ++i) {
        model::adapter& a = topo->host(i).adapter;
        compared += a.engine().compared();
        mismatches += a.engine().mismatches();
        cycles += a.engine().cycles();
        const auto& c = a.counters();
        counters.commands += c.commands;
        counters.doorbells += c.doorbells;
        counters.doorbell_errors += c.doorbell_errors;
        counters.wqes += c.wqes;
        counters.cqes += c.cqes;
        counters.eqes += c.eqes;
        counters.msix += c.msix;
        counters.dma_errors += c.dma_errors;
        const auto& t = a.transport();
        tc.retransmits += t.retransmits;
        tc.timeouts += t.timeouts;
        tc.rnr_naks_sent += t.rnr_naks_sent;
        tc.seq_naks_sent += t.seq_naks_sent;
        tc.acks_sent += t.acks_sent;
        tc.duplicates += t.duplicates;
        tc.ud_dropped += t.ud_dropped;
    }
    // A failure the probes did not see (a lockstep mismatch stops the run with an exception;
    // a failed check is found by the scenario) opens a triggered trace's window.
    if (!sim_error.empty()) {
        rec.fail(sim_ps(), "simulation stopped: " + sim_error);
    } else if (!res.error.empty() || mismatches != 0) {
        rec.fail(sim_ps(), "scenario check failed: " + res.error);
    }
    rec.end_of_simulation();
    // The scoreboards' end-of-run checks, while the hosts still exist; this runner reports
    // what they found (and fails the run), so the hosts need not report it again.
    uint64_t sb_checks = 0, sb_violations = 0;
    nlohmann::json sb_hosts = nlohmann::json::array();
    for (unsigned i = 0; i < topo->size(); ++i) {
        cosim::scoreboard& b = topo->host(i).board;
        b.finish();
        sb_checks += b.checks();
        sb_violations += b.violation_count();
        sb_hosts.push_back(nlohmann::json::parse(b.json()));
        if (b.violation_count() != 0 && res.error.empty()) {
            res.error = b.violations().front().to_string(o.seed);
        }
        b.acknowledge();
    }
    if (!topo->close()) res.fail("writing the pcap failed");
    const unsigned hosts = topo->size();
    const std::vector<uint64_t> hits = faults.injected();  // reads the topology's counters
    topo.reset();  // closes the RTL's VCD so it can be merged
    nlohmann::json j;
    rec.finish(j);
    if (o.stop_at_ps != UINT64_MAX) return 0;  // a window's re-run: only its trace matters
    const double wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    if (!sim_error.empty() && res.error.empty()) res.error = sim_error;
    const bool ok = res.ok && sim_error.empty() && mismatches == 0 && sb_violations == 0;

    j["scenario"] = o.scenario;
    j["seed"] = o.seed;
    j["queue_engine"] = model::to_string(o.queue_engine);
    j["passed"] = ok;
    j["error"] = res.error;
    j["sends"] = res.sends;
    const uint32_t message_size = o.scenario == "vms"     ? vms.message_size()
                                  : res.message_size != 0 ? res.message_size
                                                          : o.size;
    j["message_size"] = message_size;
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
    j["sim_wall_s"] = sim_wall_s;
    j["slowdown"] = sim_ns > 0 ? wall_s / (sim_ns * 1e-9) : 0.0;
    j["wr_per_wall_s"] = wall_s > 0 ? static_cast<double>(res.sends) / wall_s : 0.0;
    j["per_opcode"] = res.per_opcode;
    j["figures"] = res.figures;
    j["hosts"] = hosts;
    // Every PCIe link and adapter parameter of the run's hosts (defaults, the scenario's own
    // choices and --pcie/--adapter settings), by key.
    nlohmann::json& pp = j["pcie_params"] = nlohmann::json::object();
    for (const auto& [key, value] : cosim::pcie_param_values(tp.host.link)) pp[key] = value;
    nlohmann::json& ap = j["adapter_params"] = nlohmann::json::object();
    for (const auto& [key, value] : cosim::adapter_param_values(tp)) ap[key] = value;
    for (const auto& [k, v] : res.sections.items()) j[k] = v;
    j["transport"] = {{"retransmits", tc.retransmits},     {"timeouts", tc.timeouts},
                      {"rnr_naks_sent", tc.rnr_naks_sent}, {"seq_naks_sent", tc.seq_naks_sent},
                      {"acks_sent", tc.acks_sent},         {"duplicates", tc.duplicates},
                      {"ud_dropped", tc.ud_dropped}};
    j["adapter"] = {{"commands", counters.commands},
                    {"doorbells", counters.doorbells},
                    {"doorbell_errors", counters.doorbell_errors},
                    {"wqes", counters.wqes},
                    {"cqes", counters.cqes},
                    {"eqes", counters.eqes},
                    {"msix", counters.msix},
                    {"dma_errors", counters.dma_errors}};
    if (o.scenario == "vms") j["virtualization"] = vms.to_json();
    j["scoreboard"] = {{"enabled", o.scoreboard},
                       {"checks", sb_checks},
                       {"violations", sb_violations},
                       {"hosts", sb_hosts}};
    nlohmann::json fj = nlohmann::json::array();
    for (size_t i = 0; i < o.faults.size(); ++i) {
        fj.push_back({{"kind", cosim::to_string(o.faults[i].kind)}, {"injected", hits.at(i)}});
    }
    j["faults_injected"] = fj;
    if (!o.stats.empty()) {
        std::ofstream f(o.stats);
        if (!f) throw std::runtime_error("cannot write --stats file '" + o.stats + "'");
        f << j.dump(2) << "\n";
    }
    if (!o.quiet) {
        std::printf("chio-sim %s  seed %llu  queue engine %s\n", o.scenario.c_str(),
                    static_cast<unsigned long long>(o.seed), model::to_string(o.queue_engine));
        std::printf("  sends                %llu x %u B\n",
                    static_cast<unsigned long long>(res.sends), message_size);
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
        for (const auto& [op, n] : res.per_opcode) {
            std::printf("  %-20s %llu\n", op.c_str(), static_cast<unsigned long long>(n));
        }
        for (const auto& [k, v] : res.figures) std::printf("  %-20s %.1f\n", k.c_str(), v);
        if (o.scenario == "vms") vms.print();
        if (o.scoreboard) {
            std::printf("  scoreboard: %llu checks, %llu violations\n",
                        static_cast<unsigned long long>(sb_checks),
                        static_cast<unsigned long long>(sb_violations));
        } else {
            std::printf("  scoreboard: off\n");
        }
        if (tc.retransmits) {
            std::printf("  retransmits          %llu (%llu timeouts)\n",
                        static_cast<unsigned long long>(tc.retransmits),
                        static_cast<unsigned long long>(tc.timeouts));
        }
        for (size_t i = 0; i < o.faults.size(); ++i) {
            std::printf("  fault %-14s injected %llu\n", cosim::to_string(o.faults[i].kind),
                        static_cast<unsigned long long>(hits.at(i)));
        }
        if (!o.pcap.empty()) std::printf("  pcap                 %s\n", o.pcap.c_str());
        if (!o.trace.empty()) {
            std::printf("  waveform             %s (+ %s)\n", o.trace.c_str(),
                        model::gtkw_path_for(o.trace).c_str());
        }
        if (!rec.summary().empty()) {
            std::printf("  trace trigger        %s\n", rec.summary().c_str());
        }
        if (!o.spans.empty()) std::printf("  spans                %s\n", o.spans.c_str());
        if (!o.stats.empty()) std::printf("  stats                %s\n", o.stats.c_str());
        std::printf("  result               %s%s%s\n", ok ? "PASS" : "FAIL",
                    res.error.empty() ? "" : ": ", res.error.c_str());
    }
    return ok ? 0 : 1;
}

}  // namespace chio::tb
