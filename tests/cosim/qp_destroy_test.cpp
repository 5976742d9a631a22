// Destroying a QP with work in flight (catalogue F5): once DESTROY_QP has returned, the device
// writes no completion for that QP and raises no asynchronous event naming it (IBA 11.2.4.3:
// after destroy the consumer gets nothing more for the QP; its affiliated events come before).
// Late ACKs from the peer, retransmit timers and the flush of the send queue all belong to a QP
// that no longer exists, and a CQE for it would land in a CQ the application still uses (or, once
// the QPN is reused, be taken for a completion of the new QP).
#include <gtest/gtest.h>

#include <cstring>

#include "support/two_sides.h"

namespace chio {
namespace {

using op = spec::wqe_opcode;

constexpr uint32_t LEN = 16 << 10;

size_t events_naming(drv::device& dev, uint32_t qpn) {
    dev.poll_events();
    size_t n = 0;
    for (const auto& e : dev.async_events()) n += e.data == qpn ? 1 : 0;
    return n;
}

// Polls side a's CQs for `ns` of simulated time; returns the CQEs the driver handed out (any is a
// completion for the destroyed QP, the only QP on these CQs) plus those it dropped as naming no
// QP of its own.
uint64_t stray_completions(test::two_sides& t, uint64_t ns) {
    drv::bus& io = t.a.dev->io();
    const uint64_t until = io.now_ns() + ns;
    uint64_t n = 0;
    spec::cqe wc[16];
    while (io.now_ns() < until) {
        n += static_cast<uint64_t>(t.a.scq->poll(wc, 16));
        n += static_cast<uint64_t>(t.a.rcq->poll(wc, 16));
        t.b.scq->poll(wc, 16);
        t.b.rcq->poll(wc, 16);
        io.relax();
    }
    return n + t.a.scq->dropped() + t.a.rcq->dropped();
}

// Posts `n` RDMA WRITEs (not through the tracker: they are never meant to complete) and waits
// until the device has fetched them all.
void post_writes(test::two_sides& t, unsigned n) {
    const uint64_t fetched = t.topo->host(0).adapter.counters().wqes;
    for (unsigned i = 0; i < n; ++i) {
        drv::send_wr w;
        w.wr_id = 100 + i;
        w.opcode = op::RDMA_WRITE;
        w.sg_list[0] = {t.a.addr(0), LEN, t.a.lkey};
        w.num_sge = 1;
        w.remote_addr = t.b.addr(64 << 10);
        w.rkey = t.b.rkey;
        ASSERT_EQ(t.a.qp->post_send(w), 0);
    }
    drv::bus& io = t.a.dev->io();
    const uint64_t deadline = io.now_ns() + 1'000'000;
    while (t.topo->host(0).adapter.counters().wqes < fetched + n && io.now_ns() < deadline) {
        io.relax();
    }
}

test::sides_options slow_pair() {
    test::sides_options o = test::pair_options();
    o.link.latency_ns = 20000;  // ACKs come back 40 us after each request
    o.timeout = 8;              // 1 ms: a retransmit timer left running fires within the check
    o.retry_cnt = 1;
    return o;
}

TEST(qp_destroy, in_flight_requests_complete_nothing_after_destroy_returns) {
    test::run_two_sides(slow_pair(), [](test::two_sides& t) {
        post_writes(t, 4);
        spec::cqe wc[4];
        ASSERT_EQ(t.a.scq->poll(wc, 4), 0) << "completed before the destroy: nothing in flight";
        const uint32_t qpn = t.a.qp->qpn();
        ASSERT_TRUE(t.a.dev->destroy_qp(*t.a.qp).ok());
        const size_t events = events_naming(*t.a.dev, qpn);
        // The ACKs arrive, the retransmit timer (1 ms, one retry) would expire and the send queue
        // would be flushed within these 5 ms.
        EXPECT_EQ(stray_completions(t, 5'000'000), 0u);
        EXPECT_EQ(events_naming(*t.a.dev, qpn), events) << "an async event after the destroy";
    });
}

TEST(qp_destroy, unanswered_requests_complete_nothing_after_destroy_returns) {
    test::run_two_sides(slow_pair(), [](test::two_sides& t) {
        // The peer answers nothing: without the destroy, the retransmit timer would end the
        // first request in RETRY_EXC_ERR and flush the others.
        ASSERT_TRUE(t.modify(t.b, spec::qp_state::RESET, spec::qp_attr::STATE).ok());
        post_writes(t, 4);
        const uint32_t qpn = t.a.qp->qpn();
        ASSERT_TRUE(t.a.dev->destroy_qp(*t.a.qp).ok());
        const size_t events = events_naming(*t.a.dev, qpn);
        EXPECT_EQ(stray_completions(t, 5'000'000), 0u);
        EXPECT_EQ(events_naming(*t.a.dev, qpn), events) << "an async event after the destroy";
    });
}

// An async event the device raised for the QP before the destroy reaches the event queue before
// DESTROY_QP completes: a bogus send-queue doorbell (catalogue A4) makes a QP_FATAL, and the
// destroy right behind it must not overtake it.
TEST(qp_destroy, affiliated_event_raised_before_destroy_arrives_before_it_returns) {
    test::run_two_sides(slow_pair(), [](test::two_sides& t) {
        namespace db = spec::bar0::db;
        const uint32_t qpn = t.a.qp->qpn();
        // A producer index more than a ring ahead: DB_RANGE, the QP goes to ERR with QP_FATAL.
        t.a.dev->io().mmio_write64(
            t.a.dev->db_page(0) + db::SQ_DB,
            db::SQ_DB_QPN.make(qpn) | db::SQ_DB_PI.make((1u << t.opt.sq_log) + 1));
        ASSERT_TRUE(t.a.dev->destroy_qp(*t.a.qp).ok());
        bool fatal = false;
        t.a.dev->poll_events();
        for (const auto& e : t.a.dev->async_events()) {
            fatal = fatal ||
                    (e.type == static_cast<uint8_t>(spec::eqe_type::QP_FATAL) && e.data == qpn);
        }
        EXPECT_TRUE(fatal) << "QP_FATAL not delivered before DESTROY_QP returned";
        const size_t events = events_naming(*t.a.dev, qpn);
        EXPECT_EQ(stray_completions(t, 2'000'000), 0u);
        EXPECT_EQ(events_naming(*t.a.dev, qpn), events) << "an async event after the destroy";
    });
}

}  // namespace
}  // namespace chio
