// Host DRAM as a TLM-2.0 target with DMI, plus the allocator the OS would use for coherent DMA
// buffers.
//
// Contract: addresses are host-physical, starting at 0 (the IOMMU in the root complex translates
// device addresses before they get here). Accesses outside the memory answer
// TLM_ADDRESS_ERROR_RESPONSE (the root complex turns that into an unsupported request). DMI is
// granted for the whole memory, read and write. Zero-time: latency is charged by the PCIe link
// model in the root complex, not here.
// - A write that comes with a delay (the root complex annotates a DMA write with its arrival
//   time) is a posted write on its way: its status (address decode) is decided at the call, its
//   bytes land at the arrival, in arrival order, and only then does the CPU see them (cpu_ptr,
//   writes(), written()). A device access through the socket never passes such a write: the
//   pending writes it overlaps land first (PCIe 3.0 table 2-39: no request passes a posted
//   write). A write into a window lands at the call (the window's memory is not ours to hold).
#pragma once

#include <tlm_utils/simple_target_socket.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <systemc>
#include <tlm>
#include <vector>

#include "cosim/range_allocator.h"

namespace chio::cosim {

class host_memory : public sc_core::sc_module {
public:
    tlm_utils::simple_target_socket<host_memory> socket;

    SC_HAS_PROCESS(host_memory);
    host_memory(sc_core::sc_module_name name, uint64_t size);

    uint64_t size() const { return m_size; }
    // CPU view of [addr, addr + len), or nullptr when outside memory.
    uint8_t* cpu_ptr(uint64_t addr, uint64_t len);

    // Coherent DMA buffer allocation (first fit; alignment a power of two). Returns false when
    // memory is exhausted.
    bool alloc(uint64_t size, uint64_t align, uint64_t& addr);
    void free(uint64_t addr);

    // A window: bus addresses outside DRAM whose accesses a handler serves (the verbs service
    // maps an application process's registered memory this way, reached with
    // process_vm_readv/writev). The handler copies len bytes at offset into the window to or
    // from data and returns false when it cannot (the access then fails as an address error).
    // Windows must not overlap DRAM or each other; map_window returns false when one would.
    using window_handler =
        std::function<bool(uint64_t offset, uint8_t* data, unsigned len, bool write)>;
    bool map_window(uint64_t addr, uint64_t len, window_handler h);
    void unmap_window(uint64_t addr);

    // Writes through the socket landed so far (device DMA, not CPU stores through cpu_ptr),
    // and the event each one notifies as it lands: a CPU polling loop sleeps on it
    // (sc_bus::relax_until_dma).
    uint64_t writes() const { return m_writes; }
    const sc_core::sc_event& written() const { return m_written; }
    // Posted writes accepted but not landed yet.
    size_t writes_on_the_way() const { return m_on_the_way.size(); }

private:
    void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& t);
    unsigned transport_dbg(tlm::tlm_generic_payload& p);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& p, tlm::tlm_dmi& dmi);
    bool access(tlm::tlm_generic_payload& p);
    void note_write();
    // Posted writes on their way (see the contract): queued in arrival order, landed by a
    // method process at their arrival times, or earlier by an access that overlaps them.
    struct on_the_way {
        sc_core::sc_time at;
        uint64_t addr;
        std::vector<uint8_t> bytes;
    };
    void hold(uint64_t addr, const uint8_t* data, unsigned len, const sc_core::sc_time& at);
    void land_front();
    void land_due();
    void land_overlapping(uint64_t addr, uint64_t len);
    std::deque<on_the_way> m_on_the_way;
    static constexpr size_t MAX_SPARE = 64;  // landed writes' buffers kept for reuse
    std::vector<std::vector<uint8_t>> m_spare;
    sc_core::sc_event m_land_ev;

    // calloc: the OS maps zero pages lazily, so a large memory costs nothing until touched.
    struct free_deleter {
        void operator()(uint8_t* p) const { std::free(p); }
    };
    std::unique_ptr<uint8_t, free_deleter> m_mem;
    uint64_t m_size = 0;
    range_allocator m_alloc;  // bus addresses of the coherent DMA buffers
    struct window {
        uint64_t len;
        window_handler handler;
    };
    std::map<uint64_t, window> m_windows;  // start -> window
    uint64_t m_writes = 0;
    sc_core::sc_event m_written;
    // A window access: true when [addr, addr + len) lies in one window and its handler served it.
    bool window_access(tlm::tlm_generic_payload& p);
};

}  // namespace chio::cosim
