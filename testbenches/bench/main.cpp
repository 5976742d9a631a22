// chio-bench: perftest-style programs on two simulated hosts joined by one link
// (docs/performance.md).
//
//   chio-bench NAME [--sizes LIST] [--qps N] [--outstanding N] [--batch N] [--iters N]
//              [--queue-engine model|rtl|lockstep] [--stats FILE] [--plot FILE] [--quiet]
//              [--pcie-order pcie|fcfs] [--pcie KEY=VALUE]... [--adapter KEY=VALUE]...
//
// Bandwidth programs print, beside each measured figure, the analytic limit
// min(port goodput, PCIe goodput) from the same parameters (testbenches/bench/analytic.h).
// Exit status: 0 when every point completed, 1 when one failed, 2 on a bad command line.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <systemc>
#include <vector>

#include "cosim/adapter_params_cli.h"
#include "cosim/pcie_link_params.h"
#include "cosim/topology.h"
#include "testbenches/bench/analytic.h"
#include "testbenches/bench/programs.h"

namespace {

using namespace chio::tb::bench;
namespace analytic = chio::tb::analytic;

constexpr uint32_t MTU_BYTES = 4096;  // the path MTU the programs connect with (MTU_4096)
constexpr uint64_t MAX_SIZE = 1u << 20;

const char* help_text() {
    return "Usage: chio-bench NAME [options]\n\n"
           "Programs (pair topology: host0 posts, host1 serves):\n"
           "  write_bw, read_bw, send_bw   bandwidth over a size sweep, beside the analytic limit\n"
           "  write_lat, send_lat, read_lat  post-to-completion latency, p50 and p99\n"
           "  msg_rate                     64 B RDMA WRITEs per second: one doorbell per WQE, one\n"
           "                               per --batch WQEs, and one per WQE carrying the WQE\n\n"
           "Options:\n"
           "  --sizes LIST         comma-separated message sizes, 1..1048576\n"
           "                       (default 2..1048576 in powers of two; msg_rate 64)\n"
           "  --qps N              RC QPs, 1..16 (default 1)\n"
           "  --outstanding N      WRs in flight per QP, 1..256 (default 16; latency: 1;\n"
           "                       msg_rate: at least two batches)\n"
           "  --batch N            WRs per doorbell, 1..256 (default 1; msg_rate's batched run\n"
           "                       uses max(N, 2))\n"
           "  --iters N            messages per point (default: about 16 MiB per point, 32..1000;\n"
           "                       latency 200; msg_rate 2000)\n"
           "  --queue-engine KIND  model | rtl | lockstep (default model)\n"
           "  --stats FILE         results as JSON\n"
           "  --plot FILE          PNG of the curve with the analytic limit (needs gnuplot)\n"
           "  --pcie-order ORDER   pcie (default: posted writes pass queued reads and\n"
           "                       completions, PCIe table 2-39) | fcfs (one queue per\n"
           "                       direction, for comparison)\n"
           "  --wqe-in-doorbell    write each WQE into the doorbell page with its doorbell\n"
           "                       (write-combined): no WQE fetch by DMA; with --batch > 1\n"
           "                       only a doorbell for one WQE carries it\n"
           "  --pcie KEY=VALUE     one PCIe link parameter of both hosts, repeatable (keys below;\n"
           "                       defaults and sources in docs/performance.md)\n"
           "  --adapter KEY=VALUE  one adapter or wire parameter of both hosts, repeatable (keys\n"
           "                       below; sources in docs/performance.md)\n"
           "  --quiet              print only errors\n";
}

bool parse_u64(const std::string& s, uint64_t lo, uint64_t hi, uint64_t& out) {
    if (s.empty() || s[0] == '-' || s[0] == '+') return false;
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (errno != 0 || end == s.c_str() || *end != '\0' || v < lo || v > hi) return false;
    out = v;
    return true;
}

// One-line error naming the option and the value on failure.
bool parse_args(const std::vector<std::string>& args, bench_options& o, std::string& err) {
    if (args.empty()) {
        err = "missing NAME (see chio-bench --help)";
        return false;
    }
    o.name = args[0];
    if (!parse_program(o.name, o.prog)) {
        err = "unknown program '" + o.name + "' (see chio-bench --help)";
        return false;
    }
    for (size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--quiet") {
            o.quiet = true;
            continue;
        }
        if (a == "--wqe-in-doorbell") {
            o.wqe_in_doorbell = true;
            continue;
        }
        if (i + 1 >= args.size()) {
            err = a.rfind("--", 0) == 0 ? "option " + a + " needs a value"
                                        : "unexpected argument '" + a + "'";
            return false;
        }
        const std::string& v = args[++i];
        uint64_t n = 0;
        auto num = [&](uint64_t lo, uint64_t hi) {
            if (parse_u64(v, lo, hi, n)) return true;
            err = a + " '" + v + "': expected an integer " + std::to_string(lo) + ".." +
                  std::to_string(hi);
            return false;
        };
        if (a == "--sizes") {
            o.sizes.clear();
            size_t start = 0;
            for (;;) {
                const size_t comma = v.find(',', start);
                const std::string item = v.substr(start, comma - start);
                if (!parse_u64(item, 1, MAX_SIZE, n)) {
                    err = "--sizes '" + v + "': '" + item + "' is not a size 1..1048576";
                    return false;
                }
                o.sizes.push_back(n);
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        } else if (a == "--qps") {
            if (!num(1, 16)) return false;
            o.qps = static_cast<uint32_t>(n);
        } else if (a == "--outstanding") {
            if (!num(1, 256)) return false;
            o.outstanding = static_cast<uint32_t>(n);
        } else if (a == "--batch") {
            if (!num(1, 256)) return false;
            o.batch = static_cast<uint32_t>(n);
        } else if (a == "--iters") {
            if (!num(1, 100000000)) return false;
            o.iters = n;
        } else if (a == "--queue-engine") {
            if (!chio::model::parse_queue_engine_kind(v, o.queue_engine)) {
                err = "--queue-engine '" + v + "': expected model, rtl or lockstep";
                return false;
            }
        } else if (a == "--stats") {
            o.stats = v;
        } else if (a == "--plot") {
            o.plot = v;
        } else if (a == "--pcie-order") {
            if (v != "pcie" && v != "fcfs") {
                err = "--pcie-order '" + v + "': expected pcie or fcfs";
                return false;
            }
            o.pcie_fcfs = v == "fcfs";
        } else if (a == "--pcie") {
            if (!chio::cosim::set_pcie_param(o.pcie, v, err)) return false;
        } else if (a == "--adapter") {
            chio::cosim::topology_params check;  // the setting alone; run() applies it
            if (!chio::cosim::set_adapter_param(check, v, err)) return false;
            o.adapter.push_back(v);
        } else {
            err = "unknown option '" + a + "' (see chio-bench --help)";
            return false;
        }
    }
    if (o.batch > o.outstanding && o.prog != program::msg_rate) {
        err = "--batch " + std::to_string(o.batch) + " exceeds --outstanding " +
              std::to_string(o.outstanding) + " (a batch must fit in flight)";
        return false;
    }
    return true;
}

analytic::stream_op op_of(program p) {
    if (p == program::read_bw || p == program::read_lat) return analytic::stream_op::read;
    if (p == program::send_bw || p == program::send_lat) return analytic::stream_op::send;
    return analytic::stream_op::write;
}

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
    return v[i];
}

// Per host, per direction and TLP class: how much went over the link and how long it queued.
nlohmann::json link_stats(const chio::cosim::pcie_link& l) {
    using chio::cosim::tlp_class;
    auto cls = [](const chio::cosim::pcie_class_stats& s) {
        return nlohmann::json{{"tlps", s.tlps},
                              {"wire_bytes", s.wire_bytes},
                              {"transfers", s.transfers},
                              {"avg_wait_ns", s.transfers ? s.wait_ns / s.transfers : 0.0},
                              {"max_wait_ns", s.max_wait_ns}};
    };
    nlohmann::json j;
    const std::pair<const char*, tlp_class> classes[] = {{"posted", tlp_class::posted},
                                                         {"non_posted", tlp_class::non_posted},
                                                         {"completion", tlp_class::completion}};
    for (const auto& [name, c] : classes) {
        j["up"][name] = cls(l.up_stats(c));
        j["down"][name] = cls(l.down_stats(c));
    }
    return j;
}

// How a point posts its WQEs: "N per doorbell" or "WQE in doorbell".
std::string run_label(const nlohmann::json& p) {
    if (p["wqe_in_doorbell"].get<bool>()) return "WQE in doorbell";
    return std::to_string(p["batch"].get<unsigned>()) + " per doorbell";
}

// gnuplot from a data file next to the PNG; false with `err` on failure.
bool plot(const bench_options& o, const nlohmann::json& pts, std::string& err) {
    const std::string dat = o.plot + ".dat", gp = o.plot + ".gp";
    std::ofstream d(dat);
    const bool lat = is_latency(o.prog);
    for (const auto& p : pts) {
        if (lat) {
            d << p["size_bytes"].get<uint64_t>() << " " << p["p50_ns"].get<double>() << " "
              << p["p99_ns"].get<double>() << "\n";
        } else {
            d << (o.prog == program::msg_rate ? p["batch"].get<uint64_t>()
                                              : p["size_bytes"].get<uint64_t>())
              << " " << p["gbps"].get<double>() << " " << p["limit_gbps"].get<double>() << " "
              << p["msgs_per_s"].get<double>() / 1e6 << " \"" << run_label(p) << "\"\n";
        }
    }
    d.close();
    std::ofstream g(gp);
    g << "set terminal pngcairo size 900,560 noenhanced\n"
      << "set output '" << o.plot << "'\n"
      << "set grid\nset key top left\n"
      << "set title 'chio-bench " << o.name << " (queue engine "
      << chio::model::to_string(o.queue_engine) << ", " << o.qps << " QP, " << outstanding_of(o)
      << " outstanding)'\n";
    if (o.prog == program::msg_rate) {
        g << "set ylabel 'million 64 B messages / s'\nset yrange [0:*]\n"
          << "set style fill solid 0.5\nset boxwidth 0.6\nset xrange [-0.5:*]\n"
          << "plot '" << dat << "' using 0:4:xtic(5) with boxes title 'model'\n";
    } else if (lat) {
        g << "set xlabel 'message size (bytes)'\nset ylabel 'latency (ns)'\n"
          << "set logscale x 2\nset format x '%.0b%B'\nset yrange [0:*]\n"
          << "plot '" << dat << "' using 1:2 with linespoints lw 2 title 'p50', '" << dat
          << "' using 1:3 with linespoints lw 2 title 'p99'\n";
    } else {
        g << "set xlabel 'message size (bytes)'\nset ylabel 'goodput (Gb/s)'\n"
          << "set logscale x 2\nset format x '%.0b%B'\nset yrange [0:*]\n"
          << "plot '" << dat << "' using 1:3 with lines lw 2 dt 2 title "
          << "'analytic limit min(port, PCIe)', '" << dat
          << "' using 1:2 with linespoints lw 2 title 'model'\n";
    }
    g.close();
    const std::string cmd = "gnuplot '" + gp + "'";
    if (std::system(cmd.c_str()) != 0) {
        err = "gnuplot failed on " + gp + " (is gnuplot installed?)";
        return false;
    }
    std::remove(dat.c_str());
    std::remove(gp.c_str());
    return true;
}

int run(const bench_options& o) {
    const auto wall0 = std::chrono::steady_clock::now();
    chio::cosim::topology_params tp;
    tp.kind = chio::cosim::topology_kind::pair;
    tp.host.adapter.qe_kind = o.queue_engine;
    tp.host.adapter.qe_options.now_ps = [] {
        return static_cast<uint64_t>(sc_core::sc_time_stamp().value() /
                                     sc_core::sc_time(1, sc_core::SC_PS).value());
    };
    tp.host.link = o.pcie;
    tp.host.link.posted_passes = !o.pcie_fcfs;
    for (const std::string& kv : o.adapter) {
        std::string err;
        if (!chio::cosim::set_adapter_param(tp, kv, err)) throw std::invalid_argument(err);
    }
    auto topo = std::make_unique<chio::cosim::topology>(tp);
    bench_result res;
    start(*topo, o, res);
    std::string sim_error;
    try {
        sc_core::sc_start();
    } catch (const std::exception& e) {
        sim_error = e.what();  // a lockstep mismatch stops the run with its report
    }
    const double sim_ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
    uint64_t mismatches = 0, wqes_from_doorbell = 0, wqe_reads = 0, recv_wqe_reads = 0;
    nlohmann::json pcie = nlohmann::json::array();
    for (unsigned i = 0; i < topo->size(); ++i) {
        mismatches += topo->host(i).adapter.engine().mismatches();
        wqes_from_doorbell += topo->host(i).adapter.counters().wqes_from_doorbell;
        wqe_reads += topo->host(i).adapter.counters().wqe_reads;
        recv_wqe_reads += topo->host(i).adapter.counters().recv_wqe_reads;
        pcie.push_back(link_stats(topo->host(i).rc.link()));
    }
    topo.reset();
    const double wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    if (res.error.empty() && !sim_error.empty()) res.error = sim_error;
    if (res.error.empty() && mismatches) res.error = "lockstep mismatches";

    const chio::cosim::pcie_link_params link = tp.host.link;
    const double port_gbps = tp.host.adapter.port.gbps;
    const bool lat = is_latency(o.prog);
    nlohmann::json pts = nlohmann::json::array();
    uint64_t wrs = 0;
    for (const point& p : res.points) {
        wrs += p.iters;
        nlohmann::json j;
        j["size_bytes"] = p.size;
        j["iters"] = p.iters;
        j["batch"] = p.batch;
        j["wqe_in_doorbell"] = p.wqe_in_doorbell;
        j["sim_ns"] = p.sim_ns;
        j["wall_s"] = p.wall_s;
        j["cpu_s"] = p.cpu_s;
        j["slowdown"] = p.sim_ns > 0 ? p.wall_s / (p.sim_ns * 1e-9) : 0.0;
        j["wr_per_wall_s"] = p.wall_s > 0 ? static_cast<double>(p.iters) / p.wall_s : 0.0;
        j["ok"] = p.ok;
        if (lat) {
            j["p50_ns"] = percentile(p.lat_ns, 0.50);
            j["p99_ns"] = percentile(p.lat_ns, 0.99);
            j["min_ns"] = percentile(p.lat_ns, 0.0);
        } else {
            const auto l =
                analytic::stream_limit(link, port_gbps, MTU_BYTES, op_of(o.prog), p.size);
            const double secs = p.sim_ns * 1e-9;
            j["gbps"] = secs > 0 ? static_cast<double>(p.size * p.iters) * 8 / secs / 1e9 : 0.0;
            j["msgs_per_s"] = secs > 0 ? static_cast<double>(p.iters) / secs : 0.0;
            j["limit_gbps"] = l.gbps();
            j["limit_parts_gbps"] = {{"pcie_src", l.pcie_src_gbps},
                                     {"port", l.port_gbps},
                                     {"pcie_dst", l.pcie_dst_gbps}};
        }
        pts.push_back(j);
    }
    nlohmann::json out;
    out["bench"] = o.name;
    out["queue_engine"] = chio::model::to_string(o.queue_engine);
    out["qps"] = o.qps;
    out["outstanding"] = outstanding_of(o);
    out["batch"] = o.batch;
    out["points"] = pts;
    out["wall_s"] = wall_s;
    out["cpu_s"] = static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
    out["sim_time_ns"] = sim_ns;
    out["slowdown"] = sim_ns > 0 ? wall_s / (sim_ns * 1e-9) : 0.0;
    out["wr_per_wall_s"] = wall_s > 0 ? static_cast<double>(wrs) / wall_s : 0.0;
    out["pcie"] = pcie;
    out["wqes_from_doorbell"] = wqes_from_doorbell;  // WQEs the adapter did not fetch by DMA
    out["wqe_reads"] = wqe_reads;                    // descriptor DMA reads (one per batched fetch)
    out["recv_wqe_reads"] = recv_wqe_reads;  // receive descriptor reads (one per read-ahead)
    out["passed"] = res.error.empty();
    out["error"] = res.error;
    out["params"] = {{"pcie_tlp_rate_gbps", link.tlp_rate_gbps},
                     {"mps", link.mps},
                     {"mrrs", link.mrrs},
                     {"req_overhead", link.req_overhead},
                     {"cpl_overhead", link.cpl_overhead},
                     {"port_gbps", port_gbps},
                     {"mtu", MTU_BYTES}};
    // Every PCIe link parameter the run used (defaults and --pcie settings), by --pcie key.
    nlohmann::json& pp = out["pcie_params"] = nlohmann::json::object();
    for (const auto& [key, value] : chio::cosim::pcie_param_values(link)) pp[key] = value;
    pp["posted_passes"] = link.posted_passes;
    // Every adapter and wire parameter the run used (defaults and --adapter settings), by key.
    nlohmann::json& ap = out["adapter_params"] = nlohmann::json::object();
    for (const auto& [key, value] : chio::cosim::adapter_param_values(tp)) ap[key] = value;
    if (!o.stats.empty()) {
        std::ofstream f(o.stats);
        if (!f) throw std::runtime_error("cannot write --stats file '" + o.stats + "'");
        f << out.dump(2) << "\n";
    }
    if (!o.quiet) {
        std::printf("chio-bench %s  queue engine %s  %u QP  %u outstanding  batch %u%s\n",
                    o.name.c_str(), chio::model::to_string(o.queue_engine), o.qps,
                    outstanding_of(o), o.batch, o.wqe_in_doorbell ? "  WQE in doorbell" : "");
        if (lat) {
            std::printf("%10s %8s %10s %10s %10s %10s\n", "bytes", "iters", "min_ns", "p50_ns",
                        "p99_ns", "slowdown");
        } else {
            std::printf("%10s %16s %8s %10s %10s %7s %12s %12s %9s %12s\n", "bytes", "posting",
                        "iters", "Gb/s", "limit", "%limit", "Mmsg/s", "WR/wall-s", "slowdown",
                        "WR/cpu-s");
        }
        for (const auto& j : pts) {
            if (lat) {
                std::printf("%10llu %8llu %10.0f %10.0f %10.0f %10.1f\n",
                            static_cast<unsigned long long>(j["size_bytes"].get<uint64_t>()),
                            static_cast<unsigned long long>(j["iters"].get<uint64_t>()),
                            j["min_ns"].get<double>(), j["p50_ns"].get<double>(),
                            j["p99_ns"].get<double>(), j["slowdown"].get<double>());
            } else {
                const double g = j["gbps"], l = j["limit_gbps"];
                const double cpu = j["cpu_s"];
                std::printf("%10llu %16s %8llu %10.2f %10.2f %6.1f%% %12.3f %12.0f %9.1f %12.0f\n",
                            static_cast<unsigned long long>(j["size_bytes"].get<uint64_t>()),
                            run_label(j).c_str(),
                            static_cast<unsigned long long>(j["iters"].get<uint64_t>()), g, l,
                            l > 0 ? 100 * g / l : 0.0, j["msgs_per_s"].get<double>() / 1e6,
                            j["wr_per_wall_s"].get<double>(), j["slowdown"].get<double>(),
                            cpu > 0 ? j["iters"].get<double>() / cpu : 0.0);
            }
        }
        std::printf(
            "wall %.3f s (cpu %.3f s)  simulated %.3f us  slowdown %.1fx  %.0f WR per wall "
            "second\n",
            wall_s, out["cpu_s"].get<double>(), sim_ns / 1000, out["slowdown"].get<double>(),
            out["wr_per_wall_s"].get<double>());
        for (size_t h = 0; h < pcie.size(); ++h) {
            for (const char* dir : {"up", "down"}) {
                std::printf("pcie host%zu %-4s", h, dir);
                for (const char* c : {"posted", "non_posted", "completion"}) {
                    const auto& s = pcie[h][dir][c];
                    std::printf("  %s %llu TLPs, wait avg %.0f max %.0f ns", c,
                                static_cast<unsigned long long>(s["tlps"].get<uint64_t>()),
                                s["avg_wait_ns"].get<double>(), s["max_wait_ns"].get<double>());
                }
                std::printf("\n");
            }
        }
        if (!o.stats.empty()) std::printf("stats %s\n", o.stats.c_str());
    }
    if (!o.plot.empty() && !pts.empty()) {
        std::string err;
        if (!plot(o, pts, err)) {
            std::fprintf(stderr, "chio-bench: %s\n", err.c_str());
            return 1;
        }
        if (!o.quiet) std::printf("plot %s\n", o.plot.c_str());
    }
    if (!res.error.empty()) {
        std::fprintf(stderr, "chio-bench: %s\n", res.error.c_str());
        return 1;
    }
    return 0;
}

}  // namespace

int sc_main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    for (const auto& a : args) {
        if (a == "--help" || a == "-h") {
            std::printf(
                "%s\nPCIe link parameters (--pcie KEY=VALUE; KEY (range, default): "
                "meaning):\n%s\nAdapter parameters (--adapter KEY=VALUE; KEY (range, "
                "default): meaning):\n%s",
                help_text(), chio::cosim::pcie_param_help().c_str(),
                chio::cosim::adapter_param_help().c_str());
            return 0;
        }
    }
    bench_options o;
    std::string err;
    if (!parse_args(args, o, err)) {
        std::fprintf(stderr, "chio-bench: %s\n", err.c_str());
        return 2;
    }
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chio-bench: %s\n", e.what());
        return 1;
    }
}

int main(int argc, char** argv) {
    // SystemC's banner goes to stderr; users of chio-bench see the table instead.
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
