// The ud scenario: N hosts on a switch, one UD QP each; every host sends `count` datagrams to
// every other host through address handles; every datagram is checked after its 40-byte GRH.
#pragma once

#include "cosim/topology.h"
#include "testbenches/scenarios/options.h"
#include "testbenches/scenarios/result.h"

namespace chio::tb {

void start_ud(cosim::topology& topo, const sim_options& o, scenario_result& res);

}  // namespace chio::tb
