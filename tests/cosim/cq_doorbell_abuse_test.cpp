// A bogus CQ consumer index (catalogue C15): a CQ doorbell whose CI is past the entries the device
// has written, or moves backwards, is detected and dropped; the function's DB_ERR_COUNT reports it
// and the CQ keeps its real consumer index (docs/registers.md, error DB_RANGE). Accepting it would
// corrupt the ring accounting: a CI past the producer hides the next overflow (the device would
// overwrite entries the consumer has not read), and a CI moved backwards makes the device see
// consumed entries as waiting and overflow a CQ that has room. Each test provokes the one that
// the accepted index would cause, and expects the CQ to behave as if the doorbell never came.
#include <gtest/gtest.h>

#include "support/platform_fixture.h"
#include "testbenches/scenarios/rc_endpoint.h"

namespace chio {
namespace {

namespace db = spec::bar0::db;

constexpr unsigned CQ_LOG = 2;  // four entries
constexpr uint32_t CQ_SIZE = 1u << CQ_LOG;

// An RC QP connected to itself whose RDMA WRITEs complete only on the send CQ.
void open_self(drv::bus& b, tb::rc_endpoint& ep) {
    tb::rc_endpoint_options o;
    o.cq_log = CQ_LOG;
    o.buffer_bytes = 64 << 10;
    ASSERT_TRUE(ep.open_self_connected(b, o)) << ep.error;  // connected to itself
}

// Posts `n` RDMA WRITEs to the endpoint's own buffer and waits (without polling) until the
// device has written their completions.
void write_and_wait(drv::bus& b, cosim::platform& p, tb::rc_endpoint& ep, uint64_t first_id,
                    unsigned n) {
    const uint64_t cqes = p.adapter.counters().cqes;
    for (unsigned i = 0; i < n; ++i) {
        drv::send_wr w;
        w.wr_id = first_id + i;
        w.opcode = spec::wqe_opcode::RDMA_WRITE;
        w.sg_list[0] = {ep.buf.bus, 64, ep.lkey};
        w.num_sge = 1;
        w.remote_addr = ep.buf.bus + 4096;
        w.rkey = ep.rkey;
        ASSERT_EQ(ep.qp->post_send(w), 0);
    }
    const uint64_t deadline = b.now_ns() + 1'000'000;
    while (p.adapter.counters().cqes < cqes + n && b.now_ns() < deadline) b.relax();
    // Counted as issued; the entries are the driver's once they have landed.
    while (p.mem.writes_on_the_way() != 0 && b.now_ns() < deadline) b.relax();
}

uint32_t db_errors(drv::bus& b, tb::rc_endpoint& ep) {
    return b.mmio_read32(ep.dev->bar0() + spec::bar0::reg::DB_ERR_COUNT);
}

void ring_cq(drv::bus& b, tb::rc_endpoint& ep, uint16_t ci) {
    b.mmio_write64(ep.dev->db_page(0) + db::CQ_DB,
                   db::CQ_DB_CQN.make(ep.scq->cqn()) | db::CQ_DB_CI.make(ci));
}

bool saw_cq_error(tb::rc_endpoint& ep) {
    ep.dev->poll_events();
    for (const auto& e : ep.dev->async_events()) {
        if (e.type == static_cast<uint8_t>(spec::eqe_type::CQ_ERROR)) return true;
    }
    return false;
}

TEST(cq_doorbell_abuse, ci_past_the_producer_is_dropped_and_cannot_hide_an_overflow) {
    bool overflowed = false;
    test::run_driver([&](drv::bus& b, cosim::platform& p) {
        tb::rc_endpoint ep;
        open_self(b, ep);
        write_and_wait(b, p, ep, 0, 1);  // one entry written, none consumed
        const uint32_t before = db_errors(b, ep);
        ring_cq(b, ep, 1 + CQ_SIZE);  // past the producer, as if a whole ring had been consumed
        ring_cq(b, ep, 0xFFFF);       // and far beyond
        EXPECT_EQ(db_errors(b, ep) - before, 2u);
        EXPECT_FALSE(saw_cq_error(ep)) << "the doorbell itself broke the CQ";
        // With the real CI still 0, three more completions fill the ring and the fifth overflows
        // it. Had the CI been taken, the device would see room and overwrite unread entries.
        write_and_wait(b, p, ep, 1, CQ_SIZE);
        for (int i = 0; i < 200; ++i) b.relax();
        overflowed = saw_cq_error(ep);
    });
    EXPECT_TRUE(overflowed) << "a CQ doorbell past the producer hid the overflow";
}

TEST(cq_doorbell_abuse, ci_moved_backwards_is_dropped_and_the_cq_keeps_working) {
    test::run_driver([&](drv::bus& b, cosim::platform& p) {
        tb::rc_endpoint ep;
        open_self(b, ep);
        write_and_wait(b, p, ep, 0, 2);
        spec::cqe wc[CQ_SIZE];
        ASSERT_EQ(ep.scq->poll(wc, CQ_SIZE), 2);  // the driver's CI is now 2
        const uint32_t before = db_errors(b, ep);
        ring_cq(b, ep, 0);  // backwards: both consumed entries "unread" again
        EXPECT_EQ(db_errors(b, ep) - before, 1u);
        // Three completions fit the four-entry ring with the real CI (2); with the CI moved back
        // to 0 the third would overflow the CQ.
        write_and_wait(b, p, ep, 2, 3);
        for (int i = 0; i < 200; ++i) b.relax();
        EXPECT_FALSE(saw_cq_error(ep)) << "a backwards CQ doorbell was taken: spurious overflow";
        ASSERT_EQ(ep.scq->poll(wc, CQ_SIZE), 3);
        for (int i = 0; i < 3; ++i) {
            EXPECT_EQ(wc[i].wr_id, static_cast<uint64_t>(2 + i));
            EXPECT_EQ(wc[i].status, static_cast<uint8_t>(spec::cqe_status::SUCCESS));
        }
        spec::cmd::query_qp_out q{};
        ASSERT_TRUE(ep.qp->query(ep.dev->cmd(), q).ok());
        EXPECT_EQ(q.state, static_cast<uint32_t>(spec::qp_state::RTS));
        EXPECT_EQ(ep.scq->dropped(), 0u);
    });
}

}  // namespace
}  // namespace chio
