// PCIe routing information carried on every TLM transaction between host and adapter.
//
// Contract: every generic payload that crosses the PCIe seam (config, MMIO, DMA, MSI-X) carries
// one pcie_ext. `fn` is the function number inside the device (0 = PF, 1.. = VFs), from which
// the routing id (bus:device.function) follows; targets check ownership against it. Transactions
// without the extension are refused with TLM_GENERIC_ERROR_RESPONSE (a wiring bug, never guest
// input).
#pragma once

#include <cstdint>
#include <tlm>

namespace chio::model {

enum class tlp_kind : uint8_t { cfg, mem, msi };

struct pcie_ext : tlm::tlm_extension<pcie_ext> {
    uint16_t fn = 0;   // function number within the device: 0 = PF, 1.. = VF
    uint16_t rid = 0;  // requester id: bus << 8 | devfn
    tlp_kind kind = tlp_kind::mem;
    uint8_t tag = 0;  // non-posted request tag (DMA reads)
    bool poisoned = false;
    // A payload read moved as one run (dma_port::read_run_at): the run's first request carries
    // every byte of the run and `request_bytes` > 0, its own length, which is all the link
    // times; each later request of the run is `timing_only`: timed and answered (a fault may
    // still refuse it), no data moved. Both 0/false: the transaction is one whole access.
    uint32_t request_bytes = 0;
    bool timing_only = false;

    tlm::tlm_extension_base* clone() const override { return new pcie_ext(*this); }
    void copy_from(const tlm::tlm_extension_base& e) override {
        *this = static_cast<const pcie_ext&>(e);
    }
};

}  // namespace chio::model
