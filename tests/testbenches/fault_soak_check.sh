#!/usr/bin/env bash
# tools/fault_soak.sh reports what failed: against a stand-in chio-sim that fails seed 3 of
# 1-5, the sweep exits 1, names seed 3 (and no other) with its log and re-run command, and
# keeps that log; bad options fail with one line, exit 2.
set -euo pipefail
soak="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/testbenches"
cat >"$tmp/testbenches/chio-sim" <<'SIM'
#!/usr/bin/env bash
[[ "$1 $2" == "faults --seed" ]] || { echo "unexpected arguments: $*"; exit 9; }
if [[ "$3" == 3 ]]; then echo "scoreboard: 1 violation (order)"; exit 1; fi
echo "all faults recovered"
SIM
chmod +x "$tmp/testbenches/chio-sim"

fail() { echo "FAIL: $*"; exit 1; }
rc=0
out=$("$soak" "$tmp" --seeds 1-5 --jobs 2) || rc=$?
echo "$out"
[[ $rc -eq 1 ]] || fail "exit $rc, expected 1"
grep -q "seed 3 FAILED" <<<"$out" || fail "seed 3 not reported"
[[ $(grep -c "FAILED" <<<"$out") -eq 1 ]] || fail "more than one seed reported"
grep -q "scoreboard: 1 violation" <<<"$out" || fail "the failure's line is not shown"
grep -q "faults --seed 3 --queue-engine model" <<<"$out" || fail "no re-run command"
grep -q "5 seeds, 1 failed" <<<"$out" || fail "no summary"
logs=("$tmp"/fault-soak/model-1-5.*/seed-*.log)
[[ ${#logs[@]} -eq 1 && "${logs[0]}" == */seed-3.log ]] || fail "kept logs: ${logs[*]}"
grep -q "log ${logs[0]}" <<<"$out" || fail "the log's path is not shown"

for bad in "--seeds 9-2" "--seeds x" "--queue-engine foo" "--jobs 0" "--what"; do
    read -ra args <<<"$bad"
    rc=0
    err=$("$soak" "$tmp" "${args[@]}" 2>&1) || rc=$?
    [[ $rc -eq 2 ]] || fail "'$bad': exit $rc, expected 2"
    [[ $(wc -l <<<"$err") -eq 1 && "$err" == fault-soak:* ]] || fail "'$bad': not one line: $err"
done
echo "PASS"
