// READ responses across requests (tlm-model/adapter/response_queue.cpp): the responder issues
// the host-memory reads of the next READ while an earlier READ's response is still waiting for
// its data or on the wire, and a QP's responses still leave in PSN order, so an ACK never
// passes a READ response it follows.
#include <gtest/gtest.h>

#include <cstring>

#include "cosim/pcie_link.h"
#include "support/two_sides.h"

namespace chio {
namespace {

using Q = test::wr_tracker::queue;
using op = spec::wqe_opcode;

constexpr uint64_t SRC = 0, DST = 128 << 10;

// READ `len` bytes of b's buffer at SRC + id * len into a's at DST + id * len.
drv::send_wr read_wr(test::two_sides& t, uint64_t id, uint32_t len) {
    drv::send_wr w;
    w.wr_id = id;
    w.opcode = op::RDMA_READ;
    w.sg_list[0] = {t.a.addr(DST + id * len), len, t.a.lkey};
    w.num_sge = 1;
    w.remote_addr = t.b.addr(SRC + id * len);
    w.rkey = t.b.rkey;
    return w;
}

void expect_success(test::two_sides& t, uint64_t id) {
    const spec::cqe* c = t.tracker.find(t.a.qp->qpn(), Q::send, id);
    ASSERT_TRUE(c) << "wr " << id;
    EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::SUCCESS))
        << "wr " << id << ": " << spec::to_string(static_cast<spec::cqe_status>(c->status));
}

// One 4 KiB READ alone, then N = 8 posted together, every one completing once with its data and
// none retransmitted. Returns the simulated time each of the eight after the first adds, in ns.
double ns_per_further_read(test::two_sides& t, uint64_t seed) {
    constexpr uint32_t LEN = 4096;
    constexpr uint64_t N = 8;
    test::fill_pattern(t.b.cpu() + SRC, LEN * (N + 1), seed, 0);
    drv::bus& io = t.a.dev->io();
    const uint64_t t0 = io.now_ns();
    EXPECT_EQ(t.post_send(t.a, read_wr(t, N, LEN)), 0);
    EXPECT_TRUE(t.wait_wr(t.a, Q::send, N));
    const uint64_t one = io.now_ns() - t0;
    const uint64_t t1 = io.now_ns();
    for (uint64_t id = 0; id < N; ++id) EXPECT_EQ(t.post_send(t.a, read_wr(t, id, LEN)), 0);
    EXPECT_TRUE(t.wait_wr(t.a, Q::send, N - 1));
    const uint64_t eight = io.now_ns() - t1;
    std::printf("one READ %llu ns, eight READs %llu ns\n", static_cast<unsigned long long>(one),
                static_cast<unsigned long long>(eight));
    t.expect_exactly_once();
    for (uint64_t id = 0; id <= N; ++id) expect_success(t, id);
    EXPECT_EQ(t.topo->host(0).adapter.transport().retransmits, 0u);
    EXPECT_EQ(std::memcmp(t.a.cpu() + DST, t.b.cpu() + SRC, LEN * (N + 1)), 0);
    return static_cast<double>(eight - one) / (N - 1);
}

// Eight 4 KiB READs posted together: after the first, each adds less than one host-memory read
// round trip, since its reads go out while the READ before it is still being answered. (One at
// a time, the responder waited out each READ's round trip and then its serialization: measured
// 1014 ns per further READ before response_queue.cpp, 386 ns with it.)
TEST(read_response, reads_overlap_across_requests) {
    test::run_two_sides(test::pair_options(), [](test::two_sides& t) {
        EXPECT_LT(ns_per_further_read(t, 11), cosim::pcie_link_params{}.read_rtt_base_ns);
    });
}

// Responder resources: with max_dest_rd_atomic 1 and a requester allowed 16 READs (a mismatch the
// requester does not see), the responder answers one READ at a time: each further READ waits for
// the previous response to leave and then for its own reads, more than a round trip each. Every
// READ still completes once, with its data, and nothing is retransmitted.
TEST(read_response, reads_beyond_the_responders_resources_wait_their_turn) {
    test::sides_options o = test::pair_options();
    o.max_dest_rd_atomic = 1;
    test::run_two_sides(o, [](test::two_sides& t) {
        EXPECT_GT(ns_per_further_read(t, 14), cosim::pcie_link_params{}.read_rtt_base_ns);
    });
}

// A WRITE right behind a 64 KiB READ: the responder has the WRITE's bytes before the READ's data
// has come from host memory, and its ACK waits behind the READ response. An ACK that passed it
// would leave the WRITE unacknowledged behind the READ until the requester's timeout.
TEST(read_response, an_ack_never_passes_a_read_response) {
    test::run_two_sides(test::pair_options(), [](test::two_sides& t) {
        constexpr uint32_t LEN = 64 << 10;
        test::fill_pattern(t.b.cpu() + SRC, LEN, 12, 0);
        test::fill_pattern(t.a.cpu() + SRC, 256, 13, 0);
        drv::bus& io = t.a.dev->io();
        const uint64_t t0 = io.now_ns();
        ASSERT_EQ(t.post_send(t.a, read_wr(t, 0, LEN)), 0);
        drv::send_wr w;
        w.wr_id = 1;
        w.opcode = op::RDMA_WRITE;
        w.sg_list[0] = {t.a.addr(SRC), 256, t.a.lkey};
        w.num_sge = 1;
        w.remote_addr = t.b.addr(DST);
        w.rkey = t.b.rkey;
        ASSERT_EQ(t.post_send(t.a, w), 0);
        ASSERT_TRUE(t.wait_wr(t.a, Q::send, 1));
        // Far below the 4.2 ms ACK timeout: no retransmission was needed.
        EXPECT_LT(io.now_ns() - t0, 100'000u);
        t.expect_exactly_once();
        expect_success(t, 0);
        expect_success(t, 1);
        EXPECT_EQ(t.topo->host(0).adapter.transport().retransmits, 0u);
        EXPECT_EQ(t.topo->host(1).adapter.transport().duplicates, 0u);
        ASSERT_TRUE(t.settle());
        EXPECT_EQ(std::memcmp(t.a.cpu() + DST, t.b.cpu() + SRC, LEN), 0);
        EXPECT_EQ(std::memcmp(t.b.cpu() + DST, t.a.cpu() + SRC, 256), 0);
    });
}

}  // namespace
}  // namespace chio
