// fair_rates: the weighted max-min shares the qos scenario compares the port against.
#include "testbenches/scenarios/qos_shares.h"

#include <gtest/gtest.h>

namespace chio::tb {
namespace {

TEST(qos_shares, uncapped_shares_follow_the_weights) {
    const auto r = fair_rates({{1, {1, 0}}, {2, {2, 0}}, {3, {3, 0}}, {4, {4, 0}}}, 50.0);
    EXPECT_DOUBLE_EQ(r.at(1), 5.0);
    EXPECT_DOUBLE_EQ(r.at(2), 10.0);
    EXPECT_DOUBLE_EQ(r.at(3), 15.0);
    EXPECT_DOUBLE_EQ(r.at(4), 20.0);
}

TEST(qos_shares, a_binding_cap_gives_its_excess_to_the_others_by_weight) {
    // Weight 4 of 10 would get 20 of 50; capped at 10, the other 40 go 1:2:3.
    const auto r = fair_rates({{1, {1, 0}}, {2, {2, 0}}, {3, {3, 0}}, {4, {4, 10}}}, 50.0);
    EXPECT_DOUBLE_EQ(r.at(4), 10.0);
    EXPECT_NEAR(r.at(1), 40.0 / 6, 1e-12);
    EXPECT_NEAR(r.at(2), 80.0 / 6, 1e-12);
    EXPECT_NEAR(r.at(3), 20.0, 1e-12);
}

TEST(qos_shares, a_cap_above_the_weighted_share_changes_nothing) {
    const auto r = fair_rates({{1, {1, 0}}, {2, {1, 30}}}, 40.0);
    EXPECT_DOUBLE_EQ(r.at(1), 20.0);
    EXPECT_DOUBLE_EQ(r.at(2), 20.0);
}

TEST(qos_shares, a_cap_that_binds_only_after_another_does_is_found) {
    // 2 takes 4 (its cap); then 3's share of the rest (16 * 2/3 = 10.7) exceeds its cap 8.
    const auto r = fair_rates({{1, {1, 0}}, {2, {4, 4}}, {3, {2, 8}}}, 20.0);
    EXPECT_DOUBLE_EQ(r.at(2), 4.0);
    EXPECT_DOUBLE_EQ(r.at(3), 8.0);
    EXPECT_DOUBLE_EQ(r.at(1), 8.0);
}

}  // namespace
}  // namespace chio::tb
