#include "cosim/virt_setup.h"

namespace chio::cosim {

std::vector<vm*> setup_vms(const host_config& h, hypervisor& hv, std::string& err) {
    std::vector<vm*> made;
    hv.block_unassigned(h.block_unassigned);
    for (const vm_config& c : h.vms) {
        vm_params p;
        p.name = c.name;
        p.memory_bytes = c.memory_bytes;
        p.chunk_bytes = c.chunk_bytes;
        vm* g = hv.create_vm(p, err);
        if (g == nullptr) return {};
        if (c.vf && !hv.assign(*g, static_cast<uint16_t>(*c.vf + 1), err)) return {};
        made.push_back(g);
    }
    return made;
}

}  // namespace chio::cosim
