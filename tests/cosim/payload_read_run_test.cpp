// Payload reads as runs (dma_port::read_run_at, tlm-model/adapter/read_pipeline.cpp): a
// segment's bytes are translated and copied with its first read request, and each request of
// the segment is still timed, and can still be refused, on its own.
#include <gtest/gtest.h>

#include <cstring>

#include "support/two_sides.h"

namespace chio {
namespace {

using Q = test::wr_tracker::queue;

constexpr uint64_t SRC = 0, DST = 64 << 10;
constexpr uint32_t BIG = 4096;  // eight read requests of 512 B (MRRS)

struct host0_reads {
    uint64_t translations = 0;  // IOMMU accesses resolved on host 0 (reads and writes)
    uint64_t requests = 0;      // read requests host 0's link carried
};

host0_reads sample(test::two_sides& t) {
    cosim::platform& h = t.topo->host(0);
    return {h.iommu.counters().translations,
            h.rc.link().up_stats(cosim::tlp_class::non_posted).tlps};
}

// One WRITE of len bytes from side a; what it cost host 0.
host0_reads one_write(test::two_sides& t, uint64_t id, uint32_t len, uint64_t off) {
    const host0_reads before = sample(t);
    EXPECT_EQ(t.post_send(t.a, test::rdma_write(t, id, SRC + off, DST + off, len)), 0);
    const spec::cqe* c = t.wait_wr(t.a, Q::send, id);
    EXPECT_TRUE(c);
    if (c != nullptr) {
        EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::SUCCESS));
    }
    EXPECT_TRUE(t.settle());
    const host0_reads after = sample(t);
    return {after.translations - before.translations, after.requests - before.requests};
}

// A 4 KiB payload goes on the link as eight read requests, as a 64 B one goes as one, but costs
// the host's IOMMU no more translations than the 64 B one: the bytes move once per segment.
TEST(payload_read_run, a_segment_is_translated_once_and_timed_per_request) {
    test::run_two_sides(test::pair_options(), [](test::two_sides& t) {
        test::fill_pattern(t.a.cpu() + SRC, 2 * BIG, 3, 0);
        const host0_reads small = one_write(t, 1, 64, 0);
        const host0_reads big = one_write(t, 2, BIG, BIG);
        EXPECT_EQ(big.requests, small.requests + BIG / 512 - 1);
        EXPECT_EQ(big.translations, small.translations);
        EXPECT_EQ(std::memcmp(t.b.cpu() + DST + BIG, t.a.cpu() + SRC + BIG, BIG), 0);
    });
}

// A fault on the third request of a run (one that moves no data of its own) still fails the
// WRITE before anything is sent: LOC_PROT_ERR, the remote buffer untouched (catalogue G2).
TEST(payload_read_run, a_fault_on_a_later_request_fails_the_write) {
    test::run_two_sides(test::pair_options(), [](test::two_sides& t) {
        test::fill_pattern(t.a.cpu() + SRC, 2 * BIG, 4, 0);
        // The reads of a 4 KiB WRITE other than its payload (its WQE's fetch).
        const host0_reads first = one_write(t, 1, BIG, 0);
        const uint64_t before_payload = first.requests - BIG / 512;
        cosim::fault_spec f;
        f.kind = cosim::fault_kind::pcie_ur_read;
        f.after = before_payload + 2;
        f.count = 1;
        cosim::fault_injector& faults = t.topo->host(0).rc.faults();
        ASSERT_TRUE(faults.arm(f));
        std::memset(t.b.cpu() + DST + BIG, 0, BIG);
        ASSERT_EQ(t.post_send(t.a, test::rdma_write(t, 2, SRC + BIG, DST + BIG, BIG)), 0);
        const spec::cqe* c = t.wait_wr(t.a, Q::send, 2);
        ASSERT_TRUE(c);
        EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::LOC_PROT_ERR))
            << spec::to_string(static_cast<spec::cqe_status>(c->status));
        EXPECT_EQ(faults.injected(cosim::fault_kind::pcie_ur_read), 1u);
        ASSERT_TRUE(t.settle());
        const std::vector<uint8_t> zero(BIG, 0);
        EXPECT_EQ(std::memcmp(t.b.cpu() + DST + BIG, zero.data(), BIG), 0);
    });
}

}  // namespace
}  // namespace chio
