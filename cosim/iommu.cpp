#include "cosim/iommu.h"

#include <algorithm>
#include <iterator>

namespace chio::cosim {

namespace {
constexpr uint64_t PAGE_SHIFT = 12;
static_assert(IOMMU_PAGE_SIZE == uint64_t{1} << PAGE_SHIFT, "page size and shift disagree");

bool allows(iommu_perm p, bool write) {
    const auto bits = static_cast<uint8_t>(p);
    return (bits & static_cast<uint8_t>(write ? iommu_perm::write : iommu_perm::read)) != 0;
}
}  // namespace

const char* to_string(iommu_fault_reason r) {
    switch (r) {
        case iommu_fault_reason::not_mapped:
            return "not mapped";
        case iommu_fault_reason::read_denied:
            return "read denied";
        case iommu_fault_reason::write_denied:
            return "write denied";
        case iommu_fault_reason::blocked:
            return "function blocked";
        case iommu_fault_reason::address_overflow:
            return "address overflow";
    }
    return "unknown";
}

iommu_domain_id iommu::create_domain() {
    const iommu_domain_id id = m_next_domain++;
    m_domains[id];
    return id;
}

bool iommu::destroy_domain(iommu_domain_id d) {
    if (m_domains.erase(d) == 0) return false;
    for (auto it = m_attached.begin(); it != m_attached.end();) {
        it = it->second == d ? m_attached.erase(it) : std::next(it);
    }
    return true;
}

bool iommu::map(iommu_domain_id d, uint64_t iova, uint64_t hpa, uint64_t bytes, iommu_perm perm) {
    auto it = m_domains.find(d);
    const uint64_t mask = IOMMU_PAGE_SIZE - 1;
    if (it == m_domains.end() || ((iova | hpa | bytes) & mask) != 0 || bytes == 0) return false;
    if (iova + bytes < iova || hpa + bytes < hpa) return false;  // wraps the address space
    domain& dom = it->second;
    dom.cached = false;
    for (uint64_t off = 0; off < bytes; off += IOMMU_PAGE_SIZE) {
        dom.pages[(iova + off) >> PAGE_SHIFT] = pte{(hpa + off) >> PAGE_SHIFT, perm};
    }
    return true;
}

bool iommu::unmap(iommu_domain_id d, uint64_t iova, uint64_t bytes) {
    auto it = m_domains.find(d);
    if (it == m_domains.end() || (iova & (IOMMU_PAGE_SIZE - 1)) != 0) return false;
    domain& dom = it->second;
    dom.cached = false;
    for (uint64_t off = 0; off < bytes && iova + off >= iova; off += IOMMU_PAGE_SIZE) {
        dom.pages.erase((iova + off) >> PAGE_SHIFT);
    }
    return true;
}

size_t iommu::mapped_pages(iommu_domain_id d) const {
    auto it = m_domains.find(d);
    return it == m_domains.end() ? 0 : it->second.pages.size();
}

bool iommu::attach(uint16_t fn, iommu_domain_id d) {
    if (d != IDENTITY_DOMAIN && m_domains.count(d) == 0) return false;
    m_attached[fn] = d;
    return true;
}

void iommu::detach(uint16_t fn) { m_attached.erase(fn); }

iommu_domain_id iommu::domain_of(uint16_t fn) const {
    auto it = m_attached.find(fn);
    return it == m_attached.end() ? 0 : it->second;
}

const iommu::pte* iommu::lookup(domain& d, uint64_t iova_page) {
    ++m_counters.page_lookups;
    if (d.cached && d.cached_page == iova_page) {
        ++m_counters.cache_hits;
        return &d.cached_pte;
    }
    auto it = d.pages.find(iova_page);
    if (it == d.pages.end()) return nullptr;
    d.cached = true;
    d.cached_page = iova_page;
    d.cached_pte = it->second;
    return &d.cached_pte;
}

void iommu::fault(uint16_t fn, uint64_t iova, bool write, iommu_fault_reason r, uint64_t now_ns) {
    ++m_counters.faults;
    ++m_counters.by_reason[r];
    if (m_faults.size() == FAULT_LOG_DEPTH) {
        m_faults.pop_front();
        ++m_counters.faults_dropped;
    }
    m_faults.push_back(iommu_fault{fn, iova, write, r, now_ns});
}

bool iommu::translate(uint16_t fn, uint64_t iova, uint64_t len, bool write,
                      std::vector<iommu_segment>& segs, uint64_t now_ns) {
    segs.clear();
    if (len != 0 && iova + (len - 1) < iova) {
        fault(fn, iova, write, iommu_fault_reason::address_overflow, now_ns);
        return false;
    }
    auto att = m_attached.find(fn);
    const bool identity = att != m_attached.end() && att->second == IDENTITY_DOMAIN;
    if (att == m_attached.end() || identity) {
        if (!identity && m_block_unassigned) {
            fault(fn, iova, write, iommu_fault_reason::blocked, now_ns);
            return false;
        }
        ++m_counters.translations;
        ++m_counters.passthrough;
        segs.push_back(iommu_segment{iova, 0, len});
        return true;
    }
    domain& dom = m_domains.at(att->second);  // attach() and destroy_domain() keep this valid
    uint64_t off = 0;
    do {
        const uint64_t va = iova + off;
        const uint64_t in_page = va & (IOMMU_PAGE_SIZE - 1);
        const uint64_t chunk = std::min(len - off, IOMMU_PAGE_SIZE - in_page);
        const pte* e = lookup(dom, va >> PAGE_SHIFT);
        if (e == nullptr || !allows(e->perm, write)) {
            const auto r = e == nullptr ? iommu_fault_reason::not_mapped
                           : write      ? iommu_fault_reason::write_denied
                                        : iommu_fault_reason::read_denied;
            segs.clear();
            fault(fn, va & ~(IOMMU_PAGE_SIZE - 1), write, r, now_ns);
            return false;
        }
        const uint64_t hpa = (e->hpa_page << PAGE_SHIFT) | in_page;
        // Host-contiguous pages become one segment, so a large buffer backed by a large host
        // chunk is still one memory access.
        if (!segs.empty() && segs.back().hpa + segs.back().len == hpa) {
            segs.back().len += chunk;
        } else {
            segs.push_back(iommu_segment{hpa, off, chunk});
        }
        off += chunk;
    } while (off < len);
    ++m_counters.translations;
    return true;
}

}  // namespace chio::cosim
