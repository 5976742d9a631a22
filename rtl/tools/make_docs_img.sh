#!/usr/bin/env bash
# Regenerates the pictures of docs/rtl.md from the design:
#  - docs/img/rtl-block.svg from docs/img/rtl-block.dot (graphviz dot);
#  - docs/img/rtl-timing-*.svg: the throughput testbench writes a VCD of the Verilated RTL
#    (CHIO_VCD), vcd2wavedrom.py cuts the interface signals of two windows out of it into WaveDrom
#    JSON (docs/img/rtl-timing-*.json), and wavedrom-cli renders them.
# Needs: dot (Debian graphviz), node/npm for wavedrom-cli@3.2.0 (WAVEDROM overrides the command).
# Usage: rtl/tools/make_docs_img.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:?usage: $0 BUILD_DIR}"
img="$root/docs/img"
wavedrom="${WAVEDROM:-npx --yes wavedrom-cli@3.2.0}"

dot -Tsvg "$img/rtl-block.dot" -o "$img/rtl-block.svg"

vcd="$build/rtl-docs/throughput.vcd"
mkdir -p "$(dirname "$vcd")"
log=$(CHIO_VCD="$vcd" SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 \
    "$build/tests/test_rtl_queue_engine_throughput_test" --gtest_brief=1)
t_steady=$(sed -n "s/^VCD window 'steady state' from t=\([0-9]*\)$/\1/p" <<<"$log")
t_bp=$(sed -n "s/^VCD window 'backpressure' from t=\([0-9]*\)$/\1/p" <<<"$log")
e=top.chio_queue_engine

python3 "$here/vcd2wavedrom.py" "$vcd" --clock top.clk_i --from "$t_steady" --cycles 10 \
    --title "steady state: db, deq, commit on one send queue per clock" \
    top.db_valid_i top.db_ready_o top.db_wqid_i:d top.db_pi_i:d \
    top.deq_req_valid_i top.deq_req_ready_o top.deq_req_wqid_i:d \
    top.deq_commit_valid_i top.deq_commit_ready_o top.deq_commit_wqid_i:d \
    "$e.s1_valid_q=S1 valid (lanes CKQD)" \
    top.deq_resp_valid_o top.deq_resp_ready_i top.deq_resp_wqid_o:d top.deq_resp_index_o:d \
    top.work_valid_o top.work_wqid_o:d >"$img/rtl-timing-steady.json"

python3 "$here/vcd2wavedrom.py" "$vcd" --clock top.clk_i --from "$t_bp" --cycles 14 \
    --title "backpressure: deq_resp not ready for 3 clocks" \
    top.deq_req_valid_i top.deq_req_ready_o top.deq_req_wqid_i:d \
    "$e.s1_valid_q=S1 valid (lanes CKQD)" \
    "$e.u_out.u_deq_resp.count_q:d=deq_resp FIFO count" \
    top.deq_resp_valid_o top.deq_resp_ready_i top.deq_resp_index_o:d >"$img/rtl-timing-backpressure.json"

for j in steady backpressure; do
    $wavedrom -i "$img/rtl-timing-$j.json" -s "$img/rtl-timing-$j.svg"
done
echo "pictures in $img: rtl-block.svg rtl-timing-steady.svg rtl-timing-backpressure.svg"
