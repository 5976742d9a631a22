// Text settings of the PCIe link model (cosim::pcie_link_params) for command lines and config
// files: one table names every field, its range and the reason for the range, so chio-bench,
// chio-sim and the JSON stats cannot drift apart.
//
// Contract: set_pcie_param() takes "KEY=VALUE"; on a bad key, a value that does not parse, or a
// value outside the field's range it leaves the params unchanged, returns false and puts a
// one-line error naming the field and the value in `err` (command-line input is guest-level
// input: it never reaches an assert).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cosim/pcie_link.h"

namespace chio::cosim {

bool set_pcie_param(pcie_link_params& p, const std::string& key_value, std::string& err);

// Every settable field as (key, value), in table order: for --stats and for --help.
std::vector<std::pair<std::string, double>> pcie_param_values(const pcie_link_params& p);

// One line per key: "KEY (range, default D): meaning", for help texts.
std::string pcie_param_help();

}  // namespace chio::cosim
