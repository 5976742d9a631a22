// The host OS's PCI error recovery for the adapter's slot (catalogue H8): what Linux's AER
// (drivers/pci/pcie/err.c, pcie_do_recovery; Documentation/PCI/pci-error-recovery.rst) or
// powerpc's EEH do when the link to a device reports an uncorrectable error that the platform
// contains by freezing the channel.
//
// Contract
// - attach(h) registers a driver's callbacks (drv::pci_error_handlers), as binding a driver
//   does in Linux; detach(h) before the driver goes. Callbacks run in attach order (bind the
//   PF's driver first, as a bus walk would).
// - channel_frozen(hold_us) is the fault: from now on the root complex answers the device's
//   config and MMIO reads with all ones, drops its writes and refuses its DMA and MSI-X
//   (fault_injector::freeze). A recovery thread then runs, in Linux's order:
//     1. REPORT_NS later (the root port's error message and its interrupt):
//        error_detected(io_frozen) to every attached driver. Votes merge as Linux's
//        merge_result() does: none changes nothing; need_reset wins over disconnect (a reset
//        one driver asks for is done even if another gave up); either wins over can_recover.
//        A frozen channel is reset whatever the votes (pcie_do_recovery resets it too);
//     2. hold_us after the freeze, the slot reset: the scoreboard is told that every function
//        of the adapter was reset, model::adapter::hot_reset() returns every function and its
//        config space to reset values, and the channel thaws;
//     3. a vote of need_reset: slot_reset() to every driver, then, when every answer is
//        recovered (or none), resume() to every one; a vote of can_recover (nobody asked for
//        more) goes to resume() at once (mmio_enabled() is not modelled). A vote of
//        disconnect, or a slot_reset() that did not recover, fails the recovery: no resume;
//        a driver that failed keeps its device lost.
// - A freeze while the channel is still frozen joins the running recovery (its hold may end
//   later); one after the thaw starts the sequence again (Linux serializes per slot).
// - steps() logs what happened, in order, for tests and reports: "error_detected(io_frozen)
//   -> need_reset", "slot reset", "slot_reset -> recovered", "resume", "recovery failed".
// - Single SystemC process context at a time; the callbacks run in the recovery thread, which
//   drivers must allow for (driver/device.h, Threading).
#pragma once

#include <cstdint>
#include <string>
#include <systemc>
#include <vector>

#include "driver/pci_error.h"

namespace chio::model {
class adapter;
}

namespace chio::cosim {

class root_complex;

struct pci_recovery_stats {
    uint64_t frozen = 0;       // channel_frozen() calls
    uint64_t slot_resets = 0;  // hot resets performed
    uint64_t recovered = 0;    // recoveries that ended with resume()
    uint64_t failed = 0;       // recoveries that did not
};

class pci_error_recovery {
public:
    // The root port's report and the AER interrupt, before the first callback.
    static constexpr double REPORT_NS = 1000.0;

    pci_error_recovery(root_complex& rc, model::adapter& dev);

    void attach(drv::pci_error_handlers* h);
    void detach(drv::pci_error_handlers* h);

    // Freezes the channel now; the recovery follows (see the contract). Any process context.
    void channel_frozen(uint32_t hold_us);

    // A recovery is under way (from the freeze to its resume or failure).
    bool busy() const { return m_running; }
    const pci_recovery_stats& stats() const { return m_stats; }
    const std::vector<std::string>& steps() const { return m_steps; }

private:
    void run();
    // One pass of the sequence, for the freeze in force. True when it ended with resume().
    bool recover_once();
    void log(const std::string& step);
    bool attached(drv::pci_error_handlers* h) const;

    root_complex& m_rc;
    model::adapter& m_dev;
    std::vector<drv::pci_error_handlers*> m_drivers;
    std::vector<std::string> m_steps;
    pci_recovery_stats m_stats;
    sc_core::sc_time m_thaw_at;
    bool m_running = false;
};

}  // namespace chio::cosim
