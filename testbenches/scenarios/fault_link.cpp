// Link faults (catalogue D7, H5): two hosts joined by one link, QP a on host 0 sending to QP b
// on host 1, and the link losing frames, corrupting them, or going down and up.
//
// The QPs use a short ACK timeout (code 6: 4.096 us << 6 = 262 us, 7 retries: about 2.1 ms of
// retry budget) so that a long outage exhausts it within a short run; the liveness bound is
// well above that budget, so the transport, not the application, decides. Loss and corruption
// are healed by retransmission (every completion successful); a short outage too; an outage
// longer than the budget completes the outstanding send with RETRY_EXC_ERR, the QP goes to ERR
// and everything behind it is flushed. Either way every work request completes exactly once,
// and new QPs carry traffic once the link is back.
#include <memory>

#include "cosim/sc_bus.h"
#include "cosim/topology.h"
#include "testbenches/scenarios/fault_parts.h"

namespace chio::tb::detail {

namespace {

using cosim::fault_kind;
using model::link;

constexpr uint32_t LINK_TIMEOUT_CODE = 6;
constexpr uint64_t LINK_STALL_NS = 10'000'000;
constexpr uint64_t LINK_RUN_LIMIT_NS = 60'000'000;
constexpr double DEFAULT_P = 0.1;  // loss or corruption per frame: several hits per run

// Port state changes the driver saw (PORT_CHANGE events, catalogue H5).
struct port_events {
    uint64_t down = 0, active = 0;
};

void take_port_events(drv::device& d, port_events& pe) {
    d.poll_events();
    auto& q = d.async_events();
    for (auto it = q.begin(); it != q.end();) {
        if (it->type == static_cast<uint8_t>(spec::eqe_type::PORT_CHANGE)) {
            ++(it->data == static_cast<uint32_t>(spec::port_state::ACTIVE) ? pe.active : pe.down);
            it = q.erase(it);
        } else {
            ++it;
        }
    }
}

uint64_t retransmissions(cosim::topology& t) {
    uint64_t n = 0;
    for (unsigned i = 0; i < t.size(); ++i) {
        const auto& tc = t.host(i).adapter.transport();
        n += tc.retransmits + tc.seq_naks_sent + tc.duplicates;
    }
    return n;
}

void drive(drv::bus& b0, cosim::topology& topo, const fault_scenario& s, const sim_options& o,
           fault_outcome& res) {
    const fault_kind k = s.spec.kind;
    cosim::platform& h1 = topo.host(1);
    // Host 1's driver runs in this thread too (SystemC threads are cooperative).
    cosim::sc_bus b1(h1.rc, h1.mem, h1.irq);
    drv::device d0(b0), d1(b1);
    if (!d0.probe()) return note(res, "host 0 bring-up: " + d0.last_error());
    if (!d1.probe()) return note(res, "host 1 bring-up: " + d1.last_error());
    std::mt19937_64 rng = fault_rng(o, s);
    link& wire = *topo.wire();
    const uint64_t count = fault_messages(o);
    traffic_params tp;
    tp.timeout = LINK_TIMEOUT_CODE;
    tp.stall_ns = LINK_STALL_NS;
    tp.run_limit_ns = LINK_RUN_LIMIT_NS;
    tp.events = true;  // sleep (bounded) through outages instead of spinning
    const traffic_end e0{&b0, &d0}, e1{&b1, &d1};
    port_events pe;
    phase main;
    uint64_t down_ns = 0;
    {
        fault_traffic t(e0, e1, tp);
        std::string err;
        if (!t.setup(err)) return note(res, err);
        const model::link_direction_config clean = wire.config(link::side::a);
        if (k == fault_kind::link_loss || k == fault_kind::link_corrupt) {
            model::link_direction_config c = clean;
            (k == fault_kind::link_loss ? c.loss : c.corrupt) = s.spec.p_set ? s.spec.p : DEFAULT_P;
            wire.configure(c);
        }
        // link.down: down when a seeded number of sends completed (or `after` us in), up
        // `delay_us` later (seeded 50..1000 us, inside the retry budget, when not given).
        const uint64_t at_sends = std::uniform_int_distribution<uint64_t>(1, count / 2)(rng);
        down_ns =
            1000ull * (s.spec.delay_set ? s.spec.delay_us
                                        : std::uniform_int_distribution<uint32_t>(50, 1000)(rng));
        const uint64_t start = b0.now_ns();
        uint64_t up_at = 0;
        bool down = false;
        main = t.run(count, [&](uint64_t sends_done) {
            if (k != fault_kind::link_down) return;
            const uint64_t now = b0.now_ns();
            if (!down && res.injected == 0 &&
                (s.spec.after_set ? now - start >= s.spec.after * 1000 : sends_done >= at_sends)) {
                wire.set_up(false);
                down = true;
                res.injected = 1;
                up_at = now + down_ns;
            } else if (down && now >= up_at) {
                wire.set_up(true);
                down = false;
            }
        });
        if (k == fault_kind::link_down && res.injected == 0) {
            // The traffic ended before the outage's time: the link still goes down, idle.
            if (s.spec.after_set) wait_until(d0, start + s.spec.after * 1000);
            wire.set_up(false);
            down = true;
            res.injected = 1;
            up_at = b0.now_ns() + down_ns;
        }
        if (down) {
            wait_until(d0, up_at);
            wire.set_up(true);
        }
        wire.configure(clean);
        take_port_events(d0, pe);
        take_port_events(d1, pe);
    }
    add(res, main);
    const link::counters& ab = wire.stats(link::side::a);
    const link::counters& ba = wire.stats(link::side::b);
    std::string how;
    if (k == fault_kind::link_loss) {
        res.injected = ab.dropped_loss + ba.dropped_loss;
        res.detected = res.injected != 0 && retransmissions(topo) != 0;
        how = std::to_string(res.injected) + " frames lost, " +
              std::to_string(retransmissions(topo)) + " retransmissions/NAKs/duplicates";
    } else if (k == fault_kind::link_corrupt) {
        res.injected = ab.corrupted + ba.corrupted;
        const uint64_t icrc = topo.host(0).adapter.net().counters().rx_corrupt +
                              topo.host(1).adapter.net().counters().rx_corrupt;
        res.detected = res.injected != 0 && icrc != 0;
        how = std::to_string(icrc) + " ICRC drops counted, " +
              std::to_string(retransmissions(topo)) + " retransmissions/NAKs/duplicates";
    } else {
        res.detected = res.injected != 0 && pe.down != 0;
        how = "down " + std::to_string(down_ns / 1000) + " us: " +
              (main.retry_exc != 0 ? "RETRY_EXC_ERR, QPs to ERR, flushed, new QPs"
                                   : "retransmission rode it out");
    }
    if (main.errors != 0 && main.retry_exc == 0) how += "; unexpected error completions";
    // Loss and corruption heal by retransmission: an error completion is a failure (the
    // retry budget is far above what p = 0.1 can exhaust).
    const bool healed = main.ok || (k == fault_kind::link_down && main.retry_exc != 0);
    bool lost_any = false;
    for (drv::device* d : {&d0, &d1}) {
        if (!d->lost()) continue;
        lost_any = true;
        how += std::string("; host device lost (") + drv::to_string(d->lost_reason()) + ")";
        if (!d->recover()) how += " and not recovered: " + d->last_error();
    }
    recovery_phase(e0, e1, tp, res, how);
    // PORT_CHANGE (active) is an EQE the adapter writes after the link came up: the recovery
    // phase's polls have consumed it by now.
    take_port_events(d0, pe);
    take_port_events(d1, pe);
    if (k == fault_kind::link_down) {
        how += "; PORT_CHANGE down " + std::to_string(pe.down) + ", active " +
               std::to_string(pe.active);
    }
    if (!healed || lost_any || (k == fault_kind::link_down && pe.active == 0)) {
        res.recovered = 0;
        if (k == fault_kind::link_down && pe.active == 0) how += "; no PORT_CHANGE active";
    }
    res.lost = res.expected - std::min(res.expected, res.seen);
    note(res, how);
}

}  // namespace

void run_link_fault(const fault_scenario& s, const sim_options& o, fault_outcome& res) {
    auto topo = std::make_unique<cosim::topology>(fault_topology(cosim::topology_kind::pair, o));
    topo->host(0).run_driver([&](drv::bus& b) { drive(b, *topo, s, o, res); });
    sc_core::sc_start();
    collect_scoreboards(*topo, o, res);
}

}  // namespace chio::tb::detail
