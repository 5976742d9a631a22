#include "cosim/range_allocator.h"

#include <iterator>

namespace chio::cosim {

range_allocator::range_allocator(uint64_t base, uint64_t size) {
    if (size != 0) m_free[base] = size;
}

bool range_allocator::alloc(uint64_t size, uint64_t align, uint64_t& addr) {
    if (size == 0 || align == 0 || (align & (align - 1)) != 0) return false;
    for (auto it = m_free.begin(); it != m_free.end(); ++it) {
        const uint64_t start = it->first, len = it->second;
        const uint64_t a = (start + align - 1) & ~(align - 1);
        if (a < start || a - start > len || len - (a - start) < size) continue;
        m_free.erase(it);
        if (a > start) m_free[start] = a - start;
        if (a + size < start + len) m_free[a + size] = start + len - (a + size);
        m_used[a] = size;
        addr = a;
        return true;
    }
    return false;
}

void range_allocator::free(uint64_t addr) {
    auto u = m_used.find(addr);
    if (u == m_used.end()) return;
    uint64_t start = u->first, len = u->second;
    m_used.erase(u);
    auto next = m_free.lower_bound(start);
    if (next != m_free.end() && start + len == next->first) {
        len += next->second;
        next = m_free.erase(next);
    }
    if (next != m_free.begin()) {
        auto prev = std::prev(next);
        if (prev->first + prev->second == start) {
            prev->second += len;
            return;
        }
    }
    m_free[start] = len;
}

uint64_t range_allocator::free_bytes() const {
    uint64_t n = 0;
    for (const auto& f : m_free) n += f.second;
    return n;
}

}  // namespace chio::cosim
