// Command-line options shared by every chio-sim scenario.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cosim/fault_plan.h"
#include "tlm-model/queue_engine/queue_engine.h"

namespace chio::tb {

struct sim_options {
    std::string scenario;
    uint64_t seed = 1;
    model::queue_engine_kind queue_engine = model::queue_engine_kind::model;
    std::string trace;  // waveform file (.fst or .vcd); empty: no trace
    std::string stats;  // JSON results file; empty: none
    // Cheap recording (docs/waveforms.md): a window, a scope filter, or triggered capture.
    uint64_t trace_from_ps = 0;
    uint64_t trace_to_ps = UINT64_MAX;
    std::string trace_scope;     // scope_filter patterns; empty: every scope
    bool trace_trigger = false;  // --trace-trigger error: only the window around the first error
    uint64_t trace_pre_ps = 10'000'000;  // triggered: span before the error
    uint64_t trace_post_ps = 5'000'000;  // triggered: span after it
    std::string spans;                   // Chrome/Perfetto trace-event JSON; empty: none
    uint64_t inject_error = UINT64_MAX;  // loopback: message whose receive buffer is too short
    uint64_t stop_at_ps = UINT64_MAX;    // stop the simulation here (a window's re-run)
    uint64_t count = 64;                 // messages
    uint32_t size = 4096;                // bytes per message
    uint32_t depth = 16;                 // messages in flight
    uint32_t hosts = 3;                  // ud: hosts on the switch
    bool events = false;                 // pingpong: wait for completion events instead of polling
    std::string pcap;                    // fabric capture; empty: none
    double loss = 0.0;                   // link loss probability, per frame and direction
    bool quiet = false;
    std::string config;  // vms: the topology file (hosts, VFs, VMs; docs/virtualization.md)
    // qos (docs/virtualization.md, "Scenarios"): one VF per weight; the cap applies to the VF
    // of the largest weight in phase 2.
    std::vector<uint32_t> weights = {1, 2, 3, 4};
    double cap_gbps = 10.0;
    uint64_t phase_ns = 1'000'000;  // measured span of each phase
    // isolation: false runs the victim alone (the reference run).
    bool attacker = true;
    // The invariant scoreboard on every host (docs/scoreboard.md); --no-scoreboard turns it off.
    bool scoreboard = true;
    // Whether --size / --depth were given (qos picks its own defaults otherwise).
    bool size_given = false;
    bool depth_given = false;
    std::string only;  // faults: run only the scenario of this fault kind (e.g. pcie.ur_read)
    // migrate: how the replacement is made to fail (docs/migration.md, "What could not be
    // recovered"): "removal" (the failed adapter is surprise-removed, its state cannot be read)
    // or "refused" (the standby refuses the blob); empty: the replacement succeeds.
    std::string unrecoverable;
    // --fault KIND[:k=v,...] (repeatable) and the "faults" array of --fault-config FILE, in
    // that order (docs/faults.md).
    std::vector<cosim::fault_spec> faults;
    // --pcie KEY=VALUE and --adapter KEY=VALUE (repeatable; cosim/pcie_link_params.h,
    // cosim/adapter_params_cli.h), checked when parsed; apply_param_settings()
    // (testbenches/scenarios/topology_settings.h) applies them to every host and wire.
    std::vector<std::string> pcie_settings;
    std::vector<std::string> adapter_settings;
};

// Parses argv (after the program name). On a bad argument returns false with a one-line error
// naming the option and the value.
bool parse_options(const std::vector<std::string>& args, sim_options& o, std::string& error);

const char* options_help();

// Parses a simulated time with a unit ("10us", "2500ns", "1.5ms", "300ps", "2s"; a bare number
// is picoseconds) into picoseconds. Returns false when the text is not such a time.
bool parse_time_ps(const std::string& text, uint64_t& ps);

}  // namespace chio::tb
