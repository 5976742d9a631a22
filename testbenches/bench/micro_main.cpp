// chio-microbench: Google Benchmark targets of the simulator's hot paths (docs/performance.md).
// Not a test: ctest does not run it. SystemC's library calls sc_main, so the benchmarks run
// from there, after the kernel is initialised (pcie_link's arithmetic uses sc_time).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <systemc>

int sc_main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

int main(int argc, char** argv) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
