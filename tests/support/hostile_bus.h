// A drv::bus with a scripted device behind it, for the driver-resilience tests (catalogue I):
// plain C++, no SystemC, time moves only when the driver relaxes or waits. The device answers
// what a test sets: config registers (with BAR0 sizing), BAR0 registers (a value, or all ones
// for every read: removed), and the command mailbox (each command completes at once with
// `cmd_status` and zeroed output, or never). DMA buffers are host heap with bus address ==
// CPU address, so a test can write into a ring as the device would.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <vector>

#include "chio/spec/spec.h"
#include "driver/bus.h"

namespace chio::test {

class hostile_bus final : public drv::bus {
public:
    static constexpr uint64_t BAR0 = 0xE0000000ull;

    hostile_bus() {
        namespace cfg = spec::pci::cfg;
        set_cfg(cfg::VENDOR_ID, spec::pci::VENDOR_ID);
        set_cfg(cfg::DEVICE_ID, spec::pci::DEVICE_ID);
        set_cfg(cfg::CAP_PTR, spec::pci::MSIX_CAP_OFFSET);
        set_cfg(spec::pci::MSIX_CAP_OFFSET, spec::pci::cap_id::MSIX);  // next 0: the end
        bar0_size = uint64_t{1} << spec::pci::BAR0_SIZE_LOG2;
    }
    ~hostile_bus() override {
        for (void* p : m_allocs) std::free(p);
    }

    // Scripted device state.
    std::map<uint32_t, uint32_t> cfg_regs;   // offset -> value (unset: 0)
    std::map<uint32_t, uint32_t> cfg_fixed;  // offset -> value every read returns (read-only)
    std::map<uint64_t, uint32_t> bar_regs;   // BAR0 offset -> value (unset: 0)
    uint64_t bar0_size = 0;                  // BAR0 sizing answer (0: a BAR of size 0)
    bool removed = false;                    // every read all ones
    bool commands_complete = true;           // the mailbox answers
    uint8_t cmd_status = 0;                  // spec::cmd::status of every command
    uint64_t now = 0;                        // simulated time, ns
    uint64_t relaxes = 0;

    void set_cfg(uint32_t off, uint32_t v) { cfg_regs[off] = v; }
    // The DMA buffers handed out, in order (a CQ's ring is the one of its size).
    const std::vector<drv::dma_buffer>& buffers() const { return m_buffers; }

    uint32_t cfg_read(uint32_t offset, unsigned size) override {
        if (removed) return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
        namespace cfg = spec::pci::cfg;
        uint32_t v = 0;
        if (offset == cfg::BAR0 || offset == cfg::BAR1) {
            const uint64_t bar = m_bar_sizing ? ~(bar0_size - 1) : m_bar;
            v = offset == cfg::BAR0 ? static_cast<uint32_t>(bar & ~0xFull) | 0x4 /* 64-bit */
                                    : static_cast<uint32_t>(bar >> 32);
        } else if (auto f = cfg_fixed.find(offset); f != cfg_fixed.end()) {
            v = f->second;
        } else {
            auto it = cfg_regs.find(offset);
            v = it == cfg_regs.end() ? 0 : it->second;
        }
        return size == 4 ? v : v & ((1u << (8 * size)) - 1);
    }
    void cfg_write(uint32_t offset, uint32_t value, unsigned size) override {
        namespace cfg = spec::pci::cfg;
        if (offset == cfg::BAR0 || offset == cfg::BAR1) {
            m_bar_sizing = value == 0xFFFFFFFFu;
            if (!m_bar_sizing) {
                const unsigned shift = offset == cfg::BAR0 ? 0 : 32;
                m_bar = (m_bar & ~(uint64_t{0xFFFFFFFFu} << shift)) | (uint64_t{value} << shift);
            }
            return;
        }
        (void)size;
        cfg_regs[offset] = value;
    }
    uint32_t mmio_read32(uint64_t addr) override {
        if (removed) return 0xFFFFFFFFu;
        auto it = bar_regs.find(addr - BAR0);
        return it == bar_regs.end() ? 0 : it->second;
    }
    uint64_t mmio_read64(uint64_t addr) override {
        return mmio_read32(addr) | uint64_t{mmio_read32(addr + 4)} << 32;
    }
    void mmio_write32(uint64_t addr, uint32_t value) override {
        namespace reg = spec::bar0::reg;
        const uint64_t off = addr - BAR0;
        if (off == reg::CMD_DB) return run_command();
        if (off == reg::DEV_CTRL) return;  // reset requests do nothing: status is scripted
        bar_regs[off] = value;
    }
    void mmio_write64(uint64_t addr, uint64_t value) override {
        mmio_write32(addr, static_cast<uint32_t>(value));
        mmio_write32(addr + 4, static_cast<uint32_t>(value >> 32));
    }
    void mmio_write_block(uint64_t, const void*, size_t) override {}
    uint64_t bar_window(unsigned, uint64_t) override { return BAR0; }
    drv::dma_buffer dma_alloc(size_t size, size_t align) override {
        const size_t a = align < 64 ? 64 : align;
        void* p = std::aligned_alloc(a, (size + a - 1) / a * a);
        if (p == nullptr) return {};
        std::memset(p, 0, size);
        m_allocs.push_back(p);
        drv::dma_buffer b{p, reinterpret_cast<uint64_t>(p), size};
        m_buffers.push_back(b);
        return b;
    }
    void dma_free(const drv::dma_buffer&) override {}  // freed with the bus
    drv::msi_message msi(unsigned n) override { return {0xFEE00000ull, n}; }
    bool wait_interrupt(unsigned, uint64_t timeout_ns) override {
        now += timeout_ns;
        return false;
    }
    // Runs at every barrier the driver issues (poll() issues one per entry it reads): a test
    // hooks the device writing concurrently here.
    std::function<void()> on_barrier;
    void barrier(drv::barrier_kind) override {
        if (on_barrier) on_barrier();
    }
    void relax() override {
        now += 50;
        ++relaxes;
    }
    uint64_t now_ns() override { return now; }

private:
    void run_command() {
        if (!commands_complete) return;
        namespace reg = spec::bar0::reg;
        const uint64_t mb =
            uint64_t{bar_regs[reg::CMD_ADDR_LO]} | uint64_t{bar_regs[reg::CMD_ADDR_HI]} << 32;
        auto* p = reinterpret_cast<uint8_t*>(mb);
        std::memset(p + spec::cmd::OUTPUT_OFFSET, 0, spec::cmd::OUTPUT_SIZE);
        p[spec::cmd::hdr::STATUS] = cmd_status;
        p[spec::cmd::hdr::OWNER] = 0;
    }

    bool m_bar_sizing = false;
    uint64_t m_bar = 0;
    std::vector<void*> m_allocs;
    std::vector<drv::dma_buffer> m_buffers;
};

}  // namespace chio::test
