// The `migrate` scenario's judgement (docs/migration.md): from what the phases and each VM's
// application reported, whether the run passed, and every reason it did not. Kept apart from
// the run so that a test can hand it outcomes the simulation does not produce (work lost, or
// not completed with an error after a removal) and see them fail.
//
// Rules
// - Totals over every VM: lost = WRs never completed + messages missing from a sequence;
//   duplicated = completions for a WR not outstanding + messages seen twice.
// - Every run: nothing lost or duplicated, every byte matched, expected == seen, both phases
//   reported, and no other error (run_errors: bring-up, lockstep, scoreboard).
// - A normal run: both phases succeeded and no completion carried an error.
// - With --unrecoverable: the planned move succeeded; the replacement failed *and* hot-removed
//   the VF (a failure that left the VM as it was would hide its work). The removed VM's
//   outstanding work completed with an error, all of it flushed (WR_FLUSH_ERR) and at least one
//   WR (a ping client always has its reply's receive outstanding); its peer may see errors
//   too (its replies to a VF that is gone run out of retries) and may end because its client
//   went silent. Any other VM's error, or client gone silent, fails the run.
#pragma once

#include <string>
#include <vector>

#include "testbenches/scenarios/migrate_traffic.h"

namespace chio::tb {

struct phase_outcome {
    std::string name;  // "migrate", "replace"
    bool ok = false;
    bool hot_removed = false;
    std::string error;
};

struct vm_outcome {
    std::string name;
    app_result r;
    bool removed = false;          // its VF was hot-removed
    bool peer_of_removed = false;  // its QP's other end is a removed VM's
};

struct migrate_totals {
    uint64_t expected = 0, seen = 0, lost = 0, duplicated = 0;
    uint64_t data_mismatches = 0, bytes_verified = 0;
    uint64_t error_completions = 0;  // every VM's
    uint64_t flushed = 0;            // of those, WR_FLUSH_ERR on removed VMs
};

struct migrate_verdict {
    bool pass = false;
    migrate_totals totals;
    std::vector<std::string> errors;  // one line each
};

migrate_verdict judge_migrate(const std::vector<phase_outcome>& phases,
                              const std::vector<vm_outcome>& vms, bool unrecoverable,
                              const std::vector<std::string>& run_errors);

}  // namespace chio::tb
