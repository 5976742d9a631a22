#include "cosim/vm.h"

#include <algorithm>
#include <cstring>

namespace chio::cosim {

vm::vm(std::string name, std::vector<vm_chunk> chunks, host_memory& mem, iommu_domain_id domain)
    : m_name(std::move(name)), m_chunks(std::move(chunks)), m_mem(mem), m_domain(domain) {
    std::sort(m_chunks.begin(), m_chunks.end(),
              [](const vm_chunk& a, const vm_chunk& b) { return a.gpa < b.gpa; });
    for (const vm_chunk& c : m_chunks) {
        m_size = std::max(m_size, c.gpa + c.len);
        // GPA page 0 is never a buffer (see the contract).
        const uint64_t skip = c.gpa == 0 ? std::min<uint64_t>(IOMMU_PAGE_SIZE, c.len) : 0;
        m_alloc.emplace_back(c.gpa + skip, c.len - skip);
    }
}

const vm_chunk* vm::chunk_of(uint64_t gpa) const {
    // Last chunk starting at or below gpa.
    auto it = std::upper_bound(m_chunks.begin(), m_chunks.end(), gpa,
                               [](uint64_t a, const vm_chunk& c) { return a < c.gpa; });
    if (it == m_chunks.begin()) return nullptr;
    --it;
    return gpa - it->gpa < it->len ? &*it : nullptr;
}

bool vm::gpa_to_hpa(uint64_t gpa, uint64_t& hpa) const {
    const vm_chunk* c = chunk_of(gpa);
    if (c == nullptr) return false;
    hpa = c->hpa + (gpa - c->gpa);
    return true;
}

uint8_t* vm::cpu_ptr(uint64_t gpa, uint64_t len) {
    const vm_chunk* c = chunk_of(gpa);
    if (c == nullptr || len > c->len - (gpa - c->gpa)) return nullptr;
    return m_mem.cpu_ptr(c->hpa + (gpa - c->gpa), len);
}

bool vm::read(uint64_t gpa, void* dst, uint64_t len) {
    if (gpa > m_size || len > m_size - gpa) return false;
    auto* out = static_cast<uint8_t*>(dst);
    for (uint64_t off = 0; off < len;) {
        const vm_chunk* c = chunk_of(gpa + off);
        if (c == nullptr) return false;
        const uint64_t n = std::min(len - off, c->len - (gpa + off - c->gpa));
        std::memcpy(out + off, cpu_ptr(gpa + off, n), n);
        off += n;
    }
    return true;
}

bool vm::write(uint64_t gpa, const void* src, uint64_t len) {
    if (gpa > m_size || len > m_size - gpa) return false;
    const auto* in = static_cast<const uint8_t*>(src);
    for (uint64_t off = 0; off < len;) {
        const vm_chunk* c = chunk_of(gpa + off);
        if (c == nullptr) return false;
        const uint64_t n = std::min(len - off, c->len - (gpa + off - c->gpa));
        std::memcpy(cpu_ptr(gpa + off, n), in + off, n);
        off += n;
    }
    return true;
}

bool vm::alloc(uint64_t size, uint64_t align, uint64_t& gpa) {
    for (range_allocator& a : m_alloc) {
        if (!a.alloc(size, align, gpa)) continue;
        std::memset(cpu_ptr(gpa, size), 0, size);
        return true;
    }
    return false;
}

void vm::free(uint64_t gpa) {
    const vm_chunk* c = chunk_of(gpa);
    if (c != nullptr) m_alloc[static_cast<size_t>(c - m_chunks.data())].free(gpa);
}

}  // namespace chio::cosim
