// One VM's side of an RC connection to a peer VM, written against the consumer API (chio::verbs,
// docs/consumer-api.md) over the unchanged driver on the VM's guest bus: every buffer address it
// hands the device is a GPA that the IOMMU translates for the VM's function.
//
// Workload (both sides run it at once): one RDMA WRITE of count * size bytes into the peer's
// buffer, then `count` SENDs of `size` bytes. RC delivers in order, so when the last SEND has
// arrived the peer's WRITE has landed too; then every received message and the written region
// are compared byte for byte with the pattern the peer sent (seeded by seed and role).
//
// Contract: runs in a SystemC thread on the VM's bus; needs count * size <= 16 KiB (the 64 KiB
// buffer fits a VM's smallest backing chunk); never waits longer than timeout_ns for traffic.
// `after_traffic(ctx, pd, qp)` runs once the traffic is checked, before teardown (a test's
// extra steps on the live connection).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "driver/bus.h"
#include "driver/verbs.h"
#include "testbenches/scenarios/rendezvous.h"

namespace chio::tb {

struct vm_peer_options {
    uint32_t count = 8;
    uint32_t size = 2048;
    uint64_t seed = 1;
    uint64_t timeout_ns = 20'000'000;
};

struct vm_peer_result {
    bool ok = false;
    std::string error;
    uint32_t qpn = 0;
    uint64_t sends = 0;  // work requests posted (SENDs and the WRITE)
    uint64_t expected = 0, seen = 0, error_completions = 0;
    uint64_t bytes_verified = 0, data_mismatches = 0;
};

// me/peer: rendezvous names; role 0 or 1 (the two sides send different patterns).
// before_traffic(qpn) runs once the QP exists and before it is connected (the PF manager's
// per-QP limits go there).
vm_peer_result run_vm_peer(
    drv::bus& b, rendezvous& rv, const std::string& me, const std::string& peer, unsigned role,
    const vm_peer_options& o, const std::function<void(uint32_t qpn)>& before_traffic = {},
    const std::function<void(verbs::context*, verbs::pd*, verbs::qp*)>& after_traffic = {});

}  // namespace chio::tb
