// Hot reset of the whole adapter: the slot reset the host's PCI error recovery performs after a
// frozen channel (catalogue H8; cosim/pci_error_recovery.h).
//
// PCIe Base 4.0 section 6.6.1: a hot reset is a conventional reset of the device, signalled
// through the link (Secondary Bus Reset of the port above it). Every function returns to its
// reset state, sticky bits aside (chio models none across a conventional reset; the one bit an
// FLR keeps, Max_Payload_Size, is not kept here: the host programs it again at enumeration).
//
// Order, as for a function reset (adapter_functions.cpp) but for every function at once:
//   1. at once: no function masters the bus (DMA and MSI-X refused at the source), doorbells
//      and commands are refused, queued commands and interrupts are dropped, READY drops;
//   2. DMA in flight drains, and a function reset in progress finishes first (it owns the
//      function's state until then);
//   3. every resource of every function is destroyed, every register file, MSI-X table and
//      config space returns to reset values; the PF's SR-IOV control is clear, so the VFs are
//      gone (their contexts and identities with them);
//   4. after reset_ns, the PF is READY.
#include "tlm-model/adapter/adapter.h"

namespace chio::model {

namespace reg = spec::bar0::reg;
using sc_core::SC_NS;
using sc_core::sc_time;

void adapter::hot_reset() {
    m_hot_resetting = true;
    for (auto& f : m_fns) {
        f->regs.set(reg::DEV_STATUS, static_cast<uint32_t>(reg::DEV_STATUS_READY.set(
                                         f->regs.get(reg::DEV_STATUS), 0)));
    }
    m_cmds.clear();
    m_msix_out.clear();
    m_core.async_events.clear();
    auto busy_anywhere = [this] {
        if (!m_freset_queue.empty()) return true;
        for (const function_state& s : m_fstate) {
            if (s.inflight > 0) return true;
        }
        return false;
    };
    while (busy_anywhere()) {
        ++m_drain_waiters;
        sc_core::wait(m_drain_ev | m_freset_done_ev);
        --m_drain_waiters;
    }

    reset_device_state();
    for (uint16_t fn = 0; fn < m_fns.size(); ++fn) {
        function& f = *m_fns[fn];
        f.cfg.reset();
        f.msix.reset();
        f.regs.reset();
        m_core.ctx.fns[fn].suspended = false;
        // Only the PF exists after the reset: VF Enable is clear.
        m_fstate[fn].present = fn == 0;
        m_core.ctx.fns[fn].enabled = fn == 0;
    }
    sc_core::wait(sc_time(m_p.reset_ns, SC_NS));
    m_hot_resetting = false;
    ++m_hot_resets;
    set_status_bit(reg::DEV_STATUS_READY, true);
}

}  // namespace chio::model
