#!/usr/bin/env bash
# Seed sweep of the fault scenario (chio-sim faults, docs/faults.md): every fault class with live
# traffic, once per seed. A seed moves which DMA, packet or command each fault hits, so a sweep
# finds orderings the seeds in ctest (sim.faults_seed_* and sim.fault_soak_seeds_4_to_43) never
# reach; seed 45 is in ctest because a sweep found a CQE reorder with it. A run fails when the
# scenario reports a lost, duplicated or misordered completion, a scoreboard violation or an
# unrecovered fault (chio-sim exits non-zero).
#
# Usage: tools/fault_soak.sh BUILD_DIR [--seeds FIRST-LAST] [--queue-engine KIND] [--jobs N]
#        (default seeds 1-1000, model queue engine, one job per core)
set -euo pipefail

build="$1"
shift
first=1
last=1000
engine=model
jobs=$(nproc)
while [[ $# -gt 0 ]]; do
    case "$1" in
    --seeds)
        range="${2:?--seeds needs FIRST-LAST}"
        [[ "$range" =~ ^([0-9]+)-([0-9]+)$ ]] ||
            { echo "fault-soak: --seeds must be FIRST-LAST, got '$range'" >&2; exit 2; }
        first="${BASH_REMATCH[1]}"
        last="${BASH_REMATCH[2]}"
        shift 2
        ;;
    --queue-engine) engine="${2:?--queue-engine needs model, rtl or lockstep}"; shift 2 ;;
    --jobs) jobs="${2:?--jobs needs a number}"; shift 2 ;;
    *)
        echo "fault-soak: unknown argument '$1' (options: --seeds FIRST-LAST --queue-engine KIND --jobs N)" >&2
        exit 2
        ;;
    esac
done
[[ "$engine" =~ ^(model|rtl|lockstep)$ ]] ||
    { echo "fault-soak: --queue-engine must be model, rtl or lockstep, got '$engine'" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "fault-soak: --jobs must be a positive number, got '$jobs'" >&2; exit 2; }
((first <= last)) || { echo "fault-soak: --seeds $first-$last is empty" >&2; exit 2; }

# Each sweep keeps its failing seeds' logs in a directory of its own, so sweeps can run side by
# side (ctest runs one while a user may run another); an empty one is removed at the end.
mkdir -p "$build/fault-soak"
out=$(mktemp -d "$build/fault-soak/$engine-$first-$last.XXXX")
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 SIM="$build/testbenches/chio-sim" ENGINE="$engine" OUT="$out"
echo "fault-soak: chio-sim faults, seeds $first-$last, queue engine $engine, $jobs jobs"
start=$SECONDS
# One log per failing seed (OUT/seed-N.log); a passing seed leaves nothing behind.
# shellcheck disable=SC2016 # the inner shell expands them
seq "$first" "$last" | xargs -P "$jobs" -n 1 bash -c '
    log="$OUT/seed-$1.log"
    if "$SIM" faults --seed "$1" --queue-engine "$ENGINE" >"$log" 2>&1; then rm -f "$log"; fi' _ || true
mapfile -t failed < <(find "$out" -name 'seed-*.log' | sed 's/.*seed-\([0-9]*\)\.log/\1/' | sort -n)
total=$((last - first + 1))
for s in "${failed[@]}"; do
    echo "fault-soak: seed $s FAILED (log $out/seed-$s.log; re-run: $SIM faults --seed $s --queue-engine $engine)"
    tail -n 3 "$out/seed-$s.log" | sed 's/^/    /'  # the scoreboard's and the total's lines
done
rmdir "$out" 2>/dev/null || true
echo "fault-soak: $total seeds, ${#failed[@]} failed, $((SECONDS - start)) s"
[[ ${#failed[@]} -eq 0 ]]
