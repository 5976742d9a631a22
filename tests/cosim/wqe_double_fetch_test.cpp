// A descriptor changed by the host after the device fetched it (catalogue C16, double fetch /
// TOCTOU): the device reads each send WQE once, validates that private copy, and carries out and
// completes the request from it. A second read of the host's ring (at transmit, retransmit or
// completion time) would let a guest pass the checks with one descriptor and act with another.
//
// Determinism: the adapter counts WQE fetches (adapter_counters::wqes); the test rewrites the
// slot in the simulated instant after the counter shows the fetch, while the request provably
// has neither reached its target nor completed (a 20 us link keeps both away), so the overwrite
// always falls in the window between the device's validation and the request's effect.
#include <gtest/gtest.h>

#include <cstring>

#include "support/two_sides.h"

namespace chio {
namespace {

using Q = test::wr_tracker::queue;
using op = spec::wqe_opcode;

constexpr uint64_t SRC = 0, BIG_DST = 64 << 10, DST = 160 << 10, ALT = 192 << 10;
constexpr uint32_t BIG = 32 << 10, LEN = 512;

test::sides_options slow_pair() {
    test::sides_options o = test::pair_options();
    o.link.latency_ns = 20000;
    return o;
}

drv::send_wr write_wr(test::two_sides& t, uint64_t id, uint64_t src, uint64_t dst, uint32_t len) {
    drv::send_wr w;
    w.wr_id = id;
    w.opcode = op::RDMA_WRITE;
    w.sg_list[0] = {t.a.addr(src), len, t.a.lkey};
    w.num_sge = 1;
    w.remote_addr = t.b.addr(dst);
    w.rkey = t.b.rkey;
    return w;
}

// Posts a large WRITE (keeps the requester busy) and the small WRITE under test, waits until the
// device has fetched the second, checks it has not completed, and hands its ring slot to
// `rewrite`. Then expects the original request's effect and completion.
void run(test::two_sides& t, const std::function<void(spec::send_wqe&)>& rewrite) {
    test::fill_pattern(t.a.cpu() + SRC, BIG, 5, 0);
    const uint64_t fetched = t.topo->host(0).adapter.counters().wqes;
    ASSERT_EQ(t.post_send(t.a, write_wr(t, 1, SRC, BIG_DST, BIG)), 0);
    ASSERT_EQ(t.post_send(t.a, write_wr(t, 2, SRC, DST, LEN)), 0);
    drv::bus& io = t.a.dev->io();
    const uint64_t deadline = io.now_ns() + 1'000'000;
    while (t.topo->host(0).adapter.counters().wqes < fetched + 2 && io.now_ns() < deadline) {
        io.relax();
    }
    ASSERT_EQ(t.topo->host(0).adapter.counters().wqes, fetched + 2) << "WQE 2 never fetched";
    t.poll_once();
    ASSERT_EQ(t.tracker.find(t.a.qp->qpn(), Q::send, 2), nullptr)
        << "completed before the overwrite: the test window is gone";
    // Fetched and validated, but not carried out yet: nothing has reached the target.
    for (uint64_t i = DST; i < DST + LEN; ++i) {
        ASSERT_EQ(t.b.cpu()[i], 0) << "the WRITE landed before the overwrite: no window";
    }
    // The second WQE sits in slot 1 of a fresh ring.
    auto* ring = static_cast<spec::send_wqe*>(t.a.qp->sq_ring().cpu);
    rewrite(ring[1]);
    t.expect_exactly_once();
    for (uint64_t id : {1, 2}) {
        const spec::cqe* c = t.tracker.find(t.a.qp->qpn(), Q::send, id);
        ASSERT_TRUE(c);
        EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::SUCCESS))
            << "wr_id " << id << ": " << spec::to_string(static_cast<spec::cqe_status>(c->status));
    }
    EXPECT_EQ(std::memcmp(t.b.cpu() + DST, t.a.cpu() + SRC, LEN), 0)
        << "the original WRITE did not land where it was first posted";
    for (uint64_t i = DST + LEN; i < ALT + 8192; ++i) {
        ASSERT_EQ(t.b.cpu()[i], 0) << "byte at offset " << i << " written by the rewritten WQE";
    }
}

TEST(wqe_double_fetch, rewritten_target_after_fetch_is_not_used) {
    test::run_two_sides(slow_pair(), [](test::two_sides& t) {
        // A valid descriptor with another target and length: a second fetch would act on it.
        run(t, [&t](spec::send_wqe& w) {
            w.remote_addr = t.b.addr(ALT);
            w.sg_list[0].length = 4096;
        });
    });
}

TEST(wqe_double_fetch, descriptor_made_invalid_after_fetch_still_completes_as_validated) {
    test::run_two_sides(slow_pair(), [](test::two_sides& t) {
        // A descriptor no check would pass: unknown opcode, bad keys, too many gather entries,
        // and another wr_id. run() finds the completion under the original wr_id 2: the driver
        // reports what it posted (its private record), not what the ring slot says now.
        run(t, [](spec::send_wqe& w) { std::memset(&w, 0xFF, sizeof(w)); });
    });
}

}  // namespace
}  // namespace chio
