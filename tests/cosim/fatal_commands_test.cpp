// Commands to a device in the fatal state (catalogue B8). After a fatal error the device reads
// only the PF's crash-dump commands; anything else is never answered. The driver therefore must
// not wait on it: once its health check has declared the device lost, every command completes at
// once with ABORTED (0xfe, made by the driver as mlx5 does, never by the device) without touching
// the mailbox; before that verdict, a command the dead device leaves unanswered ends with
// ABORTED at the command timeout (spec::limits::CMD_TIMEOUT_US), never later. A VF, whose
// mailbox the fatal device ignores, gets the same bound.
#include <gtest/gtest.h>

#include <cstdio>

#include "support/platform_fixture.h"
#include "support/sriov_host.h"

namespace chio {
namespace {

namespace cmd = spec::cmd;
using cmd::status;

constexpr uint64_t TIMEOUT_NS = uint64_t{spec::limits::CMD_TIMEOUT_US} * 1000;
constexpr uint64_t SLACK_NS = 20'000;  // one poll interval and the mailbox MMIO writes

struct timed {
    status st = status::OK;
    uint64_t ns = 0;
};

template <typename F>
timed time_it(drv::bus& b, F&& f) {
    const uint64_t t0 = b.now_ns();
    timed t;
    t.st = f();
    t.ns = b.now_ns() - t0;
    return t;
}

TEST(fatal_commands, complete_aborted_at_once_after_the_verdict) {
    timed before_verdict, nop, pd, port;
    drv::health verdict = drv::health::ok;
    uint64_t commands_seen = 0;
    bool recovered = false, nop_after = false;
    test::run_driver([&](drv::bus& b, cosim::platform& p) {
        drv::device dev(b);
        ASSERT_TRUE(dev.probe()) << dev.last_error();
        uint32_t pdn = 0;
        ASSERT_TRUE(dev.create_pd(pdn).ok());
        p.adapter.inject_fatal(spec::syndrome::ENGINE_FATAL);
        // The driver has not looked yet: the device leaves the command unanswered.
        before_verdict = time_it(
            b, [&] { return dev.cmd().exec(cmd::opcode::NOP, nullptr, 0, nullptr, 0).status; });
        verdict = dev.check_health();
        const uint64_t cmds = p.adapter.counters().commands;
        nop = time_it(
            b, [&] { return dev.cmd().exec(cmd::opcode::NOP, nullptr, 0, nullptr, 0).status; });
        pd = time_it(b, [&] {
            uint32_t n = 0;
            return dev.create_pd(n).status;
        });
        port = time_it(b, [&] {
            cmd::query_port_out o{};
            return dev.query_port(o).status;
        });
        commands_seen = p.adapter.counters().commands - cmds;
        recovered = dev.recover();
        nop_after = recovered && dev.cmd().exec(cmd::opcode::NOP, nullptr, 0, nullptr, 0).ok();
    });
    std::printf("  before the verdict: %s after %llu ns\n", cmd::to_string(before_verdict.st),
                static_cast<unsigned long long>(before_verdict.ns));
    EXPECT_EQ(before_verdict.st, status::ABORTED);
    EXPECT_GE(before_verdict.ns, TIMEOUT_NS);
    EXPECT_LE(before_verdict.ns, TIMEOUT_NS + SLACK_NS);
    EXPECT_EQ(verdict, drv::health::fatal) << drv::to_string(verdict);
    for (const timed* t : {&nop, &pd, &port}) {
        EXPECT_EQ(t->st, status::ABORTED);
        EXPECT_EQ(t->ns, 0u) << "an aborted command waited";
    }
    EXPECT_EQ(commands_seen, 0u) << "a command reached the fatal device";
    EXPECT_TRUE(recovered);
    EXPECT_TRUE(nop_after);
}

TEST(fatal_commands, a_vf_command_ends_aborted_within_the_timeout) {
    timed vf_nop, vf_pd;
    bool before_ok = false;
    test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(1, 1, err)) << err;
        drv::device& vf = h.vf(1);
        drv::bus& io = h.bus(1);
        before_ok = vf.cmd().exec(cmd::opcode::NOP, nullptr, 0, nullptr, 0).ok();
        h.plat.adapter.inject_fatal(spec::syndrome::ENGINE_FATAL);
        vf_nop = time_it(
            io, [&] { return vf.cmd().exec(cmd::opcode::NOP, nullptr, 0, nullptr, 0).status; });
        vf_pd = time_it(io, [&] {
            uint32_t n = 0;
            return vf.create_pd(n).status;
        });
    });
    std::printf("  VF NOP: %s after %llu ns\n", cmd::to_string(vf_nop.st),
                static_cast<unsigned long long>(vf_nop.ns));
    EXPECT_TRUE(before_ok);
    for (const timed* t : {&vf_nop, &vf_pd}) {
        EXPECT_EQ(t->st, status::ABORTED);
        EXPECT_LE(t->ns, TIMEOUT_NS + SLACK_NS) << "a VF command outlived the command timeout";
    }
}

}  // namespace
}  // namespace chio
