// The queue engine's per-WQE call sequence, as the adapter makes it for one signaled send:
// doorbell, work token, dequeue, dequeue commit, CQ slot allocation, CQ commit. Measured for the
// C++ reference and the Verilated RTL (which clocks until each call's outputs settle).
#include <benchmark/benchmark.h>

#include <memory>

#include "tlm-model/queue_engine/queue_engine.h"

namespace {

using chio::model::queue_engine_kind;
constexpr uint8_t FN = 0;
constexpr uint16_t WQID = 2;  // a send queue
constexpr uint16_t CRID = 1;  // its CQ

void wqe_round(benchmark::State& state, queue_engine_kind kind) {
    auto e = chio::model::make_queue_engine(kind);
    e->wq_cfg({WQID, true, true, FN, 8});
    e->cr_cfg({CRID, true, FN, 10, 0});
    uint16_t pi = 0;
    chio::model::qe_work w;
    for (auto _ : state) {
        e->db({FN, WQID, ++pi});
        while (e->pop_work(w)) {
        }
        benchmark::DoNotOptimize(e->deq({WQID}));
        e->deq_commit({WQID});
        const auto r = e->cq({CRID});
        benchmark::DoNotOptimize(r);
        e->cq_commit({CRID, false});
        // The consumer keeps up: the CQ doorbell returns the slot.
        e->arm({FN, CRID, static_cast<uint16_t>(r.index + 1), false, false});
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["cycles_per_wqe"] =
        benchmark::Counter(static_cast<double>(e->cycles()), benchmark::Counter::kAvgIterations);
}

void bm_queue_engine_model(benchmark::State& s) { wqe_round(s, queue_engine_kind::model); }
void bm_queue_engine_rtl(benchmark::State& s) { wqe_round(s, queue_engine_kind::rtl); }
BENCHMARK(bm_queue_engine_model);
BENCHMARK(bm_queue_engine_rtl);

}  // namespace
