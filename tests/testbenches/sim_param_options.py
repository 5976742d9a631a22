#!/usr/bin/env python3
"""chio-sim --pcie KEY=VALUE and --adapter KEY=VALUE: a setting reaches every host of the
scenario (a longer wire makes pingpong's round trips slower) and is recorded in the JSON stats
(pcie_params, adapter_params); a bad setting fails with a one-line error naming the key and the
value, exit status 2, before anything runs.

Usage: sim_param_options.py CHIO_SIM OUT_DIR
"""
import json
import os
import subprocess
import sys


def run(sim, out_dir, tag, extra):
    stats = os.path.join(out_dir, f"sim_params_{tag}.json")
    cmd = [sim, "pingpong", "--count", "16", "--quiet", "--stats", stats] + extra
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    with open(stats) as f:
        return json.load(f)


def main():
    sim, out_dir = sys.argv[1:3]
    os.makedirs(out_dir, exist_ok=True)
    errors = []
    base = run(sim, out_dir, "default", [])
    far = run(sim, out_dir, "far", ["--adapter", "wire_latency_ns=10000", "--pcie", "mps=128"])
    if far.get("adapter_params", {}).get("wire_latency_ns") != 10000:
        errors.append(f"adapter_params {far.get('adapter_params')}")
    if far.get("pcie_params", {}).get("mps") != 128 or base.get("pcie_params", {}).get("mps") != 256:
        errors.append(f"pcie_params.mps {base.get('pcie_params', {}).get('mps')} / "
                      f"{far.get('pcie_params', {}).get('mps')}, want 256 / 128")
    # 16 round trips, each crossing the wire twice: 16 x 2 x 9900 ns more, at least.
    added = far["sim_time_ns"] - base["sim_time_ns"]
    if not added >= 16 * 2 * 9900:
        errors.append(f"wire_latency_ns=10000 added {added:.0f} ns to the run, want >= 316800")
    for opt, bad, key in (("--adapter", "port_gbps=0", "port_gbps"),
                          ("--adapter", "reset_ns=-1", "reset_ns"),
                          ("--adapter", "bogus=1", "bogus"),
                          ("--pcie", "mps=100", "mps")):
        r = subprocess.run([sim, "pingpong", opt, bad], capture_output=True, text=True)
        err = r.stderr.strip()
        if r.returncode != 2 or f"{opt} " not in err or key not in err or "\n" in err:
            errors.append(f"{opt} {bad}: exit {r.returncode}, stderr {err!r}")
    if errors:
        sys.exit("chio-sim --pcie/--adapter: " + "; ".join(errors))
    print(f"chio-sim --pcie/--adapter: pingpong +{added / 1000:.1f} us with a 10 us wire; "
          "bad settings refused")


if __name__ == "__main__":
    main()
