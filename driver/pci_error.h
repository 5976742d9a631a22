// The driver's PCI error recovery callbacks, as Linux defines them (struct pci_error_handlers,
// Documentation/PCI/pci-error-recovery.rst): the host OS calls them when the link to the device
// reports an uncorrectable error (catalogue H8; the OS side is cosim/pci_error_recovery.h).
//
// Contract (Linux's)
// - error_detected(state) comes first. io_frozen: the channel is frozen (reads all ones, writes
//   dropped, no DMA) until the OS resets the slot; the driver must not touch the device, and
//   returns NEED_RESET to get slot_reset(), or DISCONNECT to give up. io_perm_failure: the
//   device is gone for good (surprise removal): DISCONNECT. io_normal: the channel still works
//   (CAN_RECOVER).
// - slot_reset() comes after the OS reset the slot and thawed the channel: the device is in its
//   reset state (config space too); the driver brings it up again and answers RECOVERED or
//   DISCONNECT.
// - resume() comes when every driver below the slot recovered: normal operation may go on.
// - The OS calls them from its own recovery thread, one at a time, in that order; no other
//   call of the OS's overlaps them.
// Plain C++17, no SystemC.
#pragma once

namespace chio::drv {

enum class pci_channel_state { io_normal, io_frozen, io_perm_failure };
enum class pci_ers_result { none, can_recover, need_reset, disconnect, recovered };

const char* to_string(pci_channel_state s);
const char* to_string(pci_ers_result r);

class pci_error_handlers {
public:
    virtual ~pci_error_handlers() = default;
    virtual pci_ers_result error_detected(pci_channel_state state) = 0;
    virtual pci_ers_result slot_reset() = 0;
    virtual void resume() = 0;
};

}  // namespace chio::drv
