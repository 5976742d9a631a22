// WQE in the doorbell page (tlm-model/adapter/wqe_window.h): a send WQE written into the
// doorbell page with SQ_WQE_DB is carried out from that copy, with no DMA read of the ring; a
// torn or partial burst falls back to fetching the ring; writes the window cannot take are
// refused like a doorbell of a wrong size, and ring nothing.
#include <gtest/gtest.h>

#include <cstring>

#include "cosim/sc_bus.h"
#include "support/two_sides.h"

namespace chio {
namespace {

using Q = test::wr_tracker::queue;
using op = spec::wqe_opcode;
namespace db = spec::bar0::db;

constexpr uint64_t SRC = 0, DST = 64 << 10;
constexpr uint32_t LEN = 512;
constexpr size_t WQE = sizeof(spec::send_wqe);

drv::send_wr write_wr(test::two_sides& t, uint64_t id, uint64_t src, uint64_t dst) {
    return test::rdma_write(t, id, src, dst, LEN);
}

const cosim::pcie_link& link0(test::two_sides& t) { return t.topo->host(0).rc.link(); }
uint64_t reads0(test::two_sides& t) { return link0(t).up_stats(cosim::tlp_class::non_posted).tlps; }
uint64_t from_db(test::two_sides& t) {
    return t.topo->host(0).adapter.counters().wqes_from_doorbell;
}

// The block a driver writes for the WQE at ring index pi - 1: the WQE, then SQ_WQE_DB.
void block_for(uint8_t (&b)[WQE + 8], const spec::send_wqe& w, uint32_t qpn, uint16_t pi) {
    std::memcpy(b, &w, WQE);
    const uint64_t v = db::SQ_WQE_DB_QPN.make(qpn) | db::SQ_WQE_DB_PI.make(pi);
    std::memcpy(b + WQE, &v, 8);
}

TEST(wqe_in_doorbell, each_write_skips_its_wqe_fetch_and_completes) {
    test::run_two_sides(test::pair_options(), [](test::two_sides& t) {
        constexpr int N = 8;
        test::fill_pattern(t.a.cpu() + SRC, LEN * 2 * N, 3, 0);
        // First by SQ_DB: a WQE read and a payload read per message.
        uint64_t r0 = reads0(t);
        for (int i = 0; i < N; ++i) {
            ASSERT_EQ(t.post_send(t.a, write_wr(t, i, SRC + i * LEN, DST + i * LEN)), 0);
            ASSERT_TRUE(t.wait_wr(t.a, Q::send, i));
        }
        const uint64_t reads_fetched = reads0(t) - r0;
        EXPECT_EQ(from_db(t), 0u);
        // Then with the WQE in the doorbell page: only the payload read is left.
        t.a.qp->set_wqe_in_doorbell(true);
        r0 = reads0(t);
        for (int i = N; i < 2 * N; ++i) {
            ASSERT_EQ(t.post_send(t.a, write_wr(t, i, SRC + i * LEN, DST + i * LEN)), 0);
            ASSERT_TRUE(t.wait_wr(t.a, Q::send, i));
        }
        const uint64_t reads_in_db = reads0(t) - r0;
        EXPECT_EQ(from_db(t), uint64_t{N});
        EXPECT_EQ(reads_fetched, 2u * N);
        EXPECT_EQ(reads_in_db, uint64_t{N});
        t.expect_exactly_once();
        for (int i = 0; i < 2 * N; ++i) {
            const spec::cqe* c = t.tracker.find(t.a.qp->qpn(), Q::send, i);
            ASSERT_TRUE(c);
            EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::SUCCESS)) << "wr " << i;
        }
        EXPECT_EQ(std::memcmp(t.b.cpu() + DST, t.a.cpu() + SRC, LEN * 2 * N), 0);
    });
}

TEST(wqe_in_doorbell, the_device_acts_on_the_copy_in_the_page_not_on_the_ring) {
    test::run_two_sides(test::pair_options(), [](test::two_sides& t) {
        test::fill_pattern(t.a.cpu() + SRC, LEN, 4, 0);
        ASSERT_EQ(t.a.qp->post_send(write_wr(t, 1, SRC, DST), false), 0);
        t.tracker.posted(t.a.qp->qpn(), Q::send, 1);
        // The ring slot becomes a descriptor no check passes; only the page holds the real one.
        auto* ring = static_cast<spec::send_wqe*>(t.a.qp->sq_ring().cpu);
        const spec::send_wqe good = ring[0];
        std::memset(&ring[0], 0xFF, WQE);
        uint8_t b[WQE + 8];
        block_for(b, good, t.a.qp->qpn(), 1);
        t.a.dev->io().mmio_write_block(t.a.qp->doorbell_page() + spec::bar0::WQE_DB_OFFSET, b,
                                       sizeof(b));
        t.expect_exactly_once();
        const spec::cqe* c = t.tracker.find(t.a.qp->qpn(), Q::send, 1);
        ASSERT_TRUE(c);
        EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::SUCCESS))
            << spec::to_string(static_cast<spec::cqe_status>(c->status));
        EXPECT_EQ(from_db(t), 1u);
        EXPECT_EQ(std::memcmp(t.b.cpu() + DST, t.a.cpu() + SRC, LEN), 0);
    });
}

TEST(wqe_in_doorbell, a_torn_burst_rings_but_the_wqe_is_fetched_from_the_ring) {
    test::run_two_sides(test::pair_options(), [](test::two_sides& t) {
        test::fill_pattern(t.a.cpu() + SRC, LEN, 5, 0);
        ASSERT_EQ(t.a.qp->post_send(write_wr(t, 1, SRC, DST), false), 0);
        t.tracker.posted(t.a.qp->qpn(), Q::send, 1);
        // Only the second line and the word arrive (the first line was flushed early, or lost),
        // and what arrived is garbage: taking it would fail the WQE.
        uint8_t b[WQE + 8];
        spec::send_wqe junk;
        std::memset(&junk, 0xFF, WQE);
        block_for(b, junk, t.a.qp->qpn(), 1);
        t.a.dev->io().mmio_write_block(
            t.a.qp->doorbell_page() + spec::bar0::WQE_DB_OFFSET + cosim::WC_LINE_BYTES,
            b + cosim::WC_LINE_BYTES, sizeof(b) - cosim::WC_LINE_BYTES);
        t.expect_exactly_once();
        const spec::cqe* c = t.tracker.find(t.a.qp->qpn(), Q::send, 1);
        ASSERT_TRUE(c);
        EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::SUCCESS))
            << spec::to_string(static_cast<spec::cqe_status>(c->status));
        EXPECT_EQ(from_db(t), 0u);
        EXPECT_EQ(std::memcmp(t.b.cpu() + DST, t.a.cpu() + SRC, LEN), 0);
    });
}

TEST(wqe_in_doorbell, writes_the_window_cannot_take_are_refused_and_ring_nothing) {
    test::run_two_sides(test::pair_options(), [](test::two_sides& t) {
        auto& io = dynamic_cast<cosim::sc_bus&>(t.a.dev->io());
        const uint64_t win = t.a.qp->doorbell_page() + spec::bar0::WQE_DB_OFFSET;
        const uint64_t dbs = t.topo->host(0).adapter.counters().doorbells;
        const uint64_t errs = io.mmio_errors();
        uint8_t b[WQE + 8] = {};
        io.mmio_write_block(win, b, 12);        // not whole 64-bit words
        io.mmio_write_block(win + 4, b, 8);     // not aligned
        io.mmio_write_block(win - 8, b, 16);    // starts before the window
        io.mmio_write_block(win + WQE, b, 16);  // runs past SQ_WQE_DB
        io.mmio_write32(win + WQE, 0);          // half a doorbell word
        // Posted writes are refused when they arrive; a read behind them (it cannot pass them)
        // returns once they have, as a driver fences its writes.
        io.mmio_read32(t.a.dev->bar0() + spec::bar0::reg::FW_REV);
        EXPECT_EQ(io.mmio_errors() - errs, 5u);
        EXPECT_EQ(t.topo->host(0).adapter.counters().doorbells, dbs);
        // The QP still works, from the window too.
        t.a.qp->set_wqe_in_doorbell(true);
        test::fill_pattern(t.a.cpu() + SRC, LEN, 6, 0);
        ASSERT_EQ(t.post_send(t.a, write_wr(t, 7, SRC, DST)), 0);
        t.expect_exactly_once();
        EXPECT_EQ(from_db(t), 1u);
    });
}

}  // namespace
}  // namespace chio
