// Text settings of the adapter's pipeline timing, its port rate, its reset time and the wire
// between adapters (--adapter KEY=VALUE in chio-bench and chio-sim): one table names every key,
// its range, the reason for the range and what it means, so the tools, the JSON stats and the
// help texts cannot drift apart. The defaults stay in the structs the keys set
// (model::qp_engine_timing, model::port_config, model::adapter_params,
// model::link_direction_config); the table only refers to their fields.
//
// The settings apply to cosim::topology_params: a topology builds every host from p.host and
// every link or switch port from p.link, so one setting reaches every adapter and every wire.
//
// Contract, as set_pcie_param() (cosim/pcie_link_params.h): set_adapter_param() takes
// "KEY=VALUE"; on a bad key, a value that does not parse, or a value outside the key's range it
// leaves the params unchanged, returns false and puts a one-line error naming the key and the
// value in `err` (command-line input never reaches an assert).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cosim/topology.h"

namespace chio::cosim {

bool set_adapter_param(topology_params& p, const std::string& key_value, std::string& err);

// Every key as (key, value), in table order: for --stats and for --help.
std::vector<std::pair<std::string, double>> adapter_param_values(const topology_params& p);

// One line per key: "KEY (range, default D): meaning", for help texts.
std::string adapter_param_help();

}  // namespace chio::cosim
