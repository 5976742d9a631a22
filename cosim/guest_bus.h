// The bus of a driver running inside a VM, for the function assigned to it (pass-through).
//
// Contract
// - Config and MMIO go straight to the assigned function through the root complex, tagged with
//   its routing id, exactly as the host's sc_bus does: the hypervisor is not on the data path.
//   (VFIO would trap config space and emulate parts of it; the model passes it through.) The
//   guest sees the function's BAR0 at its host address (an identity second-level mapping of the
//   MMIO window): the PF's at the start of the window, VF n's at the PF's SR-IOV VF BAR0 +
//   (n - 1) * VF BAR size, as the PF's manager programmed it (sc_bus's VF emulation). A VF's
//   driver in a VM therefore works only after the host's PF manager has enabled the VFs.
// - dma_alloc() allocates from the VM's guest memory: the CPU pointer is the host's view of the
//   backing page, the bus address is the guest-physical address, which the IOMMU translates for
//   the assigned function. A buffer never straddles a backing chunk (cosim/vm.h); a request the
//   VM cannot meet returns an empty buffer (cpu == nullptr).
// - MSI-X: msi(n) and wait_interrupt(n) are the function's vector n (the interrupt controller is
//   keyed by function and vector; no interrupt remapping, see cosim/iommu.h).
// - Every method must be called from a SystemC thread process.
// - Migration (cosim/migration.h, docs/migration.md) is the hypervisor's business, never the
//   guest's: pause() stops the VM at its next bus access (the model's vCPU is the driver's
//   thread, which only yields inside bus calls, so between two accesses it runs in zero time);
//   move_to() makes the same guest bus reach a function on another host (as the destination's
//   hypervisor maps the VF's BAR at the guest-physical address the guest already uses, and
//   re-targets its interrupts); resume() lets the VM run again. The driver keeps every pointer
//   and address it holds and notices nothing but the time it was paused.
// - remove() is the hypervisor's surprise hot-removal of the function from the VM, for a VF that
//   could not be restored anywhere (docs/migration.md, "What could not be recovered"): from then
//   on config and MMIO reads return all ones and writes are dropped, as a root port answers for
//   a removed device (PCIe 2.3.2: a UR completion, which the root port turns into all ones), and
//   no interrupt reaches the guest. The guest's unchanged driver finds the all-ones status on its
//   next health check and takes its ordinary removal path (docs/faults.md, host.removal). The
//   caller also detaches the function from the VM's IOMMU domain, so none of its DMA reaches the
//   VM. There is no re-insertion.
#pragma once

#include <cstdint>
#include <memory>
#include <systemc>

#include "cosim/sc_bus.h"
#include "cosim/vm.h"
#include "driver/bus.h"

namespace chio::cosim {

class guest_bus final : public drv::bus {
public:
    // fn: the assigned function; p.fn is overwritten with it.
    guest_bus(vm& guest, uint16_t fn, root_complex& rc, host_memory& mem, interrupt_controller& irq,
              sc_bus_params p = {});

    uint32_t cfg_read(uint32_t offset, unsigned size) override;
    void cfg_write(uint32_t offset, uint32_t value, unsigned size) override;
    uint32_t mmio_read32(uint64_t addr) override;
    uint64_t mmio_read64(uint64_t addr) override;
    void mmio_write32(uint64_t addr, uint32_t value) override;
    void mmio_write64(uint64_t addr, uint64_t value) override;
    void mmio_write_block(uint64_t addr, const void* data, size_t len) override;
    uint64_t bar_window(unsigned bar, uint64_t size) override;
    drv::dma_buffer dma_alloc(size_t size, size_t align) override;
    void dma_free(const drv::dma_buffer& b) override;
    drv::msi_message msi(unsigned n) override;
    bool wait_interrupt(unsigned n, uint64_t timeout_ns) override;
    void barrier(drv::barrier_kind k) override;
    void relax() override;
    uint64_t now_ns() override;
    drv::observer* watcher() override { return m_io->watcher(); }
    // Every posted MMIO write of the guest has reached the device (sc_bus::drain()).
    void drain() { m_io->drain(); }

    vm& guest() { return m_vm; }
    uint16_t fn() const { return m_fn; }

    // Hypervisor controls (see the contract): fn stays the same on the destination, so the
    // MSI-X data words the guest programmed stay valid. old_bar/new_bar: the VF's BAR0 on the
    // source and the destination host.
    void pause();
    void resume();
    bool paused() const { return m_paused; }
    void move_to(root_complex& rc, host_memory& mem, interrupt_controller& irq, uint64_t old_bar,
                 uint64_t new_bar);
    // Simulated time the VM spent paused, in total.
    uint64_t paused_ns() const { return m_paused_ns; }
    void remove() { m_removed = true; }
    bool removed() const { return m_removed; }

private:
    static sc_bus_params with_fn(sc_bus_params p, uint16_t fn);
    // Waits while the VM is paused (each bus access starts here).
    void gate();
    uint64_t map(uint64_t addr) const;

    vm& m_vm;
    uint16_t m_fn;
    sc_bus_params m_params;
    std::unique_ptr<sc_bus> m_io;  // config, MMIO and interrupts: the same path as the host's bus
    bool m_paused = false;
    bool m_removed = false;  // hot-removed by the hypervisor (see the contract)
    uint64_t m_paused_at = 0, m_paused_ns = 0;
    sc_core::sc_event m_resume_ev;
    uint64_t m_old_bar = 0, m_new_bar = 0;  // MMIO redirect after a move (equal: none)
};

}  // namespace chio::cosim
