// The fault scenarios of `chio sim faults` (docs/faults.md): live RC SEND traffic and one
// injected fault per scenario — on one adapter (PCIe, MSI-X, device, removal), across a link
// between two hosts (link loss, corruption, down), between VFs (VF FLR), or on the channel to
// the adapter (an AER frozen channel, which the host OS recovers with a slot reset). The driver
// must detect the fault, complete every posted work request exactly once (successfully, with
// the error the device reported, or flushed), and recover: new QPs (after a device reset where
// the device was lost) carry traffic again. Surprise removal cannot recover; it must not hang.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cosim/fault_plan.h"
#include "testbenches/scenarios/options.h"

namespace chio::tb {

// Plain data, so a child process can hand it to its parent through a pipe.
struct fault_outcome {
    char name[32] = {};
    uint64_t injected = 0;
    uint64_t detected = 0;
    uint64_t recovered = 0;
    uint64_t expected = 0;
    uint64_t seen = 0;
    uint64_t lost = 0;
    uint64_t duplicated = 0;
    bool recoverable = true;  // false: surprise removal (nothing left to recover)
    char note[160] = {};
    // Invariant scoreboard (docs/scoreboard.md) of every host in the scenario: checks made,
    // violations found, and the first violation in full (invariant, object, time, seed).
    uint64_t checks = 0;
    uint64_t violations = 0;
    char violation[240] = {};
};

// One scenario: a name (what --only matches, and what the report prints) and the fault it
// injects. Parameters the spec leaves unset are drawn from the run's seed.
struct fault_scenario {
    std::string name;
    cosim::fault_spec spec;
};

// What `chio sim faults` runs: one scenario per --fault/--fault-config spec if any were given,
// else the default set (one per kind; link.down twice, a short outage the transport rides
// out and a long one that exhausts its retries).
std::vector<fault_scenario> fault_scenarios(const sim_options& o);
std::vector<fault_scenario> default_fault_scenarios();

// Elaborates the scenario's topology, runs it to its end (sc_start), and returns what happened.
// One per process (SystemC elaborates once per process).
fault_outcome run_fault_scenario(const fault_scenario& s, const sim_options& o);
// The default scenario named `name` (e.g. "link.down_long"); a failed outcome if none is.
fault_outcome run_fault_scenario(const std::string& name, const sim_options& o);
// The first default scenario of kind k.
fault_outcome run_fault_scenario(cosim::fault_kind k, const sim_options& o);

// A scenario passed: the fault was injected and detected, nothing lost or duplicated, and
// (where recoverable) the driver recovered.
bool fault_passed(const fault_outcome& r);

}  // namespace chio::tb
