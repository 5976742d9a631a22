#include "tlm-model/trace/scope_filter.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace chio::model {
namespace {

TEST(scope_filter, keeps_a_scope_when_it_or_an_ancestor_matches) {
    const scope_filter f("host0.adapter0.cqe,*.queue_engine");
    EXPECT_TRUE(f.keeps("host0.adapter0.cqe"));
    EXPECT_TRUE(f.keeps("host0.adapter0.queue_engine"));
    EXPECT_TRUE(f.keeps("host0.adapter0.queue_engine.chio_queue_engine.u_arb"));
    EXPECT_FALSE(f.keeps("host0.adapter0.dma"));
    EXPECT_FALSE(f.keeps("host0.adapter0"));
    EXPECT_FALSE(f.keeps("host0.adapter0.cqe_extra"));
}

TEST(scope_filter, an_empty_list_keeps_everything) {
    const scope_filter f("");
    EXPECT_TRUE(f.keeps_all());
    EXPECT_TRUE(f.keeps("anything.at.all"));
    EXPECT_TRUE(f.may_keep_below("anything"));
}

TEST(scope_filter, says_which_subtrees_may_hold_kept_scopes) {
    // Anchored patterns rule the RTL out; a leading wildcard may match anywhere.
    EXPECT_FALSE(scope_filter("host0.adapter0.cqe").may_keep_below("host0.adapter0.queue_engine"));
    EXPECT_TRUE(scope_filter("host0.adapter0.queue_engine.u_arb")
                    .may_keep_below("host0.adapter0.queue_engine"));
    EXPECT_TRUE(scope_filter("host0").may_keep_below("host0.adapter0.queue_engine"));
    EXPECT_TRUE(scope_filter("*.cqe").may_keep_below("host0.adapter0.queue_engine"));
}

TEST(scope_filter, rejects_an_empty_pattern_naming_the_list) {
    try {
        scope_filter f("a,,b");
        FAIL() << "accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("'a,,b'"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace chio::model
