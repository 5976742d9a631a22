// First-fit allocator of address ranges inside [base, base + size): the guest OS's allocator for
// coherent DMA buffers in one chunk of a VM's guest-physical memory.
//
// Contract: alloc() returns naturally aligned ranges (align a power of two) that never overlap a
// live one; free() takes the start of a live range (anything else is ignored); neighbouring free
// ranges are merged. It hands out addresses only; the caller owns the memory behind them.
#pragma once

#include <cstdint>
#include <map>

namespace chio::cosim {

class range_allocator {
public:
    range_allocator(uint64_t base, uint64_t size);

    bool alloc(uint64_t size, uint64_t align, uint64_t& addr);
    void free(uint64_t addr);
    uint64_t free_bytes() const;

private:
    std::map<uint64_t, uint64_t> m_free;  // start -> length, coalesced
    std::map<uint64_t, uint64_t> m_used;  // start -> length
};

}  // namespace chio::cosim
