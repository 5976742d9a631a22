// Egress identity and spoof check, ingress ownership (catalogue invariant 17): a VF that sends
// with another source while spoof check is on gets its packets dropped and counted before the
// port; with spoof check off its chosen source goes out; a packet for one VF's MAC carrying
// another VF's QPN is dropped and counted; per-function counters follow the traffic.
#include <gtest/gtest.h>

#include "support/sriov_host.h"

namespace chio {
namespace {

void relax_ns(drv::bus& io, uint64_t ns) {
    const uint64_t until = io.now_ns() + ns;
    while (io.now_ns() < until) io.relax();
}

TEST(sriov_spoof, spoofed_source_is_dropped_before_the_port_and_counted) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(3, 3, err)) << err;
        test::flow f;
        ASSERT_TRUE(f.setup(h.vf(1), h.vf(3), err)) << err;
        // VF 1 claims VF 2's identity, as a guest would by setting its MAC.
        ASSERT_TRUE(h.vf(1).set_addr(test::vf_mac(2), 0, test::vf_gid_lo(2)).ok());
        const uint64_t port_tx = h.plat.adapter.net().counters().tx_packets;
        f.start(4, 1024, 21);
        relax_ns(h.pf_bus, 200'000);
        f.poll();
        EXPECT_EQ(f.recv_ok, 0u);
        EXPECT_EQ(f.send_ok, 0u);
        EXPECT_EQ(h.plat.adapter.net().counters().tx_packets, port_tx) << "a spoofed frame left";
        drv::vf_stats s{};
        ASSERT_TRUE(h.mgr->query_stats(1, s).ok());
        EXPECT_GE(s.tx_dropped, 1u);
        EXPECT_GE(s.errors, s.tx_dropped);
        EXPECT_EQ(s.tx_packets, 0u);
        // The requester's retransmissions carry the same spoofed source, so they are dropped too
        // until its retries run out: the QP ends in error, nothing was delivered.
        const uint64_t deadline = h.pf_bus.now_ns() + 20'000'000;
        while (f.errors < 4 && h.pf_bus.now_ns() < deadline) {
            f.poll();
            h.pf_bus.relax();
        }
        EXPECT_EQ(f.recv_ok, 0u);
        EXPECT_EQ(f.errors, 4u);  // RETRY_EXC_ERR, then the rest flushed
        // Back to its own identity: a new connection carries traffic intact.
        ASSERT_TRUE(h.vf(1).set_addr(test::vf_mac(1), 0, test::vf_gid_lo(1)).ok());
        test::flow g;
        ASSERT_TRUE(g.setup(h.vf(1), h.vf(3), err)) << err;
        g.start(4, 1024, 24);
        ASSERT_TRUE(test::run_flows(h.pf_bus, {&g}));
        EXPECT_EQ(g.errors, 0u);
        EXPECT_EQ(g.mismatches(), 0u);
        drv::vf_stats s1{}, s3{};
        ASSERT_TRUE(h.mgr->query_stats(1, s1).ok());
        ASSERT_TRUE(h.mgr->query_stats(3, s3).ok());
        EXPECT_GE(s1.tx_packets, 4u);
        EXPECT_GT(s1.tx_bytes, 4u * 1024u);
        EXPECT_GE(s3.rx_packets, 4u);
        EXPECT_GE(s1.rx_packets, 1u);  // the ACKs
        EXPECT_EQ(s3.tx_dropped + s3.rx_dropped, 0u);
    });
}

TEST(sriov_spoof, with_spoof_check_off_the_chosen_source_goes_out) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(3, 3, err)) << err;
        ASSERT_TRUE(h.mgr->set_address(1, test::vf_mac(1), 0, test::vf_gid_lo(1), false).ok());
        const uint64_t chosen = 0x02C430000001ull;
        ASSERT_TRUE(h.vf(1).set_addr(chosen, 0, test::vf_gid_lo(1)).ok());
        uint64_t from_chosen = 0, from_vf3 = 0;
        h.plat.adapter.net().set_tap([&](const model::roce_packet& p) {
            const uint64_t src = model::mac_to_u64(p.src_mac);
            from_chosen += src == chosen ? 1 : 0;
            from_vf3 += src == test::vf_mac(3) ? 1 : 0;
        });
        test::flow f;
        ASSERT_TRUE(f.setup(h.vf(1), h.vf(3), err)) << err;
        f.start(4, 1024, 22);
        ASSERT_TRUE(test::run_flows(h.pf_bus, {&f}));
        h.plat.adapter.net().set_tap({});
        EXPECT_EQ(f.errors, 0u);
        EXPECT_EQ(f.mismatches(), 0u);
        EXPECT_GE(from_chosen, 4u);
        EXPECT_GE(from_vf3, 1u);  // VF 3's ACKs carry its assigned source
    });
}

TEST(sriov_spoof, packet_for_one_vfs_mac_with_another_vfs_qpn_is_dropped) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(3, 3, err)) << err;
        // Side a (VF 3) addresses VF 2's MAC, but the destination QP belongs to VF 1.
        test::flow f;
        ASSERT_TRUE(f.setup(h.vf(3), h.vf(1), err, test::vf_mac(2))) << err;
        std::memset(f.b.cpu(), 0x5C, 4096);
        f.start(2, 512, 23);
        relax_ns(h.pf_bus, 300'000);
        f.poll();
        EXPECT_EQ(f.recv_ok, 0u);
        for (int i = 0; i < 1024; ++i) ASSERT_EQ(f.b.cpu()[i], 0x5C) << "byte " << i;
        drv::vf_stats s2{}, s1{};
        ASSERT_TRUE(h.mgr->query_stats(2, s2).ok());
        ASSERT_TRUE(h.mgr->query_stats(1, s1).ok());
        EXPECT_GE(s2.rx_dropped, 1u);
        EXPECT_EQ(s1.rx_packets, 0u);
    });
}

}  // namespace
}  // namespace chio
