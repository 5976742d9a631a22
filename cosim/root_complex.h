// The host's PCIe root complex: routes host accesses (config, MMIO) down to the adapter and the
// adapter's requests (DMA, MSI-X) up to host memory or the interrupt controller, charging the
// PCIe link model's bandwidth and latency on the way.
//
// Contract
// - Upstream requests must carry a pcie_ext; they are routed by address: the MSI range to the
//   interrupt controller (writes only), DRAM to host memory, anything else (including the MMIO
//   window: no peer-to-peer) is an unsupported request, answered with
//   TLM_ADDRESS_ERROR_RESPONSE and counted.
// - With an IOMMU set (set_iommu), every upstream memory request outside the MSI range is
//   translated for its function (pcie_ext::fn) before it is routed: a refused translation is an
//   unsupported request (TLM_ADDRESS_ERROR_RESPONSE, counted in both places, no byte moved); an
//   access that spans host-discontiguous pages reaches host memory as one transaction per
//   host-contiguous piece. MSI writes are never translated (no interrupt remapping).
// - Injected faults (faults()) answer before routing: a faulted DMA moves no byte; after a
//   surprise removal, and while the channel is frozen, host reads return all ones and host
//   writes are dropped, as a root port does for a link that went away (the CPU sees a UR
//   completion as all ones).
// - Timing is annotated on the transaction's delay; the initiator waits for it. A DMA write
//   is posted: host memory holds its bytes until its arrival (cosim/host_memory.h), and an
//   MSI-X write reaches the interrupt controller at its arrival, behind every write issued
//   before it (they arrive first: posted writes keep their order on the link).
// - With a scoreboard set (set_board) and enabled, every upstream memory request is reported to
//   it once it was answered (function, bus address before translation, data, outcome); MSI
//   writes are not.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <deque>
#include <systemc>
#include <tlm>
#include <vector>

#include "cosim/fault_injector.h"
#include "cosim/interrupt_controller.h"
#include "cosim/iommu.h"
#include "cosim/pcie_link.h"

namespace chio::cosim {

class scoreboard;

// A CPU store to MMIO wider than 8 bytes comes only from a write-combining mapping, and a
// write-combining buffer holds one 64-byte cache line and leaves as one posted TLP (Intel SDM
// vol. 3, section 11.3.1): a WQE written into a doorbell page crosses the link line by line.
inline constexpr uint32_t WC_LINE_BYTES = 64;

class root_complex : public sc_core::sc_module {
public:
    tlm_utils::simple_initiator_socket<root_complex> cfg_out;   // to the adapter's config space
    tlm_utils::simple_initiator_socket<root_complex> mmio_out;  // to the adapter's BARs
    tlm_utils::simple_target_socket<root_complex> dma_in;       // from the adapter
    tlm_utils::simple_initiator_socket<root_complex> mem_out;   // to host memory

    SC_HAS_PROCESS(root_complex);
    root_complex(sc_core::sc_module_name name, interrupt_controller& irq,
                 const pcie_link_params& link = {});

    // Host-side accesses, called from the bus backend's thread.
    void cfg_access(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
    void mmio_access(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
    // A posted MMIO write in two halves, so the device sees it when it arrives while the CPU
    // goes on (sc_bus): the link time of `len` bytes issued now (one TLP per write-combining
    // line), then, at that time, the hand-over to the device (dropped if it is cut off).
    sc_core::sc_time mmio_write_time(unsigned len);
    void mmio_deliver(tlm::tlm_generic_payload& p);

    pcie_link& link() { return m_link; }
    uint64_t unsupported_requests() const { return m_ur; }
    // The IOMMU on the DMA path, or nullptr for none (bus address = host physical).
    void set_iommu(iommu* m) { m_iommu = m; }
    // Injected PCIe faults (cosim/fault_injector.h) on every DMA, MSI-X and host access.
    fault_injector& faults() { return m_faults; }
    // The invariant scoreboard watching this host (cosim/scoreboard.h), or nullptr.
    void set_board(scoreboard* s) { m_board = s; }
    scoreboard* board() const { return m_board; }

private:
    void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
    sc_core::sc_time write_time(sc_core::sc_time at, unsigned len);
    // Memory request through the IOMMU: translate, then one host-memory access per segment.
    void translated_access(tlm::tlm_generic_payload& p, sc_core::sc_time& delay, uint16_t fn);

    interrupt_controller& m_irq;
    pcie_link m_link;
    uint64_t m_ur = 0;
    iommu* m_iommu = nullptr;
    fault_injector m_faults;
    scoreboard* m_board = nullptr;
    std::vector<iommu_segment> m_segs;  // reused: no allocation per DMA
    // MSI-X writes on their way, in arrival order (posted: the link keeps their order).
    struct msi_write {
        sc_core::sc_time at;
        uint64_t addr;
        uint32_t data;
    };
    std::deque<msi_write> m_msi;
    sc_core::sc_event m_msi_ev;
    void deliver_msi_due();
};

}  // namespace chio::cosim
