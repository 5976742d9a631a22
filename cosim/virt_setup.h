// The hypervisor's side of a topology file: for one host_config, set the IOMMU policy, create
// every VM and assign each its VF (function vf + 1). Provisioning the VFs themselves (NumVFs,
// quotas, MAC/GID, QoS) is the PF manager's part and happens before the guests start.
//
// Contract: stops at the first refusal with the hypervisor's one-line reason; the VMs created
// so far stay (the scenario is abandoned anyway). Call at elaboration or from a thread; it
// issues no transaction.
#pragma once

#include <string>
#include <vector>

#include "cosim/hypervisor.h"
#include "cosim/virt_config.h"

namespace chio::cosim {

// Returns the created VMs in file order, or an empty vector with err set.
std::vector<vm*> setup_vms(const host_config& h, hypervisor& hv, std::string& err);

}  // namespace chio::cosim
