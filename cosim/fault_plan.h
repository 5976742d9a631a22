// A run's fault plan: which faults to inject, and when, parsed from `--fault KIND[:params]`
// (repeatable) or from the "faults" array of a JSON configuration (docs/faults.md).
//
// Contract
// - A spec is `KIND[:key=value[,key=value...]]`. Keys: `after` (the fault hits the (after+1)-th
//   matching event: the n-th DMA of that direction, the n-th MSI-X message; for the device and
//   host faults, microseconds of simulated time after traffic starts), `count` (how many
//   matching events it hits; 0 = every one from then on), `syndrome` (dev.fatal),
//   `delay_us` (msix.delay, pcie.timeout; link.down: how long the link stays down;
//   host.aer_frozen: how long the channel stays frozen before the slot reset), `p` (a
//   probability in [0, 1]: link.loss and link.corrupt, per frame and direction), `host` (which
//   host of the topology, default 0) and `fn` (host.flr: which VF, 1..TotalVFs, default 1).
// - load_fault_config() reads the "faults" array of a JSON file: each element is either such
//   a spec string or an object {"kind": ..., key: value, ...} with the same keys.
// - Bad text gets a one-line error naming the field and value; nothing is half-parsed.
// - Plans are plain data; a run's seed picks `after` for scenarios that leave it open
//   (fault_plan::randomize), so every run is reproducible from its seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chio::cosim {

enum class fault_kind {
    pcie_ur_read,     // DMA read answered Unsupported Request
    pcie_ur_write,    // DMA write answered Unsupported Request (dropped)
    pcie_ca_read,     // DMA read answered Completer Abort
    pcie_ca_write,    // DMA write answered Completer Abort (dropped)
    pcie_poison,      // DMA read completion carries poisoned data (EP bit)
    pcie_timeout,     // DMA read never completes: completion timeout after delay_us
    msix_lost,        // MSI-X message dropped on the way to the interrupt controller
    msix_delay,       // MSI-X message delivered delay_us late
    link_loss,        // fabric link drops packets
    link_corrupt,     // fabric link corrupts packets (ICRC fails, the receiver drops them)
    link_down,        // fabric link down for delay_us, then up
    dev_fatal,        // engine fatal error with a syndrome
    dev_heartbeat,    // firmware hang: the heartbeat counter stops
    host_flr,         // the manager resets a VF during its traffic
    host_removal,     // surprise removal: reads all ones, writes dropped, no DMA
    host_aer_frozen,  // AER frozen channel for delay_us, then the OS's slot reset (H8)
};

struct fault_spec {
    fault_kind kind = fault_kind::pcie_ur_read;
    uint64_t after = 0;
    uint32_t count = 1;
    uint32_t syndrome = 1;  // spec::syndrome::ENGINE_FATAL
    uint32_t delay_us = 50;
    double p = 0.01;         // link.loss / link.corrupt probability per frame
    uint32_t host = 0;       // topology host the fault hits
    uint32_t fn = 1;         // host.flr: the VF reset
    bool after_set = false;  // `after` given explicitly (the seed picks it otherwise)
    bool delay_set = false;  // `delay_us` given explicitly
    bool p_set = false;      // `p` given explicitly
};

// The spelling used on the command line and in docs/faults.md ("pcie.ur_read", ...).
const char* to_string(fault_kind k);
// Every kind, in the order `chio sim faults` runs them.
const std::vector<fault_kind>& all_fault_kinds();

// Parses one spec; false with a one-line reason in err.
bool parse_fault(const std::string& text, fault_spec& out, std::string& err);

// Appends the specs of the "faults" array of the JSON file at `path` to `out`; false with a
// one-line reason naming the file, the element and the field (nothing appended then).
bool load_fault_config(const std::string& path, std::vector<fault_spec>& out, std::string& err);

}  // namespace chio::cosim
