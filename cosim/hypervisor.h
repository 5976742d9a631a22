// The hypervisor of one host: creates VMs out of host memory, assigns adapter functions to them
// (pass-through) by programming the IOMMU, and starts guest drivers. It is never on the data path:
// after assign(), the guest's MMIO goes straight to the function and the function's DMA is
// translated by the IOMMU, with no hypervisor code in between.
//
// Contract
// - create_vm() backs the VM's guest-physical memory with host chunks (chunk_bytes, default
//   2 MiB, or 4 KiB pages) allocated from host memory and laid out in reverse host order, so GPA
//   neighbours are never host neighbours; it creates the VM's IOMMU domain and maps every chunk
//   read/write. Bad parameters or too little host memory: nullptr and a one-line reason.
// - assign(vm, fn) attaches function fn (0 = PF, n = VF n-1) to the VM's domain; a function
//   belongs to at most one VM. unassign(fn) detaches it: it falls back to the IOMMU's policy for
//   unassigned functions (passthrough, or blocked). Assignment is by function number only, so
//   VFs need no change here. (VFIO would also reset the function on unassign; FLR belongs to
//   the SR-IOV work and is not done here.)
// - destroy_vm() unassigns the VM's functions, destroys its domain and frees its host memory.
// - Every action, and every refusal, is logged as one line (log(), and the optional sink).
// - block_unassigned(true) makes the IOMMU refuse DMA from every function not assigned anywhere,
//   except the PF, which stays in the host's identity domain (the hypervisor's own driver).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cosim/guest_bus.h"
#include "cosim/platform.h"
#include "cosim/vm.h"

namespace chio::cosim {

struct vm_params {
    std::string name;
    uint64_t memory_bytes = 64ull << 20;
    uint64_t chunk_bytes = 2ull << 20;  // a multiple of 4 KiB
};

class hypervisor {
public:
    explicit hypervisor(platform& host);
    ~hypervisor();
    hypervisor(const hypervisor&) = delete;
    hypervisor& operator=(const hypervisor&) = delete;

    void block_unassigned(bool block);

    vm* create_vm(const vm_params& p, std::string& err);
    bool destroy_vm(const std::string& name, std::string& err);
    vm* find_vm(const std::string& name);
    // The VM function fn is assigned to, or nullptr.
    vm* owner_of(uint16_t fn);

    bool assign(vm& guest, uint16_t fn, std::string& err);
    bool unassign(uint16_t fn, std::string& err);

    // A bus for a driver inside `guest` driving its assigned function fn (nullptr when fn is
    // not assigned to it).
    std::unique_ptr<guest_bus> make_guest_bus(vm& guest, uint16_t fn);
    // Spawns a driver thread in the VM on function fn (see platform::run_driver). False when fn
    // is not assigned to the VM.
    bool run_guest(vm& guest, uint16_t fn, std::function<void(drv::bus&)> body);

    const std::vector<std::string>& log() const { return m_log; }
    void set_log_sink(std::function<void(const std::string&)> sink) { m_sink = std::move(sink); }

private:
    void note(const std::string& line);
    bool refuse(std::string& err, const std::string& why);

    platform& m_host;
    std::map<std::string, std::unique_ptr<vm>> m_vms;
    std::vector<std::string> m_log;
    std::function<void(const std::string&)> m_sink;
};

}  // namespace chio::cosim
