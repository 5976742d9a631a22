// Runs driver code against a fresh simulated host with one adapter. Each TEST runs in its own
// process (gtest_discover_tests PRE_TEST), so each may elaborate and simulate once.
#pragma once

#include <functional>
#include <memory>
#include <systemc>

#include "cosim/platform.h"

namespace chio::test {

// Builds the platform, runs body in a driver thread until it returns, and returns the platform
// for inspection after the simulation.
inline std::unique_ptr<cosim::platform> run_driver(
    std::function<void(drv::bus&, cosim::platform&)> body,
    model::queue_engine_kind qe = model::queue_engine_kind::model) {
    cosim::platform_params p;
    p.adapter.qe_kind = qe;
    auto plat = std::make_unique<cosim::platform>("host0", p);
    cosim::platform* raw = plat.get();
    plat->run_driver([raw, body](drv::bus& b) { body(b, *raw); });
    sc_core::sc_start();
    return plat;
}

}  // namespace chio::test
