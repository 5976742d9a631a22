// The fault scenarios of `chio sim faults` (docs/faults.md): one adapter, two RC QPs connected
// through its port, live SEND traffic, and one injected fault per scenario. The driver must
// detect the fault, complete every posted work request exactly once (successfully, with the
// error the device reported, or flushed), and recover: new QPs (after a device reset where the
// device was lost) carry traffic again. Surprise removal cannot recover; it must not hang.
#pragma once

#include <cstdint>

#include "cosim/fault_plan.h"
#include "testbenches/scenarios/options.h"

namespace chio::tb {

// Plain data, so a child process can hand it to its parent through a pipe.
struct fault_outcome {
    char name[32] = {};
    uint64_t injected = 0;
    uint64_t detected = 0;
    uint64_t recovered = 0;
    uint64_t expected = 0;
    uint64_t seen = 0;
    uint64_t lost = 0;
    uint64_t duplicated = 0;
    bool recoverable = true;  // false: surprise removal (nothing left to recover)
    char note[160] = {};
};

// Elaborates a platform, runs the scenario for kind k to its end (sc_start), and returns what
// happened. One per process (SystemC elaborates once per process).
fault_outcome run_fault_scenario(cosim::fault_kind k, const sim_options& o);

// A scenario passed: the fault was injected and detected, nothing lost or duplicated, and
// (where recoverable) the driver recovered.
bool fault_passed(const fault_outcome& r);

}  // namespace chio::tb
