// The driver <-> platform seam: everything the driver does to hardware goes through `bus`.
//
// Contract
// - The driver is plain C++17: it includes no SystemC header and knows nothing of how a call is
//   carried out. Backends: cosim/sc_bus (the driver runs in a SystemC thread and every call is a
//   TLM transaction that takes simulated time); on paper, VFIO for real silicon.
// - Addresses: config accesses take a byte offset in the function's configuration space; MMIO
//   takes a bus address (inside a BAR the driver assigned); DMA buffers have a CPU pointer for the
//   driver and a bus address for the device.
// - Ordering: MMIO writes are posted and stay in order. Before a doorbell write the driver calls
//   barrier(barrier_kind::to_device) so the device sees every ring write made before it
//   (udma_to_device_barrier in rdma-core). After reading an owner bit, barrier(from_device)
//   before reading the rest of the entry. An MMIO write returns before the device has seen it
//   (a posted write is on its way for a link time): where it must have taken effect before the
//   driver goes on (a reset, before memory the device may still touch is freed or reused), the
//   driver reads a device register back, which cannot pass the write (PCIe ordering); Linux
//   drivers do the same (a readl() after the writel()).
// - relax() is called by every polling loop; it lets simulated (or real) time pass. Every loop
//   that waits for the device is bounded by a timeout measured with now_ns().
// - A read of a removed device returns all ones, as on PCIe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace chio::drv {

struct dma_buffer {
    void* cpu = nullptr;  // driver's view
    uint64_t bus = 0;     // device's view
    size_t size = 0;
};

// Address and data a function writes to raise an interrupt (programmed into its MSI-X table).
struct msi_message {
    uint64_t addr = 0;
    uint32_t data = 0;
};

enum class barrier_kind {
    to_device,    // prior memory writes visible to the device before later MMIO writes
    from_device,  // later memory reads see the device's writes ordered after an owner bit
};

// The largest mmio_write_block() a backend takes: room for a send WQE with its doorbell word
// (queue_pair::ring_sq checks it), the most a driver writes in one write-combined burst.
inline constexpr size_t MMIO_BLOCK_MAX_BYTES = 256;

class observer;

class bus {
public:
    virtual ~bus() = default;

    // Who watches this function's driver (driver/observer.h), or nullptr for nobody.
    virtual observer* watcher() { return nullptr; }

    virtual uint32_t cfg_read(uint32_t offset, unsigned size) = 0;  // size 1, 2 or 4
    virtual void cfg_write(uint32_t offset, uint32_t value, unsigned size) = 0;

    virtual uint32_t mmio_read32(uint64_t addr) = 0;
    virtual uint64_t mmio_read64(uint64_t addr) = 0;
    virtual void mmio_write32(uint64_t addr, uint32_t value) = 0;
    virtual void mmio_write64(uint64_t addr, uint64_t value) = 0;
    // Write-combined block write (len a multiple of 8, at most MMIO_BLOCK_MAX_BYTES), e.g. a WQE
    // written straight into a doorbell page.
    virtual void mmio_write_block(uint64_t addr, const void* data, size_t len) = 0;

    // Memory region for the bus address of BAR0 (the "OS" assigns it at enumeration).
    virtual uint64_t bar_window(unsigned bar, uint64_t size) = 0;

    virtual dma_buffer dma_alloc(size_t size, size_t align) = 0;
    virtual void dma_free(const dma_buffer& b) = 0;

    // Interrupt vector n of this function: the message to program, and a wait for it.
    virtual msi_message msi(unsigned n) = 0;
    // Returns true when vector n fired since the last wait, false on timeout.
    virtual bool wait_interrupt(unsigned n, uint64_t timeout_ns) = 0;

    virtual void barrier(barrier_kind k) = 0;
    virtual void relax() = 0;
    // For a polling loop that waits only for the device to write host memory (a CQE, an EQE,
    // received data): returns at the instant a loop calling relax() would first have polled
    // after such a write, or at the first such instant at or after deadline_ns. Same simulated
    // behavior as relax() polling, without a wake-up per poll where the backend can watch
    // memory; this default polls once.
    virtual void relax_until_dma(uint64_t deadline_ns) {
        (void)deadline_ns;
        relax();
    }
    virtual uint64_t now_ns() = 0;
};

}  // namespace chio::drv
