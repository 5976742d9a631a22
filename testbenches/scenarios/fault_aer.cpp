// AER frozen channel during traffic (catalogue H8): the channel to the adapter freezes (reads all
// ones, writes dropped, no DMA or MSI-X) for `delay_us` (default drawn from the seed, 20..400 us)
// at `after` us into the traffic (or after a seeded number of sends). The host OS's error
// recovery (cosim/pci_error_recovery.h) calls the driver's error_detected(io_frozen): the driver
// declares the device lost and every outstanding WR completes once, flushed. After the hold the
// OS resets the slot (a hot reset of the whole adapter) and calls slot_reset(): the driver
// brings the function up from enumeration; resume() lets the application go on, and new QPs
// carry traffic again. The driver may meet the freeze's all-ones reads before the OS's report
// and take them for a removal; the report then corrects it (driver/device.h).
#include <algorithm>
#include <memory>
#include <random>
#include <string>

#include "cosim/topology.h"
#include "testbenches/scenarios/fault_parts.h"

namespace chio::tb::detail {

namespace {

// How long the application waits for the OS's recovery to end, beyond the hold.
constexpr uint64_t RECOVERY_BOUND_NS = 20'000'000;

// The device is attached to the OS's recovery for as long as the driver holds it.
class attachment {
public:
    attachment(cosim::pci_error_recovery& aer, drv::device& d) : m_aer(aer), m_dev(d) {
        m_aer.attach(&m_dev);
    }
    ~attachment() { m_aer.detach(&m_dev); }
    attachment(const attachment&) = delete;
    attachment& operator=(const attachment&) = delete;

private:
    cosim::pci_error_recovery& m_aer;
    drv::device& m_dev;
};

// Config and MMIO reads of the frozen device: all ones, as the CPU sees a failed read.
bool reads_all_ones(drv::bus& bus, const drv::device& dev) {
    return bus.cfg_read(spec::pci::cfg::VENDOR_ID, 2) == 0xFFFFu &&
           bus.mmio_read32(dev.bar0() + spec::bar0::reg::DEV_STATUS) == 0xFFFFFFFFu;
}

void drive(drv::bus& bus, cosim::platform& plat, const fault_scenario& s, const sim_options& o,
           fault_outcome& res) {
    drv::device dev(bus);
    if (!dev.probe()) return note(res, "bring-up: " + dev.last_error());
    const attachment bound(plat.aer, dev);
    std::mt19937_64 rng = fault_rng(o, s);
    const uint64_t count = fault_messages(o);
    const auto hold_us = static_cast<uint32_t>(
        s.spec.delay_set ? s.spec.delay_us : std::uniform_int_distribution<uint32_t>(20, 400)(rng));
    const traffic_end end{&bus, &dev};
    phase main;
    bool all_ones = false;
    std::string verdict;
    {
        fault_traffic t(end, end);
        std::string err;
        if (!t.setup(err)) return note(res, err);
        const uint64_t at_sends = std::uniform_int_distribution<uint64_t>(1, count / 2)(rng);
        const uint64_t start = bus.now_ns();
        bool fired = false;
        auto fire = [&] {
            fired = true;
            plat.aer.channel_frozen(hold_us);
            all_ones = reads_all_ones(bus, dev);
        };
        auto tick = [&](uint64_t sends_done) {
            if (fired) return;
            if (s.spec.after_set ? bus.now_ns() - start < s.spec.after * 1000
                                 : sends_done < at_sends) {
                return;
            }
            fire();
        };
        main = t.run(count, tick);
        if (!fired) {
            // The traffic ended before the fault's time: freeze the idle device.
            if (s.spec.after_set) wait_until(dev, start + s.spec.after * 1000);
            fire();
        }
        // What the driver made of it before the OS's word, if it decided anything.
        verdict = dev.lost() ? drv::to_string(dev.lost_reason()) : "nothing";
    }
    res.injected = plat.rc.faults().injected(cosim::fault_kind::host_aer_frozen);
    // The application waits for resume() (or the recovery's end), bounded.
    const uint64_t deadline = bus.now_ns() + uint64_t{hold_us} * 1000 + RECOVERY_BOUND_NS;
    while ((plat.aer.busy() || dev.in_error_recovery()) && bus.now_ns() < deadline) bus.relax();
    detail::add(res, main);
    res.detected = res.injected != 0 && dev.errors_reported() != 0 && all_ones ? 1 : 0;
    std::string how = "frozen " + std::to_string(hold_us) + " us" +
                      (all_ones ? ", reads all ones" : ", reads NOT all ones") + "; driver saw " +
                      verdict + ";";
    for (const std::string& step : plat.aer.steps()) how += " " + step + ";";
    if (plat.aer.stats().recovered == 1 && !dev.lost()) {
        recovery_phase(end, end, traffic_params{}, res, how);
    } else {
        how += " not recovered: " + dev.last_error();
    }
    res.lost = res.expected - std::min(res.expected, res.seen);
    note(res, how);
}

}  // namespace

void run_aer_fault(const fault_scenario& s, const sim_options& o, fault_outcome& res) {
    auto topo =
        std::make_unique<cosim::topology>(fault_topology(cosim::topology_kind::loopback, o));
    cosim::platform& plat = topo->host(0);
    plat.run_driver([&](drv::bus& b) { drive(b, plat, s, o, res); });
    sc_core::sc_start();
    collect_scoreboards(*topo, o, res);
}

}  // namespace chio::tb::detail
