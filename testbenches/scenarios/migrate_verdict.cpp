#include "testbenches/scenarios/migrate_verdict.h"

namespace chio::tb {

namespace {

void judge_phases(const std::vector<phase_outcome>& phases, bool unrecoverable,
                  std::vector<std::string>& errors) {
    if (phases.size() != 2) {
        errors.push_back(std::to_string(phases.size()) + " phases ran, not 2");
        return;
    }
    for (const phase_outcome& p : phases) {
        const bool must_fail = unrecoverable && p.name == "replace";
        if (!must_fail) {
            if (!p.ok) errors.push_back(p.name + ": " + p.error);
        } else if (p.ok) {
            errors.push_back(p.name +
                             ": the VF was restored, but the run made the replacement fail");
        } else if (!p.hot_removed) {
            errors.push_back(p.name + ": failed without hot-removing the VF: " + p.error);
        }
    }
}

void judge_vm(const vm_outcome& v, bool unrecoverable, std::vector<std::string>& errors) {
    const app_result& r = v.r;
    const bool may_error = unrecoverable && (v.removed || v.peer_of_removed);
    // The first error completion sets the error, so a VM that may not see one fails here.
    if (!r.error.empty() && !(may_error && r.error_is_completion)) errors.push_back(r.error);
    // Only the removed VM's peer may have lost its client; anyone else's went silent wrongly.
    if (r.client_gone && !(unrecoverable && v.peer_of_removed)) {
        errors.push_back(v.name + ": its client went silent before its last message");
    }
    if (!v.removed) return;
    if (r.flushed == 0) {
        errors.push_back(v.name +
                         ": no work request completed flushed after its VF was hot-removed");
    }
    if (r.error_completions != r.flushed) {
        errors.push_back(v.name + ": " + std::to_string(r.error_completions - r.flushed) +
                         " error completions other than flushes after its VF was hot-removed");
    }
}

}  // namespace

migrate_verdict judge_migrate(const std::vector<phase_outcome>& phases,
                              const std::vector<vm_outcome>& vms, bool unrecoverable,
                              const std::vector<std::string>& run_errors) {
    migrate_verdict out;
    out.errors = run_errors;
    judge_phases(phases, unrecoverable, out.errors);
    migrate_totals& t = out.totals;
    for (const vm_outcome& v : vms) {
        const app_result& r = v.r;
        t.expected += r.expected;
        t.seen += r.seen;
        t.lost += r.lost + r.gaps;
        t.duplicated += r.duplicated + r.repeats;
        t.data_mismatches += r.data_mismatches;
        t.bytes_verified += r.bytes_verified;
        t.error_completions += r.error_completions;
        if (v.removed) t.flushed += r.flushed;
        judge_vm(v, unrecoverable, out.errors);
    }
    out.pass = out.errors.empty() && t.lost == 0 && t.duplicated == 0 && t.data_mismatches == 0 &&
               t.expected == t.seen && (unrecoverable || t.error_completions == 0);
    return out;
}

}  // namespace chio::tb
