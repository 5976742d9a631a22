#include "testbenches/scenarios/migrate.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <systemc>

#include "cosim/migration.h"
#include "cosim/topology.h"
#include "testbenches/scenarios/migrate_traffic.h"
#include "testbenches/scenarios/migrate_verdict.h"
#include "testbenches/scenarios/topology_settings.h"

namespace chio::tb {

namespace {

constexpr unsigned HOST_A = 0, HOST_P = 1, HOST_B = 2, HOST_S = 3, HOSTS = 4;
const char* const HOST_NAMES[HOSTS] = {"A", "P", "B", "S"};
constexpr uint64_t VM_BYTES = 8ull << 20;
constexpr uint64_t PHASE_GAP_NS = 300'000;  // traffic runs this long before and after each phase

struct guest_spec {
    const char* name;
    unsigned host;
    uint16_t fn;
    app_role role;
    const char* peer;
    uint32_t size;
};

const guest_spec GUESTS[] = {
    {"pp", HOST_A, 1, app_role::ping_client, "pp-peer", 256},
    {"bw", HOST_A, 2, app_role::stream_sender, "bw-peer", 8192},
    {"pp-peer", HOST_P, 1, app_role::ping_server, "pp", 256},
    {"bw-peer", HOST_P, 2, app_role::stream_receiver, "bw", 8192},
};
constexpr size_t NUM_GUESTS = sizeof(GUESTS) / sizeof(GUESTS[0]);
constexpr size_t REPLACED = 0;  // the guest whose VF the replacement restores ("pp")

// A VF's address: MAC 02:c4:20:00:<host>:<fn>, GID ::ffff:10.1.<host>.<fn>.
cosim::vf_address address_of(unsigned host, uint16_t fn) {
    return {0x02C420000000ull | host << 8 | fn, 0, 0x0000FFFF0A010000ull | host << 8 | fn, true};
}

uint64_t now_ns() { return static_cast<uint64_t>(sc_core::sc_time_stamp().to_seconds() * 1e9); }

struct phase_row {
    std::string name;
    cosim::migration_report rep;
};

class migrate_run {
public:
    explicit migrate_run(const sim_options& o);
    void start();
    int finish();

private:
    void pf_thread(unsigned h, drv::bus& b);
    void control();
    void phase(const std::string& name, size_t guest, unsigned to, bool failed);
    // The scoreboards' end-of-run checks on every host; violations join m_errors.
    nlohmann::json scoreboards();

    sim_options m_o;
    std::unique_ptr<cosim::topology> m_topo;
    std::vector<std::unique_ptr<cosim::hypervisor>> m_hv;
    cosim::vm* m_vm[NUM_GUESTS] = {};
    cosim::guest_bus* m_bus[NUM_GUESTS] = {};
    unsigned m_where[NUM_GUESTS] = {};  // host each guest runs on now
    app_result m_res[NUM_GUESTS];
    drv::manager* m_mgr[HOSTS] = {};
    drv::device* m_pf[HOSTS] = {};
    rendezvous m_rv;
    bool m_stop = false;
    std::vector<phase_row> m_phases;
    std::vector<std::string> m_log, m_errors;
};

migrate_run::migrate_run(const sim_options& o) : m_o(o) {
    cosim::topology_params p;
    p.kind = cosim::topology_kind::star;
    p.hosts = HOSTS;
    p.seed = o.seed;
    p.host.adapter.qe_kind = o.queue_engine;
    p.host.scoreboard = o.scoreboard;
    p.host.seed = o.seed;
    apply_param_settings(o, p);
    m_topo = std::make_unique<cosim::topology>(p);
    for (unsigned h = 0; h < HOSTS; ++h) {
        m_hv.push_back(std::make_unique<cosim::hypervisor>(m_topo->host(h)));
        const std::string n = HOST_NAMES[h];
        m_hv.back()->set_log_sink(
            [this, n](const std::string& l) { m_log.push_back(n + " hypervisor: " + l); });
    }
    for (size_t g = 0; g < NUM_GUESTS; ++g) {
        const guest_spec& s = GUESTS[g];
        std::string err;
        m_vm[g] = m_hv[s.host]->create_vm({s.name, VM_BYTES, 2ull << 20}, err);
        if (m_vm[g] == nullptr || !m_hv[s.host]->assign(*m_vm[g], s.fn, err)) {
            throw std::runtime_error(std::string(s.name) + ": " + err);
        }
        m_where[g] = s.host;
        // The switch knows each VF's MAC at its host's port (the management plane's table).
        m_topo->fabric_switch()->learn(model::mac_from_u64(address_of(s.host, s.fn).mac), s.host);
    }
}

void migrate_run::start() {
    for (unsigned h = 0; h < HOSTS; ++h) {
        m_topo->host(h).run_driver([this, h](drv::bus& b) { pf_thread(h, b); });
    }
    for (size_t g = 0; g < NUM_GUESTS; ++g) {
        const guest_spec& s = GUESTS[g];
        std::unique_ptr<cosim::guest_bus> bus = m_hv[s.host]->make_guest_bus(*m_vm[g], s.fn);
        m_bus[g] = bus.get();
        m_topo->host(s.host).run_driver(std::move(bus), [this, g](drv::bus& b) {
            const guest_spec& me = GUESTS[g];
            m_rv.get(std::string(HOST_NAMES[me.host]) + ".ready");
            app_options ao;
            ao.size = me.size;
            ao.seed = m_o.seed;
            ao.stop = &m_stop;
            m_res[g] = run_app(b, m_rv, me.name, me.peer, me.role, ao);
            m_rv.put(std::string("done.") + me.name, {1});
        });
    }
}

void migrate_run::pf_thread(unsigned h, drv::bus& b) {
    const std::string host = HOST_NAMES[h];
    drv::device pf(b);
    drv::manager mgr(pf, [this, host](const std::string& l) { m_log.push_back(host + " " + l); });
    bool ok = pf.probe() && mgr.enable_vfs(2).ok();
    for (const guest_spec& s : GUESTS) {
        if (s.host != h || !ok) continue;
        const cosim::vf_address a = address_of(h, s.fn);
        ok = mgr.set_address(s.fn, a.mac, a.gid_hi, a.gid_lo, a.spoof_check).ok();
    }
    if (!ok) m_errors.push_back(host + ": PF bring-up or provisioning failed");
    m_mgr[h] = &mgr;
    m_pf[h] = &pf;
    m_rv.put(host + ".ready", {ok ? 1u : 0u});
    if (h == HOST_A) control();
    // Every host's PF driver stays up until the end (the migrations use their managers).
    m_rv.get("end");
    m_mgr[h] = nullptr;
    m_pf[h] = nullptr;
}

void migrate_run::phase(const std::string& name, size_t guest, unsigned to, bool failed) {
    const guest_spec& s = GUESTS[guest];
    const unsigned from = m_where[guest];
    cosim::migration_host src{&m_topo->host(from), m_hv[from].get(), m_mgr[from], m_pf[from]};
    cosim::migration_host dst{&m_topo->host(to), m_hv[to].get(), m_mgr[to], m_pf[to]};
    cosim::migration_options mo;
    mo.precopy = !failed;
    mo.source_failed = failed;
    mo.corrupt_blob = failed && m_o.unrecoverable == "refused";
    const uint64_t mac = address_of(s.host, s.fn).mac;
    model::eth_switch* sw = m_topo->fabric_switch();
    cosim::vm_migration mig(
        *m_vm[guest], *m_bus[guest], s.fn, src, dst, address_of(s.host, s.fn),
        [sw, mac, to] { sw->learn(model::mac_from_u64(mac), to); }, mo);
    m_log.push_back(name + ": " + s.name + " " + HOST_NAMES[from] + " -> " + HOST_NAMES[to]);
    phase_row row{name, mig.run()};
    for (const std::string& l : row.rep.log) m_log.push_back(name + ": " + l);
    // A VF hot-removed from its VM has no host any more; one that was not moved stays.
    if (row.rep.ok) m_where[guest] = to;
    m_phases.push_back(row);
}

void migrate_run::control() {
    for (unsigned h = 0; h < HOSTS; ++h) m_rv.get(std::string(HOST_NAMES[h]) + ".ready");
    // The seed moves each phase within a window, so runs catch traffic in different states.
    const uint64_t jitter = (m_o.seed * 7919) % 100'000;
    sc_core::wait(sc_core::sc_time(static_cast<double>(PHASE_GAP_NS + jitter), sc_core::SC_NS));
    phase("migrate", 1, HOST_B, false);
    sc_core::wait(sc_core::sc_time(static_cast<double>(PHASE_GAP_NS), sc_core::SC_NS));
    // The fault: adapter A goes fatal (an engine error, as the firmware raises it), or with
    // --unrecoverable removal is surprise-removed (its state can no longer be read). The
    // hypervisor learns of it (on silicon from the PF driver's health monitor, docs/faults.md)
    // and moves A's remaining VF to the standby adapter.
    if (m_o.unrecoverable == "removal") {
        m_topo->host(HOST_A).rc.faults().remove();
        m_log.push_back("fault: adapter A surprise-removed at " + std::to_string(now_ns()) + " ns");
    } else {
        m_topo->host(HOST_A).adapter.inject_fatal(spec::syndrome::ENGINE_FATAL);
        m_log.push_back("fault: adapter A fatal (ENGINE_FATAL) at " + std::to_string(now_ns()) +
                        " ns");
    }
    phase("replace", REPLACED, HOST_S, true);
    sc_core::wait(sc_core::sc_time(static_cast<double>(PHASE_GAP_NS), sc_core::SC_NS));
    m_stop = true;
    for (const guest_spec& s : GUESTS) m_rv.get(std::string("done.") + s.name);
    m_rv.put("end", {1});
}

nlohmann::json migrate_run::scoreboards() {
    // As the other scenarios' runner does: this run reports what the boards found (and fails
    // on it), so the hosts need not report it again when they are destroyed.
    uint64_t checks = 0, violations = 0;
    for (unsigned h = 0; h < HOSTS; ++h) {
        cosim::scoreboard& b = m_topo->host(h).board;
        b.finish();
        checks += b.checks();
        violations += b.violation_count();
        for (const cosim::scoreboard_violation& v : b.violations()) {
            m_errors.push_back(std::string("host ") + HOST_NAMES[h] +
                               " scoreboard: " + v.to_string(m_o.seed));
        }
        b.acknowledge();
    }
    if (m_o.scoreboard) {
        std::printf("  scoreboard: %llu checks, %llu violations\n",
                    static_cast<unsigned long long>(checks),
                    static_cast<unsigned long long>(violations));
    } else {
        std::printf("  scoreboard: off\n");
    }
    return {{"enabled", m_o.scoreboard}, {"checks", checks}, {"violations", violations}};
}

int migrate_run::finish() {
    const bool unrec = !m_o.unrecoverable.empty();
    std::printf("migrate (seed %llu)\n", static_cast<unsigned long long>(m_o.seed));
    if (!m_o.quiet) {
        for (const std::string& l : m_log) std::printf("  %s\n", l.c_str());
    }
    std::printf("  %-8s %12s %14s %7s %10s %9s %9s\n", "phase", "downtime ns", "bytes copied",
                "rounds", "blob B", "pages", "mismatch");
    nlohmann::json phases = nlohmann::json::array();
    std::vector<phase_outcome> outcomes;
    for (const phase_row& p : m_phases) {
        const cosim::migration_report& r = p.rep;
        std::printf("  %-8s %12llu %14llu %7u %10llu %9llu %9llu\n", p.name.c_str(),
                    static_cast<unsigned long long>(r.downtime_ns),
                    static_cast<unsigned long long>(r.bytes_copied), r.rounds,
                    static_cast<unsigned long long>(r.blob_bytes),
                    static_cast<unsigned long long>(r.final_pages),
                    static_cast<unsigned long long>(r.mismatched_pages));
        phases.push_back({{"name", p.name},
                          {"ok", r.ok},
                          {"downtime_ns", r.downtime_ns},
                          {"bytes_copied", r.bytes_copied},
                          {"total_ns", r.total_ns},
                          {"precopy_rounds", r.rounds},
                          {"blob_bytes", r.blob_bytes},
                          {"stop_copy_pages", r.final_pages},
                          {"device_dirty_pages", r.device_dirty_pages},
                          {"cpu_dirty_pages", r.cpu_dirty_pages},
                          {"mismatched_pages", r.mismatched_pages}});
        if (unrec) {
            phases.back()["hot_removed"] = r.hot_removed;
            phases.back()["error"] = r.error;
        }
        outcomes.push_back({p.name, r.ok, r.hot_removed, r.error});
    }
    const bool removed = m_bus[REPLACED] != nullptr && m_bus[REPLACED]->removed();
    nlohmann::json vms = nlohmann::json::array();
    std::vector<vm_outcome> results;
    std::printf("  %-8s %-16s %8s %8s %6s %6s %8s %12s %6s\n", "vm", "role", "expected", "seen",
                "lost", "dup", "messages", "bytes ok", "mism");
    for (size_t g = 0; g < NUM_GUESTS; ++g) {
        const app_result& r = m_res[g];
        const uint64_t l = r.lost + r.gaps, d = r.duplicated + r.repeats;
        std::printf("  %-8s %-16s %8llu %8llu %6llu %6llu %8llu %12llu %6llu\n", GUESTS[g].name,
                    to_string(GUESTS[g].role), static_cast<unsigned long long>(r.expected),
                    static_cast<unsigned long long>(r.seen), static_cast<unsigned long long>(l),
                    static_cast<unsigned long long>(d), static_cast<unsigned long long>(r.messages),
                    static_cast<unsigned long long>(r.bytes_verified),
                    static_cast<unsigned long long>(r.data_mismatches));
        vms.push_back({{"name", GUESTS[g].name},
                       {"role", to_string(GUESTS[g].role)},
                       {"host", HOST_NAMES[m_where[g]]},
                       {"messages", r.messages},
                       {"bytes_verified", r.bytes_verified},
                       {"paused_ns", m_bus[g] ? m_bus[g]->paused_ns() : 0},
                       {"error", r.error}});
        const bool is_removed = removed && g == REPLACED;
        const bool is_peer = removed && GUESTS[g].peer == std::string(GUESTS[REPLACED].name);
        if (unrec) {
            vms.back()["vf_removed"] = is_removed;
            vms.back()["error_completions"] = r.error_completions;
            vms.back()["flushed"] = r.flushed;
            vms.back()["client_gone"] = r.client_gone;
        }
        results.push_back({GUESTS[g].name, r, is_removed, is_peer});
    }
    // The transport's view: what the moves cost in retransmissions, and the duplicates the
    // responders answered (requests given back at save time, resent from the new adapter).
    uint64_t retransmits = 0, duplicates = 0, qe_mismatches = 0;
    for (unsigned h = 0; h < HOSTS; ++h) {
        retransmits += m_topo->host(h).adapter.transport().retransmits;
        duplicates += m_topo->host(h).adapter.transport().duplicates;
        // Under --queue-engine lockstep the RTL must agree with the model throughout, replayed
        // ring indices included.
        qe_mismatches += m_topo->host(h).adapter.engine().mismatches();
    }
    if (qe_mismatches != 0) {
        m_errors.push_back(std::to_string(qe_mismatches) + " queue-engine lockstep mismatches");
    }
    std::printf("  transport: %llu retransmissions, %llu duplicate requests answered\n",
                static_cast<unsigned long long>(retransmits),
                static_cast<unsigned long long>(duplicates));
    const nlohmann::json board = scoreboards();
    const migrate_verdict v = judge_migrate(outcomes, results, unrec, m_errors);
    const migrate_totals& t = v.totals;
    if (unrec) {
        for (const vm_outcome& o : results) {
            if (!o.removed && !o.peer_of_removed) continue;
            std::printf("  unrecovered: %s%s: %llu completed with an error (%llu flushed)%s\n",
                        o.name.c_str(), o.removed ? " (VF hot-removed)" : " (its peer)",
                        static_cast<unsigned long long>(o.r.error_completions),
                        static_cast<unsigned long long>(o.r.flushed),
                        o.r.client_gone ? ", ended when its client went silent" : "");
        }
    }
    for (const std::string& e : v.errors) std::printf("  error: %s\n", e.c_str());
    std::printf(
        "total: completions expected %llu seen %llu lost %llu duplicated %llu; data mismatches "
        "%llu (%llu B verified)",
        static_cast<unsigned long long>(t.expected), static_cast<unsigned long long>(t.seen),
        static_cast<unsigned long long>(t.lost), static_cast<unsigned long long>(t.duplicated),
        static_cast<unsigned long long>(t.data_mismatches),
        static_cast<unsigned long long>(t.bytes_verified));
    if (unrec) {
        std::printf("; %llu completed with an error, %llu of them flushed after the removal",
                    static_cast<unsigned long long>(t.error_completions),
                    static_cast<unsigned long long>(t.flushed));
    }
    std::printf(": %s\n", v.pass ? "PASS" : "FAIL");
    if (!m_o.stats.empty()) {
        nlohmann::json c = {{"expected", t.expected},
                            {"seen", t.seen},
                            {"lost", t.lost},
                            {"duplicated", t.duplicated}};
        if (unrec) {
            c["errors"] = t.error_completions;
            c["flushed"] = t.flushed;
        }
        nlohmann::json j;
        j["seed"] = m_o.seed;
        j["queue_engine"] = model::to_string(m_o.queue_engine);
        j["scoreboard"] = board;
        j["migrate"] = {{"phases", phases},
                        {"completions", c},
                        {"data_mismatches", t.data_mismatches},
                        {"bytes_verified", t.bytes_verified},
                        {"transport", {{"retransmits", retransmits}, {"duplicates", duplicates}}},
                        {"vms", vms},
                        {"errors", v.errors},
                        {"pass", v.pass}};
        if (unrec) j["migrate"]["unrecoverable"] = m_o.unrecoverable;
        std::ofstream f(m_o.stats);
        f << j.dump(2) << "\n";
        if (!f) {
            std::fprintf(stderr, "chio-sim: cannot write --stats file '%s'\n", m_o.stats.c_str());
            return 1;
        }
    }
    return v.pass ? 0 : 1;
}

}  // namespace

int run_migrate(const sim_options& o) {
    migrate_run run(o);
    run.start();
    sc_core::sc_start();
    return run.finish();
}

}  // namespace chio::tb
