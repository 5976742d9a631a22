#include "testbenches/scenarios/qos.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cosim/sc_bus.h"
#include "driver/manager.h"
#include "testbenches/scenarios/qos_shares.h"
#include "testbenches/scenarios/rate_meter.h"
#include "testbenches/scenarios/rc_pair.h"

namespace chio::tb {

namespace {

constexpr double WINDOW_NS = 100'000.0;  // the measurement window
constexpr double WARMUP_NS = 100'000.0;  // before phase 1: queues fill, buckets settle
constexpr double SETTLE_NS = 100'000.0;  // after a reconfiguration, before measuring
constexpr double SHARE_TOL = 0.02;       // the targets, relative
constexpr double CAP_TOL = 0.01;
constexpr uint64_t DRAIN_NS = 20'000'000;

// One VF: its bus and driver, two of its QPs joined by RC, and the WRITEs it keeps in flight.
struct vf_stream {
    uint16_t fn = 0;
    std::unique_ptr<cosim::sc_bus> bus;
    std::unique_ptr<drv::device> dev;
    rc_pair pair;
    bool busy = true;  // reposts on completion
    uint64_t posted = 0, completed = 0, lost = 0, duplicated = 0, errors = 0;
};

struct phase_spec {
    const char* name;
    std::map<uint32_t, share_config> cfg;  // the busy VFs, keyed by function
};

struct run_state {
    const sim_options* o = nullptr;
    scenario_result* res = nullptr;
    std::vector<std::unique_ptr<vf_stream>> vfs;
    rate_meter* meter = nullptr;  // where the port's frames go; null: not measuring
};

bool post_write(run_state& st, vf_stream& v) {
    const uint32_t size = st.o->size;
    const uint64_t slot = v.posted % st.o->depth;
    drv::send_wr w;
    w.wr_id = v.posted;
    w.opcode = spec::wqe_opcode::RDMA_WRITE;
    w.sg_list[0] = {v.pair.a.addr(slot * size), size, v.pair.a.lkey};
    w.num_sge = 1;
    w.remote_addr = v.pair.b.addr(slot * size);
    w.rkey = v.pair.b.rkey;
    if (v.pair.a.qp->post_send(w) != 0) return false;
    ++v.posted;
    ++st.res->sends;
    return true;
}

// RC completes in order: wr_id must be the next one. A skipped id is lost, an old one repeated.
void poll_vf(run_state& st, vf_stream& v) {
    spec::cqe wc[16];
    const int n = v.pair.a.scq->poll(wc, 16);
    for (int k = 0; k < n; ++k) {
        ++st.res->seen;
        if (wc[k].status != 0) ++v.errors;
        if (wc[k].wr_id < v.completed) {
            ++v.duplicated;
            continue;
        }
        v.lost += wc[k].wr_id - v.completed;
        v.completed = wc[k].wr_id + 1;
        if (v.busy && !post_write(st, v)) ++v.errors;
    }
}

// Polls every VF and keeps the busy ones full until simulated time `until_ns`.
void pump(run_state& st, drv::bus& io, double until_ns) {
    while (static_cast<double>(io.now_ns()) < until_ns) {
        for (auto& v : st.vfs) poll_vf(st, *v);
        io.relax();
    }
}

nlohmann::json measure(run_state& st, const phase_spec& ph, const rate_meter& m, bool& shares_ok,
                       bool& cap_avg_ok, bool& cap_win_ok) {
    double total = 0.0;
    for (const auto& [fn, c] : ph.cfg) total += m.flow(fn).avg_gbps;
    const std::map<uint32_t, double> fair = fair_rates(ph.cfg, total);
    std::map<uint32_t, double> want_share;
    nlohmann::json vfs = nlohmann::json::array();
    shares_ok = cap_avg_ok = cap_win_ok = true;
    for (const auto& v : st.vfs) {
        const flow_rate r = m.flow(v->fn);
        const auto it = ph.cfg.find(v->fn);
        const bool busy = it != ph.cfg.end();
        const double configured = busy && total > 0 ? fair.at(v->fn) / total : 0.0;
        if (busy) want_share[v->fn] = configured;
        const double cap = busy ? it->second.cap_gbps : 0.0;
        nlohmann::json e = {{"name", "vf" + std::to_string(v->fn)},
                            {"fn", v->fn},
                            {"weight", st.o->weights[v->fn - 1u]},
                            {"busy", busy},
                            {"configured_share", configured},
                            {"achieved_share", r.share},
                            {"cap_gbps", nullptr},
                            {"achieved_gbps", r.avg_gbps},
                            {"max_window_gbps", r.max_window_gbps},
                            {"min_window_gbps", r.min_window_gbps},
                            {"windows", r.windows}};
        if (cap > 0.0) {
            e["cap_gbps"] = cap;
            cap_avg_ok = cap_avg_ok && std::fabs(r.avg_gbps - cap) <= CAP_TOL * cap;
            cap_win_ok = cap_win_ok && r.max_window_gbps <= (1.0 + CAP_TOL) * cap;
        } else if (busy) {
            shares_ok = shares_ok && std::fabs(r.share - configured) <= SHARE_TOL * configured;
        } else {
            shares_ok = shares_ok && r.bits == 0;  // an idle VF sends nothing
        }
        vfs.push_back(e);
    }
    return {{"name", ph.name},
            {"vfs", vfs},
            {"jain_index", m.jain_over_shares(want_share)},
            {"total_gbps", total},
            {"duration_ns", m.duration_ns()}};
}

void print_phase(const nlohmann::json& p) {
    std::printf("  phase %-8s %.0f us, port carried %.3f Gb/s, Jain's index %.5f\n",
                p["name"].get<std::string>().c_str(), p["duration_ns"].get<double>() / 1000.0,
                p["total_gbps"].get<double>(), p["jain_index"].get<double>());
    std::printf("    %-5s %6s %10s %10s %8s %10s %11s\n", "VF", "weight", "configured", "achieved",
                "cap", "Gb/s", "max 100us");
    for (const auto& v : p["vfs"]) {
        char cap[16] = "-";
        if (!v["cap_gbps"].is_null()) {
            std::snprintf(cap, sizeof cap, "%.2f", v["cap_gbps"].get<double>());
        }
        std::printf("    %-5s %6u %10.4f %10.4f %8s %10.3f %11.3f%s\n",
                    v["name"].get<std::string>().c_str(), v["weight"].get<uint32_t>(),
                    v["configured_share"].get<double>(), v["achieved_share"].get<double>(), cap,
                    v["achieved_gbps"].get<double>(), v["max_window_gbps"].get<double>(),
                    v["busy"].get<bool>() ? "" : "  (idle)");
    }
}

bool bring_up(run_state& st, cosim::platform& host, drv::bus& pf_bus, drv::device& pf,
              drv::manager& mgr, std::string& err) {
    const auto n = static_cast<unsigned>(st.o->weights.size());
    if (!pf.probe()) {
        err = "PF probe: " + pf.last_error();
        return false;
    }
    if (!mgr.enable_vfs(n).ok()) {
        err = "enable_vfs(" + std::to_string(n) + ") refused";
        return false;
    }
    (void)pf_bus;
    for (uint16_t fn = 1; fn <= n; ++fn) {
        // Locally administered unicast MAC and ::ffff:10.0.1.fn, spoof check on.
        if (!mgr.set_address(fn, 0x02C420000000ull | fn, 0, 0x0000FFFF0A000100ull | fn, true)
                 .ok() ||
            !mgr.set_vf_qos(fn, st.o->weights[fn - 1u], 0).ok()) {
            err = "manager refused VF " + std::to_string(fn) + "'s address or QoS";
            return false;
        }
        auto v = std::make_unique<vf_stream>();
        v->fn = fn;
        cosim::sc_bus_params bp;
        bp.fn = fn;
        v->bus = std::make_unique<cosim::sc_bus>(host.rc, host.mem, host.irq, bp);
        v->dev = std::make_unique<drv::device>(*v->bus);
        if (!v->dev->probe()) {
            err = "VF " + std::to_string(fn) + " probe: " + v->dev->last_error();
            return false;
        }
        rc_pair_options po;
        po.sq_log = 6;
        po.buffer_bytes = uint64_t{st.o->depth} * st.o->size + 4096;
        if (!v->pair.open(*v->dev, *v->dev, po, err)) {
            err = "VF " + std::to_string(fn) + ": " + err;
            return false;
        }
        for (uint64_t s = 0; s < st.o->depth; ++s) {
            fill_pattern(v->pair.a.cpu() + s * st.o->size, st.o->size, st.o->seed * 64 + fn, s);
        }
        st.vfs.push_back(std::move(v));
    }
    return true;
}

void run(cosim::platform& host, drv::bus& io, const sim_options& o, scenario_result& res) {
    run_state st;
    st.o = &o;
    res.message_size = o.size;
    st.res = &res;
    host.adapter.probes().tx = [&st](uint16_t fn, uint32_t, uint64_t bytes, sc_core::sc_time b,
                                     sc_core::sc_time e) {
        if (st.meter != nullptr && fn != 0) {
            st.meter->record(fn, b.to_seconds() * 1e9, e.to_seconds() * 1e9, bytes * 8);
        }
    };
    drv::device pf(io);
    drv::manager mgr(pf, [&o](const std::string& line) {
        if (!o.quiet) std::printf("  %s\n", line.c_str());
    });
    std::string err;
    if (!bring_up(st, host, io, pf, mgr, err)) {
        res.fail(err);
        return;
    }
    const auto n = static_cast<uint16_t>(o.weights.size());
    // Phase configurations: the VF of the largest weight is capped in phase 2 (it is the one
    // whose weighted share most exceeds a cap); the second VF goes idle in phase 3.
    uint16_t capped = 1;
    for (uint16_t fn = 1; fn <= n; ++fn) {
        if (o.weights[fn - 1u] > o.weights[capped - 1u]) capped = fn;
    }
    const uint16_t idle = n >= 2 ? 2 : 1;
    phase_spec phases[3] = {{"weights", {}}, {"capped", {}}, {"idle", {}}};
    for (uint16_t fn = 1; fn <= n; ++fn) {
        const share_config c{o.weights[fn - 1u], 0.0};
        phases[0].cfg[fn] = c;
        phases[1].cfg[fn] = c;
        if (fn == capped) phases[1].cfg[fn].cap_gbps = o.cap_gbps;
        if (fn != idle) phases[2].cfg[fn] = c;
    }
    for (auto& v : st.vfs) {
        for (uint32_t k = 0; k < o.depth; ++k) {
            if (!post_write(st, *v)) {
                res.fail("post_send refused on VF " + std::to_string(v->fn));
                return;
            }
        }
    }
    const double ph = static_cast<double>(o.phase_ns);
    auto now = [&io] { return static_cast<double>(io.now_ns()); };
    pump(st, io, now() + WARMUP_NS);
    rate_meter meters[3] = {rate_meter(WINDOW_NS), rate_meter(WINDOW_NS), rate_meter(WINDOW_NS)};
    for (int p = 0; p < 3; ++p) {
        if (p == 1 && !mgr.set_vf_qos(capped, o.weights[capped - 1u],
                                      static_cast<uint64_t>(std::llround(o.cap_gbps * 1000.0)))
                           .ok()) {
            res.fail("set_vf_qos cap refused");
        }
        if (p == 2) {
            mgr.set_vf_qos(capped, o.weights[capped - 1u], 0);
            st.vfs[idle - 1u]->busy = false;
        }
        if (p == 2) {
            // The idle VF's requests in flight finish before measuring: idle means no frame.
            vf_stream& v = *st.vfs[idle - 1u];
            const double limit = now() + DRAIN_NS;
            while (v.completed < v.posted && now() < limit) pump(st, io, now() + 1000.0);
        }
        if (p > 0) pump(st, io, now() + SETTLE_NS);
        meters[p].start(now());
        st.meter = &meters[p];
        pump(st, io, now() + ph);
        meters[p].stop(now());
        st.meter = nullptr;
    }
    // Drain: every WRITE posted completes, once; then nothing more arrives.
    for (auto& v : st.vfs) v->busy = false;
    const double deadline = now() + DRAIN_NS;
    auto drained = [&st] {
        for (auto& v : st.vfs) {
            if (v->completed < v->posted) return false;
        }
        return true;
    };
    while (!drained() && now() < deadline) pump(st, io, now() + 1000.0);
    pump(st, io, now() + 100'000.0);
    host.adapter.probes().tx = nullptr;

    nlohmann::json out_phases = nlohmann::json::array();
    bool targets[3][3] = {};
    for (int p = 0; p < 3; ++p) {
        out_phases.push_back(
            measure(st, phases[p], meters[p], targets[p][0], targets[p][1], targets[p][2]));
    }
    for (auto& v : st.vfs) {
        res.expected += v->posted;
        res.lost += v->lost + (v->posted > v->completed ? v->posted - v->completed : 0);
        res.duplicated += v->duplicated;
        res.error_completions += v->errors;
        // Every slot's last WRITE carried the same bytes as its first: the destination must
        // equal the source, byte for byte.
        const uint64_t bytes = uint64_t{o.depth} * o.size;
        for (uint64_t s = 0; s < o.depth; ++s) {
            if (std::memcmp(v->pair.a.cpu() + s * o.size, v->pair.b.cpu() + s * o.size, o.size) !=
                0) {
                ++res.data_mismatches;
            }
        }
        res.bytes_verified += bytes;
        v->pair.close();
    }
    res.seen -= res.duplicated;
    nlohmann::json q = out_phases[0];
    q.erase("name");
    q["message_size"] = o.size;
    q["depth"] = o.depth;
    q["capped_vf"] = "vf" + std::to_string(capped);
    q["idle_vf"] = "vf" + std::to_string(idle);
    q["phases"] = out_phases;
    q["targets"] = {{"shares_within_2pct", targets[0][0] && targets[1][0]},
                    {"cap_avg_within_1pct", targets[1][1]},
                    {"cap_windows_within_1pct", targets[1][2]},
                    {"idle_redistributed_within_2pct", targets[2][0]}};
    res.sections["qos"] = q;
    if (!o.quiet) {
        for (const auto& p : out_phases) print_phase(p);
    }
    for (const auto& [k, v] : q["targets"].items()) {
        if (!v.get<bool>()) res.fail("qos target missed: " + k);
    }
}

}  // namespace

void start_qos(cosim::topology& topo, const sim_options& o, scenario_result& res) {
    cosim::platform& host = topo.host(0);
    // 16 KiB WRITEs, eight in flight per VF, unless given: every VF always has work queued, and
    // each message's turn on the serial send path (WQE fetch + whole-payload gather) stays short
    // enough that a capped VF is served on time (64 KiB messages make it late: see
    // docs/virtualization.md, "Scenarios: qos and isolation").
    auto opts = std::make_shared<sim_options>(o);
    if (!o.size_given) opts->size = 16 << 10;
    if (!o.depth_given) opts->depth = 8;
    if (opts->size == 0) {
        res.fail("qos: --size must be at least 1 byte");
        return;
    }
    host.run_driver([&host, opts, &res](drv::bus& io) { run(host, io, *opts, res); });
}

}  // namespace chio::tb
