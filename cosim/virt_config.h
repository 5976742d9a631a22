// The virtualization topology of a `./chio sim` scenario, read from a JSON file: hosts, the VFs
// each host's PF manager provisions (quota, MAC/GID, QoS weight and cap, per-QP rate limits) and
// the VMs each hypervisor creates (memory, which VF each gets). Format: docs/virtualization.md
// ("Topology file"); examples: testbenches/configs/; applied by testbenches/scenarios/vms.h.
//
// Contract
// - parse_virt_config() accepts exactly the documented keys; for any bad input (JSON syntax,
//   duplicate or unknown key, wrong type, out-of-range value, duplicate VF, MAC, GID, VM name or
//   VF assignment) it returns false with one line naming the field by its path and the value,
//   e.g. `hosts[0].vms[1].memory_mib: 0 is out of range 1..256`. It never throws.
// - VF v is PCIe function v + 1 (function 0 is the PF); VFs are numbered from 0 as Linux does.
// - The device limits a file is checked against (TotalVFs, port rate, host memory) come from the
//   caller, so this parser holds no hardware constant but the spec's resource limits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tlm-model/fabric/packet.h"

namespace chio::cosim {

// Per-VF resource quotas; 0 means no limit beyond the device's.
struct vf_quota_config {
    uint32_t qps = 0, cqs = 0, eqs = 0, mrs = 0, pds = 0, srqs = 0, ahs = 0;
};

// Rate limit of one QP of the VF: qp is the QP's index in the order the VF's workload creates
// its QPs (QP numbers are the device's choice, so a file cannot name them).
struct qp_rate_limit_config {
    uint32_t qp = 0;
    double gbps = 0;
};

struct vf_config {
    unsigned vf = 0;
    uint16_t fn() const { return static_cast<uint16_t>(vf + 1); }
    vf_quota_config quota;
    std::optional<model::mac_address> mac;
    std::optional<model::gid> gid;
    bool spoof_check = true;
    uint32_t weight = 1;  // minimum share among VFs, as a weight
    double cap_gbps = 0;  // maximum rate; 0: uncapped
    std::vector<qp_rate_limit_config> qp_rate_limits;
};

struct vm_config {
    std::string name;
    uint64_t memory_bytes = 0;
    uint64_t chunk_bytes = 2ull << 20;  // host backing granularity
    std::optional<unsigned> vf;         // the VF assigned to it (pass-through)
};

struct host_config {
    std::string name;
    uint64_t dram_bytes = 0;
    bool block_unassigned = true;  // IOMMU refuses DMA from functions no VM owns (PF excepted)
    unsigned num_vfs = 0;          // NumVFs the manager enables
    std::vector<vf_config> vfs;
    std::vector<vm_config> vms;
};

struct virt_config {
    std::vector<host_config> hosts;
};

struct virt_config_limits {
    unsigned total_vfs = 0;   // the adapter's TotalVFs
    double port_gbps = 0;     // port rate: upper bound of caps and rate limits
    uint64_t dram_bytes = 0;  // default and upper bound of a host's memory
};

bool parse_virt_config(const std::string& text, const virt_config_limits& lim, virt_config& out,
                       std::string& err);
// Reads and parses a file; errors start with the file name.
bool load_virt_config(const std::string& path, const virt_config_limits& lim, virt_config& out,
                      std::string& err);

}  // namespace chio::cosim
