// The qos scenario (docs/virtualization.md, "Scenarios: qos and isolation"): one host; the PF's
// manager enables one VF per configured weight and sets each VF's weight; every VF runs its own
// driver (drv::device on its own bus) and keeps `depth` RDMA WRITEs of `size` bytes in flight
// between two of its QPs, so every VF always has work for the scheduler. What each VF puts on
// the wire is measured at the port (adapter probes().tx, keyed by function) over three phases:
//
//   1. weights:  every VF busy, uncapped;                  shares must match the weights (2 %)
//   2. capped:   the VF of the largest weight capped at --cap-gbps (manager set_vf_qos); the
//                cap must hold on average and over every 100 us window (1 %), the others share
//                the rest by weight
//   3. idle:     the capped VF uncapped again, the second VF idle; its share goes to the others
//                in proportion to their weights (2 %)
//
// Every WRITE completes exactly once, successfully, and every destination byte is verified.
#pragma once

#include "cosim/topology.h"
#include "testbenches/scenarios/options.h"
#include "testbenches/scenarios/result.h"

namespace chio::tb {

// Spawns the PF driver thread on host 0 of a loopback topology; the result (with its `qos`
// section) is complete after sc_start().
void start_qos(cosim::topology& topo, const sim_options& o, scenario_result& res);

}  // namespace chio::tb
