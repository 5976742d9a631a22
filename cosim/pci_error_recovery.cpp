#include "cosim/pci_error_recovery.h"

#include <algorithm>

#include "chio/spec/spec.h"
#include "cosim/root_complex.h"
#include "cosim/scoreboard.h"
#include "tlm-model/adapter/adapter.h"

namespace chio::cosim {

using drv::pci_ers_result;

namespace {

// Linux's merge_result() (drivers/pci/pcie/err.c): a driver without an opinion changes
// nothing; a reset asked for by one driver is done even if another gave up.
pci_ers_result merge(pci_ers_result orig, pci_ers_result add) {
    if (add == pci_ers_result::none) return orig;
    switch (orig) {
        case pci_ers_result::can_recover:
        case pci_ers_result::recovered:
            return add;
        case pci_ers_result::disconnect:
            return add == pci_ers_result::need_reset ? add : orig;
        default:
            return orig;
    }
}

}  // namespace

pci_error_recovery::pci_error_recovery(root_complex& rc, model::adapter& dev)
    : m_rc(rc), m_dev(dev) {}

void pci_error_recovery::attach(drv::pci_error_handlers* h) {
    if (h != nullptr && std::find(m_drivers.begin(), m_drivers.end(), h) == m_drivers.end()) {
        m_drivers.push_back(h);
    }
}

void pci_error_recovery::detach(drv::pci_error_handlers* h) {
    m_drivers.erase(std::remove(m_drivers.begin(), m_drivers.end(), h), m_drivers.end());
}

bool pci_error_recovery::attached(drv::pci_error_handlers* h) const {
    return std::find(m_drivers.begin(), m_drivers.end(), h) != m_drivers.end();
}

void pci_error_recovery::log(const std::string& step) { m_steps.push_back(step); }

void pci_error_recovery::channel_frozen(uint32_t hold_us) {
    m_rc.faults().freeze();
    ++m_stats.frozen;
    const sc_core::sc_time thaw_at =
        sc_core::sc_time_stamp() + sc_core::sc_time(static_cast<double>(hold_us), sc_core::SC_US);
    m_thaw_at = m_running ? std::max(m_thaw_at, thaw_at) : thaw_at;
    if (m_running) return;
    m_running = true;
    sc_core::sc_spawn([this] { run(); }, sc_core::sc_gen_unique_name("pci_error_recovery"));
}

void pci_error_recovery::run() {
    // A freeze after the thaw, while the callbacks ran, is recovered in another pass.
    while (m_rc.faults().frozen()) {
        if (recover_once()) {
            ++m_stats.recovered;
        } else {
            ++m_stats.failed;
            log("recovery failed");
        }
    }
    m_running = false;
}

bool pci_error_recovery::recover_once() {
    sc_core::wait(sc_core::sc_time(REPORT_NS, sc_core::SC_NS));
    pci_ers_result status = pci_ers_result::can_recover;
    // The list may change while a callback waits (a driver that goes): walk a copy, and call
    // only drivers still attached.
    const std::vector<drv::pci_error_handlers*> drivers = m_drivers;
    for (drv::pci_error_handlers* d : drivers) {
        if (!attached(d)) continue;
        const pci_ers_result r = d->error_detected(drv::pci_channel_state::io_frozen);
        log(std::string("error_detected(io_frozen) -> ") + drv::to_string(r));
        status = merge(status, r);
    }
    // The slot stays frozen for the fault's hold, then the OS resets it: a frozen channel is
    // reset whatever the drivers said.
    if (sc_core::sc_time_stamp() < m_thaw_at) sc_core::wait(m_thaw_at - sc_core::sc_time_stamp());
    if (scoreboard* b = m_rc.board(); b != nullptr && b->enabled()) {
        for (uint16_t fn = 0; fn <= spec::pci::TOTAL_VFS; ++fn) {
            if (m_dev.present(fn)) b->on_function_reset(fn);
        }
    }
    m_dev.hot_reset();
    ++m_stats.slot_resets;
    m_rc.faults().thaw();
    log("slot reset");
    // mmio_enabled() is not modelled: a vote of can_recover goes straight to resume().
    if (status == pci_ers_result::can_recover) status = pci_ers_result::recovered;
    if (status == pci_ers_result::need_reset) {
        status = pci_ers_result::recovered;
        for (drv::pci_error_handlers* d : drivers) {
            if (!attached(d)) continue;
            const pci_ers_result r = d->slot_reset();
            log(std::string("slot_reset -> ") + drv::to_string(r));
            status = merge(status, r);
        }
    }
    if (status != pci_ers_result::recovered) return false;
    for (drv::pci_error_handlers* d : drivers) {
        if (!attached(d)) continue;
        d->resume();
        log("resume");
    }
    return true;
}

}  // namespace chio::cosim
