#include "cosim/host_memory.h"

#include <algorithm>
#include <cstring>

namespace chio::cosim {

// The first page stays unallocated so that a zero bus address is never a valid buffer: a device
// DMA to address 0 is a bug that the allocator never hides.
static constexpr uint64_t RESERVED_LOW = 4096;

host_memory::host_memory(sc_core::sc_module_name name, uint64_t size)
    : sc_module(name),
      socket("socket"),
      m_mem(static_cast<uint8_t*>(std::calloc(size, 1))),
      m_size(m_mem ? size : 0),
      m_alloc(RESERVED_LOW, m_size > RESERVED_LOW ? m_size - RESERVED_LOW : 0) {
    socket.register_b_transport(this, &host_memory::b_transport);
    socket.register_transport_dbg(this, &host_memory::transport_dbg);
    socket.register_get_direct_mem_ptr(this, &host_memory::get_direct_mem_ptr);
    SC_METHOD(land_due);
    sensitive << m_land_ev;
    dont_initialize();
}

uint8_t* host_memory::cpu_ptr(uint64_t addr, uint64_t len) {
    if (addr > m_size || len > m_size - addr) return nullptr;
    return m_mem.get() + addr;
}

bool host_memory::alloc(uint64_t size, uint64_t align, uint64_t& addr) {
    if (!m_alloc.alloc(size, align, addr)) return false;
    std::memset(m_mem.get() + addr, 0, size);  // coherent DMA buffers start zeroed
    return true;
}

void host_memory::free(uint64_t addr) { m_alloc.free(addr); }

bool host_memory::map_window(uint64_t addr, uint64_t len, window_handler h) {
    if (len == 0 || addr < m_size || addr + len < addr) return false;
    auto next = m_windows.lower_bound(addr);
    if (next != m_windows.end() && next->first < addr + len) return false;
    if (next != m_windows.begin()) {
        auto prev = std::prev(next);
        if (prev->first + prev->second.len > addr) return false;
    }
    m_windows[addr] = window{len, std::move(h)};
    return true;
}

void host_memory::unmap_window(uint64_t addr) { m_windows.erase(addr); }

bool host_memory::window_access(tlm::tlm_generic_payload& p) {
    const uint64_t addr = p.get_address();
    const unsigned len = p.get_data_length();
    auto it = m_windows.upper_bound(addr);
    if (it == m_windows.begin()) return false;
    --it;
    const uint64_t off = addr - it->first;
    if (off >= it->second.len || len > it->second.len - off) return false;
    if (!p.is_read() && !p.is_write()) return true;
    return it->second.handler(off, p.get_data_ptr(), len, p.is_write());
}

bool host_memory::access(tlm::tlm_generic_payload& p) {
    const uint64_t addr = p.get_address();
    const unsigned len = p.get_data_length();
    uint8_t* mem = cpu_ptr(addr, len);
    // Outside DRAM, a window may serve the access (never by DMI: its memory is not ours).
    if (mem == nullptr && p.get_byte_enable_ptr() == nullptr && !m_windows.empty()) {
        const bool ok = window_access(p);
        p.set_response_status(ok ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return ok;
    }
    if (mem == nullptr || p.get_byte_enable_ptr() != nullptr) {
        p.set_response_status(mem == nullptr ? tlm::TLM_ADDRESS_ERROR_RESPONSE
                                             : tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return false;
    }
    if (p.is_read()) {
        std::memcpy(p.get_data_ptr(), mem, len);
    } else if (p.is_write()) {
        std::memcpy(mem, p.get_data_ptr(), len);
    }
    p.set_dmi_allowed(true);
    p.set_response_status(tlm::TLM_OK_RESPONSE);
    return true;
}

void host_memory::b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& t) {
    const uint64_t addr = p.get_address();
    const unsigned len = p.get_data_length();
    land_overlapping(addr, len);
    if (p.is_write() && t > sc_core::SC_ZERO_TIME && p.get_byte_enable_ptr() == nullptr &&
        cpu_ptr(addr, len) != nullptr) {
        hold(addr, p.get_data_ptr(), len, sc_core::sc_time_stamp() + t);
        p.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    if (access(p) && p.is_write()) note_write();
}

void host_memory::hold(uint64_t addr, const uint8_t* data, unsigned len,
                       const sc_core::sc_time& at) {
    // Posted writes of one link arrive in the order they were issued, so this is almost always
    // an append; a write due earlier than ones already held goes before them, never between
    // two of the same arrival time.
    std::vector<uint8_t> bytes;
    if (!m_spare.empty()) {
        bytes = std::move(m_spare.back());
        m_spare.pop_back();
    }
    bytes.assign(data, data + len);
    auto pos = m_on_the_way.end();
    while (pos != m_on_the_way.begin() && std::prev(pos)->at > at) --pos;
    m_on_the_way.insert(pos, on_the_way{at, addr, std::move(bytes)});
    // An earlier pending notification stays; a later one is replaced by this.
    m_land_ev.notify(at - sc_core::sc_time_stamp());
}

void host_memory::land_front() {
    on_the_way& w = m_on_the_way.front();
    std::memcpy(cpu_ptr(w.addr, w.bytes.size()), w.bytes.data(), w.bytes.size());
    // Its buffer serves a later write: no allocation per DMA write in the steady state.
    if (m_spare.size() < MAX_SPARE) m_spare.push_back(std::move(w.bytes));
    m_on_the_way.pop_front();
    note_write();
}

void host_memory::land_due() {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    while (!m_on_the_way.empty() && m_on_the_way.front().at <= now) land_front();
    if (!m_on_the_way.empty()) m_land_ev.notify(m_on_the_way.front().at - now);
}

void host_memory::land_overlapping(uint64_t addr, uint64_t len) {
    if (m_on_the_way.empty()) return;
    // The writes ahead of the last overlapping one land with it, in order: landing a later
    // write before an earlier one to the same bytes would leave the older value.
    size_t last = m_on_the_way.size();
    for (size_t i = 0; i < m_on_the_way.size(); ++i) {
        const on_the_way& w = m_on_the_way[i];
        if (w.addr < addr + len && addr < w.addr + w.bytes.size()) last = i;
    }
    if (last == m_on_the_way.size()) return;
    for (size_t i = 0; i <= last; ++i) land_front();
}

unsigned host_memory::transport_dbg(tlm::tlm_generic_payload& p) {
    if (!access(p)) return 0;
    if (p.is_write()) note_write();
    return p.get_data_length();
}

void host_memory::note_write() {
    ++m_writes;
    // Immediate, so a poller woken at this instant sees the data as relax() polling would; an
    // immediate notification is legal only while processes run (not during elaboration).
    if (sc_core::sc_get_curr_simcontext()->evaluation_phase()) m_written.notify();
}

bool host_memory::get_direct_mem_ptr(tlm::tlm_generic_payload&, tlm::tlm_dmi& dmi) {
    if (m_size == 0) return false;
    dmi.set_dmi_ptr(m_mem.get());
    dmi.set_start_address(0);
    dmi.set_end_address(m_size - 1);
    dmi.allow_read_write();
    dmi.set_read_latency(sc_core::SC_ZERO_TIME);
    dmi.set_write_latency(sc_core::SC_ZERO_TIME);
    return true;
}

}  // namespace chio::cosim
