#include "service/remote_memory.h"

#include <sys/uio.h>

namespace chio::service {

namespace {
constexpr uint64_t PAGE = 4096;
}

uint64_t remote_memory::map(int pid, uint64_t addr, uint64_t len) {
    if (len == 0) return 0;
    // Same page offset as the process address; a guard page between windows so an off-by-one
    // DMA is an address error, not another process's memory.
    const uint64_t bus = m_next + (addr % PAGE);
    const uint64_t span = ((addr % PAGE) + len + PAGE - 1) / PAGE * PAGE;
    auto handler = [this, pid, addr](uint64_t off, uint8_t* data, unsigned n, bool write) {
        iovec local{data, n};
        iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(addr + off)), n};
        const ssize_t done = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0)
                                   : process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (done != static_cast<ssize_t>(n)) return false;
        (write ? m_written : m_read) += n;
        return true;
    };
    if (!m_mem.map_window(bus, len, handler)) return 0;
    m_next += span + PAGE;
    return bus;
}

void remote_memory::unmap(uint64_t bus) { m_mem.unmap_window(bus); }

}  // namespace chio::service
