// SR-IOV functions of the adapter: which functions exist, and the function level reset.
//
// Reset order (PCIe Base 4.0 section 6.6.2, catalogue H7 and invariant 19):
//   1. at once: the function's DMA and MSI-X are refused, its MMIO answers UR, its queued
//      commands and interrupts are dropped, DEV_STATUS.READY drops;
//   2. DMA the function issued before the reset drains (Transactions Pending in its Device
//      Status while it does);
//   3. every resource it owns is destroyed (QPs first, so nothing completes into a CQ being
//      freed), its MSI-X table and registers return to reset values;
//   4. after reset_ns, READY rises again if the function still exists.
// Work requests of the function are not completed: the function is reset and its memory is no
// longer the device's to write (docs/virtualization.md).
#include <algorithm>

#include "tlm-model/adapter/adapter.h"

namespace chio::model {

namespace reg = spec::bar0::reg;
using sc_core::SC_NS;
using sc_core::sc_time;

bool adapter::present(uint16_t fn) const {
    if (fn == 0) return true;
    const config_space& pf = m_fns[0]->cfg;
    return fn < m_fns.size() && pf.vf_enabled() && fn <= pf.num_vfs();
}

void adapter::sriov_changed() {
    for (uint16_t fn = 1; fn < m_fns.size(); ++fn) {
        const bool now = present(fn);
        function_state& s = m_fstate[fn];
        if (now == s.present) continue;
        if (!now) {
            // VF Enable cleared (or NumVFs shrank): the VF is reset and disappears; its config
            // space returns to power-on values for whoever enables it next.
            m_fns[fn]->cfg.reset();
            begin_function_reset(fn);
            s.present = false;
            m_core.ctx.fns[fn].enabled = false;
            continue;
        }
        s.present = true;
        m_core.ctx.fns[fn].enabled = true;
        // A VF that appears starts from reset; it is ready once any earlier reset finished.
        if (!s.resetting) {
            m_fns[fn]->regs.reset();
            m_fns[fn]->msix.reset();
            bar0_regs& r = m_fns[fn]->regs;
            r.set(reg::DEV_STATUS,
                  static_cast<uint32_t>(reg::DEV_STATUS_READY.set(r.get(reg::DEV_STATUS), 1)));
        }
    }
}

void adapter::begin_function_reset(uint16_t fn) {
    if (fn == 0 || fn >= m_fns.size()) return;
    function_state& s = m_fstate[fn];
    bar0_regs& r = m_fns[fn]->regs;
    r.set(reg::DEV_STATUS,
          static_cast<uint32_t>(reg::DEV_STATUS_READY.set(r.get(reg::DEV_STATUS), 0)));
    if (s.resetting) return;  // already queued: one reset covers both requests
    s.resetting = true;
    m_cmds.erase(
        std::remove_if(m_cmds.begin(), m_cmds.end(), [fn](const auto& c) { return c.first == fn; }),
        m_cmds.end());
    m_msix_out.erase(std::remove_if(m_msix_out.begin(), m_msix_out.end(),
                                    [fn](const auto& m) { return m.first == fn; }),
                     m_msix_out.end());
    auto& ae = m_core.async_events;
    ae.erase(std::remove_if(ae.begin(), ae.end(), [fn](const async_eqe& a) { return a.fn == fn; }),
             ae.end());
    m_wqe_window.reset_function(fn);
    m_freset_queue.push_back(fn);
    m_freset_ev.notify(sc_core::SC_ZERO_TIME);
}

void adapter::function_reset_thread() {
    for (;;) {
        while (m_freset_queue.empty()) sc_core::wait(m_freset_ev);
        const uint16_t fn = m_freset_queue.front();
        function& f = *m_fns[fn];
        function_state& s = m_fstate[fn];
        while (s.inflight > 0) {
            f.cfg.set_transactions_pending(true);
            ++m_drain_waiters;
            sc_core::wait(m_drain_ev);
            --m_drain_waiters;
        }
        f.cfg.set_transactions_pending(false);
        m_cmd.destroy_function(fn);
        m_core.collect();
        // A reset ends a suspension and the dirty-page log (docs/migration.md).
        m_core.ctx.fns[fn].suspended = false;
        m_dirty.stop(fn);
        f.msix.reset();
        f.regs.reset();
        sc_core::wait(sc_time(m_p.reset_ns, SC_NS));
        m_freset_queue.pop_front();
        s.resetting = false;
        ++s.resets_done;
        if (present(fn)) {
            f.regs.set(reg::DEV_STATUS, static_cast<uint32_t>(reg::DEV_STATUS_READY.set(
                                            f.regs.get(reg::DEV_STATUS), 1)));
        }
        m_freset_done_ev.notify(sc_core::SC_ZERO_TIME);
    }
}

void adapter::reset_function_and_wait(uint16_t fn) {
    if (fn == 0 || fn >= m_fns.size()) return;
    // The same path as the VF's own Initiate FLR: config space resets, then the rest follows.
    namespace pc = spec::pci::pcie_cap;
    config_space& cfg = m_fns[fn]->cfg;
    cfg.write(spec::pci::PCIE_CAP_OFFSET + pc::DEV_CTRL,
              static_cast<uint32_t>(pc::DEV_CTRL_INITIATE_FLR.make(1)), 2);
    const uint64_t target = m_fstate[fn].resets_done + 1;
    while (m_fstate[fn].resets_done < target) sc_core::wait(m_freset_done_ev);
}

}  // namespace chio::model
