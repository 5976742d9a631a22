// main() of every fuzz target. libsystemc.so defines its own main() that calls sc_main(), and
// libFuzzer's -fsanitize=fuzzer would bring a third; so the targets link libFuzzer without its
// main (-fsanitize=fuzzer-no-link plus libclang_rt.fuzzer_no_main, see fuzz/CMakeLists.txt), and
// this file defines both entry points: main() hands over to SystemC, so that elaboration and
// sc_start() work as in any SystemC program, and sc_main() runs libFuzzer's driver with the
// target's LLVMFuzzerTestOneInput. Every libFuzzer flag works as usual (-runs, -max_total_time,
// corpus directories, a crash file to reproduce).
#include <systemc>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerRunDriver(int* argc, char*** argv,
                                   int (*cb)(const uint8_t* data, size_t size));

// LeakSanitizer's check at exit is off for the fuzz targets: libFuzzer ends a run with exit()
// from inside sc_main(), and its own argument and corpus vectors and SystemC's copy of argv,
// held by frames LSan does not follow across SystemC's coroutine switches, would be reported
// (libFuzzer's per-input check is off for the same reason: -detect_leaks=0 in
// fuzz/CMakeLists.txt and ./chio fuzz). Model leaks are caught by the test suite under LSan
// (tools/sanitizers/lsan.supp).
extern "C" const char* __asan_default_options() { return "leak_check_at_exit=0"; }

int sc_main(int argc, char** argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}

int main(int argc, char** argv) { return sc_core::sc_elab_and_sim(argc, argv); }
