// EQ overrun (catalogue H4): a PF driver that stops consuming its async EQ lets events pile up
// until the device has nowhere to write one. That is fatal to the device (syndrome EQ_OVERRUN,
// 0xc): the driver learns of it from its health check, completes every posted work request
// exactly once with a flush, and brings the device back by reset. A VF's overrun does not take
// the device down (event_unit.cpp); it is counted against the VF.
#include <gtest/gtest.h>

#include <map>

#include "support/platform_fixture.h"
#include "testbenches/scenarios/rc_endpoint.h"

namespace chio {
namespace {

constexpr int WRS = 4;

TEST(eq_overrun, is_fatal_with_its_syndrome_and_every_wr_completes_once) {
    drv::health verdict = drv::health::ok;
    uint32_t syndrome = 0;
    bool recovered = false, pd_after = false;
    std::map<uint64_t, int> sends, recvs;  // wr_id -> completions seen
    auto plat = test::run_driver([&](drv::bus& b, cosim::platform&) {
        tb::rc_endpoint ep;
        tb::rc_endpoint_options o;
        o.cq_log = 1;                    // two CQEs per CQ: both overflow, three async events
        o.device.async_eq_log_size = 1;  // two EQEs: the third event overruns the EQ
        o.buffer_bytes = 4096;
        ASSERT_TRUE(ep.open_self_connected(b, o)) << ep.error;  // connected to itself
        for (uint64_t i = 0; i < WRS; ++i) {
            drv::recv_wr r;
            r.wr_id = 100 + i;
            r.sg_list[0] = {ep.buf.bus + 2048, 64, ep.lkey};
            r.num_sge = 1;
            ASSERT_EQ(ep.qp->post_recv(r), 0);
        }
        for (uint64_t i = 0; i < WRS; ++i) {
            drv::send_wr w;
            w.wr_id = i;
            w.sg_list[0] = {ep.buf.bus, 64, ep.lkey};
            w.num_sge = 1;
            ASSERT_EQ(ep.qp->post_send(w), 0);
        }
        // Neither CQs nor events are consumed for a while.
        for (int i = 0; i < 2000; ++i) b.relax();
        verdict = ep.dev->check_health();
        syndrome = ep.dev->lost_syndrome();
        spec::cqe wc[8];
        for (int n; (n = ep.scq->poll(wc, 8)) > 0;) {
            for (int k = 0; k < n; ++k) ++sends[wc[k].wr_id];
        }
        for (int n; (n = ep.rcq->poll(wc, 8)) > 0;) {
            for (int k = 0; k < n; ++k) ++recvs[wc[k].wr_id];
        }
        recovered = ep.dev->recover();
        uint32_t pd = 0;
        pd_after = recovered && ep.dev->create_pd(pd).ok();
    });
    EXPECT_EQ(verdict, drv::health::fatal) << drv::to_string(verdict);
    EXPECT_EQ(syndrome, static_cast<uint32_t>(spec::syndrome::EQ_OVERRUN));
    for (uint64_t i = 0; i < WRS; ++i) {
        EXPECT_EQ(sends[i], 1) << "send wr_id " << i;
        EXPECT_EQ(recvs[100 + i], 1) << "recv wr_id " << 100 + i;
    }
    EXPECT_EQ(sends.size(), size_t{WRS});
    EXPECT_EQ(recvs.size(), size_t{WRS});
    EXPECT_TRUE(recovered);
    EXPECT_TRUE(pd_after);
    EXPECT_EQ(plat->board.finish(), 0u) << plat->board.summary();
    EXPECT_GT(plat->board.checks(), 0u);
}

}  // namespace
}  // namespace chio
