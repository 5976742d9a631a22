// The rdma scenario: two hosts, one RC connection; host 0 issues a seeded mix of every RC
// opcode (SEND, SEND_WITH_IMM, RDMA_WRITE, RDMA_WRITE_WITH_IMM, RDMA_READ, FETCH_AND_ADD,
// COMPARE_AND_SWAP) with `depth` in flight; every byte and every atomic result is verified.
#pragma once

#include "cosim/topology.h"
#include "testbenches/scenarios/options.h"
#include "testbenches/scenarios/result.h"

namespace chio::tb {

// Spawns the driver threads on topo's hosts 0 and 1; the result is complete after sc_start().
void start_rdma(cosim::topology& topo, const sim_options& o, scenario_result& res);

}  // namespace chio::tb
