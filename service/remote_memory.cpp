#include "service/remote_memory.h"

#include <sys/uio.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

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
        if (done != static_cast<ssize_t>(n)) {
            // Said once: a process that died makes every later access fail the same way.
            if (!m_warned) {
                std::printf("chio-verbs: DMA %s pid %d at 0x%llx failed: %s\n",
                            write ? "to" : "from", pid, static_cast<unsigned long long>(addr + off),
                            done < 0 ? std::strerror(errno) : "short transfer");
                std::fflush(stdout);
                m_warned = true;
            }
            return false;
        }
        (write ? m_written : m_read) += n;
        return true;
    };
    if (!m_mem.map_window(bus, len, handler)) return 0;
    m_next += span + PAGE;
    return bus;
}

void remote_memory::unmap(uint64_t bus) { m_mem.unmap_window(bus); }

}  // namespace chio::service
