#!/usr/bin/env python3
"""chio-bench --pcie KEY=VALUE: a setting reaches both the model and the analytic limit, is
recorded in the JSON stats (pcie_params), and a bad setting fails with a one-line error naming
the field, exit status 2 like the other command-line errors.

Usage: bench_pcie_params.py CHIO_BENCH OUT_DIR
"""
import json
import os
import subprocess
import sys


def run(bench, out_dir, tag, extra):
    stats = os.path.join(out_dir, f"bench_pcie_{tag}.json")
    cmd = [bench, "write_bw", "--quiet", "--sizes", "4096", "--iters", "20",
           "--stats", stats] + extra
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    with open(stats) as f:
        return json.load(f)


def main():
    bench, out_dir = sys.argv[1:3]
    os.makedirs(out_dir, exist_ok=True)
    errors = []
    base = run(bench, out_dir, "default", [])
    small = run(bench, out_dir, "mps128", ["--pcie", "mps=128"])
    if base.get("pcie_params", {}).get("mps") != 256:
        errors.append(f"default pcie_params.mps {base.get('pcie_params', {}).get('mps')}")
    if small.get("pcie_params", {}).get("mps") != 128:
        errors.append(f"--pcie mps=128: pcie_params.mps {small.get('pcie_params', {}).get('mps')}")
    lb = base["points"][0]["limit_gbps"]
    ls = small["points"][0]["limit_gbps"]
    # 4096 B: 16 posted TLPs at MPS 256, 32 at MPS 128, each with 24 B of overhead.
    if not ls < lb:
        errors.append(f"--pcie mps=128 limit {ls:.3f} not below the default's {lb:.3f}")
    for j, tag in ((base, "default"), (small, "mps=128")):
        p = j["points"][0]
        if not 0 < p["gbps"] <= p["limit_gbps"] * (1 + 1e-9):
            errors.append(f"{tag}: {p['gbps']:.3f} Gb/s outside (0, {p['limit_gbps']:.3f}]")
    for bad, field in (("bogus=1", "bogus"), ("mps=100", "mps")):
        r = subprocess.run([bench, "write_bw", "--pcie", bad], capture_output=True, text=True)
        err = r.stderr.strip()
        if r.returncode != 2 or field not in err or "\n" in err:
            errors.append(f"--pcie {bad}: exit {r.returncode}, stderr {err!r}")
    if errors:
        sys.exit("chio-bench --pcie: " + "; ".join(errors))
    print(f"chio-bench --pcie: limit {lb:.2f} -> {ls:.2f} Gb/s with mps=128; bad keys refused")


if __name__ == "__main__":
    main()
