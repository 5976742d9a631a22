#include "testbenches/sim/window_rerun.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace chio::tb {

std::string rerun_rtl_window(const sim_options& o, const std::string& rtl_scope, uint64_t from_ps,
                             uint64_t to_ps, const std::string& out_vcd) {
    const std::string ps = "ps";
    // Every option that shapes the simulation, so the child runs the very same one (keep this
    // list in step with sim_options; chio_sim_trace_test checks the RTL lines up with the model).
    std::vector<std::string> args = {"chio-sim",       o.scenario,
                                     "--seed",         std::to_string(o.seed),
                                     "--queue-engine", model::to_string(o.queue_engine),
                                     "--count",        std::to_string(o.count),
                                     "--size",         std::to_string(o.size),
                                     "--depth",        std::to_string(o.depth),
                                     "--trace",        out_vcd,
                                     "--trace-scope",  rtl_scope,
                                     "--trace-from",   std::to_string(from_ps) + ps,
                                     "--trace-to",     std::to_string(to_ps) + ps,
                                     "--stop-at",      std::to_string(to_ps) + ps,
                                     "--quiet"};
    if (o.inject_error != UINT64_MAX) {
        args.push_back("--inject-error");
        args.push_back(std::to_string(o.inject_error));
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // The child stops mid-scenario (--stop-at) with its driver threads suspended. LeakSanitizer
    // does not scan SystemC's coroutine stacks, so in a sanitizer build it would report what
    // those threads still hold as leaked and fail the child (exit 1). Only the child's check at
    // exit is switched off; everything else in its environment, and the parent, stay as they are.
    std::vector<std::string> env_store;
    for (char** e = environ; *e != nullptr; ++e) {
        if (std::string(*e).rfind("ASAN_OPTIONS=", 0) != 0) env_store.emplace_back(*e);
    }
    const char* asan = std::getenv("ASAN_OPTIONS");
    env_store.push_back(std::string("ASAN_OPTIONS=") + (asan != nullptr ? asan : "") +
                        (asan != nullptr && *asan != '\0' ? ":" : "") + "leak_check_at_exit=0");
    std::vector<char*> envp;
    for (std::string& e : env_store) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), envp.data()) != 0) {
        return "cannot start /proc/self/exe for the re-run";
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return "the re-run of the window failed (exit " +
               std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
    }
    if (!std::filesystem::exists(out_vcd)) {
        return "the re-run wrote no " + out_vcd;
    }
    return "";
}

}  // namespace chio::tb
