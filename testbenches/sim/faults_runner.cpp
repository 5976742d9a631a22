#include "testbenches/sim/faults_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "testbenches/scenarios/faults.h"

namespace chio::tb {

namespace {

// Runs one scenario in a child process and reads its outcome back through a pipe. A child that
// dies or says nothing is reported as a failed scenario, never as a pass.
fault_outcome run_child(const fault_scenario& s, const sim_options& o) {
    fault_outcome r;
    std::snprintf(r.name, sizeof(r.name), "%s", s.name.c_str());
    int fd[2];
    if (pipe(fd) != 0) {
        std::snprintf(r.note, sizeof(r.note), "pipe failed");
        return r;
    }
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        const fault_outcome out = run_fault_scenario(s, o);
        const ssize_t n = write(fd[1], &out, sizeof(out));
        _exit(n == static_cast<ssize_t>(sizeof(out)) ? 0 : 1);
    }
    close(fd[1]);
    fault_outcome got;
    size_t have = 0;
    while (pid > 0 && have < sizeof(got)) {
        const ssize_t n = read(fd[0], reinterpret_cast<char*>(&got) + have, sizeof(got) - have);
        if (n <= 0) break;
        have += static_cast<size_t>(n);
    }
    close(fd[0]);
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    if (have == sizeof(got)) return got;
    std::snprintf(r.note, sizeof(r.note), "scenario process failed (status %d)", status);
    return r;
}

}  // namespace

int run_faults(const sim_options& o) {
    std::vector<fault_scenario> todo;
    for (const fault_scenario& s : fault_scenarios(o)) {
        // --only names a scenario (link.down_long) or a kind (link.down: both of its scenarios).
        if (o.only.empty() || o.only == s.name || o.only == cosim::to_string(s.spec.kind)) {
            todo.push_back(s);
        }
    }
    if (todo.empty()) {
        std::fprintf(stderr, "chio-sim: --only '%s' names no fault scenario\n", o.only.c_str());
        return 2;
    }
    std::printf("chio-sim faults: seed %llu\n", static_cast<unsigned long long>(o.seed));
    std::printf("%-15s %8s %8s %9s | %8s %6s %5s %4s  %s\n", "scenario", "injected", "detected",
                "recovered", "expected", "seen", "lost", "dup", "how");
    nlohmann::json scen = nlohmann::json::array();
    uint64_t exp = 0, seen = 0, lost = 0, dup = 0, checks = 0, violations = 0;
    bool all = true;
    for (const fault_scenario& s : todo) {
        const fault_outcome r = run_child(s, o);
        const bool pass = fault_passed(r);
        all = all && pass;
        std::printf("%-15s %8llu %8llu %9s | %8llu %6llu %5llu %4llu  %s%s\n", r.name,
                    static_cast<unsigned long long>(r.injected),
                    static_cast<unsigned long long>(r.detected),
                    r.recoverable ? (r.recovered ? "1" : "0") : "n/a",
                    static_cast<unsigned long long>(r.expected),
                    static_cast<unsigned long long>(r.seen),
                    static_cast<unsigned long long>(r.lost),
                    static_cast<unsigned long long>(r.duplicated), pass ? "" : "FAIL: ", r.note);
        if (r.violations != 0) {
            std::printf("%-15s scoreboard: %llu violations, first: %s\n", "",
                        static_cast<unsigned long long>(r.violations), r.violation);
        }
        checks += r.checks;
        violations += r.violations;
        exp += r.expected;
        seen += r.seen;
        lost += r.lost;
        dup += r.duplicated;
        scen.push_back(
            {{"name", r.name},
             {"injected", r.injected},
             {"detected", r.detected},
             {"recovered", r.recovered},
             {"recoverable", r.recoverable},
             {"passed", pass},
             {"note", r.note},
             {"completions",
              {{"expected", r.expected},
               {"seen", r.seen},
               {"lost", r.lost},
               {"duplicated", r.duplicated}}},
             {"scoreboard",
              {{"checks", r.checks}, {"violations", r.violations}, {"first", r.violation}}}});
    }
    std::printf("scoreboard: %llu checks, %llu violations\n",
                static_cast<unsigned long long>(checks),
                static_cast<unsigned long long>(violations));
    std::printf("total: completions expected %llu seen %llu lost %llu duplicated %llu: %s\n",
                static_cast<unsigned long long>(exp), static_cast<unsigned long long>(seen),
                static_cast<unsigned long long>(lost), static_cast<unsigned long long>(dup),
                all ? "PASS" : "FAIL");
    if (!o.stats.empty()) {
        nlohmann::json j;
        j["seed"] = o.seed;
        j["faults"] = {{"scenarios", scen},
                       {"completions",
                        {{"expected", exp}, {"seen", seen}, {"lost", lost}, {"duplicated", dup}}},
                       {"scoreboard", {{"checks", checks}, {"violations", violations}}}};
        std::ofstream f(o.stats);
        f << j.dump(2) << "\n";
        if (!f) {
            std::fprintf(stderr, "chio-sim: cannot write --stats file '%s'\n", o.stats.c_str());
            return 1;
        }
    }
    return all ? 0 : 1;
}

}  // namespace chio::tb
