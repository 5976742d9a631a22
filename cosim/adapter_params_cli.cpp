#include "cosim/adapter_params_cli.h"

#include <cstdint>
#include <type_traits>

#include "chio/spec/spec.h"
#include "cosim/param_text.h"

namespace chio::cosim {

namespace {

// A key is an integer chosen from a set or a range, or a real in a range; get and set reach
// its field (or fields) in the topology's params.
struct param_entry {
    const char* key;
    bool integer;                   // a uint32_t field; else a double
    std::vector<uint32_t> allowed;  // integer keys: the allowed values, or empty for a range
    double lo, hi;                  // the range (integers and reals)
    const char* meaning;
    double (*get)(const topology_params&);
    void (*set)(topology_params&, double);
};

template <typename T, T model::qp_engine_timing::*F>
double get_timing(const topology_params& p) {
    return static_cast<double>(p.host.adapter.timing.*F);
}

template <typename T, T model::qp_engine_timing::*F>
void set_timing(topology_params& p, double v) {
    p.host.adapter.timing.*F = static_cast<T>(v);
}

// A key for one field of model::qp_engine_timing (every adapter of the topology).
template <typename T, T model::qp_engine_timing::*F>
param_entry timing(const char* key, double lo, double hi, const char* meaning,
                   std::vector<uint32_t> allowed = {}) {
    static_assert(std::is_same<T, double>::value || std::is_same<T, uint32_t>::value);
    return {key,     std::is_integral<T>::value, std::move(allowed), lo, hi,
            meaning, &get_timing<T, F>,          &set_timing<T, F>};
}

using model::qp_engine_timing;

// Ranges: the low ends refuse what would hang, divide by zero or mean nothing (a zero rate, a
// zero-sized buffer or window the model would quietly treat as one); the high ends are far
// beyond any real adapter, so a typo fails at once instead of simulating for hours. Latencies
// are capped at 1 ms, as --pcie's. Sources of the bounds:
//  - stage_wqes: a send queue holds at most 2^max_wq_log_size WQEs (spec/chio.toml limits);
//    stage_bytes: one message is at most max_msg_size (2 GiB), staging beyond it adds nothing.
//  - wqes_per_fetch: one read request of at most 4096 B (the largest MRRS) of 128 B WQEs;
//    recv_wqes_per_fetch likewise, of 64 B receive WQEs.
//  - read_request_bytes: the Max_Read_Request_Size encodings, 128 B .. 4096 B (PCIe 3.0
//    section 7.8.4), as --pcie mrrs; read_bytes_in_flight: at most 768 tags (10-bit tags, PCIe
//    4.0 section 2.2.6.2) x 4096 B.
//  - posted_writes_in_flight: 2048 exceeds the posted-header credits any link advertises (8-bit
//    HdrFC, at most x16 with PCIe 4.0 scaled flow control, half the counter usable).
//  - ack_coalesce: 2^23 packets, half the 24-bit PSN space, is the most an RC requester can
//    have unacknowledged; a larger count could never be reached.
//  - port_gbps: 1 GbE .. 1.6 TbE (IEEE 802.3dj), the Ethernet rates there are. The port and the
//    wire it drives run at one rate (an Ethernet link has one negotiated speed), so the key sets
//    both; a port faster than its wire would only queue frames in the link.
//  - wire_latency_ns: 1 ms is 200 km of fibre at 5 ns/m.
//  - reset_ns: the driver gives up on READY after reset_timeout_us (spec/chio.toml limits); half
//    of it leaves room for the driver's polling, so a longer reset could only fail bring-up.
const std::vector<param_entry>& table() {
    static const std::vector<uint32_t> mrrs = {128, 256, 512, 1024, 2048, 4096};
    static const std::vector<param_entry> t = {
        timing<double, &qp_engine_timing::wqe_process_ns>(
            "wqe_process_ns", 0, 1e6, "decode and validate one WQE (fetch stage), ns"),
        timing<double, &qp_engine_timing::rx_process_ns>(
            "rx_process_ns", 0, 1e6, "parse and look up one incoming packet, ns"),
        timing<uint32_t, &qp_engine_timing::ack_coalesce>(
            "ack_coalesce", 1, 1u << 23, "responder ACKs at least every this many packets"),
        timing<uint32_t, &qp_engine_timing::stage_wqes>(
            "stage_wqes", 1, 1u << spec::limits::MAX_WQ_LOG_SIZE,
            "WQEs the fetch stage takes ahead of their turn, per QP"),
        timing<uint32_t, &qp_engine_timing::stage_bytes>(
            "stage_bytes", 1, spec::limits::MAX_MSG_SIZE,
            "a further WQE is fetched while less payload than this is staged, per QP, bytes"),
        timing<uint32_t, &qp_engine_timing::wqes_per_fetch>(
            "wqes_per_fetch", 1, 4096 / sizeof(spec::send_wqe),
            "consecutive posted WQEs one descriptor read fetches"),
        timing<uint32_t, &qp_engine_timing::recv_wqes_per_fetch>(
            "recv_wqes_per_fetch", 1, 4096 / sizeof(spec::recv_wqe),
            "posted receive WQEs a QP keeps read ahead of their messages"),
        timing<uint32_t, &qp_engine_timing::read_request_bytes>(
            "read_request_bytes", 0, 0, "one payload read request, bytes (the adapter's MRRS)",
            mrrs),
        timing<uint32_t, &qp_engine_timing::read_bytes_in_flight>(
            "read_bytes_in_flight", 128, 768 * 4096,
            "payload read bytes outstanding (read tags x request size)"),
        timing<uint32_t, &qp_engine_timing::posted_writes_in_flight>(
            "posted_writes_in_flight", 1, 2048,
            "receive payload writes issued and not yet arrived before the engine waits"),
        {"port_gbps",
         false,
         {},
         1,
         1600,
         "port and wire line rate, Gb/s",
         [](const topology_params& p) { return p.host.adapter.port.gbps; },
         [](topology_params& p, double v) {
             p.host.adapter.port.gbps = v;
             p.link.rate_gbps = v;
         }},
        {"wire_latency_ns",
         false,
         {},
         0,
         1e6,
         "propagation delay of each fabric link, each direction (pair, star), ns",
         [](const topology_params& p) { return p.link.latency_ns; },
         [](topology_params& p, double v) { p.link.latency_ns = v; }},
        {"reset_ns",
         false,
         {},
         0,
         spec::limits::RESET_TIMEOUT_US * 1000.0 / 2,
         "device reset (DEV_CTRL.RESET, power-on, FLR, hot reset) to READY, ns",
         [](const topology_params& p) { return p.host.adapter.reset_ns; },
         [](topology_params& p, double v) { p.host.adapter.reset_ns = v; }},
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

// The value of `v` for entry `e`, or false when it does not parse or is out of range.
bool value_of(const param_entry& e, const std::string& v, double& out) {
    if (!e.integer) return parse_param_real(v, out) && out >= e.lo && out <= e.hi;
    uint64_t n = 0;
    if (!parse_param_uint(v, n)) return false;
    bool ok = false;
    if (e.allowed.empty()) {
        ok = static_cast<double>(n) >= e.lo && static_cast<double>(n) <= e.hi;
    } else {
        for (uint32_t a : e.allowed) ok = ok || n == a;
    }
    out = static_cast<double>(n);
    return ok;
}

}  // namespace

bool set_adapter_param(topology_params& p, const std::string& key_value, std::string& err) {
    std::string key;
    std::string v;
    if (!split_key_value("--adapter", key_value, key, v, err)) return false;
    for (const param_entry& e : table()) {
        if (key != e.key) continue;
        double d = 0;
        if (!value_of(e, v, d)) {
            err = "--adapter " + key + " '" + v + "': expected " + range_text(e);
            return false;
        }
        e.set(p, d);
        return true;
    }
    err = unknown_key_error("--adapter", key_value, key, table_keys(table()));
    return false;
}

std::vector<std::pair<std::string, double>> adapter_param_values(const topology_params& p) {
    std::vector<std::pair<std::string, double>> out;
    for (const param_entry& e : table()) out.emplace_back(e.key, e.get(p));
    return out;
}

std::string adapter_param_help() {
    const topology_params defaults;
    std::string s;
    for (const param_entry& e : table()) {
        s += std::string("    ") + e.key + " (" + range_text(e) + ", default " +
             param_number(e.get(defaults)) + "): " + e.meaning + "\n";
    }
    return s;
}

}  // namespace chio::cosim
