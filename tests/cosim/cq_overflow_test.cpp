// CQ overflow (catalogue C14): a consumer that stops polling overflows its CQ; the CQ goes to
// error with a CQ_ERROR event, and the QPs completing into it go to ERR with QP_FATAL.
#include <gtest/gtest.h>

#include "support/platform_fixture.h"
#include "testbenches/scenarios/rc_endpoint.h"

namespace chio {
namespace {

TEST(cq_overflow, puts_the_cq_in_error_and_its_qps_in_err) {
    bool saw_cq_error = false, saw_qp_fatal = false;
    uint32_t state = 0;
    test::run_driver([&](drv::bus& b, cosim::platform&) {
        tb::rc_endpoint ep;
        tb::rc_endpoint_options o;
        o.cq_log = 1;  // two entries
        o.buffer_bytes = 4096;
        ASSERT_TRUE(ep.open_self_connected(b, o)) << ep.error;  // connected to itself
        for (uint64_t i = 0; i < 4; ++i) {
            drv::recv_wr r;
            r.wr_id = i;
            r.sg_list[0] = {ep.buf.bus + 2048, 64, ep.lkey};
            r.num_sge = 1;
            ASSERT_EQ(ep.qp->post_recv(r), 0);
        }
        for (uint64_t i = 0; i < 4; ++i) {
            drv::send_wr w;
            w.wr_id = i;
            w.sg_list[0] = {ep.buf.bus, 64, ep.lkey};
            w.num_sge = 1;
            ASSERT_EQ(ep.qp->post_send(w), 0);
        }
        // Do not poll: let the send CQ (two entries) overflow, then look at the events.
        for (int i = 0; i < 2000; ++i) b.relax();
        ep.dev->poll_events();
        for (const auto& e : ep.dev->async_events()) {
            if (e.type == static_cast<uint8_t>(spec::eqe_type::CQ_ERROR)) saw_cq_error = true;
            if (e.type == static_cast<uint8_t>(spec::eqe_type::QP_FATAL) &&
                e.data == ep.qp->qpn()) {
                saw_qp_fatal = true;
            }
        }
        spec::cmd::query_qp_out q{};
        ASSERT_TRUE(ep.qp->query(ep.dev->cmd(), q).ok());
        state = q.state;
    });
    EXPECT_TRUE(saw_cq_error);
    EXPECT_TRUE(saw_qp_fatal);
    EXPECT_EQ(state, static_cast<uint32_t>(spec::qp_state::ERR));
}

}  // namespace
}  // namespace chio
