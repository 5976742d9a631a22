// The in-process co-simulation backend of the driver's bus: the driver runs inside an SC_THREAD
// and every config or MMIO access becomes a TLM transaction through the root complex that takes
// simulated time (the calling thread waits for it).
//
// Contract: every method must be called from a SystemC thread process. DMA buffers live in host
// memory; their CPU pointers stay valid for the simulation's lifetime.
//
// Posted MMIO writes (PCIe posted requests) do not stall the calling thread while fewer than
// mmio_writes_in_flight are on their way: a CPU retires them into its fill buffers. Each is
// queued with its arrival time from the link model and handed to the device then, by a method
// process of this bus. A config access or an MMIO read first waits until every earlier write
// has arrived (a read must not pass a posted write, PCIe 3.0 table 2-39), so a read right after
// writes takes up to one link time longer than on hardware, where its request travels right
// behind them. A refused posted write has no response to return: it counts in mmio_errors()
// when it arrives.
//
// A bus for a VF (fn > 0) plays the part the host OS plays for a VF (Linux's PCI core, VFIO's
// config emulation): a VF's Vendor/Device ID and BAR registers read 0/FFFFh in hardware, so this
// bus presents the PF's vendor id and the VF device id from the PF's SR-IOV capability, emulates
// BAR0 sizing with the VF BAR size, and bar_window() returns the VF's BAR0 address (PF's VF BAR0
// + (fn - 1) * size). Every other access goes to the VF's own config space and BAR.
#pragma once

#include <cstdint>
#include <deque>
#include <systemc>

#include "cosim/host_memory.h"
#include "cosim/interrupt_controller.h"
#include "cosim/root_complex.h"
#include "driver/bus.h"
#include "tlm-model/pcie/payload_pool.h"

namespace chio::cosim {

// Posted MMIO writes a core may have on their way before a further store stalls it: a core's
// line fill buffers hold its outstanding uncached and write-combining stores, 10 on Intel cores
// since Sandy Bridge (Intel 64 and IA-32 Architectures Optimization Reference Manual, "Load and
// Store Operation"). The model frees one when its write arrives at the device, an upper bound on
// the time (hardware frees it once the uncore has taken the write).
inline constexpr unsigned CPU_LINE_FILL_BUFFERS = 10;

struct sc_bus_params {
    uint16_t fn = 0;         // function this bus speaks for (routing id)
    double relax_ns = 50.0;  // time one polling iteration takes (a CPU cache-miss poll)
    uint64_t bar_base = 0;   // where the OS places this function's BAR0 (0: MMIO_BASE)
    // Posted MMIO writes the CPU may have on their way before a further store stalls it.
    unsigned mmio_writes_in_flight = CPU_LINE_FILL_BUFFERS;
};

class sc_bus final : public drv::bus {
public:
    sc_bus(root_complex& rc, host_memory& mem, interrupt_controller& irq,
           const sc_bus_params& p = {});

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
    // Sleeps on this host's memory-written event instead of waking every relax_ns.
    void relax_until_dma(uint64_t deadline_ns) override;
    uint64_t now_ns() override;
    // The host's scoreboard view of this function (cosim/scoreboard.h), or nullptr when off.
    drv::observer* watcher() override;
    // The scoreboard itself when on (for another backend on this path, e.g. guest_bus).
    scoreboard* board() const;

    uint64_t mmio_errors() const { return m_mmio_errors; }
    // Waits until every posted write of this bus has reached the device (what a read does
    // first); the platform calls it when a driver returns, so its last writes still land.
    void drain();

private:
    // One transaction; reads of a failed access return all ones, as PCIe does for a UR.
    void transact(bool cfg, bool write, uint64_t addr, void* data, unsigned len);
    // Posted MMIO writes on their way to the device.
    void post(uint64_t addr, const void* data, unsigned len);
    void deliver_due();  // method process: hands over the writes that have arrived
    void hand_over(uint64_t addr, uint8_t* data, unsigned len);
    struct posted_write {
        sc_core::sc_time at;  // arrival at the device
        uint64_t addr = 0;
        unsigned len = 0;
        uint8_t data[drv::MMIO_BLOCK_MAX_BYTES];
    };
    uint32_t msi_data(unsigned n) const { return (static_cast<uint32_t>(m_p.fn) << 16) | n; }
    // VF config emulation (see the contract above); false when the access is not emulated.
    bool vf_cfg_read(uint32_t offset, unsigned size, uint32_t& value);
    bool vf_cfg_write(uint32_t offset, uint32_t value, unsigned size);
    uint32_t pf_cfg_read(uint32_t offset, unsigned size);

    root_complex& m_rc;
    host_memory& m_mem;
    interrupt_controller& m_irq;
    sc_bus_params m_p;
    sc_core::sc_time m_relax;  // m_p.relax_ns
    uint64_t m_next_bar = 0;
    uint64_t m_mmio_errors = 0;
    uint64_t m_vf_bar_shadow = 0;   // what the driver last wrote to the emulated BAR0/BAR1
    model::payload_pool m_gp_pool;  // this bus's transactions (no allocation per access)
    std::deque<posted_write> m_posted;
    sc_core::sc_event m_posted_ev;   // the head of m_posted arrives
    sc_core::sc_event m_arrived_ev;  // writes of m_posted have arrived
    bool m_deliverer = false;        // the method process exists
};

}  // namespace chio::cosim
