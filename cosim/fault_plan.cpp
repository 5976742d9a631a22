#include "cosim/fault_plan.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "chio/spec/spec.h"

namespace chio::cosim {

namespace {

struct kind_name {
    fault_kind kind;
    const char* name;
};

constexpr kind_name NAMES[] = {
    {fault_kind::pcie_ur_read, "pcie.ur_read"},   {fault_kind::pcie_ur_write, "pcie.ur_write"},
    {fault_kind::pcie_ca_read, "pcie.ca_read"},   {fault_kind::pcie_ca_write, "pcie.ca_write"},
    {fault_kind::pcie_poison, "pcie.poison"},     {fault_kind::pcie_timeout, "pcie.timeout"},
    {fault_kind::msix_lost, "msix.lost"},         {fault_kind::msix_delay, "msix.delay"},
    {fault_kind::link_loss, "link.loss"},         {fault_kind::link_corrupt, "link.corrupt"},
    {fault_kind::link_down, "link.down"},         {fault_kind::dev_fatal, "dev.fatal"},
    {fault_kind::dev_heartbeat, "dev.heartbeat"}, {fault_kind::host_flr, "host.flr"},
    {fault_kind::host_removal, "host.removal"},   {fault_kind::host_aer_frozen, "host.aer_frozen"},
};

// Unsigned decimal (or 0x hex) that fits in 32 bits; false otherwise.
bool parse_u32(const std::string& s, uint64_t& v) {
    if (s.empty()) return false;
    char* end = nullptr;
    const unsigned long long x = std::strtoull(s.c_str(), &end, 0);
    if (end == nullptr || *end != '\0' || s[0] == '-' || x > 0xFFFFFFFFull) return false;
    v = x;
    return true;
}

}  // namespace

const char* to_string(fault_kind k) {
    for (const auto& n : NAMES) {
        if (n.kind == k) return n.name;
    }
    return "?";
}

const std::vector<fault_kind>& all_fault_kinds() {
    static const std::vector<fault_kind> kinds = [] {
        std::vector<fault_kind> v;
        for (const auto& n : NAMES) v.push_back(n.kind);
        return v;
    }();
    return kinds;
}

bool parse_fault(const std::string& text, fault_spec& out, std::string& err) {
    const auto colon = text.find(':');
    const std::string name = text.substr(0, colon);
    fault_spec f;
    bool known = false;
    for (const auto& n : NAMES) {
        if (name == n.name) {
            f.kind = n.kind;
            known = true;
        }
    }
    if (!known) {
        err = "fault: unknown kind '" + name + "'";
        return false;
    }
    std::string rest = colon == std::string::npos ? "" : text.substr(colon + 1);
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string kv = rest.substr(0, comma);
        rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
        const auto eq = kv.find('=');
        const std::string key = kv.substr(0, eq);
        const std::string val = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (key == "p") {
            // A probability: decimal, 0 to 1 (NaN fails both comparisons).
            char* end = nullptr;
            const double d = val.empty() ? -1.0 : std::strtod(val.c_str(), &end);
            if (eq == std::string::npos || end == nullptr || *end != '\0' || !(d >= 0.0) ||
                !(d <= 1.0)) {
                err = "fault " + name + ": bad value in '" + kv + "' (want p=probability 0..1)";
                return false;
            }
            f.p = d;
            f.p_set = true;
            continue;
        }
        uint64_t v = 0;
        if (eq == std::string::npos || !parse_u32(val, v)) {
            err = "fault " + name + ": bad value in '" + kv + "' (want key=unsigned 32-bit)";
            return false;
        }
        if (key == "after") {
            f.after = v;
            f.after_set = true;
        } else if (key == "count") {
            f.count = static_cast<uint32_t>(v);
        } else if (key == "syndrome") {
            f.syndrome = static_cast<uint32_t>(v);
        } else if (key == "delay_us") {
            f.delay_us = static_cast<uint32_t>(v);
            f.delay_set = true;
        } else if (key == "host") {
            f.host = static_cast<uint32_t>(v);
        } else if (key == "fn") {
            if (v == 0 || v > spec::pci::TOTAL_VFS) {
                err = "fault " + name + ": bad value in '" + kv + "' (want fn=1.." +
                      std::to_string(spec::pci::TOTAL_VFS) + ", a VF)";
                return false;
            }
            f.fn = static_cast<uint32_t>(v);
        } else {
            err = "fault " + name + ": unknown parameter '" + key + "'";
            return false;
        }
    }
    out = f;
    return true;
}

bool load_fault_config(const std::string& path, std::vector<fault_spec>& out, std::string& err) {
    std::ifstream in(path);
    if (!in) {
        err = path + ": cannot read";
        return false;
    }
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        err = path + ": not a JSON object";
        return false;
    }
    if (!j.contains("faults")) {
        err = path + ": no \"faults\" array";
        return false;
    }
    const nlohmann::json& a = j["faults"];
    if (!a.is_array()) {
        err = path + ": \"faults\" is not an array";
        return false;
    }
    std::vector<fault_spec> got;
    for (size_t i = 0; i < a.size(); ++i) {
        const std::string where = path + ": faults[" + std::to_string(i) + "]";
        std::string text;
        if (a[i].is_string()) {
            text = a[i].get<std::string>();
        } else if (a[i].is_object() && a[i].contains("kind") && a[i]["kind"].is_string()) {
            // The object form is the text form spelled out: {"kind": K, "after": 3} is "K:after=3".
            text = a[i]["kind"].get<std::string>();
            char sep = ':';
            for (const auto& [k, v] : a[i].items()) {
                if (k == "kind") continue;
                std::string value;
                if (v.is_number_unsigned()) {
                    value = std::to_string(v.get<uint64_t>());
                } else if (v.is_number()) {
                    value = v.dump();
                } else {
                    err = where + ": field '" + k + "' value " + v.dump() + " is not a number";
                    return false;
                }
                text += sep + k + "=" + value;
                sep = ',';
            }
        } else {
            err = where + ": want a spec string or an object with a \"kind\" string";
            return false;
        }
        fault_spec f;
        std::string why;
        if (!parse_fault(text, f, why)) {
            err = where + ": " + why;
            return false;
        }
        got.push_back(f);
    }
    out.insert(out.end(), got.begin(), got.end());
    return true;
}

}  // namespace chio::cosim
