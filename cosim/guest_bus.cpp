#include "cosim/guest_bus.h"

#include "cosim/scoreboard.h"

namespace chio::cosim {

sc_bus_params guest_bus::with_fn(sc_bus_params p, uint16_t fn) {
    p.fn = fn;
    return p;
}

guest_bus::guest_bus(vm& guest, uint16_t fn, root_complex& rc, host_memory& mem,
                     interrupt_controller& irq, sc_bus_params p)
    : m_vm(guest), m_fn(fn), m_io(rc, mem, irq, with_fn(p, fn)) {}

uint32_t guest_bus::cfg_read(uint32_t offset, unsigned size) { return m_io.cfg_read(offset, size); }

void guest_bus::cfg_write(uint32_t offset, uint32_t value, unsigned size) {
    m_io.cfg_write(offset, value, size);
}

uint32_t guest_bus::mmio_read32(uint64_t addr) { return m_io.mmio_read32(addr); }

uint64_t guest_bus::mmio_read64(uint64_t addr) { return m_io.mmio_read64(addr); }

void guest_bus::mmio_write32(uint64_t addr, uint32_t value) { m_io.mmio_write32(addr, value); }

void guest_bus::mmio_write64(uint64_t addr, uint64_t value) { m_io.mmio_write64(addr, value); }

void guest_bus::mmio_write_block(uint64_t addr, const void* data, size_t len) {
    m_io.mmio_write_block(addr, data, len);
}

uint64_t guest_bus::bar_window(unsigned bar, uint64_t size) { return m_io.bar_window(bar, size); }

drv::dma_buffer guest_bus::dma_alloc(size_t size, size_t align) {
    drv::dma_buffer b;
    uint64_t gpa = 0;
    if (!m_vm.alloc(size, align, gpa)) return b;
    b.cpu = m_vm.cpu_ptr(gpa, size);
    b.bus = gpa;
    b.size = size;
    if (scoreboard* s = m_io.board()) s->on_dma_alloc(m_fn, gpa, size);
    return b;
}

void guest_bus::dma_free(const drv::dma_buffer& b) {
    if (b.cpu == nullptr) return;
    if (scoreboard* s = m_io.board()) s->on_dma_free(m_fn, b.bus);
    m_vm.free(b.bus);
}

drv::msi_message guest_bus::msi(unsigned n) { return m_io.msi(n); }

bool guest_bus::wait_interrupt(unsigned n, uint64_t timeout_ns) {
    return m_io.wait_interrupt(n, timeout_ns);
}

void guest_bus::barrier(drv::barrier_kind k) { m_io.barrier(k); }

void guest_bus::relax() { m_io.relax(); }

uint64_t guest_bus::now_ns() { return m_io.now_ns(); }

}  // namespace chio::cosim
