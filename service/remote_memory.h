// An application process's registered memory, reached by the simulated adapter's DMA.
//
// The verbs service registers an MR over the application's own virtual addresses (IOVA = the
// process's pointer, as libibverbs does) and backs it with a window of bus addresses in the
// host's memory map (host_memory::map_window). Each DMA access to the window becomes a
// process_vm_readv/process_vm_writev on the application process at the simulated time of the
// access, so the application sees the data exactly when the device writes it.
//
// Contract: window bus addresses lie above every platform's DRAM and MMIO ranges (from
// WINDOW_BASE), keep the page offset of the process address (so page-granular translation in
// the adapter sees the same offsets as the IOVA), and are never reused while mapped. A process
// that died makes its windows fail as address errors (the DMA reports them; nothing crashes).
#pragma once

#include <cstdint>

#include "cosim/host_memory.h"

namespace chio::service {

class remote_memory {
public:
    static constexpr uint64_t WINDOW_BASE = 1ull << 40;

    explicit remote_memory(cosim::host_memory& mem) : m_mem(mem) {}

    // Maps [addr, addr + len) of process pid; returns the window's bus address (0 on failure).
    uint64_t map(int pid, uint64_t addr, uint64_t len);
    void unmap(uint64_t bus);

    uint64_t bytes_read() const { return m_read; }
    uint64_t bytes_written() const { return m_written; }

private:
    cosim::host_memory& m_mem;
    uint64_t m_next = WINDOW_BASE;
    uint64_t m_read = 0, m_written = 0;
    bool m_warned = false;
};

}  // namespace chio::service
