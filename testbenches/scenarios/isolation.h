// The isolation scenario (docs/virtualization.md, "Scenarios: qos and isolation"): one host; the
// PF's manager enables three VFs. The victim (VF 1) runs verified RC traffic with its peer (VF 2):
// a seeded mix of SENDs and RDMA WRITEs, every byte checked, every completion recorded. A
// hostile VF (VF 3), passed through to a VM by the hypervisor (its DMA confined by the IOMMU),
// attacks while that traffic runs: it rings doorbells for the victim's queues, names the
// victim's QPN, CQN, PD and lkey in commands, uses the victim's rkey and lkey in work requests,
// registers memory outside its VM and sends from it, issues PF-only manager commands, spoofs the
// victim's MAC (device::set_addr), storms doorbells and resets itself (FLR) again and again.
//
// Each attack is counted (attempts), checked against the documented refusal (refused), and
// measured for effects on the victim (victim function errors, doorbell errors, error
// completions, its QP leaving RTS). The victim's completions and received bytes are digested so
// a run with --no-attacker can be compared with a run under attack (same seed: identical).
#pragma once

#include "cosim/topology.h"
#include "testbenches/scenarios/options.h"
#include "testbenches/scenarios/result.h"

namespace chio::tb {

// Spawns the driver thread on host 0 of a loopback topology; the result (with its `isolation`
// section) is complete after sc_start().
void start_isolation(cosim::topology& topo, const sim_options& o, scenario_result& res);

}  // namespace chio::tb
