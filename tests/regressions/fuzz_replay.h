// Replays the fuzz findings kept as regression inputs (fuzz/corpus/<target>/regression-*) through
// the target's own LLVMFuzzerTestOneInput, compiled into a test executable with any compiler (no
// libFuzzer; tests/CMakeLists.txt adds the target's sources). A broken invariant aborts the
// test process, which ctest reports as a failure with the target's one-line message.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace chio::test {

// Runs every regression input of `target`; returns how many there were.
inline int replay_fuzz_regressions(const std::string& target) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(CHIO_SOURCE_DIR) / "fuzz" / "corpus" / target;
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().filename().string().rfind("regression-", 0) != 0) continue;
        std::ifstream f(e.path(), std::ios::binary);
        const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                                         std::istreambuf_iterator<char>());
        std::printf("replaying %s (%zu bytes)\n", e.path().c_str(), bytes.size());
        LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
        ++n;
    }
    return n;
}

}  // namespace chio::test
