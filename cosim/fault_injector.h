// Fault injection on the host's side of the PCIe seam (catalogue sections G and H): the root
// complex asks it about every upstream DMA and MSI-X message and every downstream access.
//
// Contract
// - arm(spec) adds a PCIe or MSI-X fault from a fault_plan; it counts matching events from the
//   time it is armed and hits the (after+1)-th up to `count` of them (count 0: all from then).
// - DMA faults answer as a root complex does: UR -> TLM_ADDRESS_ERROR_RESPONSE, CA ->
//   TLM_GENERIC_ERROR_RESPONSE, poisoned data -> TLM_GENERIC_ERROR_RESPONSE with
//   pcie_ext::poisoned set (the adapter must not use the data), completion timeout -> the
//   request waits delay_us of simulated time, then TLM_GENERIC_ERROR_RESPONSE. No byte of a
//   faulted request moves. Each is counted by kind (injected()).
// - MSI-X faults drop the message, or hold it (and, as PCIe posted writes are ordered, every
//   later message of the device) for delay_us.
// - remove() models surprise removal: from then on reads return all ones, writes are dropped,
//   and the device's DMA and MSI-X are refused. There is no re-insertion.
// - freeze() models an AER frozen channel (catalogue H8): the same answers as removal, until
//   thaw(). Only the OS's error recovery thaws it, after it reset the slot
//   (cosim/pci_error_recovery.h); each freeze counts as one host.aer_frozen injected.
// - Single SystemC process context at a time (the simulation kernel serializes callers).
#pragma once

#include <cstdint>
#include <map>
#include <systemc>
#include <tlm>
#include <vector>

#include "cosim/fault_plan.h"

namespace chio::cosim {

class fault_injector {
public:
    // Verdict for one upstream DMA request.
    enum class dma_verdict { pass, ur, ca, poison, timeout };

    // Adds a PCIe (pcie.*) or MSI-X (msix.*) fault; other kinds are the caller's business and
    // return false.
    bool arm(const fault_spec& f);

    // Root complex hooks. on_dma may wait (completion timeout) and so runs in an SC_THREAD.
    dma_verdict on_dma(tlm::tlm_generic_payload& p);
    // True to deliver the MSI-X message now (after waiting any injected delay), false to drop.
    bool on_msix();

    void remove() { m_removed = true; }
    bool removed() const { return m_removed; }
    void freeze() {
        m_frozen = true;
        ++m_injected[fault_kind::host_aer_frozen];
    }
    void thaw() { m_frozen = false; }
    bool frozen() const { return m_frozen; }
    // The link carries nothing of the device's: removed or frozen.
    bool cut_off() const { return m_removed || m_frozen; }

    // How many events each kind of fault hit so far.
    uint64_t injected(fault_kind k) const;
    uint64_t injected_total() const;

private:
    struct armed {
        fault_spec spec;
        uint64_t seen = 0;  // matching events since armed
        uint64_t hits = 0;
    };
    // True when this event of `a` is to be hit (and counts it).
    bool hit(armed& a);

    std::vector<armed> m_armed;
    std::map<fault_kind, uint64_t> m_injected;
    bool m_removed = false;
    bool m_frozen = false;
};

}  // namespace chio::cosim
