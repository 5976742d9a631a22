// IOMMU translation: what each DMA pays on the root complex's path. Passthrough (the PF in the
// host), a repeated page (the last-page cache), and a 64 KiB access over 16 scattered pages.
#include <benchmark/benchmark.h>

#include <vector>

#include "cosim/iommu.h"

namespace {

using chio::cosim::iommu;
using chio::cosim::iommu_perm;
using chio::cosim::iommu_segment;
constexpr uint64_t PG = chio::cosim::IOMMU_PAGE_SIZE;

void bm_passthrough(benchmark::State& state) {
    iommu m;
    std::vector<iommu_segment> s;
    uint64_t a = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(m.translate(0, a, 4096, true, s, 0));
        a += 4096;
    }
}

// 16384 pages (64 MiB, a VM) mapped in reverse host order, so no two pages merge.
iommu scattered(chio::cosim::iommu_domain_id& d) {
    iommu m;
    d = m.create_domain();
    for (uint64_t p = 0; p < 16384; ++p)
        m.map(d, p * PG, (20000 - p) * PG, PG, iommu_perm::read_write);
    m.attach(1, d);
    return m;
}

void bm_same_page(benchmark::State& state) {
    chio::cosim::iommu_domain_id d = 0;
    iommu m = scattered(d);
    std::vector<iommu_segment> s;
    uint64_t off = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(m.translate(1, 0x5000 + (off & 0xFC0), 64, false, s, 0));
        off += 64;
    }
}

void bm_scattered_64k(benchmark::State& state) {
    chio::cosim::iommu_domain_id d = 0;
    iommu m = scattered(d);
    std::vector<iommu_segment> s;
    uint64_t p = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(m.translate(1, (p % 16000) * PG, 65536, true, s, 0));
        p += 17;
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 65536);
}

BENCHMARK(bm_passthrough);
BENCHMARK(bm_same_page);
BENCHMARK(bm_scattered_64k);

}  // namespace
