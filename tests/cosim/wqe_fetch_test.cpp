// Batched WQE fetch (qp_engine_timing::wqes_per_fetch, tlm-model/adapter/requester.cpp
// fetch_wqe): one descriptor read brings the WQE the fetch stage dequeued and the posted WQEs
// after it, up to wqes_per_fetch and never past the ring's end; slots the driver has not handed
// over with a doorbell are never read ahead.
#include <gtest/gtest.h>

#include <cstring>

#include "support/two_sides.h"

namespace chio {
namespace {

using Q = test::wr_tracker::queue;
using op = spec::wqe_opcode;

constexpr uint64_t SRC = 0, DST = 64 << 10;
constexpr uint32_t LEN = 512;  // one payload read request (MRRS) per WQE

test::sides_options pair(uint32_t wqes_per_fetch = model::qp_engine_timing{}.wqes_per_fetch) {
    test::sides_options o = test::pair_options();
    o.timing.wqes_per_fetch = wqes_per_fetch;
    return o;
}

drv::send_wr write_wr(test::two_sides& t, uint64_t id) {
    drv::send_wr w;
    w.wr_id = id;
    w.opcode = op::RDMA_WRITE;
    w.flags = spec::wqe_flags::SIGNALED;
    w.sg_list[0] = {t.a.addr(SRC + id * LEN), LEN, t.a.lkey};
    w.num_sge = 1;
    w.remote_addr = t.b.addr(DST + id * LEN);
    w.rkey = t.b.rkey;
    return w;
}

uint64_t wqe_reads(test::two_sides& t) { return t.topo->host(0).adapter.counters().wqe_reads; }
uint64_t np_reads(test::two_sides& t) {
    return t.topo->host(0).rc.link().up_stats(cosim::tlp_class::non_posted).tlps;
}

// Posts ids [first, first + n) with one doorbell for all of them.
void post_batch(test::two_sides& t, uint64_t first, uint64_t n) {
    for (uint64_t id = first; id < first + n; ++id) {
        ASSERT_EQ(t.a.qp->post_send(write_wr(t, id), false), 0);
        t.tracker.posted(t.a.qp->qpn(), Q::send, id);
    }
    t.a.qp->ring_send_doorbell();
}

void expect_all_succeeded(test::two_sides& t, uint64_t n) {
    t.expect_exactly_once();
    for (uint64_t id = 0; id < n; ++id) {
        const spec::cqe* c = t.tracker.find(t.a.qp->qpn(), Q::send, id);
        ASSERT_TRUE(c) << "wr " << id;
        EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::SUCCESS))
            << "wr " << id << ": " << spec::to_string(static_cast<spec::cqe_status>(c->status));
    }
    EXPECT_EQ(std::memcmp(t.b.cpu() + DST, t.a.cpu() + SRC, LEN * n), 0);
}

// The counts with the default (4) and with one read per WQE: descriptor reads and non-posted
// TLPs (descriptor reads plus one payload read per WQE) for 16 WQEs behind one doorbell.
void sixteen_behind_one_doorbell(uint32_t per_fetch, uint64_t want_reads) {
    test::run_two_sides(pair(per_fetch), [want_reads](test::two_sides& t) {
        constexpr uint64_t N = 16;
        test::fill_pattern(t.a.cpu() + SRC, LEN * N, 7, 0);
        const uint64_t w0 = wqe_reads(t), np0 = np_reads(t);
        post_batch(t, 0, N);
        expect_all_succeeded(t, N);
        EXPECT_EQ(wqe_reads(t) - w0, want_reads);
        EXPECT_EQ(np_reads(t) - np0, want_reads + N);
        EXPECT_EQ(t.topo->host(0).adapter.counters().wqes, N);
    });
}

TEST(wqe_fetch, one_read_brings_four_posted_wqes) { sixteen_behind_one_doorbell(4, 4); }

TEST(wqe_fetch, one_per_fetch_reads_each_wqe) { sixteen_behind_one_doorbell(1, 16); }

TEST(wqe_fetch, a_batch_never_reads_past_the_ring_end) {
    test::sides_options o = pair();
    o.sq_log = 4;  // 16 slots
    test::run_two_sides(o, [](test::two_sides& t) {
        constexpr uint64_t SINGLE = 14, BATCH = 8;
        test::fill_pattern(t.a.cpu() + SRC, LEN * (SINGLE + BATCH), 8, 0);
        // One at a time to index 14: a read each.
        for (uint64_t id = 0; id < SINGLE; ++id) {
            ASSERT_EQ(t.post_send(t.a, write_wr(t, id)), 0);
            ASSERT_TRUE(t.wait_wr(t.a, Q::send, id));
        }
        EXPECT_EQ(wqe_reads(t), SINGLE);
        // Indices 14..21: slots 14-15 (the ring's end), then 0-3, then 4-5.
        post_batch(t, SINGLE, BATCH);
        expect_all_succeeded(t, SINGLE + BATCH);
        EXPECT_EQ(wqe_reads(t), SINGLE + 3);
    });
}

TEST(wqe_fetch, slots_not_yet_posted_are_never_read_ahead) {
    test::run_two_sides(pair(), [](test::two_sides& t) {
        test::fill_pattern(t.a.cpu() + SRC, LEN * 3, 9, 0);
        // Slot 2 holds a descriptor no check passes until the driver writes WQE 2 into it; a
        // copy read ahead before that would fail WQE 2.
        auto* ring = static_cast<spec::send_wqe*>(t.a.qp->sq_ring().cpu);
        std::memset(&ring[2], 0xFF, sizeof(spec::send_wqe));
        post_batch(t, 0, 2);
        ASSERT_TRUE(t.wait_wr(t.a, Q::send, 1));
        EXPECT_EQ(wqe_reads(t), 1u);  // WQEs 0 and 1 in one read, slot 2 left alone
        ASSERT_EQ(t.post_send(t.a, write_wr(t, 2)), 0);
        expect_all_succeeded(t, 3);
        EXPECT_EQ(wqe_reads(t), 2u);
    });
}

}  // namespace
}  // namespace chio
