// Parsing and printing of KEY=VALUE parameter settings (--pcie, --adapter): one strict number
// syntax and one number format for every parameter table (cosim/pcie_link_params.cpp,
// cosim/adapter_params_cli.cpp), so their errors and help texts read alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chio::cosim {

// The whole text must be a finite real ("1e3", "0.5"; no leading space, nothing after it).
bool parse_param_real(const std::string& text, double& out);

// The whole text must be a decimal integer without sign that fits in 64 bits.
bool parse_param_uint(const std::string& text, uint64_t& out);

// A value as help texts and errors show it: whole numbers in full (131072, 1000000), others
// with "%g" (0.29).
std::string param_number(double v);

// Splits an option's "KEY=VALUE" at its first '='. Without one: false, and err is
// "OPTION 'TEXT': expected KEY=VALUE" (OPTION as typed, "--pcie").
bool split_key_value(const char* option, const std::string& text, std::string& key,
                     std::string& value, std::string& err);

// "OPTION 'TEXT': unknown key 'KEY' (keys: a, b, c)", the keys in table order.
std::string unknown_key_error(const char* option, const std::string& text, const std::string& key,
                              const std::vector<const char*>& keys);

// The keys of a parameter table (entries with a `key` member), in order.
template <typename Table>
std::vector<const char*> table_keys(const Table& t) {
    std::vector<const char*> keys;
    for (const auto& e : t) keys.push_back(e.key);
    return keys;
}

}  // namespace chio::cosim
