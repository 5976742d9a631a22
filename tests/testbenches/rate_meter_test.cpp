// rate_meter: partial counting at window boundaries, shares, window extremes, Jain's index.
#include "testbenches/scenarios/rate_meter.h"

#include <gtest/gtest.h>

namespace chio::tb {
namespace {

TEST(RateMeter, FrameStraddlingAWindowBoundaryCountsPartially) {
    rate_meter m(100.0);
    m.start(0.0);
    m.record(1, 90.0, 110.0, 2000);  // half in window 0, half in window 1
    m.record(1, 150.0, 160.0, 500);
    m.stop(200.0);
    const flow_rate r = m.flow(1);
    EXPECT_EQ(r.windows, 2u);
    EXPECT_EQ(r.bits, 2500u);
    EXPECT_DOUBLE_EQ(r.max_window_gbps, 1500.0 / 100.0);
    EXPECT_DOUBLE_EQ(r.min_window_gbps, 1000.0 / 100.0);
    EXPECT_DOUBLE_EQ(r.avg_gbps, 2500.0 / 200.0);
}

TEST(RateMeter, SharesAndIgnoredPrefix) {
    rate_meter m(50.0);
    m.record(7, 0.0, 10.0, 999);  // before start(): cleared
    m.start(100.0);
    m.record(1, 90.0, 110.0, 400);  // only the half after start counts
    m.record(2, 110.0, 150.0, 600);
    m.stop(200.0);
    EXPECT_EQ(m.flow(1).bits, 200u);
    EXPECT_EQ(m.flow(2).bits, 600u);
    EXPECT_DOUBLE_EQ(m.flow(1).share, 0.25);
    EXPECT_EQ(m.flow(7).bits, 0u);
    // Flow 1 sent nothing in the second window.
    EXPECT_DOUBLE_EQ(m.flow(1).min_window_gbps, 0.0);
}

TEST(RateMeter, JainIndex) {
    EXPECT_DOUBLE_EQ(rate_meter::jain_index({1, 1, 1, 1}), 1.0);
    EXPECT_DOUBLE_EQ(rate_meter::jain_index({1, 0, 0, 0}), 0.25);
    rate_meter m(100.0);
    m.start(0.0);
    m.record(0, 0.0, 100.0, 1000);
    m.record(1, 100.0, 300.0, 3000);
    m.stop(300.0);
    // Shares 0.25 / 0.75 against weights 1:3: perfectly fair.
    EXPECT_NEAR(m.jain_over_shares({{0, 1.0}, {1, 3.0}}), 1.0, 1e-12);
    EXPECT_LT(m.jain_over_shares({{0, 1.0}, {1, 1.0}}), 0.9);
}

}  // namespace
}  // namespace chio::tb
