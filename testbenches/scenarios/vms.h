// The `vms` scenario (and `./chio demo`): two hosts on a link; on each, the hypervisor creates
// the topology file's VMs and assigns each its VF, the PF manager in the host's PF driver thread
// enables and provisions the VFs (quota, MAC/GID with spoof check, QoS weight and cap, per-QP
// rate limits), and then every VM with a VF runs verified RDMA traffic (vm_peer.h) with its
// peer: VM k of host 0 with VM k of host 1 (file order, counting VMs with a VF). Afterwards
// the PF manager reads each VF's statistics.
//
// Contract
// - vms_scenario::setup() checks the file against what the scenario can run (exactly two hosts,
//   the same number of VMs with a VF on each) and creates VMs at elaboration; an error is one
//   line naming the field and value. start() spawns the driver threads.
// - Every manager and hypervisor action is kept in log(), each line prefixed with its host.
// - A VM waits for its host's provisioning; when provisioning fails, its VMs run nothing and the
//   scenario fails with the manager's one-line error.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cosim/hypervisor.h"
#include "cosim/topology.h"
#include "cosim/virt_config.h"
#include "driver/manager.h"
#include "testbenches/scenarios/options.h"
#include "testbenches/scenarios/rendezvous.h"
#include "testbenches/scenarios/result.h"
#include "testbenches/scenarios/vm_peer.h"

namespace chio::tb {

struct vm_row {
    unsigned host = 0;
    std::string vm;
    std::string peer;
    const cosim::vf_config* vf = nullptr;  // the VF's provisioning in the file (may be null)
    uint16_t fn = 0;
    vm_peer_result traffic;
    drv::vf_stats stats;
    bool have_stats = false;
};

class vms_scenario {
public:
    // The topology's hosts must outlive this object.
    bool setup(cosim::topology& topo, const cosim::virt_config& cfg, const sim_options& o,
               std::string& err);
    void start();
    // Folds every VM's traffic into res (call after the simulation).
    void finish(scenario_result& res) const;

    const std::vector<std::string>& log() const { return m_log; }
    // Bytes per SEND after clamping --size (see setup()).
    uint32_t message_size() const { return m_traffic.size; }
    const std::vector<vm_row>& rows() const { return m_rows; }
    void print() const;
    nlohmann::json to_json() const;

private:
    void pf_thread(unsigned h, drv::bus& b);
    void vm_thread(size_t row, drv::bus& b);

    cosim::topology* m_topo = nullptr;
    cosim::virt_config m_cfg;
    vm_peer_options m_traffic;
    std::vector<std::unique_ptr<cosim::hypervisor>> m_hv;
    std::vector<std::vector<cosim::vm*>> m_vms;
    std::vector<vm_row> m_rows;
    std::vector<std::string> m_log;
    std::vector<std::string> m_errors;
    rendezvous m_rv;
};

}  // namespace chio::tb
