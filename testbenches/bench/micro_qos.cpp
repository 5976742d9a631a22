// The QoS scheduler's cost per packet turn: pick, charge, finish (and the activate a work token
// brings), with F functions of Q queues each, all busy; and with one queue in four rate-limited
// below its share, so pick() also moves queues in and out of the waiting list.
#include <benchmark/benchmark.h>

#include "tlm-model/adapter/qos_scheduler.h"

namespace {

using chio::model::device_contexts;
using chio::model::qos_pick;
using chio::model::qos_scheduler;

constexpr double FRAME_NS = 4178 * 8 / 100.0;  // a 4 KiB frame at 100 Gb/s

void turns(benchmark::State& state, bool limited) {
    const auto fns = static_cast<uint16_t>(state.range(0));
    const auto per_fn = static_cast<uint32_t>(state.range(1));
    device_contexts ctx;
    ctx.fns.resize(fns);
    for (uint16_t f = 0; f < fns; ++f) ctx.fns[f].qos_weight = 1u + f % 4;
    qos_scheduler s(ctx);
    uint32_t qpn = 1;
    for (uint16_t f = 0; f < fns; ++f) {
        for (uint32_t k = 0; k < per_fn; ++k, ++qpn) {
            ctx.qps[qpn].valid = true;
            ctx.qps[qpn].fn = f;
            ctx.qps[qpn].qos_weight = 1u + k % 3;
            if (limited && k % 4 == 0) ctx.qps[qpn].rate_limit_mbps = 1000;
            s.activate(qpn);
        }
    }
    double now = 0.0;
    for (auto _ : state) {
        const qos_pick p = s.pick(now);
        if (!p.found) {
            now = p.ready_ns;
            continue;
        }
        s.activate(p.qpn);  // the dequeue's new work token
        s.consume(p.qpn);
        s.charge(p.qpn, 4178, now);
        s.finish(p.qpn, true);
        now += FRAME_NS;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void bm_qos_turn(benchmark::State& s) { turns(s, false); }
void bm_qos_turn_rate_limited(benchmark::State& s) { turns(s, true); }

}  // namespace

BENCHMARK(bm_qos_turn)->Args({1, 1})->Args({4, 4})->Args({16, 64});
BENCHMARK(bm_qos_turn_rate_limited)->Args({4, 4})->Args({16, 64});
