// The host's IOMMU (Intel VT-d / AMD-Vi in spirit): translates and checks every DMA the adapter
// issues, per requester function.
//
// Contract
// - Each function (pcie_ext::fn: 0 = PF, n = VF n-1) is attached to at most one translation
//   domain. A domain maps I/O virtual addresses (a VM's guest-physical addresses) to host-physical
//   ones, page by page (4 KiB), each page readable and/or writable. Several functions may share a
//   domain (all the functions assigned to one VM).
// - A function with no domain is in the host's identity (passthrough) domain, as the PF driven by
//   the hypervisor's own driver is, unless block_unassigned is set: then every DMA it issues is
//   refused. A function attached to IDENTITY_DOMAIN passes through whatever the policy (the
//   hypervisor puts the PF there when it blocks unassigned functions).
// - translate() resolves a whole access before any byte moves: every 4 KiB page it touches is
//   looked up on its own (an access crossing a page boundary is split, never assumed contiguous)
//   and host-contiguous pages are merged into one segment. If any page misses or lacks the
//   permission, the whole access is refused and one fault is logged (fn, address of the first
//   bad page, read/write, reason). Refusing whole keeps "on failure no data is used"
//   (model::dma_port); PCIe never lets one TLP cross 4 KiB, so on silicon the pages before the
//   fault would have landed.
// - The fault log is bounded (a guest can fault at will): the newest entries are kept, older ones
//   are dropped and counted.
// - Interrupt messages (the MSI range) are not translated: interrupt remapping is out of scope; the
//   root complex delivers them before asking the IOMMU.
// - Speed: one hash lookup per page, no per-byte work; each domain caches its last translated page,
//   so the common case (a ring or buffer touched again and again) is a compare.
// - Not thread-safe; SystemC runs one process at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace chio::cosim {

inline constexpr uint64_t IOMMU_PAGE_SIZE = 4096;  // VT-d / AMD-Vi second-level page size

enum class iommu_perm : uint8_t { none = 0, read = 1, write = 2, read_write = 3 };

enum class iommu_fault_reason : uint8_t {
    not_mapped,       // no translation for the page in the function's domain
    read_denied,      // page mapped without read permission
    write_denied,     // page mapped without write permission
    blocked,          // the function has no domain and unassigned functions are blocked
    address_overflow  // the access wraps around the top of the address space
};

const char* to_string(iommu_fault_reason r);

struct iommu_fault {
    uint16_t fn = 0;
    uint64_t iova = 0;  // first byte of the first page that failed
    bool write = false;
    iommu_fault_reason reason = iommu_fault_reason::not_mapped;
    uint64_t time_ns = 0;
};

// One piece of a translated access: `len` bytes at host-physical `hpa`, `offset` bytes into the
// access.
struct iommu_segment {
    uint64_t hpa = 0;
    uint64_t offset = 0;
    uint64_t len = 0;
};

struct iommu_counters {
    uint64_t translations = 0;    // accesses resolved (passthrough included)
    uint64_t passthrough = 0;     // of those, by functions in the identity domain
    uint64_t page_lookups = 0;    // pages looked up in a domain's table
    uint64_t cache_hits = 0;      // of those, answered by the domain's last-page cache
    uint64_t faults = 0;          // accesses refused
    uint64_t faults_dropped = 0;  // faults no longer in the log (it keeps the newest)
    std::map<iommu_fault_reason, uint64_t> by_reason;
};

using iommu_domain_id = uint32_t;
// The host's identity map (bus address = host physical), attachable like any domain.
inline constexpr iommu_domain_id IDENTITY_DOMAIN = 0xFFFFFFFFu;

class iommu {
public:
    static constexpr size_t FAULT_LOG_DEPTH = 1024;

    // Domains. create_domain() returns a fresh id (never 0, never reused).
    iommu_domain_id create_domain();
    // Detaches every function from the domain, then forgets it. False when unknown.
    bool destroy_domain(iommu_domain_id d);
    // Maps `bytes` (a multiple of 4 KiB) at page-aligned iova to hpa with perm, replacing any
    // previous mapping of those pages. False (nothing changed) on a misaligned or unknown input.
    bool map(iommu_domain_id d, uint64_t iova, uint64_t hpa, uint64_t bytes, iommu_perm perm);
    // Unmaps the pages in [iova, iova + bytes); pages not mapped are ignored.
    bool unmap(iommu_domain_id d, uint64_t iova, uint64_t bytes);
    size_t mapped_pages(iommu_domain_id d) const;

    // Attachment of requester functions (d: a created domain or IDENTITY_DOMAIN).
    bool attach(uint16_t fn, iommu_domain_id d);
    void detach(uint16_t fn);
    // The function's domain, or 0 when it has none.
    iommu_domain_id domain_of(uint16_t fn) const;
    void set_block_unassigned(bool b) { m_block_unassigned = b; }
    bool block_unassigned() const { return m_block_unassigned; }

    // Resolves [iova, iova + len) for function fn into host-physical segments (see contract).
    // Returns false and logs a fault when the access is refused; `segs` is then empty.
    bool translate(uint16_t fn, uint64_t iova, uint64_t len, bool write,
                   std::vector<iommu_segment>& segs, uint64_t now_ns);

    const std::deque<iommu_fault>& fault_log() const { return m_faults; }
    void clear_fault_log() { m_faults.clear(); }
    const iommu_counters& counters() const { return m_counters; }

private:
    struct pte {
        uint64_t hpa_page = 0;  // host-physical page number
        iommu_perm perm = iommu_perm::none;
    };
    struct domain {
        std::unordered_map<uint64_t, pte> pages;  // iova page number -> entry
        // Last-page cache: cleared by every map/unmap of the domain.
        bool cached = false;
        uint64_t cached_page = 0;
        pte cached_pte;
    };

    const pte* lookup(domain& d, uint64_t iova_page);
    void fault(uint16_t fn, uint64_t iova, bool write, iommu_fault_reason r, uint64_t now_ns);

    std::map<iommu_domain_id, domain> m_domains;
    std::map<uint16_t, iommu_domain_id> m_attached;
    iommu_domain_id m_next_domain = 1;
    bool m_block_unassigned = false;
    std::deque<iommu_fault> m_faults;
    iommu_counters m_counters;
};

}  // namespace chio::cosim
