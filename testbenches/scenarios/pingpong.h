// The pingpong scenario, like rdma-core's ibv_rc_pingpong: two hosts, one RC connection; the
// client sends `count` messages of `size` bytes and the server echoes each one back. Waits by
// polling, or with --events by sleeping on the CQ's completion event (armed CQ -> EQE ->
// MSI-X) and then polling. Reports the round-trip time distribution.
#pragma once

#include "cosim/topology.h"
#include "testbenches/scenarios/options.h"
#include "testbenches/scenarios/result.h"

namespace chio::tb {

void start_pingpong(cosim::topology& topo, const sim_options& o, scenario_result& res);

}  // namespace chio::tb
