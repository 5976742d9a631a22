#include "cosim/fault_plan.h"

#include <cstdlib>

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
    {fault_kind::host_removal, "host.removal"},
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
        uint64_t v = 0;
        if (eq == std::string::npos || !parse_u32(kv.substr(eq + 1), v)) {
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
        } else {
            err = "fault " + name + ": unknown parameter '" + key + "'";
            return false;
        }
    }
    out = f;
    return true;
}

}  // namespace chio::cosim
