// Applies a run's fault plan (cosim/fault_plan.h, `chio-sim --fault`) to a topology before the
// simulation starts, for scenarios that are not fault scenarios themselves (loopback,
// pingpong, rdma, ud, vms, ...): the scenario's own checks then say what the fault did to it.
//
// Contract
// - PCIe and MSI-X faults are armed on host `host`'s root complex (counted by DMA/MSI-X event,
//   `after` and `count` as in fault_plan.h; an unset `after` is drawn from the seed, 0..63).
// - link.loss / link.corrupt set the probability `p` on both directions of the topology's link
//   from the start (pair topology only); link.down takes it down `after` us into the run for
//   `delay_us`.
// - dev.fatal, dev.heartbeat, host.removal, host.aer_frozen (the channel frozen for
//   `delay_us`, then the slot reset of platform::aer) and host.flr (an Initiate FLR config
//   write to VF `fn` of host `host`, as the hypervisor's PCI core does) hit `after` us into
//   the run (an unset `after` is drawn from the seed, 10..200 us).
// - A spec the topology cannot carry (a host beyond it, a link fault without a link) is
//   refused with a one-line error naming the field and value; nothing is applied then.
// - Deterministic: the same plan, seed and scenario give the same faults at the same times.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cosim/fault_plan.h"
#include "cosim/topology.h"

namespace chio::cosim {

class fault_schedule {
public:
    // Checks the plan against the topology and arms it (timed faults get their own SystemC
    // threads). False with a one-line reason.
    bool apply(topology& t, const std::vector<fault_spec>& plan, uint64_t seed, std::string& err);
    // Per spec of the plan, in order: how many events it hit so far.
    std::vector<uint64_t> injected() const;

private:
    struct entry {
        fault_spec spec;
        uint64_t fired = 0;  // timed faults and link.down
        model::link* wire = nullptr;
        root_complex* rc = nullptr;
    };
    std::vector<entry> m_entries;
};

}  // namespace chio::cosim
