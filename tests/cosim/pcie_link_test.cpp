// The PCIe link model's ordering and arbitration (PCIe 3.0 table 2-39): posted writes pass
// queued read completions and read requests (after the TLP on the wire), the passed traffic is
// pushed back by exactly the posted TLP's time (bandwidth conserved), and completions and
// non-posted requests never pass a posted write.
#include "cosim/pcie_link.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace chio {
namespace {

using cosim::pcie_link;
using cosim::pcie_link_params;
using cosim::tlp_class;
using sc_core::SC_NS;
using sc_core::sc_time;

double ns_of(sc_time t) { return t.to_seconds() * 1e9; }

// Serialization of `len` payload bytes in TLPs of at most `chunk`, `overhead` bytes each.
double ser_ns(const pcie_link_params& p, uint64_t len, uint32_t chunk, uint32_t overhead) {
    const uint64_t tlps = len == 0 ? 1 : (len + chunk - 1) / chunk;
    return static_cast<double>(len + tlps * overhead) * 8.0 / p.tlp_rate_gbps;
}

constexpr uint64_t BIG_READ = 1u << 20;  // 2048 read requests, 80 us of completions
constexpr uint64_t DOORBELL = 8;

TEST(pcie_link, doorbell_passes_queued_read_completions) {
    pcie_link link;
    const pcie_link_params& p = link.params();
    const sc_time t0;
    link.upstream_read(t0, 0, BIG_READ);
    // The host rings a doorbell 1 us later, while the completions still hold the direction.
    const sc_time at(1000, SC_NS);
    const double got = ns_of(link.downstream_write(at, DOORBELL));
    // At most the one completion TLP on the wire, then its own serialization and flight.
    const double bound = ser_ns(p, p.mps, p.mps, std::max(p.req_overhead, p.cpl_overhead)) +
                         ser_ns(p, DOORBELL, p.mps, p.req_overhead) + p.one_way_ns;
    EXPECT_LE(got, bound + 1e-3);
    EXPECT_GE(got, p.one_way_ns);
    const auto& st = link.down_stats(tlp_class::posted);
    EXPECT_EQ(st.transfers, 1u);
    EXPECT_LE(st.max_wait_ns,
              ser_ns(p, p.mps, p.mps, std::max(p.req_overhead, p.cpl_overhead)) + 1e-3);
}

TEST(pcie_link, first_come_first_served_order_makes_the_doorbell_wait_the_whole_train) {
    pcie_link_params fcfs;
    fcfs.posted_passes = false;
    pcie_link link(fcfs);
    const sc_time t0;
    link.upstream_read(t0, 0, BIG_READ);
    const sc_time at(1000, SC_NS);
    const double got = ns_of(link.downstream_write(at, DOORBELL));
    // Behind every completion: the read's whole completion train, less the microsecond passed.
    const double train = ser_ns(fcfs, BIG_READ, fcfs.mps, fcfs.cpl_overhead);
    EXPECT_GE(got, train - 1000.0);
}

TEST(pcie_link, passed_completions_are_pushed_back_by_the_posted_time) {
    // Two identical links, one with a doorbell passing the train: the next read's completions
    // end later by exactly the doorbell's serialization (no bandwidth is created or lost).
    pcie_link quiet, rung;
    const pcie_link_params& p = quiet.params();
    const sc_time t0, at(1000, SC_NS), later(2000, SC_NS);
    quiet.upstream_read(t0, 0, BIG_READ);
    rung.upstream_read(t0, 0, BIG_READ);
    rung.downstream_write(at, DOORBELL);
    const double a = ns_of(quiet.upstream_read(later, 0, 4096));
    const double b = ns_of(rung.upstream_read(later, 0, 4096));
    EXPECT_NEAR(b - a, ser_ns(p, DOORBELL, p.mps, p.req_overhead), 1e-3);
}

TEST(pcie_link, completions_never_pass_an_earlier_posted_write) {
    // A long host write to the device (posted, downstream), then a device read whose
    // completions use the same direction: they arrive only after the write's last byte.
    pcie_link link;
    const pcie_link_params& p = link.params();
    const sc_time t0;
    const uint64_t len = 64 * 1024;
    link.downstream_write(t0, len);
    const double posted_done = ser_ns(p, len, p.mps, p.req_overhead);
    const double read = ns_of(link.upstream_read(t0, 0, 64));
    EXPECT_GE(read, posted_done + ser_ns(p, 64, p.mps, p.cpl_overhead) - 1e-3);
    EXPECT_GT(link.down_stats(tlp_class::completion).max_wait_ns, 0.0);
}

TEST(pcie_link, read_requests_queue_behind_posted_writes_upstream) {
    // Non-posted requests must not pass posted writes (a DMA write then a read of the flag).
    pcie_link link;
    const pcie_link_params& p = link.params();
    const sc_time t0;
    link.upstream_write(t0, 64 * 1024);
    link.upstream_read(t0, 0, 512);
    const auto& np = link.up_stats(tlp_class::non_posted);
    EXPECT_EQ(np.transfers, 1u);
    EXPECT_NEAR(np.max_wait_ns, ser_ns(p, 64 * 1024, p.mps, p.req_overhead), 1e-3);
}

TEST(pcie_link, posted_writes_keep_their_own_order_and_rate) {
    // Back-to-back posted writes: each waits for the one before; the direction's bytes add up.
    pcie_link link;
    const pcie_link_params& p = link.params();
    const sc_time t0;
    const double a = ns_of(link.upstream_write(t0, 4096));
    const double b = ns_of(link.upstream_write(t0, 4096));
    EXPECT_NEAR(b - a, ser_ns(p, 4096, p.mps, p.req_overhead), 1e-3);
    EXPECT_EQ(link.bytes_up(), 2 * (4096 + 16 * p.req_overhead));
}

}  // namespace
}  // namespace chio
