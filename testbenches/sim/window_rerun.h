// Triggered capture of the RTL by re-running: chio-sim runs are deterministic (same options,
// same seed, same simulation), so the RTL's signals around a trigger found in an untraced run
// can be had by running the same scenario again in a child process that dumps the RTL only
// inside the window and stops at its end. The first run then pays nothing for the RTL until the
// trigger, and the re-run pays only inside the window (its untraced part runs at full speed).
#pragma once

#include <cstdint>
#include <string>

#include "testbenches/scenarios/options.h"

namespace chio::tb {

// Runs this program again (/proc/self/exe) with o's scenario options, recording the scopes
// below `rtl_scope` in [from_ps, to_ps] into `out_vcd` and stopping at to_ps. Returns "" on
// success, else a one-line reason.
std::string rerun_rtl_window(const sim_options& o, const std::string& rtl_scope, uint64_t from_ps,
                             uint64_t to_ps, const std::string& out_vcd);

}  // namespace chio::tb
