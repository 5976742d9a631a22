#include "testbenches/scenarios/faults.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "cosim/topology.h"
#include "driver/device.h"
#include "testbenches/scenarios/fault_parts.h"
#include "testbenches/scenarios/topology_settings.h"

namespace chio::tb {

namespace detail {

void note(fault_outcome& r, const std::string& s) {
    std::snprintf(r.note, sizeof(r.note), "%s", s.c_str());
}

cosim::topology_params fault_topology(cosim::topology_kind kind, const sim_options& o) {
    cosim::topology_params tp;
    tp.kind = kind;
    tp.seed = o.seed;
    tp.host.seed = o.seed;
    tp.host.adapter.qe_kind = o.queue_engine;
    apply_param_settings(o, tp);
    return tp;
}

void collect_scoreboards(cosim::topology& topo, const sim_options& o, fault_outcome& r) {
    for (unsigned i = 0; i < topo.size(); ++i) {
        cosim::scoreboard& b = topo.host(i).board;
        b.finish();
        r.checks += b.checks();
        r.violations += b.violation_count();
        if (b.violation_count() != 0 && r.violation[0] == '\0') {
            std::snprintf(r.violation, sizeof(r.violation), "%s",
                          b.violations().front().to_string(o.seed).c_str());
        }
        b.acknowledge();
    }
}

uint64_t fault_messages(const sim_options& o) {
    return std::max<uint64_t>(16, std::min<uint64_t>(o.count, 256));
}

std::mt19937_64 fault_rng(const sim_options& o, const fault_scenario& s) {
    // The kind keeps the draws of the first scenario set; a second scenario of a kind
    // (link.down_long) draws apart.
    const uint64_t variant = s.name == cosim::to_string(s.spec.kind) ? 0 : 101;
    return std::mt19937_64(o.seed * 1000003u + static_cast<uint64_t>(s.spec.kind) + variant);
}

void add(fault_outcome& r, const phase& p) {
    r.expected += p.expected;
    r.seen += p.seen;
    r.duplicated += p.duplicated;
}

void recovery_phase(traffic_end a, traffic_end b, const traffic_params& p, fault_outcome& r,
                    std::string& how) {
    fault_traffic t(a, b, p);
    std::string err;
    if (!t.setup(err)) {
        how += "; recovery set-up: " + err;
        return;
    }
    const phase again = t.run(RECOVERY_MSGS);
    add(r, again);
    r.recovered = again.ok ? 1 : 0;
    if (!again.ok) how += "; recovery traffic failed";
}

void wait_until(drv::device& d, uint64_t until_ns) {
    drv::bus& b = d.io();
    // wait_event() returns early for an interrupt; each pass still moves time on.
    while (b.now_ns() < until_ns) d.wait_event(until_ns - b.now_ns());
}

}  // namespace detail

namespace {

using cosim::fault_kind;
using detail::note;

bool is_msix(fault_kind k) { return k == fault_kind::msix_lost || k == fault_kind::msix_delay; }
bool is_pcie(fault_kind k) {
    return k == fault_kind::pcie_ur_read || k == fault_kind::pcie_ur_write ||
           k == fault_kind::pcie_ca_read || k == fault_kind::pcie_ca_write ||
           k == fault_kind::pcie_poison || k == fault_kind::pcie_timeout;
}
bool is_link(fault_kind k) {
    return k == fault_kind::link_loss || k == fault_kind::link_corrupt ||
           k == fault_kind::link_down;
}

// The device and host faults hit at a moment of the traffic: after `after` microseconds when
// the spec says so, else when a seeded number of sends has completed.
class fault_trigger {
public:
    fault_trigger(const fault_scenario& s, cosim::platform& plat, std::mt19937_64& rng,
                  uint64_t count, uint64_t start_ns)
        : m_s(s), m_plat(plat), m_start_ns(start_ns) {
        m_at_sends = std::uniform_int_distribution<uint64_t>(1, count / 2)(rng);
    }
    void tick(uint64_t sends_done, uint64_t now_ns) {
        if (m_fired) return;
        if (m_s.spec.after_set ? now_ns - m_start_ns < m_s.spec.after * 1000
                               : sends_done < m_at_sends) {
            return;
        }
        fire();
    }
    void fire() {
        if (m_fired) return;
        m_fired = true;
        if (m_s.spec.kind == fault_kind::dev_fatal) {
            m_plat.adapter.inject_fatal(static_cast<spec::syndrome>(m_s.spec.syndrome));
        } else if (m_s.spec.kind == fault_kind::dev_heartbeat) {
            m_plat.adapter.stop_heartbeat();
        } else if (m_s.spec.kind == fault_kind::host_removal) {
            m_plat.rc.faults().remove();
        } else {
            m_fired = false;
        }
    }
    bool fired() const { return m_fired; }
    uint64_t fire_at_ns() const { return m_start_ns + m_s.spec.after * 1000; }

private:
    const fault_scenario& m_s;
    cosim::platform& m_plat;
    uint64_t m_start_ns;
    uint64_t m_at_sends = 1;
    bool m_fired = false;
};

// One adapter, both QPs on it: PCIe, MSI-X, device faults and surprise removal.
void drive(drv::bus& bus, cosim::platform& plat, const fault_scenario& s, const sim_options& o,
           fault_outcome& res) {
    const fault_kind k = s.spec.kind;
    drv::device dev(bus);
    if (!dev.probe()) return note(res, "bring-up: " + dev.last_error());
    std::mt19937_64 rng = detail::fault_rng(o, s);
    const uint64_t count = detail::fault_messages(o);
    traffic_params tp;
    tp.events = is_msix(k);
    const traffic_end end{&bus, &dev};
    phase main;
    bool detected_by_phase = false;
    {
        fault_traffic t(end, end, tp);
        std::string err;
        if (!t.setup(err)) return note(res, err);
        cosim::fault_spec f = s.spec;
        if (is_pcie(k)) {
            // Somewhere in the first messages' DMA (each SEND makes several reads and writes).
            if (!f.after_set) f.after = std::uniform_int_distribution<uint64_t>(0, 2 * count)(rng);
            plat.rc.faults().arm(f);
        } else if (is_msix(k)) {
            if (!f.after_set) f.after = std::uniform_int_distribution<uint64_t>(0, 3)(rng);
            if (!f.delay_set) f.delay_us = 60;
            plat.rc.faults().arm(f);
        }
        fault_trigger trigger(s, plat, rng, count, bus.now_ns());
        main = t.run(count, [&](uint64_t sends_done) { trigger.tick(sends_done, bus.now_ns()); });
        // A fault timed past the traffic's end still hits, on an idle device.
        if (!trigger.fired() && s.spec.after_set && !is_pcie(k) && !is_msix(k)) {
            detail::wait_until(dev, trigger.fire_at_ns());
            trigger.fire();
        }
        if (trigger.fired()) {
            res.injected = 1;
            // The traffic can end before the health monitor's verdict (a stopped heartbeat
            // takes HEALTH_MAX_MISSES samples): wait for it, bounded by twice that.
            const uint64_t bound_ns = 2ull * (spec::limits::HEALTH_MAX_MISSES + 1) *
                                      spec::limits::HEALTH_PERIOD_US * 1000;
            const uint64_t deadline = bus.now_ns() + bound_ns;
            while (!dev.lost() && bus.now_ns() < deadline) {
                if (dev.check_health() == drv::health::ok) dev.wait_event(1000);
            }
        }
        if (is_pcie(k) || is_msix(k)) res.injected = plat.rc.faults().injected(k);
        detected_by_phase = main.errors != 0 || dev.lost() || main.polled_without_irq != 0;
    }
    detail::add(res, main);
    res.detected = res.injected != 0 && detected_by_phase ? 1 : 0;
    // An MSI-X fault that the bounded wait absorbed leaves the traffic intact: that is the
    // recovery. Everything else recovers on new resources (after a reset if the device was lost).
    std::string how;
    if (k == fault_kind::host_removal) {
        res.recoverable = false;
        how = dev.recover() ? "removed device came back?" : "removed: " + dev.last_error();
    } else {
        if (dev.lost()) {
            how = std::string("lost (") + drv::to_string(dev.lost_reason()) + "), reset";
            if (!dev.recover()) how += " failed: " + dev.last_error();
        } else if (main.polled_without_irq != 0) {
            how = "wait timed out without interrupt; the poll after it found the completions";
        } else if (main.errors != 0) {
            how = "error completion, QPs to ERR, new QPs";
        } else {
            how = "no error completion";
        }
        detail::recovery_phase(end, end, traffic_params{}, res, how);
    }
    res.lost = res.expected - std::min(res.expected, res.seen);
    note(res, how);
}

}  // namespace

std::vector<fault_scenario> default_fault_scenarios() {
    std::vector<fault_scenario> v;
    for (fault_kind k : cosim::all_fault_kinds()) {
        fault_scenario s;
        s.name = cosim::to_string(k);
        s.spec.kind = k;
        v.push_back(s);
        if (k == fault_kind::link_down) {
            // Longer than the link scenarios' retry budget (docs/faults.md): RETRY_EXC_ERR.
            s.name = "link.down_long";
            s.spec.delay_us = 5000;
            s.spec.delay_set = true;
            v.push_back(s);
        }
    }
    return v;
}

std::vector<fault_scenario> fault_scenarios(const sim_options& o) {
    if (o.faults.empty()) return default_fault_scenarios();
    std::vector<fault_scenario> v;
    for (const cosim::fault_spec& f : o.faults) v.push_back({cosim::to_string(f.kind), f});
    return v;
}

fault_outcome run_fault_scenario(const fault_scenario& s, const sim_options& o) {
    fault_outcome res;
    std::snprintf(res.name, sizeof(res.name), "%s", s.name.c_str());
    const fault_kind k = s.spec.kind;
    if (is_link(k)) {
        detail::run_link_fault(s, o, res);
        return res;
    }
    if (k == fault_kind::host_flr) {
        detail::run_flr_fault(s, o, res);
        return res;
    }
    if (k == fault_kind::host_aer_frozen) {
        detail::run_aer_fault(s, o, res);
        return res;
    }
    auto topo = std::make_unique<cosim::topology>(
        detail::fault_topology(cosim::topology_kind::loopback, o));
    cosim::platform& plat = topo->host(0);
    plat.run_driver([&](drv::bus& b) { drive(b, plat, s, o, res); });
    sc_core::sc_start();
    detail::collect_scoreboards(*topo, o, res);
    return res;
}

fault_outcome run_fault_scenario(const std::string& name, const sim_options& o) {
    for (const fault_scenario& s : default_fault_scenarios()) {
        if (s.name == name) return run_fault_scenario(s, o);
    }
    fault_outcome res;
    std::snprintf(res.name, sizeof(res.name), "%s", name.c_str());
    note(res, "no such fault scenario");
    return res;
}

fault_outcome run_fault_scenario(fault_kind k, const sim_options& o) {
    return run_fault_scenario(std::string(cosim::to_string(k)), o);
}

bool fault_passed(const fault_outcome& r) {
    return r.injected != 0 && r.detected != 0 && r.lost == 0 && r.duplicated == 0 &&
           r.violations == 0 && (r.recovered != 0 || !r.recoverable);
}

}  // namespace chio::tb
