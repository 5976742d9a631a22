// A CQE is a posted write (tlm-model/adapter/event_unit.cpp write_cqe, posted_window.h): the
// engine that completes a work request goes on once the CQE is issued, and waits only while the
// link's posted credits (qp_engine_timing::posted_writes_in_flight) are used up. Before, each
// CQE held its thread for the write's link time, serializing one QP's completions at one per
// 260 ns or more.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "support/two_sides.h"

namespace chio {
namespace {

using Q = test::wr_tracker::queue;
using op = spec::wqe_opcode;

constexpr uint64_t SRC = 0, DST = 64 << 10;
constexpr uint32_t LEN = 64;
constexpr uint64_t N = 16;

// The issue times of host 0's CQEs for N 64-byte WRITEs behind one doorbell, in ns.
std::vector<double> cqe_times(uint32_t posted_writes_in_flight, uint32_t len, double& one_way_ns) {
    test::sides_options o = test::pair_options();
    o.timing.posted_writes_in_flight = posted_writes_in_flight;
    std::vector<double> times;
    test::run_two_sides(o, [&](test::two_sides& t) {
        one_way_ns = t.topo->host(0).rc.link().params().one_way_ns;
        auto& probe = t.topo->host(0).adapter.probes().cqe;
        probe = [&times, before = probe](uint32_t cqn, const spec::cqe& c) {
            times.push_back(sc_core::sc_time_stamp().to_seconds() * 1e9);
            if (before) before(cqn, c);
        };
        test::fill_pattern(t.a.cpu() + SRC, LEN * N, 3, 0);
        for (uint64_t id = 0; id < N; ++id) {
            drv::send_wr w;
            w.wr_id = id;
            w.opcode = op::RDMA_WRITE;
            w.flags = spec::wqe_flags::SIGNALED;
            w.sg_list[0] = {t.a.addr(SRC + id * LEN), len, t.a.lkey};
            w.num_sge = len == 0 ? 0 : 1;
            w.remote_addr = t.b.addr(DST + id * LEN);
            w.rkey = t.b.rkey;
            ASSERT_EQ(t.a.qp->post_send(w, false), 0);
            t.tracker.posted(t.a.qp->qpn(), Q::send, id);
        }
        t.a.qp->ring_send_doorbell();
        t.expect_exactly_once();
        for (uint64_t id = 0; id < N; ++id) {
            const spec::cqe* c = t.tracker.find(t.a.qp->qpn(), Q::send, id);
            ASSERT_TRUE(c) << "wr " << id;
            EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::SUCCESS)) << "wr " << id;
        }
        for (uint64_t id = 0; id < N && len != 0; ++id) {
            EXPECT_EQ(std::memcmp(t.b.cpu() + DST + id * LEN, t.a.cpu() + SRC + id * LEN, len), 0);
        }
    });
    return times;
}

double min_gap(const std::vector<double>& t) {
    double g = 1e18;
    for (size_t i = 1; i < t.size(); ++i) g = std::min(g, t[i] - t[i - 1]);
    return g;
}

TEST(posted_cqe, completions_of_one_qp_are_not_spaced_by_the_cqe_write_time) {
    double one_way = 0;
    const std::vector<double> t =
        cqe_times(model::qp_engine_timing{}.posted_writes_in_flight, LEN, one_way);
    ASSERT_EQ(t.size(), N);
    // Held for each write's link time, 16 CQEs would span at least 15 of them.
    EXPECT_LT(t.back() - t.front(), (N - 1) * one_way / 2);
    EXPECT_LT(min_gap(t), one_way / 2);
}

TEST(posted_cqe, one_posted_credit_holds_each_cqe_until_the_previous_one_arrived) {
    double one_way = 0;
    // Zero-length WRITEs: no payload write anywhere, so the responder's one credit does not
    // space the ACKs, and host 0's only posted writes are these CQEs.
    const std::vector<double> t = cqe_times(1, 0, one_way);
    ASSERT_EQ(t.size(), N);
    EXPECT_GE(min_gap(t), one_way);
}

}  // namespace
}  // namespace chio
