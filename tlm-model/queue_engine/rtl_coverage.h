// Coverage output of a Verilated queue engine, for the coverage build only.
//
// rtl/CMakeLists.txt builds the RTL tests a second time against a Verilated model made with
// --coverage, and defines CHIO_RTL_COVERAGE for them. There, every owner of a VerilatedContext
// calls write_rtl_coverage() when it is done: the context's counters go to a file of their own
// in $CHIO_COVERAGE_DIR (or the working directory), named after the process and a sequence
// number, so that several models and several test processes never overwrite each other's
// counts; rtl/tools/rtl_coverage.sh merges them. In every other build this does nothing (the
// Verilator coverage runtime is not even linked).
#pragma once

#include <verilated.h>

#ifdef CHIO_RTL_COVERAGE
#include <unistd.h>
#include <verilated_cov.h>

#include <atomic>
#include <cstdlib>
#include <string>
#endif

namespace chio::model {

inline void write_rtl_coverage(VerilatedContext& ctx) {
#ifdef CHIO_RTL_COVERAGE
    static std::atomic<unsigned> seq{0};
    const char* dir = std::getenv("CHIO_COVERAGE_DIR");
    std::string path = (dir != nullptr && *dir != '\0') ? std::string(dir) + "/" : std::string();
    path += "qe-" + std::to_string(getpid()) + "-" + std::to_string(seq++) + ".dat";
    ctx.coveragep()->write(path.c_str());
#else
    static_cast<void>(ctx);
#endif
}

}  // namespace chio::model
