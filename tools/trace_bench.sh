#!/usr/bin/env bash
# What tracing costs: runs chio-sim's loopback with recording off and in each recording mode,
# and prints wall time (simulation alone, and with writing the outputs), the cost relative to
# recording off, and the trace's size per simulated microsecond. Called by `./chio bench-trace`.
#
#   tools/trace_bench.sh SIM [--count N] [--queue-engine KIND] [--reps R] [--out DIR]
#
# Each mode runs R times; the fastest run is reported (the least disturbed by other load). The
# triggered mode injects an error into message N*9/10, so the run is long and untraced until
# then; every other mode runs clean. The inject-error baseline ("off, error") is run too, since
# the error shortens the run (the QP goes to ERR and the rest is flushed).
set -euo pipefail

die() {
    printf 'chio bench-trace: %s\n' "$*" >&2
    exit 2
}

sim="${1:-}"
[[ -x "$sim" ]] || die "chio-sim not found at '$sim'"
shift
count=5000 qe=lockstep reps=3 out="out/bench-trace"
while [[ $# -gt 0 ]]; do
    [[ $# -ge 2 ]] || die "option $1 needs a value"
    case "$1" in
    --count) [[ "$2" =~ ^[0-9]+$ && "$2" -ge 10 ]] || die "option --count: '$2' is not a number >= 10"
        count="$2" ;;
    --queue-engine) [[ "$2" =~ ^(model|rtl|lockstep)$ ]] ||
        die "option --queue-engine: '$2' is not model, rtl or lockstep"
        qe="$2" ;;
    --reps) [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "option --reps: '$2' is not a number >= 1"
        reps="$2" ;;
    --out) out="$2" ;;
    *) die "unknown option '$1'" ;;
    esac
    shift 2
done
mkdir -p "$out" || die "option --out: cannot create '$out'"
inject=$((count * 9 / 10))

# name|chio-sim options (the trace file, if any, is always $out/trace.<ext>)
modes=(
    "off|"
    "vcd, everything|--trace $out/trace.vcd"
    "fst, everything|--trace $out/trace.fst"
    "fst, model scopes only|--trace $out/trace.fst --trace-scope host0.adapter0.pf0,host0.adapter0.dma,host0.adapter0.cqe,host0.adapter0.eqe,host0.adapter0.qp,host0.adapter0.cmd"
    "fst, window 10us|--trace $out/trace.fst --trace-from 100us --trace-to 110us"
    "spans only|--spans $out/spans.json"
    "off, error|--inject-error $inject"
    "fst, trigger on error|--trace $out/trace.fst --trace-trigger error --inject-error $inject"
)

printf 'chio-sim loopback --count %s --queue-engine %s, best of %s runs\n\n' "$count" "$qe" "$reps"
printf '%-26s %9s %9s %8s %12s %11s %10s\n' mode "sim s" "total s" "vs off" "trace bytes" "bytes/us" "sim us"
base=""
base_err=""
for m in "${modes[@]}"; do
    name="${m%%|*}"
    opts="${m#*|}"
    best=""
    for ((i = 0; i < reps; i++)); do
        rm -f "$out"/trace.* "$out/spans.json"
        # shellcheck disable=SC2086 # options are words on purpose
        "$sim" loopback --count "$count" --queue-engine "$qe" --stats "$out/stats.json" --quiet \
            $opts || true # the error modes fail the scenario on purpose
        line="$(python3 -c '
import json, os, sys
j = json.load(open(sys.argv[1]))
t = j.get("trace", {})
size = t.get("bytes", 0)
if not size and os.path.exists(sys.argv[2]):
    size = os.path.getsize(sys.argv[2])
print(j["sim_wall_s"], j["wall_s"], size, j["sim_time_ns"] / 1000)
' "$out/stats.json" "$out/spans.json")"
        read -r sim_s total_s bytes sim_us <<<"$line"
        if [[ -z "$best" ]] || awk -v a="$total_s" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
            best="$total_s $sim_s $bytes $sim_us"
        fi
    done
    read -r total_s sim_s bytes sim_us <<<"$best"
    [[ "$name" == "off" ]] && base="$total_s"
    [[ "$name" == "off, error" ]] && base_err="$total_s"
    ref="$base"
    [[ "$opts" == *--inject-error* ]] && ref="$base_err"
    awk -v n="$name" -v s="$sim_s" -v t="$total_s" -v r="$ref" -v b="$bytes" -v u="$sim_us" \
        'BEGIN { printf "%-26s %9.3f %9.3f %7.2fx %12d %11.1f %10.1f\n", n, s, t, t / r, b, (u > 0 ? b / u : 0), u }'
done
printf '\nsim s: wall time of the simulation; total s: including writing and merging the trace.\n'
printf 'vs off: total time relative to the same run with recording off.\n'
