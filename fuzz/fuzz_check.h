// How a fuzz target reports a broken invariant: one line naming the invariant (the catalogue's
// section (b) numbering where one applies), the object it concerns and what was seen, then
// abort(), which libFuzzer turns into a crash report with the input saved as crash-<sha1>. That
// file is the seed: running the target on it repeats the finding exactly (every target is
// deterministic in its input).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace chio::fuzz {

[[noreturn]] inline void fail(const char* invariant, const std::string& object,
                              const std::string& detail) {
    std::fprintf(stderr, "chio-fuzz: invariant '%s' broken by %s: %s\n", invariant, object.c_str(),
                 detail.c_str());
    std::fflush(stderr);
    std::abort();
}

}  // namespace chio::fuzz

// A macro so that the object and detail strings are only built when the check fails (the checks
// sit on the targets' hot paths).
#define CHIO_FUZZ_CHECK(cond, invariant, object, detail)            \
    do {                                                            \
        if (!(cond)) ::chio::fuzz::fail(invariant, object, detail); \
    } while (0)
