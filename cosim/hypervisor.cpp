#include "cosim/hypervisor.h"

#include <algorithm>
#include <sstream>

#include "cosim/address_map.h"

namespace chio::cosim {

namespace {
std::string mib(uint64_t bytes) {
    std::ostringstream o;
    if (bytes % (1ull << 20) == 0) {
        o << (bytes >> 20) << " MiB";
    } else {
        o << (bytes >> 10) << " KiB";
    }
    return o.str();
}
}  // namespace

hypervisor::hypervisor(platform& host) : m_host(host) {}

hypervisor::~hypervisor() = default;

void hypervisor::note(const std::string& line) {
    m_log.push_back(line);
    if (m_sink) m_sink(line);
}

bool hypervisor::refuse(std::string& err, const std::string& why) {
    err = why;
    note("refused: " + why);
    return false;
}

void hypervisor::block_unassigned(bool block) {
    m_host.iommu.set_block_unassigned(block);
    // The PF is the hypervisor's own device: it keeps the host's identity map unless assigned.
    if (block && owner_of(0) == nullptr) m_host.iommu.attach(0, IDENTITY_DOMAIN);
    note(std::string("iommu: unassigned functions ") + (block ? "blocked" : "pass through"));
}

vm* hypervisor::create_vm(const vm_params& p, std::string& err) {
    if (p.name.empty()) {
        refuse(err, "vm name: empty");
        return nullptr;
    }
    if (m_vms.count(p.name) != 0) {
        refuse(err, "vm name: '" + p.name + "' already exists");
        return nullptr;
    }
    const uint64_t page = IOMMU_PAGE_SIZE;
    if (p.chunk_bytes == 0 || p.chunk_bytes % page != 0) {
        refuse(err, "vm " + p.name + " chunk_bytes: " + std::to_string(p.chunk_bytes) +
                        " is not a positive multiple of 4096");
        return nullptr;
    }
    if (p.memory_bytes == 0 || p.memory_bytes % page != 0 ||
        p.memory_bytes > address_map::MSI_BASE) {
        refuse(err, "vm " + p.name + " memory_bytes: " + std::to_string(p.memory_bytes) +
                        " is not a positive multiple of 4096 below the MSI range");
        return nullptr;
    }
    // Natural alignment for power-of-two chunks (as huge pages are), else page alignment.
    const bool pow2 = (p.chunk_bytes & (p.chunk_bytes - 1)) == 0;
    const uint64_t align = pow2 ? p.chunk_bytes : page;
    // GPA chunk i (the last one may be short) is backed by host chunk n-1-i: reverse host order,
    // so a device access that runs across a GPA chunk boundary lands in the wrong place unless it
    // is translated per page.
    std::vector<uint64_t> lens;
    for (uint64_t gpa = 0; gpa < p.memory_bytes; gpa += p.chunk_bytes) {
        lens.push_back(std::min(p.chunk_bytes, p.memory_bytes - gpa));
    }
    const size_t n = lens.size();
    std::vector<vm_chunk> chunks(n);
    for (size_t j = 0; j < n; ++j) {
        const size_t i = n - 1 - j;
        uint64_t hpa = 0;
        if (!m_host.mem.alloc(lens[i], align, hpa)) {
            for (size_t k = 0; k < j; ++k) m_host.mem.free(chunks[n - 1 - k].hpa);
            refuse(err, "vm " + p.name + " memory_bytes: " + std::to_string(p.memory_bytes) +
                            " exceeds free host memory");
            return nullptr;
        }
        chunks[i] = vm_chunk{i * p.chunk_bytes, hpa, lens[i]};
    }
    const iommu_domain_id dom = m_host.iommu.create_domain();
    for (const vm_chunk& c : chunks) {
        m_host.iommu.map(dom, c.gpa, c.hpa, c.len, iommu_perm::read_write);
    }
    auto guest = std::make_unique<vm>(p.name, std::move(chunks), m_host.mem, dom);
    vm* raw = guest.get();
    m_vms[p.name] = std::move(guest);
    note("created vm " + p.name + ": " + mib(p.memory_bytes) + " in " + std::to_string(n) +
         " host chunks of " + mib(p.chunk_bytes) + ", iommu domain " + std::to_string(dom));
    return raw;
}

bool hypervisor::destroy_vm(const std::string& name, std::string& err) {
    auto it = m_vms.find(name);
    if (it == m_vms.end()) return refuse(err, "destroy vm: no vm named '" + name + "'");
    vm& g = *it->second;
    const std::set<uint16_t> fns = g.functions();
    for (uint16_t fn : fns) unassign(fn, err);
    m_host.iommu.destroy_domain(g.domain());
    for (const vm_chunk& c : g.chunks()) m_host.mem.free(c.hpa);
    // Logged before the erase: `name` may be the VM's own name (vm::name()), gone after it.
    note("destroyed vm " + name);
    m_vms.erase(it);
    return true;
}

vm* hypervisor::find_vm(const std::string& name) {
    auto it = m_vms.find(name);
    return it == m_vms.end() ? nullptr : it->second.get();
}

vm* hypervisor::owner_of(uint16_t fn) {
    for (auto& [name, g] : m_vms) {
        if (g->functions().count(fn) != 0) return g.get();
    }
    return nullptr;
}

bool hypervisor::assign(vm& guest, uint16_t fn, std::string& err) {
    const std::string f = "function " + std::to_string(fn);
    if (find_vm(guest.name()) != &guest) return refuse(err, f + ": vm is not this host's");
    if (vm* owner = owner_of(fn)) {
        return refuse(err, f + ": already assigned to vm " + owner->name());
    }
    m_host.iommu.attach(fn, guest.domain());
    guest.m_functions.insert(fn);
    note("assigned " + f + " to vm " + guest.name() + " (iommu domain " +
         std::to_string(guest.domain()) + ")");
    return true;
}

bool hypervisor::unassign(uint16_t fn, std::string& err) {
    const std::string f = "function " + std::to_string(fn);
    vm* owner = owner_of(fn);
    if (owner == nullptr) return refuse(err, f + ": not assigned");
    owner->m_functions.erase(fn);
    m_host.iommu.detach(fn);
    if (fn == 0 && m_host.iommu.block_unassigned()) m_host.iommu.attach(0, IDENTITY_DOMAIN);
    note("unassigned " + f + " from vm " + owner->name() +
         (m_host.iommu.block_unassigned() && fn != 0 ? " (now blocked)" : ""));
    return true;
}

std::unique_ptr<guest_bus> hypervisor::make_guest_bus(vm& guest, uint16_t fn) {
    if (guest.functions().count(fn) == 0) return nullptr;
    // No BAR placement of our own: the guest sees the function's BAR where enumeration put it
    // (the PF's BAR0 at the start of the MMIO window; VF n's BAR0 at the VF BAR0 the PF's
    // manager programmed into the SR-IOV capability + (n - 1) * VF BAR size, which sc_bus reads
    // from the PF's config space). A slot per function number would miss the VF's real BAR.
    return std::make_unique<guest_bus>(guest, fn, m_host.rc, m_host.mem, m_host.irq);
}

bool hypervisor::run_guest(vm& guest, uint16_t fn, std::function<void(drv::bus&)> body) {
    std::unique_ptr<guest_bus> b = make_guest_bus(guest, fn);
    if (!b) return false;
    note("started driver in vm " + guest.name() + " on function " + std::to_string(fn));
    m_host.run_driver(std::move(b), std::move(body));
    return true;
}

}  // namespace chio::cosim
