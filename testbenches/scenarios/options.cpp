#include "testbenches/scenarios/options.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "chio/spec/spec.h"
#include "cosim/adapter_params_cli.h"
#include "cosim/pcie_link_params.h"
#include "cosim/topology.h"

namespace chio::tb {

namespace {

bool parse_u64(const std::string& s, uint64_t max, uint64_t& out) {
    if (s.empty() || s[0] == '-' || s[0] == '+') return false;
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
    if (errno != 0 || end == s.c_str() || *end != '\0' || v > max) return false;
    out = v;
    return true;
}

// "1,2,3,4": one weight per VF, each 1..65535 (the QoS weight the manager accepts; 0 is
// BAD_PARAM), at most TotalVFs of them.
bool parse_weights(const std::string& s, std::vector<uint32_t>& out) {
    std::vector<uint32_t> w;
    size_t pos = 0;
    while (pos <= s.size()) {
        const size_t comma = std::min(s.find(',', pos), s.size());
        uint64_t v = 0;
        if (!parse_u64(s.substr(pos, comma - pos), 65535, v) || v == 0) return false;
        w.push_back(static_cast<uint32_t>(v));
        pos = comma + 1;
    }
    if (w.empty() || w.size() > spec::pci::TOTAL_VFS) return false;
    out = w;
    return true;
}

// Checks between options, once all are read; names the option that cannot hold.
bool check_options(const sim_options& o, std::string& error) {
    const bool windowed = o.trace_from_ps != 0 || o.trace_to_ps != UINT64_MAX;
    if (o.trace_from_ps > o.trace_to_ps) {
        error = "option --trace-to: " + std::to_string(o.trace_to_ps) +
                " ps is before --trace-from " + std::to_string(o.trace_from_ps) + " ps";
        return false;
    }
    if (o.trace_trigger && windowed) {
        error =
            "option --trace-trigger: cannot be combined with --trace-from/--trace-to (the "
            "trigger chooses the window)";
        return false;
    }
    if (o.trace.empty() && (windowed || o.trace_trigger || !o.trace_scope.empty())) {
        error = "option --trace-from/--trace-to/--trace-scope/--trace-trigger: needs --trace FILE";
        return false;
    }
    if (o.inject_error != UINT64_MAX && o.inject_error >= o.count) {
        error = "option --inject-error: '" + std::to_string(o.inject_error) +
                "' is not a message number below --count " + std::to_string(o.count);
        return false;
    }
    if (!o.unrecoverable.empty() && !o.scenario.empty() && o.scenario != "migrate") {
        error =
            "option --unrecoverable: only the migrate scenario replaces an adapter (scenario '" +
            o.scenario + "')";
        return false;
    }
    if (o.inject_error != UINT64_MAX && o.size < 2) {
        error = "option --inject-error: needs --size of at least 2 bytes, got " +
                std::to_string(o.size);
        return false;
    }
    return true;
}

}  // namespace

bool parse_time_ps(const std::string& text, uint64_t& ps) {
    static const struct {
        const char* unit;
        uint64_t ps;
    } units[] = {
        {"ps", 1}, {"ns", 1000}, {"us", 1000000}, {"ms", 1000000000}, {"s", 1000000000000}};
    size_t digits = 0;
    while (digits < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[digits])) != 0 || text[digits] == '.')) {
        ++digits;
    }
    const std::string number = text.substr(0, digits), unit = text.substr(digits);
    if (number.empty() || number.front() == '.' || number.back() == '.' ||
        number.find('.') != number.rfind('.')) {
        return false;
    }
    uint64_t scale = unit.empty() ? 1 : 0;
    for (const auto& u : units) {
        if (unit == u.unit) scale = u.ps;
    }
    if (scale == 0) return false;
    // Integer and fraction apart, so "2500ns" is exact and no double rounding creeps in.
    const size_t dot = number.find('.');
    const std::string whole = number.substr(0, dot);
    const std::string frac = dot == std::string::npos ? "" : number.substr(dot + 1);
    uint64_t w = 0;
    if (!parse_u64(whole, UINT64_MAX / scale, w)) return false;
    uint64_t f = 0, div = 1;
    for (const char c : frac) {
        if (div > scale) break;  // finer than a picosecond: dropped
        f = f * 10 + static_cast<uint64_t>(c - '0');
        div *= 10;
    }
    // div <= scale, both powers of ten: the fraction scales exactly, without overflow.
    const uint64_t fraction_ps = f * (scale / div);
    if (w * scale > UINT64_MAX - fraction_ps) return false;
    ps = w * scale + fraction_ps;
    return true;
}

const char* options_help() {
    return "Options (every scenario):\n"
           "  --seed N                 random seed (default 1); the run is reproducible from it\n"
           "  --queue-engine KIND      model | rtl | lockstep (default model)\n"
           "  --trace FILE             write a waveform (.fst or .vcd)\n"
           "  --stats FILE             write results as JSON (docs/scenarios.md)\n"
           "  --pcap FILE              write the fabric's traffic as a pcap (RoCEv2)\n"
           "  --trace-from T           record the waveform from time T (10us, 2500ns, 1ms)\n"
           "  --trace-to T             record the waveform up to time T\n"
           "  --trace-scope PATTERNS   record only scopes matching the globs (comma-separated,\n"
           "                           e.g. '*.cqe,*.queue_engine')\n"
           "  --trace-trigger error    record only the window around the first error completion,\n"
           "                           lockstep mismatch or failed check (ring buffer in memory)\n"
           "  --trace-pre T            triggered: span kept before the error (default 10us)\n"
           "  --trace-post T           triggered: span recorded after it (default 5us)\n"
           "  --spans FILE             write commands, DMA, doorbells, CQEs, EQEs as "
           "Chrome/Perfetto\n"
           "                           trace-event JSON (open in ui.perfetto.dev)\n"
           "  --stop-at T              stop the simulation at time T (chio-sim uses it to re-run\n"
           "                           a triggered trace's window)\n"
           "  --quiet                  print only errors\n"
           "  --no-scoreboard          do not check the invariants (docs/scoreboard.md)\n"
           "  --pcie KEY=VALUE         one PCIe link parameter of every host, repeatable (keys\n"
           "                           below; sources in docs/performance.md)\n"
           "  --adapter KEY=VALUE      one adapter or wire parameter of every host and link,\n"
           "                           repeatable (keys below; sources in docs/performance.md)\n"
           "Options (traffic):\n"
           "  --count N                messages (pingpong: round trips) (default 64)\n"
           "  --only NAME              faults: run only this fault's scenario (e.g. pcie.ur_read)\n"
           "  --fault KIND[:k=v,..]    inject a fault (repeatable; docs/faults.md): pcie.ur_read,\n"
           "                           link.loss:p=0.01, link.down:after=50,delay_us=300, ...;\n"
           "                           faults: run one scenario per --fault instead of the set\n"
           "  --fault-config FILE      read more faults from the \"faults\" array of a JSON file\n"
           "  --size N                 bytes per message, 0..1048576 (default 4096; rdma: max)\n"
           "  --depth N                messages in flight, 1..1024 (default 16)\n"
           "  --hosts N                ud: hosts on the switch, 2..64 (default 3)\n"
           "  --events                 pingpong: sleep on completion events instead of polling\n"
           "  --config FILE            vms: the topology file (hosts, VFs and VMs; see\n"
           "                           docs/virtualization.md)\n"
           "  --loss P                 link loss probability per frame, 0..1 (default 0)\n"
           "Options (qos, isolation):\n"
           "  --weights W1,W2,..       qos: one VF per weight (default 1,2,3,4)\n"
           "  --cap-gbps R             qos: phase 2 caps the VF of the largest weight at R Gb/s\n"
           "                           (default 10)\n"
           "  --phase T                qos: measured span of each phase (default 1ms)\n"
           "  --no-attacker            isolation: the victim alone (the reference run)\n"
           "Options (migrate):\n"
           "  --unrecoverable HOW      make the replacement fail: removal (the failed adapter is\n"
           "                           surprise-removed, its VF state cannot be read) or refused\n"
           "                           (the blob is corrupted in transit, the standby refuses\n"
           "                           it); the VF is hot-removed from its VM, whose driver\n"
           "                           completes every outstanding WR once, with an error\n"
           "  --inject-error N         give message N a receive buffer of half its size, so it\n"
           "                           completes with a length error (for triggered traces)\n";
}

bool parse_options(const std::vector<std::string>& args, sim_options& o, std::string& error) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        std::string name = a, value;
        bool has_value = false;
        if (a.rfind("--", 0) == 0) {
            const auto eq = a.find('=');
            if (eq != std::string::npos) {
                name = a.substr(0, eq);
                value = a.substr(eq + 1);
                has_value = true;
            }
        } else if (o.scenario.empty()) {
            o.scenario = a;
            continue;
        } else {
            error = "unexpected argument '" + a + "'";
            return false;
        }
        if (name == "--quiet") {
            o.quiet = true;
            continue;
        }
        if (name == "--events") {
            o.events = true;
            continue;
        }
        if (name == "--no-attacker") {
            o.attacker = false;
            continue;
        }
        if (name == "--no-scoreboard") {
            o.scoreboard = false;
            continue;
        }
        if (!has_value) {
            if (i + 1 >= args.size()) {
                error = "option " + name + " needs a value";
                return false;
            }
            value = args[++i];
        }
        uint64_t v = 0;
        auto number = [&](uint64_t max) {
            if (parse_u64(value, max, v)) return true;
            error =
                "option " + name + ": '" + value + "' is not a number in 0.." + std::to_string(max);
            return false;
        };
        if (name == "--seed") {
            if (!number(UINT64_MAX)) return false;
            o.seed = v;
        } else if (name == "--queue-engine") {
            if (!model::parse_queue_engine_kind(value, o.queue_engine)) {
                error = "option --queue-engine: '" + value + "' is not model, rtl or lockstep";
                return false;
            }
        } else if (name == "--trace") {
            if (value.empty()) {
                error = "option --trace: empty file name";
                return false;
            }
            o.trace = value;
        } else if (name == "--stats") {
            if (value.empty()) {
                error = "option --stats: empty file name";
                return false;
            }
            o.stats = value;
        } else if (name == "--trace-from" || name == "--trace-to" || name == "--trace-pre" ||
                   name == "--trace-post" || name == "--stop-at") {
            if (!parse_time_ps(value, v)) {
                error = "option " + name + ": '" + value +
                        "' is not a time (want a number with unit ps, ns, us, ms or s, e.g. 10us)";
                return false;
            }
            (name == "--trace-from"  ? o.trace_from_ps
             : name == "--trace-to"  ? o.trace_to_ps
             : name == "--trace-pre" ? o.trace_pre_ps
             : name == "--stop-at"   ? o.stop_at_ps
                                     : o.trace_post_ps) = v;
        } else if (name == "--trace-scope") {
            if (value.empty() || value.find(",,") != std::string::npos || value.front() == ',' ||
                value.back() == ',') {
                error = "option --trace-scope: '" + value + "' has an empty pattern";
                return false;
            }
            o.trace_scope = value;
        } else if (name == "--trace-trigger") {
            if (value != "error") {
                error = "option --trace-trigger: '" + value + "' is not a trigger (want: error)";
                return false;
            }
            o.trace_trigger = true;
        } else if (name == "--spans") {
            if (value.empty()) {
                error = "option --spans: empty file name";
                return false;
            }
            o.spans = value;
        } else if (name == "--inject-error") {
            if (!number(100000000)) return false;
            o.inject_error = v;
        } else if (name == "--unrecoverable") {
            if (value != "removal" && value != "refused") {
                error = "option --unrecoverable: '" + value + "' is not removal or refused";
                return false;
            }
            o.unrecoverable = value;
        } else if (name == "--only") {
            if (value.empty()) {
                error = "option --only: empty scenario name";
                return false;
            }
            o.only = value;
        } else if (name == "--fault") {
            cosim::fault_spec f;
            std::string why;
            if (!cosim::parse_fault(value, f, why)) {
                error = "option --fault: " + why;
                return false;
            }
            o.faults.push_back(f);
        } else if (name == "--pcie" || name == "--adapter") {
            // Checked here, on defaults, so a bad setting fails before anything runs; the
            // scenario applies it to its own topology (apply_param_settings).
            cosim::topology_params check;
            if (name == "--pcie" ? !cosim::set_pcie_param(check.host.link, value, error)
                                 : !cosim::set_adapter_param(check, value, error)) {
                return false;
            }
            (name == "--pcie" ? o.pcie_settings : o.adapter_settings).push_back(value);
        } else if (name == "--fault-config") {
            if (value.empty()) {
                error = "option --fault-config: empty file name";
                return false;
            }
            std::string why;
            if (!cosim::load_fault_config(value, o.faults, why)) {
                error = "option --fault-config: " + why;
                return false;
            }
        } else if (name == "--count") {
            if (!number(100000000)) return false;
            o.count = v;
        } else if (name == "--size") {
            if (!number(1u << 20)) return false;
            o.size = static_cast<uint32_t>(v);
            o.size_given = true;
        } else if (name == "--depth") {
            if (!number(1024)) return false;
            if (v == 0) {
                error = "option --depth: '0' is not a number in 1..1024";
                return false;
            }
            o.depth = static_cast<uint32_t>(v);
            o.depth_given = true;
        } else if (name == "--hosts") {
            if (!number(64)) return false;
            if (v < 2) {
                error = "option --hosts: '" + value + "' is not a number in 2..64";
                return false;
            }
            o.hosts = static_cast<uint32_t>(v);
        } else if (name == "--config") {
            if (value.empty()) {
                error = "option --config: empty file name";
                return false;
            }
            o.config = value;
        } else if (name == "--pcap") {
            if (value.empty()) {
                error = "option --pcap: empty file name";
                return false;
            }
            o.pcap = value;
        } else if (name == "--loss") {
            char* end = nullptr;
            const double d = std::strtod(value.c_str(), &end);
            if (end == value.c_str() || *end != '\0' || !(d >= 0.0 && d <= 1.0)) {
                error = "option --loss: '" + value + "' is not a probability in 0..1";
                return false;
            }
            o.loss = d;
        } else if (name == "--weights") {
            if (!parse_weights(value, o.weights)) {
                error = "option --weights: '" + value +
                        "' is not 1..16 comma-separated weights in 1..65535";
                return false;
            }
        } else if (name == "--cap-gbps") {
            char* end = nullptr;
            const double d = std::strtod(value.c_str(), &end);
            if (end == value.c_str() || *end != '\0' || !(d > 0.0 && d <= 100.0)) {
                error = "option --cap-gbps: '" + value + "' is not a rate in (0, 100] Gb/s";
                return false;
            }
            o.cap_gbps = d;
        } else if (name == "--phase") {
            if (!parse_time_ps(value, v) || v < 200'000'000 || v > 100'000'000'000) {
                error = "option --phase: '" + value + "' is not a time in 200us..100ms";
                return false;
            }
            o.phase_ns = v / 1000;
        } else {
            error = "unknown option '" + name + "'";
            return false;
        }
    }
    return check_options(o, error);
}

}  // namespace chio::tb
