#include "testbenches/scenarios/options.h"

#include <cerrno>
#include <cstdlib>

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

}  // namespace

const char* options_help() {
    return "Options (every scenario):\n"
           "  --seed N                 random seed (default 1); the run is reproducible from it\n"
           "  --queue-engine KIND      model | rtl | lockstep (default model)\n"
           "  --trace FILE             write a waveform (.fst or .vcd)\n"
           "  --stats FILE             write results as JSON (docs/stats.md)\n"
           "  --pcap FILE              write the fabric's traffic as a pcap (RoCEv2)\n"
           "  --quiet                  print only errors\n"
           "Options (traffic):\n"
           "  --count N                messages (pingpong: round trips) (default 64)\n"
           "  --size N                 bytes per message, 0..1048576 (default 4096; rdma: max)\n"
           "  --depth N                messages in flight, 1..1024 (default 16)\n"
           "  --hosts N                ud: hosts on the switch, 2..64 (default 3)\n"
           "  --events                 pingpong: sleep on completion events instead of polling\n"
           "  --loss P                 link loss probability per frame, 0..1 (default 0)\n";
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
        } else if (name == "--count") {
            if (!number(100000000)) return false;
            o.count = v;
        } else if (name == "--size") {
            if (!number(1u << 20)) return false;
            o.size = static_cast<uint32_t>(v);
        } else if (name == "--depth") {
            if (!number(1024)) return false;
            if (v == 0) {
                error = "option --depth: '0' is not a number in 1..1024";
                return false;
            }
            o.depth = static_cast<uint32_t>(v);
        } else if (name == "--hosts") {
            if (!number(64)) return false;
            if (v < 2) {
                error = "option --hosts: '" + value + "' is not a number in 2..64";
                return false;
            }
            o.hosts = static_cast<uint32_t>(v);
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
        } else {
            error = "unknown option '" + name + "'";
            return false;
        }
    }
    return true;
}

}  // namespace chio::tb
