// The loopback scenario: one host, one adapter; the driver brings the device up, connects two RC
// QPs of the same adapter to each other and sends `count` messages of `size` bytes from the
// first to the second, keeping `depth` in flight, verifying every received byte.
#pragma once

#include <cstdint>
#include <string>

#include "driver/bus.h"
#include "testbenches/scenarios/options.h"
#include "testbenches/scenarios/result.h"

namespace chio::tb {

using loopback_result = scenario_result;

// Runs the scenario's driver side; call from a driver thread (cosim::platform::run_driver).
loopback_result run_loopback(drv::bus& bus, const sim_options& o);

}  // namespace chio::tb
