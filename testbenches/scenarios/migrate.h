// `chio-sim migrate` (docs/migration.md): VMs with live RC traffic; one VM is migrated with its
// VF to another host mid-run, then an adapter declared failed has its VF restored on a standby
// adapter, and the VMs carry on.
//
// Topology: four hosts on a switch. Host A runs VM "pp" (ping-pong client, VF 1) and VM "bw"
// (SEND stream sender, VF 2); host P runs their peers "pp-peer" and "bw-peer"; host B is the
// migration target, host S the standby. Phases (simulated time after the traffic starts):
//   1. `migrate`: "bw" moves A -> B with pre-copy while both streams run;
//   2. `replace`: adapter A is made fatal by fault injection; its VF 1 ("pp") is read out through
//      the PF's crash-dump path and restored on S (stop-and-copy: the failure is unplanned);
//   3. the senders are told to stop; every side checks its completions and data.
// Results: `migrate` in --stats with `phases[]` (`name`, `downtime_ns`, `bytes_copied`, and
// more), `completions` (`expected`, `seen`, `lost`, `duplicated`), `data_mismatches`.
#pragma once

#include "testbenches/scenarios/options.h"

namespace chio::tb {

// Runs the scenario in this process (one elaboration); returns the exit code (0: every check
// passed).
int run_migrate(const sim_options& o);

}  // namespace chio::tb
