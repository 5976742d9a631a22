// A run's fault plan: which faults to inject, and when, parsed from `--fault KIND[:params]`
// (repeatable) or from the "faults" array of a JSON configuration (docs/faults.md).
//
// Contract
// - A spec is `KIND[:key=value[,key=value...]]`. Keys: `after` (the fault hits the (after+1)-th
//   matching event: the n-th DMA of that direction, the n-th MSI-X message; for the device and
//   host faults, microseconds of simulated time after traffic starts), `count` (how many
//   matching events it hits; 0 = every one from then on), `syndrome` (dev.fatal) and
//   `delay_us` (msix.delay, pcie.timeout).
// - Bad text gets a one-line error naming the field and value; nothing is half-parsed.
// - Plans are plain data; a run's seed picks `after` for scenarios that leave it open
//   (fault_plan::randomize), so every run is reproducible from its seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chio::cosim {

enum class fault_kind {
    pcie_ur_read,   // DMA read answered Unsupported Request
    pcie_ur_write,  // DMA write answered Unsupported Request (dropped)
    pcie_ca_read,   // DMA read answered Completer Abort
    pcie_ca_write,  // DMA write answered Completer Abort (dropped)
    pcie_poison,    // DMA read completion carries poisoned data (EP bit)
    pcie_timeout,   // DMA read never completes: completion timeout after delay_us
    msix_lost,      // MSI-X message dropped on the way to the interrupt controller
    msix_delay,     // MSI-X message delivered delay_us late
    link_loss,      // fabric link drops packets
    link_corrupt,   // fabric link corrupts packets (ICRC fails, the receiver drops them)
    link_down,      // fabric link down for delay_us, then up
    dev_fatal,      // engine fatal error with a syndrome
    dev_heartbeat,  // firmware hang: the heartbeat counter stops
    host_flr,       // the manager resets a VF during its traffic
    host_removal,   // surprise removal: reads all ones, writes dropped, no DMA
};

struct fault_spec {
    fault_kind kind = fault_kind::pcie_ur_read;
    uint64_t after = 0;
    uint32_t count = 1;
    uint32_t syndrome = 1;  // spec::syndrome::ENGINE_FATAL
    uint32_t delay_us = 50;
    bool after_set = false;  // `after` given explicitly (randomize() leaves it alone)
};

// The spelling used on the command line and in docs/faults.md ("pcie.ur_read", ...).
const char* to_string(fault_kind k);
// Every kind, in the order `chio sim faults` runs them.
const std::vector<fault_kind>& all_fault_kinds();

// Parses one spec; false with a one-line reason in err.
bool parse_fault(const std::string& text, fault_spec& out, std::string& err);

}  // namespace chio::cosim
