#!/usr/bin/env python3
"""Smoke test of one chio-bench program: runs it once with a tiny configuration and checks the
JSON stats fields (docs/performance.md) and the physical invariant that no bandwidth point
exceeds its analytic limit min(port goodput, PCIe goodput). Not a timing test: wall-clock
figures are only checked to be present.

Usage: bench_smoke.py CHIO_BENCH NAME OUT_DIR [chio-bench options...]
"""
import json
import os
import subprocess
import sys


def main():
    bench, name, out_dir = sys.argv[1:4]
    extra = sys.argv[4:]
    os.makedirs(out_dir, exist_ok=True)
    stats = os.path.join(out_dir, f"bench_{name}.json")
    cmd = [bench, name, "--quiet", "--stats", stats] + extra
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    with open(stats) as f:
        j = json.load(f)
    errors = []
    for k in ("wall_s", "sim_time_ns", "slowdown", "wr_per_wall_s", "queue_engine", "points"):
        if k not in j:
            errors.append(f"missing top-level field {k}")
    points = j.get("points", [])
    if not points:
        errors.append("no points")
    latency = name.endswith("_lat")
    fields = ("size_bytes", "p50_ns", "p99_ns") if latency else (
        "size_bytes", "gbps", "limit_gbps", "msgs_per_s")
    for p in points:
        for k in fields:
            if k not in p:
                errors.append(f"point {p.get('size_bytes')}: missing {k}")
        if not latency and "gbps" in p and "limit_gbps" in p:
            # A physical bound: exceeding it means the model moves bytes faster than the
            # link or the port can (the tiny tolerance covers floating-point rounding only).
            if not 0 < p["gbps"] <= p["limit_gbps"] * (1 + 1e-9):
                errors.append(f"size {p['size_bytes']}: {p['gbps']:.3f} Gb/s outside "
                              f"(0, limit {p['limit_gbps']:.3f}]")
        if latency and "p50_ns" in p and not 0 < p["p50_ns"] <= p["p99_ns"]:
            errors.append(f"size {p['size_bytes']}: p50 {p['p50_ns']} p99 {p['p99_ns']}")
    if errors:
        sys.exit(f"chio-bench {name}: " + "; ".join(errors))
    print(f"chio-bench {name}: {len(points)} points, fields and limits OK")


if __name__ == "__main__":
    main()
