// Pieces the fault scenarios share (faults.cpp: one adapter; fault_link.cpp: two hosts and a
// link; fault_flr.cpp: VFs of one adapter; fault_aer.cpp: a frozen channel and the OS's
// recovery). Internal to testbenches/scenarios.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "cosim/topology.h"
#include "testbenches/scenarios/fault_traffic.h"
#include "testbenches/scenarios/faults.h"

namespace chio::tb::detail {

// Messages of the check that the driver works again after the fault.
constexpr uint32_t RECOVERY_MSGS = 4;

void note(fault_outcome& r, const std::string& s);
// Messages of the faulted phase: --count, clamped to 16..256.
uint64_t fault_messages(const sim_options& o);
// The scenario's random stream: the same seed and scenario draw the same fault.
std::mt19937_64 fault_rng(const sim_options& o, const fault_scenario& s);
// Adds a phase's completion counts to the outcome.
void add(fault_outcome& r, const phase& p);
// RECOVERY_MSGS SENDs on new QPs from a to b; sets r.recovered when every one succeeds, and
// appends what failed to `how`.
void recovery_phase(traffic_end a, traffic_end b, const traffic_params& p, fault_outcome& r,
                    std::string& how);
// Waits (bounded, in the driver thread) until simulated time `until_ns`.
void wait_until(drv::device& d, uint64_t until_ns);

// The scenario's topology: the run's seed for the wire and for every host's scoreboard.
cosim::topology_params fault_topology(cosim::topology_kind kind, const sim_options& o);
// After sc_start: the scoreboards' end-of-run checks on every host, counted into the outcome
// (fault_passed fails on any violation; this runner reports them, so the hosts need not).
void collect_scoreboards(cosim::topology& topo, const sim_options& o, fault_outcome& r);

void run_link_fault(const fault_scenario& s, const sim_options& o, fault_outcome& r);
void run_flr_fault(const fault_scenario& s, const sim_options& o, fault_outcome& r);
void run_aer_fault(const fault_scenario& s, const sim_options& o, fault_outcome& r);

}  // namespace chio::tb::detail
