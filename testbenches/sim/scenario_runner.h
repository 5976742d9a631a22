// Builds the platform for a scenario, runs it, prints the summary and writes the stats JSON and
// the waveform. Returns the process exit status.
#pragma once

#include "testbenches/scenarios/options.h"

namespace chio::tb {

int run_scenario(const sim_options& o);

}  // namespace chio::tb
