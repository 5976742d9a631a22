// The device's PCI error recovery callbacks (catalogue H8, driver/pci_error.h): a frozen channel
// is a loss the driver cannot end by itself; the OS ends it with a slot reset, after which the
// function is brought up as after a function reset.
#include "driver/device.h"

namespace chio::drv {

const char* to_string(pci_channel_state s) {
    switch (s) {
        case pci_channel_state::io_normal:
            return "io_normal";
        case pci_channel_state::io_frozen:
            return "io_frozen";
        case pci_channel_state::io_perm_failure:
            return "io_perm_failure";
    }
    return "?";
}

const char* to_string(pci_ers_result r) {
    switch (r) {
        case pci_ers_result::none:
            return "none";
        case pci_ers_result::can_recover:
            return "can_recover";
        case pci_ers_result::need_reset:
            return "need_reset";
        case pci_ers_result::disconnect:
            return "disconnect";
        case pci_ers_result::recovered:
            return "recovered";
    }
    return "?";
}

pci_ers_result device::error_detected(pci_channel_state state) {
    ++m_errors_reported;
    switch (state) {
        case pci_channel_state::io_normal:
            // The channel works: nothing was lost on the way (no error this driver must act on).
            return pci_ers_result::can_recover;
        case pci_channel_state::io_perm_failure:
            declare_lost(health::removed);
            m_lost_reason = health::removed;
            m_perm_failure = true;
            m_in_recovery = false;
            return pci_ers_result::disconnect;
        case pci_channel_state::io_frozen:
            break;
    }
    // Nothing here touches the device: its reads would be all ones and its writes dropped
    // until the slot reset. declare_lost() flushes once; a loss the driver declared already
    // (all-ones status read as removal before this call came) keeps its flush, and the reason
    // becomes the OS's, so slot_reset() may bring the function back.
    m_in_recovery = true;
    declare_lost(health::channel_frozen);
    m_lost_reason = health::channel_frozen;
    return pci_ers_result::need_reset;
}

pci_ers_result device::slot_reset() {
    // Only a real removal (reported as io_perm_failure) is beyond a slot reset; any other loss,
    // whatever the driver took it for, ends here.
    if (m_perm_failure) return pci_ers_result::disconnect;
    m_in_recovery = true;
    // A slot reset without a report first (the OS reset the slot for another function's
    // error) still leaves this function in its reset state: lost, then brought up again.
    declare_lost(health::channel_frozen);
    m_lost_reason = health::channel_frozen;
    if (!recover()) {
        m_in_recovery = false;
        return pci_ers_result::disconnect;
    }
    return pci_ers_result::recovered;
}

void device::resume() { m_in_recovery = false; }

}  // namespace chio::drv
