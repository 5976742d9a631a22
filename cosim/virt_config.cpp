#include "cosim/virt_config.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "chio/spec/spec.h"
#include "cosim/address_map.h"

namespace chio::cosim {

namespace {

using json = nlohmann::json;

// The first bad input ends the parse: it is thrown inside this file and caught at the entry
// point, so every check is one line and no caller sees an exception.
struct bad_input {
    std::string line;
};

// A value as the user wrote it, shortened so the error stays one line.
std::string shown(const json& v) {
    std::string s = v.dump();
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return s;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw bad_input{path + ": " + what};
}

void only_keys(const json& obj, const std::string& path, std::initializer_list<const char*> keys) {
    if (!obj.is_object()) fail(path, shown(obj) + " is not an object");
    for (const auto& kv : obj.items()) {
        bool known = false;
        for (const char* k : keys) known = known || kv.key() == k;
        if (!known) fail(path + "." + kv.key(), "unknown key");
    }
}

uint64_t integer(const json& v, const std::string& path, uint64_t lo, uint64_t hi) {
    if (!v.is_number_integer()) fail(path, shown(v) + " is not an integer");
    if (v.is_number_unsigned()
            ? v.get<uint64_t>() < lo || v.get<uint64_t>() > hi
            : v.get<int64_t>() < 0 || static_cast<uint64_t>(v.get<int64_t>()) < lo ||
                  static_cast<uint64_t>(v.get<int64_t>()) > hi) {
        fail(path, shown(v) + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return v.is_number_unsigned() ? v.get<uint64_t>() : static_cast<uint64_t>(v.get<int64_t>());
}

double rate(const json& v, const std::string& path, double max_gbps) {
    if (!v.is_number()) fail(path, shown(v) + " is not a number");
    const double g = v.get<double>();
    if (!(g > 0) || g > max_gbps || !std::isfinite(g)) {
        std::ostringstream o;
        o << shown(v) << " is out of range (0, " << max_gbps << "] Gb/s";
        fail(path, o.str());
    }
    return g;
}

bool boolean(const json& v, const std::string& path) {
    if (!v.is_boolean()) fail(path, shown(v) + " is not true or false");
    return v.get<bool>();
}

std::string text(const json& v, const std::string& path) {
    if (!v.is_string()) fail(path, shown(v) + " is not a string");
    const std::string s = v.get<std::string>();
    if (s.empty()) fail(path, "\"\" is empty");
    return s;
}

const json& array(const json& v, const std::string& path) {
    if (!v.is_array()) fail(path, shown(v) + " is not an array");
    return v;
}

model::mac_address mac(const json& v, const std::string& path) {
    const std::string s = text(v, path);
    model::mac_address m{};
    unsigned b[6];
    char tail = 0;
    if (s.size() != 17 || std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
                                      &b[3], &b[4], &b[5], &tail) != 6) {
        fail(path, shown(v) + " is not a MAC address (xx:xx:xx:xx:xx:xx)");
    }
    for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(b[i]);
    if ((m[0] & 1) != 0 || m == model::mac_address{}) {
        fail(path, shown(v) + " is not a unicast address");
    }
    return m;
}

model::gid gid(const json& v, const std::string& path) {
    const std::string s = text(v, path);
    model::gid g{};
    if (inet_pton(AF_INET6, s.c_str(), g.data()) != 1) {
        fail(path, shown(v) + " is not a GID (an IPv6 address)");
    }
    return g;
}

vf_quota_config quota(const json& q, const std::string& path) {
    only_keys(q, path, {"qps", "cqs", "eqs", "mrs", "pds", "srqs", "ahs"});
    namespace lim = spec::limits;
    vf_quota_config c;
    auto field = [&](const char* k, uint32_t& dst, uint32_t max) {
        if (q.contains(k)) dst = static_cast<uint32_t>(integer(q[k], path + "." + k, 0, max));
    };
    field("qps", c.qps, lim::MAX_QP);
    field("cqs", c.cqs, lim::MAX_CQ);
    field("eqs", c.eqs, lim::MAX_EQ);
    field("mrs", c.mrs, lim::MAX_MR);
    field("pds", c.pds, lim::MAX_PD);
    field("srqs", c.srqs, lim::MAX_SRQ);
    field("ahs", c.ahs, lim::MAX_AH);
    return c;
}

vf_config vf(const json& j, const std::string& path, unsigned num_vfs, double port_gbps) {
    only_keys(j, path, {"vf", "quota", "mac", "gid", "spoof_check", "qos", "qp_rate_limits"});
    vf_config c;
    if (!j.contains("vf")) fail(path + ".vf", "missing");
    if (num_vfs == 0) fail(path + ".vf", shown(j["vf"]) + " but the host enables no VFs");
    c.vf = static_cast<unsigned>(integer(j["vf"], path + ".vf", 0, num_vfs - 1));
    if (j.contains("quota")) c.quota = quota(j["quota"], path + ".quota");
    if (j.contains("mac")) c.mac = mac(j["mac"], path + ".mac");
    if (j.contains("gid")) c.gid = gid(j["gid"], path + ".gid");
    if (j.contains("spoof_check")) c.spoof_check = boolean(j["spoof_check"], path + ".spoof_check");
    if (j.contains("qos")) {
        const json& q = j["qos"];
        only_keys(q, path + ".qos", {"weight", "cap_gbps"});
        if (q.contains("weight")) {
            c.weight =
                static_cast<uint32_t>(integer(q["weight"], path + ".qos.weight", 1, UINT32_MAX));
        }
        if (q.contains("cap_gbps") && !q["cap_gbps"].is_null()) {
            c.cap_gbps = rate(q["cap_gbps"], path + ".qos.cap_gbps", port_gbps);
        }
    }
    if (j.contains("qp_rate_limits")) {
        const std::string p = path + ".qp_rate_limits";
        std::set<uint32_t> seen;
        const json& a = array(j["qp_rate_limits"], p);
        for (size_t i = 0; i < a.size(); ++i) {
            const std::string e = p + "[" + std::to_string(i) + "]";
            only_keys(a[i], e, {"qp", "gbps"});
            if (!a[i].contains("qp")) fail(e + ".qp", "missing");
            if (!a[i].contains("gbps")) fail(e + ".gbps", "missing");
            qp_rate_limit_config r;
            r.qp =
                static_cast<uint32_t>(integer(a[i]["qp"], e + ".qp", 0, spec::limits::MAX_QP - 1));
            r.gbps = rate(a[i]["gbps"], e + ".gbps", port_gbps);
            if (!seen.insert(r.qp).second)
                fail(e + ".qp", std::to_string(r.qp) + " is a duplicate");
            c.qp_rate_limits.push_back(r);
        }
    }
    return c;
}

vm_config vm_entry(const json& j, const std::string& path, uint64_t max_mib) {
    only_keys(j, path, {"name", "memory_mib", "chunk_kib", "vf"});
    vm_config c;
    if (!j.contains("name")) fail(path + ".name", "missing");
    c.name = text(j["name"], path + ".name");
    if (!j.contains("memory_mib")) fail(path + ".memory_mib", "missing");
    c.memory_bytes = integer(j["memory_mib"], path + ".memory_mib", 1, max_mib) << 20;
    if (j.contains("chunk_kib")) {
        const uint64_t kib = integer(j["chunk_kib"], path + ".chunk_kib", 4, c.memory_bytes >> 10);
        if (kib % 4 != 0)
            fail(path + ".chunk_kib", shown(j["chunk_kib"]) + " is not a multiple of 4");
        c.chunk_bytes = kib << 10;
    } else {
        c.chunk_bytes = std::min<uint64_t>(c.chunk_bytes, c.memory_bytes);
    }
    if (j.contains("vf") && !j["vf"].is_null()) {
        c.vf = static_cast<unsigned>(integer(j["vf"], path + ".vf", 0, UINT16_MAX - 1));
    }
    return c;
}

host_config host(const json& j, const std::string& path, size_t index,
                 const virt_config_limits& lim) {
    only_keys(j, path, {"name", "dram_mib", "iommu_block_unassigned", "num_vfs", "vfs", "vms"});
    host_config h;
    h.name = j.contains("name") ? text(j["name"], path + ".name") : "host" + std::to_string(index);
    h.dram_bytes = lim.dram_bytes;
    if (j.contains("dram_mib")) {
        h.dram_bytes = integer(j["dram_mib"], path + ".dram_mib", 1, lim.dram_bytes >> 20) << 20;
    }
    if (j.contains("iommu_block_unassigned")) {
        h.block_unassigned = boolean(j["iommu_block_unassigned"], path + ".iommu_block_unassigned");
    }
    const json empty = json::array();
    const json& vfs = j.contains("vfs") ? array(j["vfs"], path + ".vfs") : empty;
    if (j.contains("num_vfs")) {
        h.num_vfs =
            static_cast<unsigned>(integer(j["num_vfs"], path + ".num_vfs", 0, lim.total_vfs));
    } else {
        h.num_vfs = lim.total_vfs;  // checked below against the VFs actually named
    }
    std::map<unsigned, size_t> by_vf;
    std::map<model::mac_address, size_t> macs;
    std::map<model::gid, size_t> gids;
    unsigned highest = 0;
    for (size_t i = 0; i < vfs.size(); ++i) {
        const std::string p = path + ".vfs[" + std::to_string(i) + "]";
        vf_config c = vf(vfs[i], p, h.num_vfs, lim.port_gbps);
        auto dup = [&](const char* field, auto& seen, const auto& key, const std::string& v) {
            auto [it, fresh] = seen.emplace(key, i);
            if (!fresh) {
                fail(p + "." + field,
                     v + " is a duplicate of " + path + ".vfs[" + std::to_string(it->second) + "]");
            }
        };
        dup("vf", by_vf, c.vf, std::to_string(c.vf));
        if (c.mac) dup("mac", macs, *c.mac, shown(vfs[i]["mac"]));
        if (c.gid) dup("gid", gids, *c.gid, shown(vfs[i]["gid"]));
        highest = std::max(highest, c.vf + 1);
        h.vfs.push_back(std::move(c));
    }
    if (!j.contains("num_vfs")) h.num_vfs = highest;

    const json& vms = j.contains("vms") ? array(j["vms"], path + ".vms") : empty;
    const uint64_t max_mib = std::min(h.dram_bytes, address_map::MSI_BASE) >> 20;
    std::map<std::string, size_t> names;
    std::map<unsigned, size_t> owners;
    uint64_t total = 0;
    for (size_t i = 0; i < vms.size(); ++i) {
        const std::string p = path + ".vms[" + std::to_string(i) + "]";
        vm_config c = vm_entry(vms[i], p, max_mib);
        if (auto [it, fresh] = names.emplace(c.name, i); !fresh) {
            fail(p + ".name", "\"" + c.name + "\" is a duplicate of " + path + ".vms[" +
                                  std::to_string(it->second) + "]");
        }
        if (c.vf) {
            if (by_vf.count(*c.vf) == 0) {
                fail(p + ".vf", std::to_string(*c.vf) + " is not declared in " + path + ".vfs");
            }
            if (auto [it, fresh] = owners.emplace(*c.vf, i); !fresh) {
                fail(p + ".vf", std::to_string(*c.vf) + " is already assigned to " + path +
                                    ".vms[" + std::to_string(it->second) + "]");
            }
        }
        total += c.memory_bytes;
        if (total > h.dram_bytes) {
            fail(p + ".memory_mib", std::to_string(c.memory_bytes >> 20) + " brings the VMs to " +
                                        std::to_string(total >> 20) +
                                        " MiB, more than the host's " +
                                        std::to_string(h.dram_bytes >> 20) + " MiB");
        }
        h.vms.push_back(std::move(c));
    }
    return h;
}

// nlohmann keeps the last of two equal keys silently; a topology file with a key twice is a
// mistake, so the parse callback tracks the keys of every open object.
json parse_strict(const std::string& input) {
    std::vector<std::set<std::string>> open;
    std::string dup;
    json::parser_callback_t cb = [&](int, json::parse_event_t ev, json& parsed) {
        if (ev == json::parse_event_t::object_start) open.emplace_back();
        if (ev == json::parse_event_t::object_end && !open.empty()) open.pop_back();
        if (ev == json::parse_event_t::key && !open.empty() && dup.empty() &&
            !open.back().insert(parsed.get<std::string>()).second) {
            dup = parsed.get<std::string>();
        }
        return true;
    };
    json j;
    try {
        j = json::parse(input, cb);
    } catch (const json::parse_error& e) {
        throw bad_input{std::string("JSON syntax: ") + e.what()};
    }
    if (!dup.empty()) throw bad_input{dup + ": duplicate key"};
    return j;
}

}  // namespace

bool parse_virt_config(const std::string& input, const virt_config_limits& lim, virt_config& out,
                       std::string& err) {
    try {
        const json j = parse_strict(input);
        only_keys(j, "config", {"hosts"});
        if (!j.contains("hosts")) fail("hosts", "missing");
        const json& hosts = array(j["hosts"], "hosts");
        if (hosts.empty()) fail("hosts", "[] is empty");
        virt_config c;
        std::map<std::string, size_t> names;
        for (size_t i = 0; i < hosts.size(); ++i) {
            const std::string p = "hosts[" + std::to_string(i) + "]";
            host_config h = host(hosts[i], p, i, lim);
            if (auto [it, fresh] = names.emplace(h.name, i); !fresh) {
                fail(p + ".name", "\"" + h.name + "\" is a duplicate of hosts[" +
                                      std::to_string(it->second) + "]");
            }
            c.hosts.push_back(std::move(h));
        }
        out = std::move(c);
        return true;
    } catch (const bad_input& b) {
        err = b.line;
    } catch (const json::exception& e) {
        err = std::string("config: ") + e.what();  // a type check this file missed: still one line
    }
    return false;
}

bool load_virt_config(const std::string& path, const virt_config_limits& lim, virt_config& out,
                      std::string& err) {
    std::ifstream in(path);
    if (!in) {
        err = path + ": cannot be read";
        return false;
    }
    std::ostringstream s;
    s << in.rdbuf();
    if (!parse_virt_config(s.str(), lim, out, err)) {
        err = path + ": " + err;
        return false;
    }
    return true;
}

}  // namespace chio::cosim
