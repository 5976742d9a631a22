#include "cosim/sc_bus.h"

#include <cstring>

#include "cosim/address_map.h"
#include "tlm-model/pcie/pcie_ext.h"

namespace chio::cosim {

using sc_core::SC_NS;
using sc_core::sc_time;

sc_bus::sc_bus(root_complex& rc, host_memory& mem, interrupt_controller& irq,
               const sc_bus_params& p)
    : m_rc(rc), m_mem(mem), m_irq(irq), m_p(p) {
    m_next_bar = p.bar_base != 0 ? p.bar_base : address_map::MMIO_BASE;
}

void sc_bus::transact(bool cfg, bool write, uint64_t addr, void* data, unsigned len) {
    tlm::tlm_generic_payload p;
    model::pcie_ext ext;
    ext.fn = m_p.fn;
    ext.kind = cfg ? model::tlp_kind::cfg : model::tlp_kind::mem;
    p.set_extension(&ext);
    p.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    p.set_address(addr);
    p.set_data_ptr(static_cast<unsigned char*>(data));
    p.set_data_length(len);
    p.set_streaming_width(len);
    p.set_byte_enable_ptr(nullptr);
    p.set_dmi_allowed(false);
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time delay = sc_core::SC_ZERO_TIME;
    if (cfg) {
        m_rc.cfg_access(p, delay);
    } else {
        m_rc.mmio_access(p, delay);
    }
    p.clear_extension(&ext);
    if (!p.is_response_ok()) {
        ++m_mmio_errors;
        if (!write) std::memset(data, 0xFF, len);
    }
    sc_core::wait(delay);
}

uint32_t sc_bus::cfg_read(uint32_t offset, unsigned size) {
    uint32_t v = 0;
    transact(true, false, offset, &v, size);
    return size == 4 ? v : (v & ((1u << (8 * size)) - 1));
}

void sc_bus::cfg_write(uint32_t offset, uint32_t value, unsigned size) {
    transact(true, true, offset, &value, size);
}

uint32_t sc_bus::mmio_read32(uint64_t addr) {
    uint32_t v = 0;
    transact(false, false, addr, &v, 4);
    return v;
}

uint64_t sc_bus::mmio_read64(uint64_t addr) {
    uint64_t v = 0;
    transact(false, false, addr, &v, 8);
    return v;
}

void sc_bus::mmio_write32(uint64_t addr, uint32_t value) { transact(false, true, addr, &value, 4); }

void sc_bus::mmio_write64(uint64_t addr, uint64_t value) { transact(false, true, addr, &value, 8); }

void sc_bus::mmio_write_block(uint64_t addr, const void* data, size_t len) {
    uint8_t buf[256];
    if (len == 0 || len > sizeof(buf)) return;
    std::memcpy(buf, data, len);
    transact(false, true, addr, buf, static_cast<unsigned>(len));
}

uint64_t sc_bus::bar_window(unsigned, uint64_t size) {
    // Natural alignment, as the PCI BAR sizing rules require.
    const uint64_t base = (m_next_bar + size - 1) & ~(size - 1);
    m_next_bar = base + size;
    return base;
}

drv::dma_buffer sc_bus::dma_alloc(size_t size, size_t align) {
    drv::dma_buffer b;
    uint64_t addr = 0;
    if (!m_mem.alloc(size, align, addr)) return b;
    b.bus = addr;
    b.cpu = m_mem.cpu_ptr(addr, size);
    b.size = size;
    return b;
}

void sc_bus::dma_free(const drv::dma_buffer& b) {
    if (b.cpu != nullptr) m_mem.free(b.bus);
}

drv::msi_message sc_bus::msi(unsigned n) { return {address_map::MSI_BASE, msi_data(n)}; }

bool sc_bus::wait_interrupt(unsigned n, uint64_t timeout_ns) {
    return m_irq.wait(msi_data(n), sc_time(static_cast<double>(timeout_ns), SC_NS));
}

void sc_bus::barrier(drv::barrier_kind) {
    // Transactions complete in call order in this backend, and host memory is coherent with the
    // device's view, so a barrier has nothing to wait for. It stays in the driver because real
    // backends need it.
}

void sc_bus::relax() { sc_core::wait(sc_time(m_p.relax_ns, SC_NS)); }

uint64_t sc_bus::now_ns() {
    return static_cast<uint64_t>(sc_core::sc_time_stamp().to_seconds() * 1e9);
}

}  // namespace chio::cosim
