#include "cosim/guest_bus.h"

#include <algorithm>

#include "chio/spec/spec.h"
#include "cosim/scoreboard.h"

namespace chio::cosim {

namespace {
constexpr uint64_t VF_BAR_BYTES = uint64_t{1} << spec::pci::BAR0_SIZE_LOG2;
// A wait for an interrupt is taken in slices so that a VM moved meanwhile waits on its new
// host's interrupt controller (a real vCPU blocked in HLT is simply rescheduled there).
constexpr uint64_t IRQ_SLICE_NS = 10'000;
// What a read of a removed function returns: all ones, of the access's width.
uint32_t all_ones(unsigned size) { return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }
}  // namespace

sc_bus_params guest_bus::with_fn(sc_bus_params p, uint16_t fn) {
    p.fn = fn;
    return p;
}

guest_bus::guest_bus(vm& guest, uint16_t fn, root_complex& rc, host_memory& mem,
                     interrupt_controller& irq, sc_bus_params p)
    : m_vm(guest),
      m_fn(fn),
      m_params(with_fn(p, fn)),
      m_io(std::make_unique<sc_bus>(rc, mem, irq, m_params)) {}

void guest_bus::gate() {
    while (m_paused) sc_core::wait(m_resume_ev);
}

uint64_t guest_bus::map(uint64_t addr) const {
    if (m_old_bar == m_new_bar || addr < m_old_bar || addr - m_old_bar >= VF_BAR_BYTES) {
        return addr;
    }
    return m_new_bar + (addr - m_old_bar);
}

void guest_bus::pause() {
    if (m_paused) return;
    m_paused = true;
    m_paused_at = now_ns();
}

void guest_bus::resume() {
    if (!m_paused) return;
    m_paused = false;
    m_paused_ns += now_ns() - m_paused_at;
    m_resume_ev.notify(sc_core::SC_ZERO_TIME);
}

void guest_bus::move_to(root_complex& rc, host_memory& mem, interrupt_controller& irq,
                        uint64_t old_bar, uint64_t new_bar) {
    // Writes the guest posted before its pause belong to the source VF: they land there before
    // the bus that carries them is replaced.
    m_io->drain();
    m_io = std::make_unique<sc_bus>(rc, mem, irq, m_params);
    // Addresses the guest holds stay what they were on the first host.
    if (m_old_bar == m_new_bar) m_old_bar = old_bar;
    m_new_bar = new_bar;
}

uint32_t guest_bus::cfg_read(uint32_t offset, unsigned size) {
    gate();
    if (m_removed) return all_ones(size);
    return m_io->cfg_read(offset, size);
}

void guest_bus::cfg_write(uint32_t offset, uint32_t value, unsigned size) {
    gate();
    if (m_removed) return;
    m_io->cfg_write(offset, value, size);
}

uint32_t guest_bus::mmio_read32(uint64_t addr) {
    gate();
    if (m_removed) return 0xFFFFFFFFu;
    return m_io->mmio_read32(map(addr));
}

uint64_t guest_bus::mmio_read64(uint64_t addr) {
    gate();
    if (m_removed) return ~uint64_t{0};
    return m_io->mmio_read64(map(addr));
}

void guest_bus::mmio_write32(uint64_t addr, uint32_t value) {
    gate();
    if (m_removed) return;
    m_io->mmio_write32(map(addr), value);
}

void guest_bus::mmio_write64(uint64_t addr, uint64_t value) {
    gate();
    if (m_removed) return;
    m_io->mmio_write64(map(addr), value);
}

void guest_bus::mmio_write_block(uint64_t addr, const void* data, size_t len) {
    gate();
    if (m_removed) return;
    m_io->mmio_write_block(map(addr), data, len);
}

uint64_t guest_bus::bar_window(unsigned bar, uint64_t size) {
    gate();
    // The guest sees its VF's BAR where it first found it.
    return m_old_bar != m_new_bar ? m_old_bar : m_io->bar_window(bar, size);
}

drv::dma_buffer guest_bus::dma_alloc(size_t size, size_t align) {
    drv::dma_buffer b;
    uint64_t gpa = 0;
    if (!m_vm.alloc(size, align, gpa)) return b;
    b.cpu = m_vm.cpu_ptr(gpa, size);
    b.bus = gpa;
    b.size = size;
    if (scoreboard* s = m_io->board()) s->on_dma_alloc(m_fn, gpa, size);
    return b;
}

void guest_bus::dma_free(const drv::dma_buffer& b) {
    if (b.cpu == nullptr) return;
    if (scoreboard* s = m_io->board()) s->on_dma_free(m_fn, b.bus);
    m_vm.free(b.bus);
}

drv::msi_message guest_bus::msi(unsigned n) { return m_io->msi(n); }

bool guest_bus::wait_interrupt(unsigned n, uint64_t timeout_ns) {
    gate();
    const uint64_t end = now_ns() + timeout_ns;
    for (uint64_t now = now_ns();; now = now_ns()) {
        // A removed function raises no interrupt: the wait runs out its time, as on a real host.
        if (m_removed) {
            sc_core::wait(
                sc_core::sc_time(static_cast<double>(end - std::min(end, now)), sc_core::SC_NS));
            return false;
        }
        if (m_io->wait_interrupt(n, std::min(IRQ_SLICE_NS, end - std::min(end, now)))) return true;
        if (now_ns() >= end) return false;
        gate();
    }
}

void guest_bus::barrier(drv::barrier_kind k) { m_io->barrier(k); }

void guest_bus::relax() {
    gate();
    m_io->relax();
}

uint64_t guest_bus::now_ns() {
    return static_cast<uint64_t>(sc_core::sc_time_stamp().to_seconds() * 1e9);
}

}  // namespace chio::cosim
