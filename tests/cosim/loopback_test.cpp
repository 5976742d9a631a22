// The first IO channel end to end: driver -> doorbell -> WQE fetch -> queue engine -> payload
// DMA -> delivery -> CQEs -> driver, in each queue-engine mode, every byte verified.
#include "testbenches/scenarios/loopback.h"

#include <gtest/gtest.h>

#include <string>

#include "support/platform_fixture.h"

namespace chio {
namespace {

void expect_clean_loopback(model::queue_engine_kind k, uint64_t count, uint32_t size) {
    tb::sim_options o;
    o.count = count;
    o.size = size;
    o.depth = 8;
    o.seed = 7;
    tb::loopback_result r;
    auto plat =
        test::run_driver([&](drv::bus& b, cosim::platform&) { r = tb::run_loopback(b, o); }, k);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.sends, count);
    EXPECT_EQ(r.expected, 2 * count);
    EXPECT_EQ(r.seen, 2 * count);
    EXPECT_EQ(r.lost, 0u);
    EXPECT_EQ(r.duplicated, 0u);
    EXPECT_EQ(r.error_completions, 0u);
    EXPECT_EQ(r.bytes_verified, count * size);
    EXPECT_EQ(r.data_mismatches, 0u);
    EXPECT_EQ(plat->adapter.engine().mismatches(), 0u);
    // CHIO_QUEUE_ENGINE overrides the requested engine (docs/rtl.md): assert on the one that ran.
    const std::string ran = plat->adapter.engine().kind();
    if (ran == "lockstep") {
        EXPECT_GT(plat->adapter.engine().compared(), 0u);
    }
    if (ran != "model") {
        EXPECT_GT(plat->adapter.engine().cycles(), 0u);
    }
}

TEST(loopback, send_model) { expect_clean_loopback(model::queue_engine_kind::model, 100, 4096); }
TEST(loopback, send_rtl) { expect_clean_loopback(model::queue_engine_kind::rtl, 100, 4096); }
TEST(loopback, send_lockstep) {
    expect_clean_loopback(model::queue_engine_kind::lockstep, 100, 4096);
}
// Ring wrap on the send (256 entries) and completion (1024 entries) rings, odd sizes.
TEST(loopback, many_small_messages_wrap_rings_lockstep) {
    expect_clean_loopback(model::queue_engine_kind::lockstep, 2500, 13);
}
TEST(loopback, zero_length_message) {
    expect_clean_loopback(model::queue_engine_kind::model, 4, 0);
}

}  // namespace
}  // namespace chio
