#!/usr/bin/env bash
# RTL coverage run: runs the given test executables (built against the --coverage model, see
# rtl/CMakeLists.txt), merges their counters with verilator_coverage, writes an annotated copy of
# the sources and prints line coverage and every cover point's hit count (coverage_report.py).
# Fails when line coverage is below CHIO_COV_MIN_LINE (95) or a cover point was never hit.
#
# Usage: rtl/tools/rtl_coverage.sh OUT_DIR TEST_EXE...
# Environment: CHIO_SEED (default 1: the report is reproducible), CHIO_DIFF_OPS (default 100000).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$1"
shift
rm -rf "$out"
mkdir -p "$out/dat"
export CHIO_COVERAGE_DIR="$out/dat"
export CHIO_SEED="${CHIO_SEED:-1}"
export CHIO_DIFF_OPS="${CHIO_DIFF_OPS:-100000}"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
for exe in "$@"; do
    echo "coverage: $(basename "$exe") (CHIO_SEED=$CHIO_SEED CHIO_DIFF_OPS=$CHIO_DIFF_OPS)"
    "$exe" --gtest_brief=1 >"$out/$(basename "$exe").log" 2>&1 || {
        cat "$out/$(basename "$exe").log"
        echo "coverage: $(basename "$exe") failed" >&2
        exit 1
    }
done
verilator_coverage --write "$out/merged.dat" "$out"/dat/*.dat
verilator_coverage --annotate "$out/annotated" --annotate-min 1 "$out/merged.dat" \
    >"$out/annotate.log" 2>&1
python3 "$here/coverage_report.py" "$out/merged.dat" --min-line "${CHIO_COV_MIN_LINE:-95}" \
    --report "$out/summary.txt"
echo "coverage: annotated sources in $out/annotated (lines starting with %NNNNNN were not hit"
echo "          often enough), merged counters in $out/merged.dat, summary in $out/summary.txt"
