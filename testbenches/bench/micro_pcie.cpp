// pcie_link occupancy arithmetic: the busy-until bookkeeping every DMA and MMIO access pays.
#include <benchmark/benchmark.h>

#include "cosim/pcie_link.h"

namespace {

void bm_upstream_read(benchmark::State& state) {
    chio::cosim::pcie_link link;
    sc_core::sc_time at;
    const sc_core::sc_time step(10, sc_core::SC_NS);
    const auto len = static_cast<uint64_t>(state.range(0));
    for (auto _ : state) {
        benchmark::DoNotOptimize(link.upstream_read(at, 0, len));
        at += step;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// The same from an address off the split size: the request and completion counts take their
// general path (requests walked up to the first MRRS-aligned one) instead of the closed form.
void bm_upstream_read_unaligned(benchmark::State& state) {
    chio::cosim::pcie_link link;
    sc_core::sc_time at;
    const sc_core::sc_time step(10, sc_core::SC_NS);
    const auto len = static_cast<uint64_t>(state.range(0));
    for (auto _ : state) {
        benchmark::DoNotOptimize(link.upstream_read(at, 32, len));
        at += step;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void bm_upstream_write(benchmark::State& state) {
    chio::cosim::pcie_link link;
    sc_core::sc_time at;
    const sc_core::sc_time step(10, sc_core::SC_NS);
    const auto len = static_cast<uint64_t>(state.range(0));
    for (auto _ : state) {
        benchmark::DoNotOptimize(link.upstream_write(at, len));
        at += step;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// A doorbell (posted, downstream) passing a queued train of read completions: the ordering
// path of pcie_link::occupy that every MMIO write takes while the device reads.
void bm_doorbell_past_completions(benchmark::State& state) {
    chio::cosim::pcie_link link;
    sc_core::sc_time at;
    const sc_core::sc_time step(10, sc_core::SC_NS);
    for (auto _ : state) {
        link.upstream_read(at, 0, 4096);
        benchmark::DoNotOptimize(link.downstream_write(at, 8));
        at += step;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

BENCHMARK(bm_upstream_read)->Arg(64)->Arg(4096);
BENCHMARK(bm_upstream_read_unaligned)->Arg(64)->Arg(4096);
BENCHMARK(bm_doorbell_past_completions);
BENCHMARK(bm_upstream_write)->Arg(64)->Arg(4096);

}  // namespace
