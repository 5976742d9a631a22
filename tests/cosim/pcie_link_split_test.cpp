// The PCIe link model's request and completion splitting (PCIe 3.0 sections 2.2.7 and 2.3.1.1)
// and its latency parameters beyond the measured round trip: read requests are cut at MRRS and
// at 4 KiB boundaries, completions at min(cpl_bytes, MPS) rounded to RCB, so an unaligned read
// pays extra completion TLPs; host_memory_ns and mmio_read_ns add exactly to the round trips;
// aligned reads time exactly as before the model knew addresses.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "cosim/pcie_link.h"

namespace chio {
namespace {

using cosim::pcie_link;
using cosim::pcie_link_params;
using cosim::read_completion_tlps;
using cosim::read_request_tlps;
using cosim::tlp_class;
using sc_core::SC_NS;
using sc_core::sc_time;

double ns_of(sc_time t) { return t.to_seconds() * 1e9; }

TEST(pcie_link_split, aligned_reads_keep_one_completion_per_mps) {
    const pcie_link_params p;
    EXPECT_EQ(read_completion_tlps(p, 0, 64), 1u);
    EXPECT_EQ(read_completion_tlps(p, 0, 512), 2u);
    EXPECT_EQ(read_completion_tlps(p, 4096, 4096), 16u);
    EXPECT_EQ(read_completion_tlps(p, 0, 700), 3u);  // [0,256) [256,512) | [512,700)
    EXPECT_EQ(read_request_tlps(p, 0, 4096), 8u);
    EXPECT_EQ(read_request_tlps(p, 0, 0), 1u);
}

TEST(pcie_link_split, unaligned_read_gets_extra_completions) {
    // 512 B from offset 32: one request [32, 544), completions end at 256 and 512 (RCB
    // multiples) and the last at 544: three, where the aligned read has two.
    pcie_link aligned, unaligned;
    const pcie_link_params& p = aligned.params();
    aligned.upstream_read(sc_time(), 0, 512);
    unaligned.upstream_read(sc_time(), 32, 512);
    EXPECT_EQ(aligned.down_stats(tlp_class::completion).tlps, 2u);
    EXPECT_EQ(unaligned.down_stats(tlp_class::completion).tlps, 3u);
    EXPECT_EQ(unaligned.down_stats(tlp_class::completion).wire_bytes,
              aligned.down_stats(tlp_class::completion).wire_bytes + p.cpl_overhead);
    // A short read inside one split-size block stays one completion wherever it starts.
    EXPECT_EQ(read_completion_tlps(p, 100, 64), 1u);
    // ... and one that straddles a block boundary gets a second one.
    EXPECT_EQ(read_completion_tlps(p, 200, 250), 2u);
}

TEST(pcie_link_split, every_completion_but_the_last_ends_on_the_rcb) {
    // With RCB 128 and a 64 B completer the split is one RCB: 512 B at offset 64 ends pieces
    // at 128, 256, 384, 512 and 576.
    pcie_link_params p;
    p.rcb = 128;
    p.cpl_bytes = 64;
    EXPECT_EQ(cosim::completion_split_bytes(p), 128u);
    EXPECT_EQ(read_completion_tlps(p, 64, 512), 5u);
}

TEST(pcie_link_split, cpl_bytes_64_gives_one_completion_per_64_bytes_and_less_goodput) {
    pcie_link_params small;
    small.cpl_bytes = 64;
    pcie_link mps_cpl, rcb_cpl(small);
    const uint64_t len = 1u << 20;
    const double a = ns_of(mps_cpl.upstream_read(sc_time(), 0, len));
    const double b = ns_of(rcb_cpl.upstream_read(sc_time(), 0, len));
    EXPECT_EQ(rcb_cpl.down_stats(tlp_class::completion).tlps, len / 64);
    EXPECT_EQ(mps_cpl.down_stats(tlp_class::completion).tlps, len / 256);
    // Three more 20 B headers per 256 B: the long read takes longer by their serialization.
    const double extra_ns =
        static_cast<double>(len / 64 - len / 256) * small.cpl_overhead * 8.0 / small.tlp_rate_gbps;
    EXPECT_NEAR(b - a, extra_ns, 1.0);
    EXPECT_GT(b, a);
}

TEST(pcie_link_split, a_request_crossing_4_kib_is_split) {
    pcie_link crossing, inside;
    crossing.upstream_read(sc_time(), 4096 - 128, 256);
    inside.upstream_read(sc_time(), 4096, 256);
    EXPECT_EQ(crossing.up_stats(tlp_class::non_posted).tlps, 2u);
    EXPECT_EQ(inside.up_stats(tlp_class::non_posted).tlps, 1u);
    const pcie_link_params p;
    // From offset 64, requests run 512 B at a time until the 4 KiB boundary cuts one short.
    EXPECT_EQ(read_request_tlps(p, 64, 4096), 9u);
    // MRRS 4096: an unaligned 4 KiB read is still two requests, one each side of the boundary.
    pcie_link_params big;
    big.mrrs = 4096;
    EXPECT_EQ(read_request_tlps(big, 64, 4096), 2u);
    EXPECT_EQ(read_request_tlps(big, 0, 4096), 1u);
}

TEST(pcie_link_split, host_memory_ns_adds_exactly_to_the_dma_read_round_trip) {
    pcie_link_params slow;
    slow.host_memory_ns = 200;
    for (const uint64_t len : {64u, 512u, 2048u}) {
        pcie_link base, slower(slow);
        const double a = ns_of(base.upstream_read(sc_time(), 0, len));
        const double b = ns_of(slower.upstream_read(sc_time(), 0, len));
        EXPECT_NEAR(b - a, 200.0, 1e-3) << len;
    }
}

TEST(pcie_link_split, mmio_read_ns_adds_exactly_to_the_mmio_read_round_trip) {
    pcie_link_params slow;
    slow.mmio_read_ns = 300;
    pcie_link base, slower(slow);
    const double a = ns_of(base.downstream_read(sc_time(), 0x40, 4));
    const double b = ns_of(slower.downstream_read(sc_time(), 0x40, 4));
    EXPECT_NEAR(b - a, 300.0, 1e-3);
    // Writes do not wait for a turnaround.
    EXPECT_NEAR(ns_of(base.downstream_write(sc_time(1, sc_core::SC_US), 4)),
                ns_of(slower.downstream_write(sc_time(1, sc_core::SC_US), 4)), 1e-3);
}

TEST(pcie_link_split, defaults_time_aligned_reads_as_the_measured_fit) {
    // 520 ns + 0.29 ns/B up to 2 KB; beyond it, the rest at completion goodput with one 20 B
    // header per 256 B (the formulas used before addresses were known).
    const pcie_link_params p;
    for (const uint64_t len : {64u, 512u, 2048u, 65536u}) {
        pcie_link link;
        const uint64_t fit = std::min<uint64_t>(len, p.read_rtt_fit_bytes);
        const uint64_t rest = len - fit;
        const double want =
            p.read_rtt_base_ns + p.read_rtt_per_byte_ns * fit +
            static_cast<double>(rest + (rest + 255) / 256 * p.cpl_overhead) * 8.0 / p.tlp_rate_gbps;
        EXPECT_NEAR(ns_of(link.upstream_read(sc_time(), 0, len)), want, 1e-3) << len;
    }
    pcie_link link;
    EXPECT_NEAR(ns_of(link.downstream_read(sc_time(), 0, 4)),
                (24 + 4 + 20) * 8.0 / p.tlp_rate_gbps + 2 * p.one_way_ns, 1e-3);
}

TEST(pcie_link_split, reads_at_the_top_of_the_address_space_do_not_wrap) {
    // Guest-chosen addresses: a read that would run past 2^64 is counted up to the top.
    const pcie_link_params p;
    EXPECT_EQ(read_request_tlps(p, UINT64_MAX - 100, 1000), 1u);
    EXPECT_EQ(read_completion_tlps(p, UINT64_MAX - 100, 1000), 1u);
    pcie_link link;
    EXPECT_GT(ns_of(link.upstream_read(sc_time(), UINT64_MAX - 4095, 8192)), 0.0);
}

}  // namespace
}  // namespace chio
