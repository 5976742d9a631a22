// VF FLR during traffic (catalogue H7): the PF's manager enables three VFs; VF `fn` (default 1)
// sends to itself through the adapter's switch while VF 2 and 3 (or the two others) carry a
// bystander flow. The manager resets VF fn mid-flow (RESET_VF, the FLR path; it returns once
// the VF is quiesced). The VF's driver sees its function reset (Bus Master Enable cleared,
// drv::health::function_reset), completes every outstanding WR once as flushed, and brings
// the function up again from enumeration; new QPs on it carry traffic. The bystander flow
// must complete with zero errors.
#include <array>
#include <memory>

#include "cosim/sc_bus.h"
#include "cosim/topology.h"
#include "driver/manager.h"
#include "testbenches/scenarios/fault_parts.h"

namespace chio::tb::detail {

namespace {

constexpr unsigned NUM_VFS = 3;

// MAC and GID the manager assigns to function fn (locally administered unicast).
uint64_t vf_mac(uint16_t fn) { return 0x02C420000000ull | fn; }
uint64_t vf_gid_lo(uint16_t fn) { return 0x0000FFFF0A000100ull | fn; }

void drive(drv::bus& pf_bus, cosim::platform& plat, const fault_scenario& s, const sim_options& o,
           fault_outcome& res) {
    drv::device pf(pf_bus);
    if (!pf.probe()) return note(res, "PF bring-up: " + pf.last_error());
    drv::manager mgr(pf);
    if (!mgr.enable_vfs(NUM_VFS).ok()) return note(res, "enable_vfs failed");
    // The reset VF, and the two others for the bystander flow.
    const uint16_t doomed_fn = static_cast<uint16_t>(s.spec.fn <= NUM_VFS ? s.spec.fn : 0);
    if (doomed_fn == 0) {
        return note(res, "fn=" + std::to_string(s.spec.fn) + " is not one of the " +
                             std::to_string(NUM_VFS) + " VFs of this scenario");
    }
    std::array<uint16_t, 2> others{};
    for (uint16_t fn = 1, i = 0; fn <= NUM_VFS; ++fn) {
        if (fn != doomed_fn) others[i++] = fn;
    }
    std::array<std::unique_ptr<cosim::sc_bus>, NUM_VFS + 1> buses;
    std::array<std::unique_ptr<drv::device>, NUM_VFS + 1> vfs;
    for (uint16_t fn = 1; fn <= NUM_VFS; ++fn) {
        if (!mgr.set_address(fn, vf_mac(fn), 0, vf_gid_lo(fn), true).ok()) {
            return note(res, "set_address failed for VF " + std::to_string(fn));
        }
        cosim::sc_bus_params bp;
        bp.fn = fn;
        buses[fn] = std::make_unique<cosim::sc_bus>(plat.rc, plat.mem, plat.irq, bp);
        vfs[fn] = std::make_unique<drv::device>(*buses[fn]);
        if (!vfs[fn]->probe()) {
            return note(res, "VF " + std::to_string(fn) + " probe: " + vfs[fn]->last_error());
        }
    }
    std::mt19937_64 rng = fault_rng(o, s);
    const uint64_t count = fault_messages(o);
    const traffic_end doomed_end{buses[doomed_fn].get(), vfs[doomed_fn].get()};
    const traffic_end by_a{buses[others[0]].get(), vfs[others[0]].get()};
    const traffic_end by_b{buses[others[1]].get(), vfs[others[1]].get()};
    drv::device& vf = *vfs[doomed_fn];
    phase doomed_phase, by_phase;
    bool reset_ok = false;
    {
        fault_traffic doomed(doomed_end, doomed_end), bystander(by_a, by_b);
        std::string err;
        if (!doomed.setup(err) || !bystander.setup(err)) return note(res, err);
        const uint64_t at_sends = std::uniform_int_distribution<uint64_t>(1, count / 2)(rng);
        const uint64_t start = pf_bus.now_ns();
        auto tick = [&](uint64_t sends_done) {
            if (res.injected != 0) return;
            const uint64_t now = pf_bus.now_ns();
            if (s.spec.after_set ? now - start < s.spec.after * 1000 : sends_done < at_sends) {
                return;
            }
            res.injected = 1;
            reset_ok = mgr.reset_vf(doomed_fn).ok();  // returns once the VF is quiesced
        };
        doomed.start(count);
        bystander.start(count);
        bool more_doomed = true, more_by = true;
        while (more_doomed || more_by) {
            if (more_doomed) more_doomed = doomed.step(tick);
            if (more_by) more_by = bystander.step();
            pf_bus.relax();
        }
        if (res.injected == 0) {
            // The traffic ended before the reset's time: reset the idle VF.
            if (s.spec.after_set) wait_until(pf, start + s.spec.after * 1000);
            tick(count);
        }
        // The driver notices the reset within a health period; bounded by a few of them.
        const uint64_t deadline = pf_bus.now_ns() + 4ull * spec::limits::HEALTH_PERIOD_US * 1000;
        while (!vf.lost() && pf_bus.now_ns() < deadline) {
            if (vf.check_health() == drv::health::ok) pf_bus.relax();
        }
        doomed_phase = doomed.result();
        by_phase = bystander.result();
    }
    add(res, doomed_phase);
    add(res, by_phase);
    res.detected =
        res.injected != 0 && vf.lost() && vf.lost_reason() == drv::health::function_reset ? 1 : 0;
    std::string how = std::string("VF ") + std::to_string(doomed_fn) + " reset" +
                      (reset_ok ? "" : " (RESET_VF refused)") + ", driver saw " +
                      drv::to_string(vf.lost_reason()) + ", " +
                      std::to_string(doomed_phase.errors) + " flushed/failed; bystander " +
                      std::to_string(by_phase.errors) + " errors";
    if (vf.lost() && !vf.recover()) how += "; re-init failed: " + vf.last_error();
    recovery_phase(doomed_end, doomed_end, traffic_params{}, res, how);
    // Other VFs see zero errors (catalogue H7): anything else is a failed recovery.
    if (!by_phase.ok) {
        res.recovered = 0;
        how += "; BYSTANDER FAILED";
    }
    res.lost = res.expected - std::min(res.expected, res.seen);
    note(res, how);
}

}  // namespace

void run_flr_fault(const fault_scenario& s, const sim_options& o, fault_outcome& res) {
    auto topo =
        std::make_unique<cosim::topology>(fault_topology(cosim::topology_kind::loopback, o));
    cosim::platform& plat = topo->host(0);
    plat.run_driver([&](drv::bus& b) { drive(b, plat, s, o, res); });
    sc_core::sc_start();
    collect_scoreboards(*topo, o, res);
}

}  // namespace chio::tb::detail
