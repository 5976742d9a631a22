#include "cosim/sc_bus.h"

#include <algorithm>
#include <cstring>

#include "chio/spec/spec.h"
#include "cosim/address_map.h"
#include "cosim/scoreboard.h"
#include "tlm-model/pcie/pcie_ext.h"
#include "tlm-model/sim_time.h"

namespace chio::cosim {

using sc_core::SC_NS;
using sc_core::sc_time;

sc_bus::sc_bus(root_complex& rc, host_memory& mem, interrupt_controller& irq,
               const sc_bus_params& p)
    : m_rc(rc), m_mem(mem), m_irq(irq), m_p(p), m_relax(p.relax_ns, sc_core::SC_NS) {
    m_next_bar = p.bar_base != 0 ? p.bar_base : address_map::MMIO_BASE;
}

void sc_bus::post(uint64_t addr, const void* data, unsigned len) {
    if (!m_deliverer) {
        sc_core::sc_spawn_options o;
        o.spawn_method();
        o.set_sensitivity(&m_posted_ev);
        o.dont_initialize();
        sc_core::sc_spawn([this] { deliver_due(); }, sc_core::sc_gen_unique_name("posted_mmio"),
                          &o);
        m_deliverer = true;
    }
    // The CPU stalls while its fill buffers are all taken by writes still on their way.
    while (m_posted.size() >= std::max(m_p.mmio_writes_in_flight, 1u)) {
        sc_core::wait(m_arrived_ev);
    }
    posted_write w;
    if (len > sizeof(w.data)) return;  // mmio_write_block() refuses longer writes already
    w.at = sc_core::sc_time_stamp() + m_rc.mmio_write_time(len);
    w.addr = addr;
    w.len = len;
    std::memcpy(w.data, data, len);
    if (m_posted.empty()) m_posted_ev.notify(w.at - sc_core::sc_time_stamp());
    m_posted.push_back(w);
}

void sc_bus::deliver_due() {
    const sc_time now = sc_core::sc_time_stamp();
    while (!m_posted.empty() && m_posted.front().at <= now) {
        posted_write w = m_posted.front();
        m_posted.pop_front();
        hand_over(w.addr, w.data, w.len);
    }
    m_arrived_ev.notify(sc_core::SC_ZERO_TIME);
    if (!m_posted.empty()) m_posted_ev.notify(m_posted.front().at - now);
}

void sc_bus::drain() {
    while (!m_posted.empty()) sc_core::wait(m_arrived_ev);
}

void sc_bus::hand_over(uint64_t addr, uint8_t* data, unsigned len) {
    tlm::tlm_generic_payload& p = m_gp_pool.take();
    model::pcie_ext ext;
    ext.fn = m_p.fn;
    ext.kind = model::tlp_kind::mem;
    p.set_extension(&ext);
    p.set_command(tlm::TLM_WRITE_COMMAND);
    p.set_address(addr);
    p.set_data_ptr(data);
    p.set_data_length(len);
    p.set_streaming_width(len);
    p.set_byte_enable_ptr(nullptr);
    p.set_dmi_allowed(false);
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    m_rc.mmio_deliver(p);
    p.clear_extension(&ext);
    if (!p.is_response_ok()) ++m_mmio_errors;
    m_gp_pool.give(p);
}

void sc_bus::transact(bool cfg, bool write, uint64_t addr, void* data, unsigned len) {
    if (write && !cfg) return post(addr, data, len);
    drain();
    tlm::tlm_generic_payload& p = m_gp_pool.take();
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
    const bool ok = p.is_response_ok();
    m_gp_pool.give(p);
    if (!ok) {
        ++m_mmio_errors;
        if (!write) std::memset(data, 0xFF, len);
    }
    sc_core::wait(delay);
}

uint32_t sc_bus::cfg_read(uint32_t offset, unsigned size) {
    uint32_t v = 0;
    if (m_p.fn != 0 && vf_cfg_read(offset, size, v)) return v;
    transact(true, false, offset, &v, size);
    return size == 4 ? v : (v & ((1u << (8 * size)) - 1));
}

void sc_bus::cfg_write(uint32_t offset, uint32_t value, unsigned size) {
    if (m_p.fn != 0 && vf_cfg_write(offset, value, size)) return;
    transact(true, true, offset, &value, size);
    // A function level reset erases the function's queues: their pending work owes nothing.
    if (offset == spec::pci::PCIE_CAP_OFFSET + spec::pci::pcie_cap::DEV_CTRL &&
        spec::pci::pcie_cap::DEV_CTRL_INITIATE_FLR.get(value) != 0) {
        if (scoreboard* s = m_rc.board(); s != nullptr && s->enabled()) {
            s->on_function_reset(m_p.fn);
        }
    }
}

scoreboard* sc_bus::board() const {
    scoreboard* s = m_rc.board();
    return s != nullptr && s->enabled() ? s : nullptr;
}

drv::observer* sc_bus::watcher() {
    scoreboard* s = m_rc.board();
    return s != nullptr && s->enabled() ? s->driver_view(m_p.fn) : nullptr;
}

uint32_t sc_bus::pf_cfg_read(uint32_t offset, unsigned size) {
    const uint16_t fn = m_p.fn;
    m_p.fn = 0;
    uint32_t v = 0;
    transact(true, false, offset, &v, size);
    m_p.fn = fn;
    return size == 4 ? v : (v & ((1u << (8 * size)) - 1));
}

namespace {
namespace cfgr = spec::pci::cfg;
namespace sr = spec::pci::sriov_cap;
constexpr uint64_t VF_BAR_BYTES = uint64_t{1} << spec::pci::BAR0_SIZE_LOG2;
// The BAR's type bits as the PF's VF BAR0 reports them (64-bit, prefetchable).
constexpr uint32_t VF_BAR_TYPE = static_cast<uint32_t>(
    cfgr::BAR0_MEM_TYPE_64.make(spec::pci::BAR_MEM_TYPE_64) | cfgr::BAR0_PREFETCHABLE.make(1));
}  // namespace

bool sc_bus::vf_cfg_read(uint32_t offset, unsigned size, uint32_t& value) {
    const uint32_t ids_end = cfgr::DEVICE_ID + cfgr::DEVICE_ID_BYTES;
    if (offset < ids_end) {
        // Vendor id of the PF; device id from the PF's SR-IOV capability (as Linux does).
        const uint32_t dev = pf_cfg_read(spec::pci::EXT_CAP_OFFSET + sr::VF_DEVICE_ID, 2);
        const uint32_t ids = pf_cfg_read(cfgr::VENDOR_ID, 2) | dev << 16;
        value = (ids >> (8 * offset)) & (size == 4 ? ~0u : (1u << (8 * size)) - 1);
        return true;
    }
    if (offset == cfgr::BAR0 && size == 4) {
        value = static_cast<uint32_t>(m_vf_bar_shadow) | VF_BAR_TYPE;
        return true;
    }
    if (offset == cfgr::BAR1 && size == 4) {
        value = static_cast<uint32_t>(m_vf_bar_shadow >> 32);
        return true;
    }
    return false;
}

bool sc_bus::vf_cfg_write(uint32_t offset, uint32_t value, unsigned size) {
    // The emulated BAR keeps the bits a BAR of the VF's size would keep.
    const uint64_t mask = ~(VF_BAR_BYTES - 1);
    if (offset == cfgr::BAR0 && size == 4) {
        m_vf_bar_shadow = ((m_vf_bar_shadow & ~0xFFFFFFFFull) | value) & mask;
        return true;
    }
    if (offset == cfgr::BAR1 && size == 4) {
        m_vf_bar_shadow = ((m_vf_bar_shadow & 0xFFFFFFFFull) | uint64_t{value} << 32) & mask;
        return true;
    }
    return false;
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
    uint8_t buf[drv::MMIO_BLOCK_MAX_BYTES];
    if (len == 0 || len > sizeof(buf)) return;
    std::memcpy(buf, data, len);
    transact(false, true, addr, buf, static_cast<unsigned>(len));
}

uint64_t sc_bus::bar_window(unsigned, uint64_t size) {
    if (m_p.fn != 0) {
        // A VF's BAR is where the PF's manager placed the VF BARs.
        const uint32_t base = spec::pci::EXT_CAP_OFFSET;
        const uint64_t vf_bar0 = (uint64_t{pf_cfg_read(base + sr::VF_BAR1, 4)} << 32 |
                                  pf_cfg_read(base + sr::VF_BAR0, 4)) &
                                 ~(VF_BAR_BYTES - 1);
        return vf_bar0 + uint64_t{m_p.fn - 1u} * VF_BAR_BYTES;
    }
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
    if (scoreboard* s = m_rc.board(); s != nullptr && s->enabled()) {
        s->on_dma_alloc(m_p.fn, addr, size);
    }
    return b;
}

void sc_bus::dma_free(const drv::dma_buffer& b) {
    if (b.cpu == nullptr) return;
    if (scoreboard* s = m_rc.board(); s != nullptr && s->enabled()) s->on_dma_free(m_p.fn, b.bus);
    m_mem.free(b.bus);
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

void sc_bus::relax() { sc_core::wait(m_relax); }

void sc_bus::relax_until_dma(uint64_t deadline_ns) {
    // The instants a relax() loop started now would poll at: start + k * period, k >= 1.
    const uint64_t start = sc_core::sc_time_stamp().value();
    const uint64_t period = std::max<uint64_t>(m_relax.value(), 1);
    const auto first_poll_at_or_after = [&](uint64_t t) {
        const uint64_t k = t <= start ? 1 : (t - start + period - 1) / period;
        return start + k * period;
    };
    const uint64_t last =
        first_poll_at_or_after(sc_time(static_cast<double>(deadline_ns), sc_core::SC_NS).value());
    // Each wait is cut at MAX_SLICE: SystemC keeps a timeout that an event beat in its timed
    // queue until it expires, and a short slice keeps that queue short.
    static const sc_time MAX_SLICE(1, sc_core::SC_US);
    const uint64_t seen = m_mem.writes();
    uint64_t now = start;
    while (m_mem.writes() == seen && now < last) {
        sc_core::wait(std::min(sc_time::from_value(last - now), MAX_SLICE), m_mem.written());
        now = sc_core::sc_time_stamp().value();
    }
    const uint64_t poll = m_mem.writes() == seen ? last : first_poll_at_or_after(now);
    if (poll > now) sc_core::wait(sc_time::from_value(poll - now));
}

uint64_t sc_bus::now_ns() { return static_cast<uint64_t>(time_ns(sc_core::sc_time_stamp())); }

}  // namespace chio::cosim
