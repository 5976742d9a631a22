// The QoS scheduler alone (no SystemC): a port model serializes one frame per turn at 100 Gb/s
// and a rate_meter measures what each function and queue put on the wire.
#include "tlm-model/adapter/qos_scheduler.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>

#include "testbenches/scenarios/rate_meter.h"

namespace chio::model {
namespace {

constexpr double PORT_GBPS = 100.0;
constexpr uint32_t FRAME = 4178;  // a 4 KiB WRITE MIDDLE packet's wire occupancy

// Queues (QPs) on functions, each with a frame size and a backlog flag; the loop asks the
// scheduler, serializes the frame, charges it, and records it.
struct port_sim {
    device_contexts ctx;
    qos_scheduler sched{ctx};
    double now = 0.0;
    std::map<uint32_t, uint32_t> frame;   // qpn -> frame bytes (0: no work)
    std::map<uint32_t, bool> backlogged;  // qpn -> still has work after a turn
    std::mt19937 rng{1};
    bool random_frames = false;  // frames of 64 B .. FRAME bytes, per turn
    tb::rate_meter by_fn, by_qp;
    uint64_t empty_turns = 0;

    explicit port_sim(size_t fns) { ctx.fns.resize(fns); }
    void add_qp(uint32_t qpn, uint16_t fn, uint32_t weight = 1, uint32_t frame_bytes = FRAME) {
        ctx.qps[qpn].valid = true;
        ctx.qps[qpn].fn = fn;
        ctx.qps[qpn].qos_weight = weight;
        frame[qpn] = frame_bytes;
        backlogged[qpn] = frame_bytes > 0;
        sched.activate(qpn);
    }
    void measure_from(double t) {
        by_fn.start(t);
        by_qp.start(t);
    }
    void run_until(double t) {
        while (now < t) {
            const qos_pick p = sched.pick(now);
            if (!p.found) {
                now = p.ready_ns >= 0.0 ? std::min(p.ready_ns, t) : t;
                continue;
            }
            sched.consume(p.qpn);  // the turn dequeues its request
            uint32_t bytes = frame[p.qpn];
            if (bytes == 0) {  // a queue activated without work: the turn costs nothing
                ++empty_turns;
                sched.finish(p.qpn, false);
                continue;
            }
            if (random_frames) bytes = 64 + rng() % (FRAME - 63);
            sched.charge(p.qpn, bytes, now);
            const double end = now + bytes * 8.0 / PORT_GBPS;
            by_fn.record(ctx.qps[p.qpn].fn, now, end, bytes * 8ull);
            by_qp.record(p.qpn, now, end, bytes * 8ull);
            now = end;
            sched.finish(p.qpn, backlogged[p.qpn]);
        }
        by_fn.stop(now);
        by_qp.stop(now);
    }
};

void expect_share(const tb::rate_meter& m, uint32_t key, double configured, double tol) {
    const double got = m.flow(key).share;
    std::printf("  key %u: configured share %.4f achieved %.4f\n", key, configured, got);
    EXPECT_NEAR(got / configured, 1.0, tol) << "key " << key;
}

TEST(QosScheduler, FunctionWeightsGiveSharesWithinTwoPercent) {
    port_sim s(4);
    for (uint16_t fn = 0; fn < 4; ++fn) {
        s.ctx.fns[fn].qos_weight = fn + 1u;
        s.add_qp(10 + fn, fn);
    }
    s.run_until(2e6);  // 2 ms
    for (uint16_t fn = 0; fn < 4; ++fn) expect_share(s.by_fn, fn, (fn + 1) / 10.0, 0.02);
    // The port never idles while there is work.
    EXPECT_NEAR(static_cast<double>(s.by_fn.total_bits()) / s.now, PORT_GBPS, 0.01);
}

TEST(QosScheduler, WeightsHoldWithRandomFrameSizes) {
    // Re-run a failure with QOS_SEED=<seed>.
    const char* env = std::getenv("QOS_SEED");
    const unsigned seed = env != nullptr ? static_cast<unsigned>(std::strtoul(env, nullptr, 10))
                                         : std::random_device{}();
    std::printf("seed %u (QOS_SEED to repeat)\n", seed);
    port_sim s(4);
    s.rng.seed(seed);
    s.random_frames = true;
    for (uint16_t fn = 0; fn < 4; ++fn) {
        s.ctx.fns[fn].qos_weight = fn + 1u;
        s.add_qp(10 + fn, fn);
    }
    s.run_until(2e6);
    for (uint16_t fn = 0; fn < 4; ++fn) expect_share(s.by_fn, fn, (fn + 1) / 10.0, 0.02);
}

TEST(QosScheduler, CapHoldsOverEveryHundredMicrosecondWindow) {
    port_sim s(4);
    s.ctx.fns[1].max_rate_mbps = 10000;  // 10 Gb/s, far below its fair 25 Gb/s
    for (uint16_t fn = 0; fn < 4; ++fn) s.add_qp(10 + fn, fn);
    s.measure_from(0.0);
    s.run_until(5e6);
    const tb::flow_rate r = s.by_fn.flow(1);
    std::printf("  capped: avg %.4f Gb/s, windows %u, max %.4f min %.4f\n", r.avg_gbps, r.windows,
                r.max_window_gbps, r.min_window_gbps);
    EXPECT_NEAR(r.avg_gbps, 10.0, 0.1);
    EXPECT_LE(r.max_window_gbps, 10.1);
    EXPECT_GE(r.min_window_gbps, 9.9 - FRAME * 8.0 / 1e5);  // one frame fewer in a window
    // The rest of the port goes to the others, equally.
    for (uint16_t fn : {0, 2, 3}) EXPECT_NEAR(s.by_fn.flow(fn).avg_gbps, 30.0, 0.3) << fn;
}

TEST(QosScheduler, IdleFunctionShareIsRedistributed) {
    port_sim s(4);
    for (uint16_t fn = 0; fn < 4; ++fn) {
        s.ctx.fns[fn].qos_weight = fn + 1u;
        s.add_qp(10 + fn, fn);
    }
    s.run_until(1e6);
    s.backlogged[12] = false;  // function 2 (weight 3) runs dry after its next turn
    s.run_until(1.01e6);
    s.measure_from(s.now);
    s.run_until(3e6);
    EXPECT_LT(s.by_fn.flow(2).share, 1e-9);
    expect_share(s.by_fn, 0, 1.0 / 7, 0.02);
    expect_share(s.by_fn, 1, 2.0 / 7, 0.02);
    expect_share(s.by_fn, 3, 4.0 / 7, 0.02);
    EXPECT_NEAR(static_cast<double>(s.by_fn.total_bits()) / s.by_fn.duration_ns(), PORT_GBPS, 0.01);
    // Coming back, it gets its share at once and no credit for the time it was away.
    s.backlogged[12] = true;
    s.sched.activate(12);
    s.measure_from(s.now);
    s.run_until(5e6);
    expect_share(s.by_fn, 2, 0.3, 0.02);
    EXPECT_LE(s.by_fn.flow(2).max_window_gbps, 30.0 * 1.03);
}

TEST(QosScheduler, CappedFunctionsExcessGoesToTheOthers) {
    port_sim s(3);
    s.ctx.fns[0].qos_weight = 8;
    s.ctx.fns[0].max_rate_mbps = 20000;
    for (uint16_t fn = 0; fn < 3; ++fn) s.add_qp(10 + fn, fn);
    s.run_until(3e6);
    EXPECT_NEAR(s.by_fn.flow(0).avg_gbps, 20.0, 0.2);
    EXPECT_NEAR(s.by_fn.flow(1).avg_gbps, 40.0, 0.4);
    EXPECT_NEAR(s.by_fn.flow(2).avg_gbps, 40.0, 0.4);
}

TEST(QosScheduler, QueueWeightsAndRateLimitsWithinAFunction) {
    port_sim s(2);
    // Function 0: queues weighted 1 and 3, and one limited to 5 Gb/s; function 1: one queue.
    s.add_qp(1, 0, 1);
    s.add_qp(2, 0, 3);
    s.add_qp(3, 0, 4);
    s.ctx.qps[3].rate_limit_mbps = 5000;
    s.add_qp(4, 1, 1);
    s.run_until(3e6);
    // Function 0 gets 50 Gb/s: 5 to the limited queue, the other 45 split 1:3.
    EXPECT_NEAR(s.by_fn.flow(0).avg_gbps, 50.0, 0.5);
    EXPECT_NEAR(s.by_qp.flow(3).avg_gbps, 5.0, 0.05);
    EXPECT_LE(s.by_qp.flow(3).max_window_gbps, 5.05);
    EXPECT_NEAR(s.by_qp.flow(1).avg_gbps, 45.0 / 4, 0.25);
    EXPECT_NEAR(s.by_qp.flow(2).avg_gbps, 45.0 * 3 / 4, 0.7);
}

TEST(QosScheduler, ConfigurationChangesTakeEffectAtOnce) {
    port_sim s(2);
    s.add_qp(1, 0);
    s.add_qp(2, 1);
    s.ctx.fns[0].max_rate_mbps = 1;  // 1 Mb/s: its bucket empties for milliseconds
    s.run_until(1e6);
    s.ctx.fns[0].max_rate_mbps = 0;  // uncapped
    s.ctx.fns[1].qos_weight = 3;
    s.measure_from(s.now);
    s.run_until(2e6);
    expect_share(s.by_fn, 0, 0.25, 0.02);
    expect_share(s.by_fn, 1, 0.75, 0.02);
}

TEST(QosScheduler, DoorbellStormNeitherStarvesNorGainsShare) {
    port_sim s(2);
    s.add_qp(1, 0);        // the storming function's queue with real work
    s.add_qp(2, 0, 1, 0);  // and one whose doorbells bring no new work
    s.add_qp(3, 1);        // the victim function
    for (int turn = 0; turn < 20000; ++turn) {
        for (int k = 0; k < 50; ++k) {  // 50 doorbells per frame time
            s.sched.activate(1);
            s.sched.activate(2);
        }
        s.run_until(s.now + FRAME * 8.0 / PORT_GBPS);
    }
    s.by_fn.stop(s.now);
    expect_share(s.by_fn, 1, 0.5, 0.02);
    expect_share(s.by_fn, 0, 0.5, 0.02);
    EXPECT_EQ(s.by_qp.flow(2).bits, 0u);
    // A queue with a token outstanding is scheduled once however often it is rung, and an
    // empty turn costs no port time.
    EXPECT_LE(s.empty_turns, 20001u);
    EXPECT_NEAR(static_cast<double>(s.by_fn.total_bits()) / s.now, PORT_GBPS, 0.01);
}

TEST(QosScheduler, WaitsUntilTheEarliestRefillWhenEverythingIsCapped) {
    port_sim s(1);
    s.ctx.fns[0].max_rate_mbps = 8000;  // 1 byte per ns
    s.add_qp(1, 0);
    qos_pick p = s.sched.pick(0.0);
    ASSERT_TRUE(p.found);
    s.sched.charge(1, 20000, 0.0);  // the bucket starts empty: -20000 bytes
    s.sched.finish(1, true);
    p = s.sched.pick(100.0);
    EXPECT_FALSE(p.found);
    EXPECT_NEAR(p.ready_ns, 20000.0, 1e-6);
    EXPECT_TRUE(s.sched.pick(20000.0).found);
    // Its request taken and nothing left: idle, no time to wait for.
    s.sched.consume(1);
    s.sched.finish(1, false);
    p = s.sched.pick(30000.0);
    EXPECT_FALSE(p.found);
    EXPECT_LT(p.ready_ns, 0.0);
}

TEST(QosScheduler, ActivationDuringServiceAndForget) {
    port_sim s(1);
    s.add_qp(1, 0);
    qos_pick p = s.sched.pick(0.0);
    ASSERT_TRUE(p.found);
    EXPECT_FALSE(s.sched.pick(0.0).found);  // in service: not handed out twice
    s.sched.activate(1);                    // a token arrives meanwhile
    s.sched.finish(1, false);
    EXPECT_TRUE(s.sched.scheduled(1));
    s.sched.forget(1);
    EXPECT_FALSE(s.sched.scheduled(1));
    EXPECT_FALSE(s.sched.pick(0.0).found);
}

}  // namespace
}  // namespace chio::model
