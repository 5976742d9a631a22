#!/usr/bin/env python3
"""chio-bench --adapter KEY=VALUE: a setting reaches the adapters (a slower WQE decode raises
write_lat's p50 by at least the added time), the port rate reaches the analytic limit, every
setting is recorded in the JSON stats (adapter_params), and a bad setting fails with a one-line
error naming the key and the value, exit status 2 like the other command-line errors.

Usage: bench_adapter_params.py CHIO_BENCH OUT_DIR
"""
import json
import os
import subprocess
import sys


def run(bench, out_dir, tag, args):
    stats = os.path.join(out_dir, f"bench_adapter_{tag}.json")
    cmd = [bench] + args + ["--quiet", "--stats", stats]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    with open(stats) as f:
        return json.load(f)


def main():
    bench, out_dir = sys.argv[1:3]
    os.makedirs(out_dir, exist_ok=True)
    errors = []
    lat = ["write_lat", "--sizes", "64", "--iters", "20"]
    base = run(bench, out_dir, "default", lat)
    slow = run(bench, out_dir, "wqe1000", lat + ["--adapter", "wqe_process_ns=1000"])
    ap_base, ap_slow = base.get("adapter_params", {}), slow.get("adapter_params", {})
    if ap_base.get("wqe_process_ns") != 20 or ap_slow.get("wqe_process_ns") != 1000:
        errors.append(f"adapter_params.wqe_process_ns {ap_base.get('wqe_process_ns')} / "
                      f"{ap_slow.get('wqe_process_ns')}, want 20 / 1000")
    if {k: v for k, v in ap_slow.items() if k != "wqe_process_ns"} != \
            {k: v for k, v in ap_base.items() if k != "wqe_process_ns"}:
        errors.append("--adapter wqe_process_ns=1000 changed other adapter_params")
    p50_base, p50_slow = base["points"][0]["p50_ns"], slow["points"][0]["p50_ns"]
    # The requester decodes one WQE per WRITE: 980 ns more on the path, seen through the
    # driver's CQ polling, one poll per 50 ns (sc_bus_params::relax_ns): at least +930 ns.
    if not p50_slow >= p50_base + 930:
        errors.append(f"write_lat 64 B p50 {p50_base:.0f} -> {p50_slow:.0f} ns with "
                      "wqe_process_ns=1000, want at least +930 ns")
    bw = ["write_bw", "--sizes", "65536", "--iters", "32"]
    fast = run(bench, out_dir, "port200", bw + ["--adapter", "port_gbps=200"])
    if fast.get("adapter_params", {}).get("port_gbps") != 200:
        errors.append(f"adapter_params.port_gbps {fast.get('adapter_params', {})}")
    part = fast["points"][0]["limit_parts_gbps"]["port"]
    if not part > 150:
        errors.append(f"--adapter port_gbps=200: port term of the limit {part:.2f} Gb/s")
    for bad, key in (("bogus=1", "bogus"), ("port_gbps=0", "port_gbps"),
                     ("stage_wqes=0", "stage_wqes"), ("wqe_process_ns=-1", "wqe_process_ns")):
        r = subprocess.run([bench, "write_lat", "--adapter", bad], capture_output=True, text=True)
        err = r.stderr.strip()
        value = bad.split("=", 1)[1]
        # An unknown key is named with the whole setting; a bad value with its key and value.
        named = key in err and (key == "bogus" or f"'{value}'" in err)
        if r.returncode != 2 or not named or "\n" in err:
            errors.append(f"--adapter {bad}: exit {r.returncode}, stderr {err!r}")
    if errors:
        sys.exit("chio-bench --adapter: " + "; ".join(errors))
    print(f"chio-bench --adapter: write_lat 64 B p50 {p50_base:.0f} -> {p50_slow:.0f} ns with "
          f"wqe_process_ns=1000; write_bw 64 KiB port term {part:.2f} Gb/s at port_gbps=200; "
          "bad settings refused")


if __name__ == "__main__":
    main()
