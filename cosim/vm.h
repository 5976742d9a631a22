// A virtual machine's memory: guest-physical addresses (GPAs) backed by host pages the hypervisor
// allocated from host memory, and the guest OS's allocator for DMA buffers.
//
// Contract
// - GPAs run from 0 to memory_size(); the backing is a list of chunks (GPA run -> host-physical
//   run) that need not be host-contiguous (the hypervisor scatters them on purpose, so a device
//   DMA that crosses a chunk boundary is only right when it is translated page by page).
// - The guest allocator hands out GPAs; a buffer never straddles a chunk, because the driver
//   gets one CPU pointer per buffer and the model has no contiguous CPU mapping of scattered host
//   pages (a real hypervisor maps guest RAM contiguously in its own address space). So a buffer
//   is at most one chunk. GPA page 0 is never handed out (a DMA to GPA 0 is a bug, never hidden).
// - read()/write() copy across chunk boundaries (the CPU's view, for tests and loaders).
// - The VM is never on the data path: it holds no thread and sees no transaction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "cosim/host_memory.h"
#include "cosim/iommu.h"
#include "cosim/range_allocator.h"

namespace chio::cosim {

struct vm_chunk {
    uint64_t gpa = 0;
    uint64_t hpa = 0;
    uint64_t len = 0;
};

class vm {
public:
    vm(std::string name, std::vector<vm_chunk> chunks, host_memory& mem, iommu_domain_id domain);

    const std::string& name() const { return m_name; }
    uint64_t memory_size() const { return m_size; }
    const std::vector<vm_chunk>& chunks() const { return m_chunks; }
    // The IOMMU domain holding this VM's GPA -> host map; assigned functions are attached to it.
    iommu_domain_id domain() const { return m_domain; }
    // Functions assigned to this VM (kept by the hypervisor).
    const std::set<uint16_t>& functions() const { return m_functions; }

    // Host-physical address of gpa; false outside guest memory.
    bool gpa_to_hpa(uint64_t gpa, uint64_t& hpa) const;
    // CPU pointer to [gpa, gpa + len) when it lies inside one chunk, else nullptr.
    uint8_t* cpu_ptr(uint64_t gpa, uint64_t len);
    // Copies between guest memory and a host buffer, across chunks; false (nothing copied) when
    // any byte is outside guest memory.
    bool read(uint64_t gpa, void* dst, uint64_t len);
    bool write(uint64_t gpa, const void* src, uint64_t len);

    // Guest OS allocator (zeroed buffers). False when no chunk has room.
    bool alloc(uint64_t size, uint64_t align, uint64_t& gpa);
    void free(uint64_t gpa);

private:
    friend class hypervisor;
    const vm_chunk* chunk_of(uint64_t gpa) const;

    std::string m_name;
    std::vector<vm_chunk> m_chunks;  // sorted by gpa, contiguous in GPA from 0
    host_memory& m_mem;
    iommu_domain_id m_domain;
    uint64_t m_size = 0;
    std::vector<range_allocator> m_alloc;  // one per chunk
    std::set<uint16_t> m_functions;
};

}  // namespace chio::cosim
