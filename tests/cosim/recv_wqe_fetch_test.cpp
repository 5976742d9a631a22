// Receive WQE read-ahead (qp_engine_timing::recv_wqes_per_fetch, tlm-model/adapter/recv_fetch.cpp):
// a QP (or an SRQ) keeps up to recv_wqes_per_fetch of its posted receive WQEs read ahead of
// their messages and reads more when half are taken; slots the driver has not handed over with a
// doorbell are never read.
#include <gtest/gtest.h>

#include <cstring>

#include "support/two_sides.h"

namespace chio {
namespace {

using Q = test::wr_tracker::queue;
using op = spec::wqe_opcode;

constexpr uint64_t SRC = 0, DST = 64 << 10;
constexpr uint32_t LEN = 256;

test::sides_options pair(uint32_t per_fetch = model::qp_engine_timing{}.recv_wqes_per_fetch) {
    test::sides_options o = test::pair_options();
    o.timing.recv_wqes_per_fetch = per_fetch;
    return o;
}

// Message `id`: even ids are SENDs, odd ids RDMA WRITEs with immediate (into DST + id * LEN);
// both consume one receive WQE of side b.
drv::send_wr message(test::two_sides& t, uint64_t id) {
    drv::send_wr w;
    w.wr_id = id;
    w.opcode = id % 2 == 0 ? op::SEND : op::RDMA_WRITE_WITH_IMM;
    w.imm = static_cast<uint32_t>(0x1000 + id);
    w.sg_list[0] = {t.a.addr(SRC + id * LEN), LEN, t.a.lkey};
    w.num_sge = 1;
    w.remote_addr = t.b.addr(DST + id * LEN);
    w.rkey = t.b.rkey;
    return w;
}

uint64_t recv_reads(test::two_sides& t) {
    return t.topo->host(1).adapter.counters().recv_wqe_reads;
}

// Receive `id` takes message `id`'s bytes at DST + id * LEN.
void post_recvs(test::two_sides& t, uint64_t first, uint64_t n) {
    for (uint64_t id = first; id < first + n; ++id) {
        ASSERT_EQ(t.post_recv(t.b, 100 + id, DST + id * LEN, LEN), 0);
    }
}

void send_messages(test::two_sides& t, uint64_t first, uint64_t n) {
    for (uint64_t id = first; id < first + n; ++id) {
        ASSERT_EQ(t.post_send(t.a, message(t, id)), 0);
    }
}

// Every message's receive completed in order with its own wr_id, opcode and immediate, and
// every byte landed.
void expect_all_received(test::two_sides& t, uint64_t n) {
    t.expect_exactly_once();
    ASSERT_TRUE(t.settle());
    for (uint64_t id = 0; id < n; ++id) {
        const spec::cqe* c = t.tracker.find(t.b.qp->qpn(), Q::recv, 100 + id);
        ASSERT_TRUE(c) << "receive " << id;
        EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::SUCCESS))
            << "receive " << id << ": "
            << spec::to_string(static_cast<spec::cqe_status>(c->status));
        EXPECT_EQ(c->wqe_index, id);
        EXPECT_EQ(c->opcode,
                  static_cast<uint8_t>(id % 2 == 0 ? spec::cqe_opcode::RECV
                                                   : spec::cqe_opcode::RECV_RDMA_WITH_IMM));
        if (id % 2 == 1) {
            EXPECT_EQ(c->imm, 0x1000 + id);
        }
    }
    EXPECT_EQ(std::memcmp(t.b.cpu() + DST, t.a.cpu() + SRC, LEN * n), 0);
}

void sixteen_messages(uint32_t per_fetch, uint64_t want_reads) {
    test::run_two_sides(pair(per_fetch), [want_reads](test::two_sides& t) {
        constexpr uint64_t N = 16;
        test::fill_pattern(t.a.cpu() + SRC, LEN * N, 5, 0);
        post_recvs(t, 0, N);
        send_messages(t, 0, N);
        expect_all_received(t, N);
        EXPECT_EQ(recv_reads(t), want_reads);
    });
}

// The first message's read brings WQEs 0-7; taking WQE 3 leaves four copies, so 8-11 are read;
// taking 7 reads 12-15; taking 11 finds nothing more posted.
TEST(recv_wqe_fetch, sixteen_messages_take_three_reads) { sixteen_messages(8, 3); }

TEST(recv_wqe_fetch, one_per_fetch_reads_each_wqe) { sixteen_messages(1, 16); }

TEST(recv_wqe_fetch, slots_not_yet_posted_are_never_read_ahead) {
    test::run_two_sides(pair(), [](test::two_sides& t) {
        test::fill_pattern(t.a.cpu() + SRC, LEN * 3, 6, 0);
        // Slot 2 holds a receive WQE no check passes (255 scatter entries) until the driver
        // writes WQE 2 into it; a copy read ahead before that would fail message 2.
        auto* ring = static_cast<spec::recv_wqe*>(t.b.qp->rq_ring().cpu);
        std::memset(&ring[2], 0xFF, sizeof(spec::recv_wqe));
        post_recvs(t, 0, 2);
        send_messages(t, 0, 2);
        ASSERT_TRUE(t.wait_wr(t.b, Q::recv, 101));
        EXPECT_EQ(recv_reads(t), 1u);  // WQEs 0 and 1 in one read, slot 2 left alone
        post_recvs(t, 2, 1);
        send_messages(t, 2, 1);
        expect_all_received(t, 3);
        EXPECT_EQ(recv_reads(t), 2u);
    });
}

// An SRQ's WQEs are read ahead as a QP's own: sixteen messages, three reads.
TEST(recv_wqe_fetch, a_shared_receive_queue_is_read_ahead_too) {
    test::sides_options o = pair();
    o.srq_b = true;
    test::run_two_sides(o, [](test::two_sides& t) {
        constexpr uint64_t N = 16;
        t.tracker.use_srq(t.b.qp->qpn(), t.b.srq->srqn());
        test::fill_pattern(t.a.cpu() + SRC, LEN * N, 7, 0);
        post_recvs(t, 0, N);
        send_messages(t, 0, N);
        t.expect_exactly_once();
        ASSERT_TRUE(t.settle());
        EXPECT_EQ(std::memcmp(t.b.cpu() + DST, t.a.cpu() + SRC, LEN * N), 0);
        EXPECT_EQ(recv_reads(t), 3u);
    });
}

// Copies held for WQEs a flush completes are not used again: every receive WQE completes exactly
// once, the ones behind the error with WR_FLUSH_ERR and their own wr_id.
TEST(recv_wqe_fetch, copies_of_flushed_wqes_complete_once) {
    test::run_two_sides(pair(), [](test::two_sides& t) {
        constexpr uint64_t N = 8, SENT = 2;
        test::fill_pattern(t.a.cpu() + SRC, LEN * SENT, 8, 0);
        post_recvs(t, 0, N);
        send_messages(t, 0, SENT);
        ASSERT_TRUE(t.wait_wr(t.b, Q::recv, 100 + SENT - 1));
        EXPECT_EQ(recv_reads(t), 1u);  // copies of WQEs 2-7 are held
        ASSERT_TRUE(t.modify(t.b, spec::qp_state::ERR, spec::qp_attr::STATE).ok());
        t.expect_exactly_once();
        for (uint64_t id = SENT; id < N; ++id) {
            const spec::cqe* c = t.tracker.find(t.b.qp->qpn(), Q::recv, 100 + id);
            ASSERT_TRUE(c) << "receive " << id;
            EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::WR_FLUSH_ERR));
            EXPECT_EQ(c->wqe_index, id);
        }
    });
}

}  // namespace
}  // namespace chio
