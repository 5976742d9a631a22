// The loopback scenario: one host, one adapter; the driver brings the device up, connects two RC
// QPs of the same adapter to each other and sends `count` messages of `size` bytes from the
// first to the second, keeping `depth` in flight, verifying every received byte.
#pragma once

#include <cstdint>
#include <string>

#include "driver/bus.h"
#include "testbenches/scenarios/options.h"

namespace chio::tb {

struct loopback_result {
    bool ok = false;        // brought up, every completion seen once, every byte verified
    std::string error;      // first failure, one line
    uint64_t sends = 0;
    uint64_t expected = 0;  // completions expected: one per send and one per receive
    uint64_t seen = 0;
    uint64_t lost = 0;
    uint64_t duplicated = 0;
    uint64_t error_completions = 0;
    uint64_t bytes_verified = 0;
    uint64_t data_mismatches = 0;
};

// Runs the scenario's driver side; call from a driver thread (cosim::platform::run_driver).
loopback_result run_loopback(drv::bus& bus, const sim_options& o);

}  // namespace chio::tb
