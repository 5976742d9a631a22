// chio-sim's --pcie KEY=VALUE and --adapter KEY=VALUE settings (testbenches/scenarios/
// options.h), applied to a scenario's topology: every host's PCIe link and adapter, and every
// wire, are built from the topology's params, so one setting reaches all of them.
#pragma once

#include "cosim/topology.h"
#include "testbenches/scenarios/options.h"

namespace chio::tb {

// Applies the settings in command-line order, --pcie first, after the scenario's own choices
// (a scenario's defaults, such as qos's Gen4 link, give way to what the user asked for). The
// settings were checked when parsed; one that fails here is a bug and throws
// std::invalid_argument.
void apply_param_settings(const sim_options& o, cosim::topology_params& tp);

}  // namespace chio::tb
