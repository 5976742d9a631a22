#include "cosim/pcie_link_params.h"

#include <cstdint>

#include "cosim/param_text.h"

namespace chio::cosim {

namespace {

// A field is either an integer chosen from a set or a range, or a real in a range.
struct param_entry {
    const char* key;
    uint32_t pcie_link_params::*u32;  // set for integer fields
    double pcie_link_params::*f64;    // set for real fields
    std::vector<uint32_t> allowed;    // integer fields: the allowed values, or empty for a range
    double lo, hi;                    // the range (integers and reals)
    const char* meaning;
};

// Payload and read request sizes are the encodings of Device Control's Max_Payload_Size and
// Max_Read_Request_Size fields, 128 B .. 4096 B (PCIe 3.0 section 7.8.4); the read completion
// boundary is Link Control's RCB bit, 64 B or 128 B (section 7.8.7). A completer's completion
// size is a multiple of RCB up to MPS; the model takes the powers of two 64 .. 4096. Latencies
// are capped at 1 ms and per-TLP overheads at 4096 B, far beyond any real link, so a typo fails
// at once instead of simulating for hours. Tags: 10-bit tags allow 768 outstanding
// requests (PCIe 4.0 section 2.2.6.2), the most any link has.
const std::vector<param_entry>& table() {
    static const std::vector<uint32_t> sizes = {128, 256, 512, 1024, 2048, 4096};
    static const std::vector<param_entry> t = {
        {"tlp_rate_gbps",
         nullptr,
         &pcie_link_params::tlp_rate_gbps,
         {},
         0.001,
         10000,
         "TLP-layer rate per direction, Gb/s (> 0)"},
        {"mps", &pcie_link_params::mps, nullptr, sizes, 0, 0, "max payload size, bytes"},
        {"mrrs", &pcie_link_params::mrrs, nullptr, sizes, 0, 0, "max read request size, bytes"},
        {"rcb",
         &pcie_link_params::rcb,
         nullptr,
         {64, 128},
         0,
         0,
         "read completion boundary, bytes"},
        {"cpl_bytes",
         &pcie_link_params::cpl_bytes,
         nullptr,
         {64, 128, 256, 512, 1024, 2048, 4096},
         0,
         0,
         "completer's completion size, bytes (capped at mps)"},
        {"req_overhead",
         &pcie_link_params::req_overhead,
         nullptr,
         {},
         0,
         4096,
         "bytes per request TLP beyond its payload"},
        {"cpl_overhead",
         &pcie_link_params::cpl_overhead,
         nullptr,
         {},
         0,
         4096,
         "bytes per completion TLP beyond its payload"},
        {"read_rtt_base_ns",
         nullptr,
         &pcie_link_params::read_rtt_base_ns,
         {},
         0,
         1e6,
         "DMA read round trip, fixed part, ns"},
        {"read_rtt_per_byte_ns",
         nullptr,
         &pcie_link_params::read_rtt_per_byte_ns,
         {},
         0,
         1000,
         "DMA read round trip, per byte, ns"},
        {"read_rtt_fit_bytes",
         &pcie_link_params::read_rtt_fit_bytes,
         nullptr,
         {},
         0,
         1u << 20,
         "largest read the round-trip fit holds for, bytes"},
        {"max_read_tags",
         &pcie_link_params::max_read_tags,
         nullptr,
         {},
         1,
         768,
         "outstanding read requests"},
        {"one_way_ns",
         nullptr,
         &pcie_link_params::one_way_ns,
         {},
         0,
         1e6,
         "posted write / MMIO one-way latency, ns"},
        {"host_memory_ns",
         nullptr,
         &pcie_link_params::host_memory_ns,
         {},
         0,
         1e6,
         "host memory latency beyond the measured round trip, ns"},
        {"mmio_read_ns",
         nullptr,
         &pcie_link_params::mmio_read_ns,
         {},
         0,
         1e6,
         "device MMIO/config read turnaround beyond 2 x one_way_ns, ns"},
    };
    return t;
}

std::string range_text(const param_entry& e) {
    if (!e.allowed.empty()) {
        std::string s;
        for (uint32_t v : e.allowed) s += (s.empty() ? "" : "|") + std::to_string(v);
        return s;
    }
    return param_number(e.lo) + ".." + param_number(e.hi);
}

}  // namespace

bool set_pcie_param(pcie_link_params& p, const std::string& key_value, std::string& err) {
    std::string key;
    std::string v;
    if (!split_key_value("--pcie", key_value, key, v, err)) return false;
    for (const param_entry& e : table()) {
        if (key != e.key) continue;
        const std::string bad = "--pcie " + key + " '" + v + "': expected " + range_text(e);
        if (e.u32 != nullptr) {
            uint64_t n = 0;
            bool ok = parse_param_uint(v, n);
            if (ok && !e.allowed.empty()) {
                ok = false;
                for (uint32_t a : e.allowed) ok = ok || n == a;
            } else if (ok) {
                ok = static_cast<double>(n) >= e.lo && static_cast<double>(n) <= e.hi;
            }
            if (!ok) {
                err = bad;
                return false;
            }
            p.*e.u32 = static_cast<uint32_t>(n);
        } else {
            double d = 0;
            if (!parse_param_real(v, d) || d < e.lo || d > e.hi) {
                err = bad;
                return false;
            }
            p.*e.f64 = d;
        }
        return true;
    }
    err = unknown_key_error("--pcie", key_value, key, table_keys(table()));
    return false;
}

std::vector<std::pair<std::string, double>> pcie_param_values(const pcie_link_params& p) {
    std::vector<std::pair<std::string, double>> out;
    for (const param_entry& e : table()) {
        out.emplace_back(e.key, e.u32 != nullptr ? static_cast<double>(p.*e.u32) : p.*e.f64);
    }
    return out;
}

std::string pcie_param_help() {
    const auto defaults = pcie_param_values(pcie_link_params{});
    std::string s;
    for (size_t i = 0; i < table().size(); ++i) {
        const param_entry& e = table()[i];
        s += std::string("    ") + e.key + " (" + range_text(e) + ", default " +
             param_number(defaults[i].second) + "): " + e.meaning + "\n";
    }
    return s;
}

}  // namespace chio::cosim
