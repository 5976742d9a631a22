// AER frozen channel (catalogue H8): while the channel is frozen every read returns all ones;
// the host OS's recovery (cosim/pci_error_recovery.h) calls the driver's error_detected(frozen),
// which flushes every outstanding WR exactly once and asks for a reset; the slot reset (a hot
// reset of the whole adapter) returns every function's config space to reset values; the
// driver's slot_reset() brings the function up again and after resume() new QPs carry verified
// traffic. The scoreboard checks throughout and finds nothing.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "cosim/sc_bus.h"
#include "driver/manager.h"
#include "support/fault_check.h"
#include "support/platform_fixture.h"
#include "support/two_sides.h"

namespace chio {
namespace {

using cosim::fault_kind;
using test::wr_tracker;
namespace cfg = spec::pci::cfg;
namespace reg = spec::bar0::reg;

// Polls (relaxing) until pred() holds or timeout_ns pass; false on timeout.
bool wait_until(drv::bus& io, const std::function<bool()>& pred, uint64_t timeout_ns) {
    const uint64_t deadline = io.now_ns() + timeout_ns;
    while (!pred()) {
        if (io.now_ns() >= deadline) return false;
        io.relax();
    }
    return true;
}

// The scenario of `chio sim faults` (live traffic, a seeded moment and hold).
TEST(FaultAer, FrozenChannelDuringTrafficRecoversThroughSlotReset) {
    tb::sim_options o;
    o.seed = 41;
    o.count = 64;
    const tb::fault_outcome r = tb::run_fault_scenario(fault_kind::host_aer_frozen, o);
    test::expect_outcome_handled(r);
    const std::string how = r.note;
    EXPECT_NE(how.find("reads all ones"), std::string::npos) << how;
    EXPECT_NE(how.find("error_detected(io_frozen) -> need_reset"), std::string::npos) << how;
    EXPECT_NE(how.find("slot_reset -> recovered"), std::string::npos) << how;
    EXPECT_NE(how.find("resume"), std::string::npos) << how;
}

// A set moment and a long hold: the driver meets the all-ones reads long before the slot reset.
TEST(FaultAer, LongFreezeAtAGivenTime) {
    tb::sim_options o;
    o.seed = 42;
    o.count = 128;
    tb::fault_scenario s{"host.aer_frozen", {}};
    s.spec.kind = fault_kind::host_aer_frozen;
    s.spec.after = 25;
    s.spec.after_set = true;
    s.spec.delay_us = 2000;
    s.spec.delay_set = true;
    const tb::fault_outcome r = tb::run_fault_scenario(s, o);
    test::expect_outcome_handled(r);
    EXPECT_NE(std::string(r.note).find("frozen 2000 us"), std::string::npos) << r.note;
}

// Work posted and never polled before the freeze: every WR completes exactly once, flushed
// (a CQE the device wrote before the freeze is never delivered); the callbacks come in Linux's
// order; after resume() a new QP pair carries a SEND whose bytes arrive intact.
TEST(FaultAer, EveryPostedWrFlushesOnceThenANewQpCarriesVerifiedTraffic) {
    test::sides_options o;
    auto topo = test::run_two_sides(o, [&](test::two_sides& t) {
        cosim::platform& plat = t.topo->host(0);
        drv::device& dev = *t.a.dev;
        drv::bus& io = dev.io();
        plat.aer.attach(&dev);
        constexpr uint32_t N = 8, LEN = 1024;
        std::vector<std::pair<test::side*, uint64_t>> recvs;
        std::vector<uint64_t> sends;
        for (uint32_t i = 0; i < N; ++i) {
            ASSERT_EQ(t.post_recv(t.b, i, i * 4096, 4096), 0);
            ASSERT_EQ(t.post_recv(t.a, 100 + i, (16 + i) * 4096, 4096), 0);  // never matched
            recvs.push_back({&t.b, i});
            recvs.push_back({&t.a, 100 + i});
        }
        for (uint32_t i = 0; i < N; ++i) {
            drv::send_wr w;
            w.wr_id = 200 + i;
            w.sg_list[0] = {t.a.addr((32 + i) * 4096), LEN, t.a.lkey};
            w.num_sge = 1;
            ASSERT_EQ(t.post_send(t.a, w), 0);
            sends.push_back(w.wr_id);
        }
        plat.aer.channel_frozen(100);
        // Frozen: config and MMIO reads are all ones (no time passes: the OS has not spoken).
        EXPECT_EQ(io.cfg_read(cfg::VENDOR_ID, 2), 0xFFFFu);
        EXPECT_EQ(io.cfg_read(cfg::COMMAND, 2), 0xFFFFu);
        EXPECT_EQ(io.mmio_read32(dev.bar0() + reg::DEV_STATUS), 0xFFFFFFFFu);
        EXPECT_EQ(dev.errors_reported(), 0u);
        // The driver does nothing until the OS reports the error.
        ASSERT_TRUE(wait_until(
            io, [&] { return dev.errors_reported() != 0; }, 1'000'000));
        EXPECT_TRUE(dev.lost());
        EXPECT_EQ(dev.lost_reason(), drv::health::channel_frozen);
        EXPECT_TRUE(dev.in_error_recovery());
        EXPECT_TRUE(plat.rc.faults().frozen());
        // Every posted WR completes exactly once, flushed.
        EXPECT_TRUE(t.wait_all(1'000'000)) << t.tracker.missing();
        EXPECT_TRUE(t.tracker.errors().empty()) << test::two_sides::join(t.tracker.errors());
        EXPECT_EQ(t.tracker.completed_count(), t.tracker.posted_count());
        EXPECT_EQ(t.tracker.posted_count(), 3u * N);
        const auto flushed = static_cast<uint8_t>(spec::cqe_status::WR_FLUSH_ERR);
        for (const auto& [s, id] : recvs) {
            const spec::cqe* c = t.tracker.find(s->qp->qpn(), wr_tracker::queue::recv, id);
            ASSERT_NE(c, nullptr) << "recv " << id;
            EXPECT_EQ(c->status, flushed) << "recv " << id;
        }
        for (uint64_t id : sends) {
            const spec::cqe* c = t.tracker.find(t.a.qp->qpn(), wr_tracker::queue::send, id);
            ASSERT_NE(c, nullptr) << "send " << id;
            EXPECT_EQ(c->status, flushed) << "send " << id;
        }
        // The OS resets the slot after the hold and the driver comes back; then resume().
        ASSERT_TRUE(wait_until(
            io, [&] { return !plat.aer.busy(); }, 20'000'000));
        const std::vector<std::string> order = {"error_detected(io_frozen) -> need_reset",
                                                "slot reset", "slot_reset -> recovered", "resume"};
        EXPECT_EQ(plat.aer.steps(), order);
        EXPECT_EQ(plat.adapter.hot_resets(), 1u);
        EXPECT_FALSE(plat.rc.faults().frozen());
        EXPECT_FALSE(dev.lost()) << dev.last_error();
        EXPECT_FALSE(dev.in_error_recovery());
        plat.aer.detach(&dev);
        // Old QPs stay dead; new ones carry a SEND, byte for byte.
        drv::send_wr late;
        late.wr_id = 999;
        late.sg_list[0] = {t.a.addr(0), LEN, t.a.lkey};
        late.num_sge = 1;
        EXPECT_NE(t.a.qp->post_send(late), 0);
        test::side a2, b2;
        std::string err;
        ASSERT_TRUE(test::detail::build_side(dev, io, o, false, a2, err)) << err;
        ASSERT_TRUE(test::detail::build_side(dev, io, o, true, b2, err)) << err;
        ASSERT_TRUE(test::detail::connect(a2, b2, o, spec::access_flags::LOCAL_WRITE, err)) << err;
        ASSERT_TRUE(test::detail::connect(b2, a2, o, spec::access_flags::LOCAL_WRITE, err)) << err;
        test::fill_pattern(a2.cpu(), LEN, 41, 0);
        drv::recv_wr rw;
        rw.wr_id = 1;
        rw.sg_list[0] = {b2.addr(0), LEN, b2.lkey};
        rw.num_sge = 1;
        ASSERT_EQ(b2.qp->post_recv(rw), 0);
        drv::send_wr sw;
        sw.wr_id = 2;
        sw.sg_list[0] = {a2.addr(0), LEN, a2.lkey};
        sw.num_sge = 1;
        ASSERT_EQ(a2.qp->post_send(sw), 0);
        spec::cqe got_send{}, got_recv{};
        int n_send = 0, n_recv = 0;
        ASSERT_TRUE(wait_until(
            io,
            [&] {
                n_send += a2.scq->poll(&got_send, 1);
                n_recv += b2.rcq->poll(&got_recv, 1);
                return n_send != 0 && n_recv != 0;
            },
            5'000'000));
        EXPECT_EQ(n_send, 1);
        EXPECT_EQ(n_recv, 1);
        EXPECT_EQ(got_send.status, static_cast<uint8_t>(spec::cqe_status::SUCCESS));
        EXPECT_EQ(got_recv.status, static_cast<uint8_t>(spec::cqe_status::SUCCESS));
        EXPECT_EQ(got_recv.byte_len, LEN);
        EXPECT_EQ(std::memcmp(a2.cpu(), b2.cpu(), LEN), 0);
    });
    cosim::scoreboard& board = topo->host(0).board;
    board.finish();
    EXPECT_GT(board.checks(), 0u);
    EXPECT_EQ(board.violation_count(), 0u) << board.summary();
}

// The slot reset is a hot reset of the whole adapter: the PF's config space (BAR, COMMAND,
// MSI-X enable, SR-IOV control) returns to reset values and the VFs it had enabled are gone.
// No driver is attached here, so nothing brings the function up again.
TEST(FaultAer, SlotResetReturnsConfigSpaceOfPfAndVfsToResetValues) {
    auto plat = test::run_driver([](drv::bus& io, cosim::platform& p) {
        drv::device dev(io);
        ASSERT_TRUE(dev.probe()) << dev.last_error();
        drv::manager mgr(dev);
        ASSERT_TRUE(mgr.enable_vfs(2).ok());
        cosim::sc_bus_params bp;
        bp.fn = 1;
        cosim::sc_bus vf1(p.rc, p.mem, p.irq, bp);
        namespace sr = spec::pci::sriov_cap;
        namespace mc = spec::pci::msix_cap;
        const uint32_t sriov = spec::pci::EXT_CAP_OFFSET;
        const uint32_t msix_ctrl = spec::pci::MSIX_CAP_OFFSET + mc::MSG_CTRL;
        ASSERT_NE(io.cfg_read(cfg::COMMAND, 2), 0u);
        ASSERT_NE(io.cfg_read(cfg::BAR0, 4) & ~0xFu, 0u);
        ASSERT_EQ(mc::MSG_CTRL_ENABLE.get(io.cfg_read(msix_ctrl, 2)), 1u);
        ASSERT_EQ(sr::SRIOV_CTRL_VF_ENABLE.get(io.cfg_read(sriov + sr::SRIOV_CTRL, 2)), 1u);
        ASSERT_EQ(vf1.cfg_read(cfg::COMMAND, 2) & 0xFFFFu, 0u);  // VF 1 exists
        ASSERT_TRUE(p.adapter.present(1));

        p.aer.channel_frozen(10);
        EXPECT_EQ(io.cfg_read(sriov + sr::SRIOV_CTRL, 2), 0xFFFFu);  // frozen
        ASSERT_TRUE(wait_until(
            io, [&] { return !p.aer.busy(); }, 5'000'000));
        EXPECT_EQ(p.adapter.hot_resets(), 1u);
        EXPECT_EQ(p.aer.stats().slot_resets, 1u);
        EXPECT_EQ(p.aer.stats().recovered, 1u);  // nobody asked for more than the reset
        EXPECT_EQ(p.aer.steps(), std::vector<std::string>{"slot reset"});
        EXPECT_EQ(io.cfg_read(cfg::VENDOR_ID, 2), spec::pci::VENDOR_ID);
        EXPECT_EQ(io.cfg_read(cfg::COMMAND, 2), 0u);
        EXPECT_EQ(io.cfg_read(cfg::BAR0, 4) & ~0xFu, 0u);
        EXPECT_EQ(io.cfg_read(cfg::BAR1, 4), 0u);
        EXPECT_EQ(mc::MSG_CTRL_ENABLE.get(io.cfg_read(msix_ctrl, 2)), 0u);
        EXPECT_EQ(io.cfg_read(sriov + sr::SRIOV_CTRL, 2), 0u);
        EXPECT_EQ(io.cfg_read(sriov + sr::NUM_VFS, 2), 0u);
        // The VFs are gone: their config requests are unsupported (all ones to the CPU).
        EXPECT_FALSE(p.adapter.present(1));
        EXPECT_EQ(vf1.cfg_read(cfg::COMMAND, 2), 0xFFFFu);
        // The PF's driver, not told, finds its function reset behind its back.
        const uint64_t until = io.now_ns() + 2ull * spec::limits::HEALTH_PERIOD_US * 1000;
        while (!dev.lost() && io.now_ns() < until) {
            dev.check_health();
            io.relax();
        }
        EXPECT_TRUE(dev.lost());
    });
    plat->board.finish();
    EXPECT_EQ(plat->board.violation_count(), 0u) << plat->board.summary();
}

}  // namespace
}  // namespace chio
