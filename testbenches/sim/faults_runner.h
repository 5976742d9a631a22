// `chio-sim faults`: every fault scenario (or --only NAME), each in its own process (SystemC
// elaborates once per process), with a per-scenario line and a `faults` section in --stats.
#pragma once

#include "testbenches/scenarios/options.h"

namespace chio::tb {

int run_faults(const sim_options& o);

}  // namespace chio::tb
