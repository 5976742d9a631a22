// Rings kept completely full: a driver that reposts into a slot the moment its completion shows
// up, so that every doorbell announces a producer index a whole ring ahead of the consumer index
// the driver has seen. That is legal (IBA 10.8.3: the slot is free once its completion is
// polled), so the device must have retired the WQE no later than it makes the CQE visible; a
// device that retires it after the CQE write reads the doorbell as an overrun and puts the QP in
// ERR (what chio-bench send_bw met with 256 of 256 receives posted).
#include <gtest/gtest.h>

#include <map>

#include "support/platform_fixture.h"
#include "testbenches/scenarios/rc_endpoint.h"

namespace chio {
namespace {

namespace reg = spec::bar0::reg;
using spec::cqe_status;

constexpr unsigned RING_LOG = 3;  // eight WQEs per ring: every post below fills a ring
constexpr uint32_t RING = 1u << RING_LOG;
constexpr uint64_t MESSAGES = 200;
constexpr uint32_t LEN = 64;

struct ring_result {
    std::map<uint64_t, int> sends, recvs;  // wr_id -> completions seen
    uint64_t failed = 0;                   // completions with a status other than SUCCESS
    uint64_t refused = 0;                  // posts the driver refused
    uint32_t db_errors = 0;
    uint32_t state = 0;
};

TEST(full_rings, reposting_into_the_slot_just_completed_keeps_the_qp_working) {
    ring_result r;
    test::run_driver([&](drv::bus& b, cosim::platform&) {
        tb::rc_endpoint ep;
        tb::rc_endpoint_options o;
        o.sq_log = RING_LOG;
        o.rq_log = RING_LOG;
        o.cq_log = 6;
        o.buffer_bytes = 4096;
        ASSERT_TRUE(ep.open_self_connected(b, o)) << ep.error;  // connected to itself
        const uint32_t errs_before = b.mmio_read32(ep.dev->bar0() + reg::DB_ERR_COUNT);
        uint64_t next_recv = 0, next_send = 0;
        auto post_recv = [&] {
            drv::recv_wr w;
            w.wr_id = 1000 + next_recv++;
            w.sg_list[0] = {ep.buf.bus + 2048, LEN, ep.lkey};
            w.num_sge = 1;
            if (ep.qp->post_recv(w) != 0) ++r.refused;
        };
        auto post_send = [&] {
            drv::send_wr w;
            w.wr_id = next_send++;
            w.opcode = spec::wqe_opcode::SEND;
            w.sg_list[0] = {ep.buf.bus, LEN, ep.lkey};
            w.num_sge = 1;
            if (ep.qp->post_send(w) != 0) ++r.refused;
        };
        for (uint32_t i = 0; i < RING; ++i) post_recv();
        for (uint32_t i = 0; i < RING; ++i) post_send();
        ASSERT_EQ(ep.qp->recv_outstanding(), RING);
        ASSERT_EQ(ep.qp->send_outstanding(), RING);
        const uint64_t deadline = b.now_ns() + 20'000'000;
        while ((r.sends.size() < MESSAGES || r.recvs.size() < MESSAGES) && b.now_ns() < deadline &&
               r.failed == 0) {
            spec::cqe wc[4];
            bool any = false;
            for (auto* cq : {ep.scq.get(), ep.rcq.get()}) {
                const int n = cq->poll(wc, 4);
                for (int k = 0; k < n; ++k) {
                    any = true;
                    const bool recv = cq == ep.rcq.get();
                    ++(recv ? r.recvs : r.sends)[wc[k].wr_id];
                    if (wc[k].status != static_cast<uint8_t>(cqe_status::SUCCESS)) ++r.failed;
                    // Straight back into the slot just freed: the ring is full again.
                    if (recv && next_recv < MESSAGES) post_recv();
                    if (!recv && next_send < MESSAGES) post_send();
                }
            }
            if (!any) b.relax();
        }
        r.db_errors = b.mmio_read32(ep.dev->bar0() + reg::DB_ERR_COUNT) - errs_before;
        spec::cmd::query_qp_out q{};
        ASSERT_TRUE(ep.qp->query(ep.dev->cmd(), q).ok());
        r.state = q.state;
    });
    EXPECT_EQ(r.failed, 0u);
    EXPECT_EQ(r.refused, 0u);
    EXPECT_EQ(r.db_errors, 0u) << "a legal doorbell of a full ring was taken for an overrun";
    EXPECT_EQ(r.state, static_cast<uint32_t>(spec::qp_state::RTS));
    ASSERT_EQ(r.sends.size(), MESSAGES);
    ASSERT_EQ(r.recvs.size(), MESSAGES);
    for (const auto& [id, n] : r.sends) EXPECT_EQ(n, 1) << "send wr_id " << id;
    for (const auto& [id, n] : r.recvs) EXPECT_EQ(n, 1) << "receive wr_id " << id;
}

}  // namespace
}  // namespace chio
