// The hypervisor-side PF manager applying a topology file's provisioning for one host through the
// manager API (driver/manager.h): NumVFs, then per VF its quota, MAC/GID with the spoof check,
// and QoS weight and cap; per-QP rate limits once the VF's workload has created its QPs.
//
// Contract
// - Runs in the host's PF driver thread, on a probed PF device. Every action is logged by the
//   manager (its logger); a refused one stops provisioning with a one-line error naming the
//   host, the VF and the call with the device's status, e.g.
//   `host0 vfs[1] set_vf_qos weight=3: BAD_PARAM`.
// - Values are converted exactly: caps and rate limits in Gb/s become the manager's Mb/s
//   (rounded to the nearest Mb/s), MAC and GID become the manager's 48-bit / two-half forms.
// - A VF without a MAC or GID in the file is left unassigned (the port's address, no spoof
//   check): the manager's SET_VF_ADDR is only issued for VFs the file gives an address.
#pragma once

#include <cstdint>
#include <string>

#include "cosim/virt_config.h"
#include "driver/manager.h"

namespace chio::tb {

bool provision_vfs(drv::manager& mgr, const cosim::host_config& h, std::string& err);

// Applies the VF's rate limit for its QP number `index` (file order) to QP qpn; true when the
// file sets none for that index.
bool apply_qp_limit(drv::manager& mgr, const cosim::host_config& h, const cosim::vf_config& vf,
                    uint32_t index, uint32_t qpn, std::string& err);

}  // namespace chio::tb
