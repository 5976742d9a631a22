#!/usr/bin/env bash
# Long constrained-random differential run of the queue engine RTL against the C++ reference:
#  1. the streaming test (tests/rtl/queue_engine_stream_test.cpp): the Verilated RTL driven at
#     its pins, every stream at once, random backpressure, ops back to back through the pipeline;
#  2. the seam-level test (tests/rtl/queue_engine_diff_test.cpp): the same ops one call at a time
#     through queue_engine_rtl, as the adapter model uses it.
# Both use the seed printed first. At the first difference a test prints the op, both outputs
# and the ops before it; for the streaming test this script then re-runs the seed with a VCD of
# the clocks around the difference (OUT_DIR/first-difference.vcd).
#
# Usage: rtl/tools/rtl_soak.sh BUILD_DIR [--ops N] [--seed S]   (default 10^7 ops, random seed)
set -euo pipefail

build="$1"
shift
ops=10000000
seed=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --ops) ops="${2:?--ops needs a number}"; shift 2 ;;
    --seed) seed="${2:?--seed needs a number}"; shift 2 ;;
    *) echo "rtl-soak: unknown argument '$1' (options: --ops N --seed S)" >&2; exit 2 ;;
    esac
done
[[ "$ops" =~ ^[0-9]+$ ]] || { echo "rtl-soak: --ops must be a number, got '$ops'" >&2; exit 2; }
if [[ -z "$seed" ]]; then
    seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fi
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "rtl-soak: --seed must be a number, got '$seed'" >&2; exit 2; }

out="$build/rtl-soak"
mkdir -p "$out"
stream="$build/tests/test_rtl_queue_engine_stream_test"
seam="$build/tests/test_rtl_queue_engine_diff_test"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 CHIO_SEED="$seed" CHIO_DIFF_OPS="$ops"
echo "rtl-soak: seed $seed, $ops ops per test (re-run: ./chio rtl-soak --ops $ops --seed $seed)"

run() {  # name exe log
    local start=$SECONDS
    if "$2" --gtest_brief=1 >"$3" 2>&1; then
        echo "rtl-soak: $1: PASS, $ops ops in $((SECONDS - start)) s ($3)"
        return 0
    fi
    echo "rtl-soak: $1: FAIL after $((SECONDS - start)) s; report:"
    grep -v -E '^\s*$|SystemC|Copyright|ALL RIGHTS' "$3" | sed -n '1,80p'
    return 1
}

failed=0
if ! run "streaming (pins, pipelined)" "$stream" "$out/stream.log"; then
    failed=1
    clock=$(sed -n 's/.*(seed [0-9]*, clock \([0-9]*\)).*/\1/p' "$out/stream.log" | head -1)
    if [[ -n "$clock" ]]; then
        from=$((clock > 64 ? clock - 64 : 0))
        echo "rtl-soak: re-running seed $seed for a VCD of clocks $from..$((clock + 8))"
        CHIO_VCD="$out/first-difference.vcd" CHIO_VCD_FROM="$from" CHIO_VCD_TO="$((clock + 8))" \
            "$stream" --gtest_brief=1 >"$out/stream-vcd.log" 2>&1 || true
        echo "rtl-soak: trace window: $out/first-difference.vcd (time unit: half a clock;"
        echo "          open with gtkwave)"
    fi
fi
if ! run "seam (queue_engine_rtl vs queue_engine_ref)" "$seam" "$out/seam.log"; then
    failed=1
fi
exit "$failed"
