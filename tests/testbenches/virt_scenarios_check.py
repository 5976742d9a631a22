#!/usr/bin/env python3
"""Checks the virtualization scenarios of chio-sim against the issue's targets (issue 5,
"Done when"; docs/virtualization.md, "Scenarios: qos and isolation").

  virt_scenarios_check.py CHIO_SIM OUT_DIR isolation SEED
      runs `isolation` with and without the attacker (same seed): both pass, every attack is
      refused as documented with no effect on the victim, and the victim's completions and
      received bytes are identical (digests, counts) in the two runs.
  virt_scenarios_check.py CHIO_SIM OUT_DIR qos SEED [options]
      runs `qos`: every busy VF's achieved share within 2 % of its configured share in the
      weights and idle phases (the idle VF's share redistributed), the capped VF's average
      within 1 % of its cap on average and in every 100 us window (the pipelined send path
      serves a capped VF on time, so the window maximum is asserted).
"""
import json
import os
import subprocess
import sys


def run(sim, out_dir, name, args):
    stats = os.path.join(out_dir, name + ".json")
    cmd = [sim] + args + ["--quiet", "--stats", stats]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if not os.path.exists(stats):
        sys.exit(f"{' '.join(cmd)}: exit {r.returncode}, no stats: {r.stderr.strip()}")
    with open(stats) as f:
        return r.returncode, json.load(f), " ".join(cmd)


def common_fields(j, errors):
    for k in ("wall_s", "sim_time_ns", "slowdown", "wr_per_wall_s", "queue_engine", "seed"):
        if k not in j:
            errors.append(f"missing top-level field {k}")


def check_isolation(sim, out_dir, seed, extra):
    errors = []
    rc_a, a, cmd_a = run(sim, out_dir, "isolation_attacked", ["isolation", "--seed", seed] + extra)
    rc_r, r, cmd_r = run(sim, out_dir, "isolation_reference",
                         ["isolation", "--no-attacker", "--seed", seed] + extra)
    for rc, j, cmd in ((rc_a, a, cmd_a), (rc_r, r, cmd_r)):
        common_fields(j, errors)
        if rc != 0 or not j.get("passed"):
            errors.append(f"{cmd}: exit {rc}: {j.get('error')}")
    ia, ir = a["isolation"], r["isolation"]
    if not ia["attacks"]:
        errors.append("the attacked run made no attack")
    for at in ia["attacks"]:
        print(f"  {at['name']:30} attempts {at['attempts']:4} refused {at['refused']:4} "
              f"effects {at['effects_on_victim']}")
        if at["attempts"] == 0 or at["refused"] != at["attempts"] or at["effects_on_victim"]:
            errors.append(f"attack {at['name']}: {at}")
    if ia["attempts_during_victim_traffic"] == 0:
        errors.append("no attack overlapped the victim's traffic")
    va, vr = ia["victim"], ir["victim"]
    for v, who in ((va, "attacked"), (vr, "reference")):
        c = v["completions"]
        if c["lost"] or c["duplicated"] or v["data_mismatches"] or v["errors"]:
            errors.append(f"{who} victim: {v}")
        if c["seen"] != c["expected"] or v["bytes_verified"] == 0:
            errors.append(f"{who} victim: {c['seen']} of {c['expected']} completions")
    for k in ("completion_digest", "data_digest", "bytes_verified"):
        if va[k] != vr[k]:
            errors.append(f"victim {k} differs: attacked {va[k]}, reference {vr[k]}")
    if va["completions"] != vr["completions"]:
        errors.append(f"victim completions differ: {va['completions']} vs {vr['completions']}")
    print(f"  victim digests {va['completion_digest']}/{va['data_digest']} (both runs)")
    return errors


def check_qos(sim, out_dir, seed, extra):
    errors = []
    rc, j, cmd = run(sim, out_dir, "qos", ["qos", "--seed", seed] + extra)
    common_fields(j, errors)
    q = j["qos"]
    for k in ("vfs", "jain_index"):
        if k not in q:
            errors.append(f"qos: missing {k}")
    for v in q["vfs"]:
        for k in ("name", "configured_share", "achieved_share", "cap_gbps", "achieved_gbps",
                  "max_window_gbps"):
            if k not in v:
                errors.append(f"qos.vfs[]: missing {k}")
    phases = {p["name"]: p for p in q["phases"]}
    for name in ("weights", "idle"):
        for v in phases[name]["vfs"]:
            if not v["busy"]:
                if v["achieved_share"] != 0:
                    errors.append(f"{name}: idle {v['name']} sent {v['achieved_share']}")
                continue
            want, got = v["configured_share"], v["achieved_share"]
            print(f"  {name:8} {v['name']}: configured {want:.4f} achieved {got:.4f}")
            if abs(got - want) > 0.02 * want:
                errors.append(f"{name}: {v['name']} share {got:.4f}, want {want:.4f} +- 2 %")
    cap_windows = None
    for v in phases["capped"]["vfs"]:
        if v["cap_gbps"] is None:
            continue
        cap = v["cap_gbps"]
        print(f"  capped   {v['name']}: cap {cap} Gb/s, average {v['achieved_gbps']:.3f}, "
              f"100 us windows {v['min_window_gbps']:.3f} .. {v['max_window_gbps']:.3f} "
              f"(target <= {1.01 * cap:.3f})")
        if abs(v["achieved_gbps"] - cap) > 0.01 * cap:
            errors.append(f"capped: {v['name']} average {v['achieved_gbps']:.3f}, cap {cap}")
        cap_windows = v["max_window_gbps"] <= 1.01 * cap
    if cap_windows is None:
        errors.append("capped phase has no capped VF")
    t = q["targets"]
    if t["cap_windows_within_1pct"] != cap_windows:
        errors.append("targets.cap_windows_within_1pct disagrees with the windows")
    # The scenario's exit status reflects every target.
    missed = [k for k, ok in t.items() if not ok]
    if (rc == 0) != (not missed):
        errors.append(f"{cmd}: exit {rc} but targets missed: {missed}")
    if j["completions"]["lost"] or j["completions"]["duplicated"] or j["data_mismatches"]:
        errors.append(f"qos traffic: {j['completions']}, mismatches {j['data_mismatches']}")
    if j["completions"]["errors"]:
        errors.append(f"qos traffic: {j['completions']['errors']} error completions")
    if not cap_windows:
        errors.append("capped: a 100 us window exceeds the cap by more than 1 %")
    return errors


def main():
    sim, out_dir, which, seed = sys.argv[1:5]
    extra = sys.argv[5:]
    os.makedirs(out_dir, exist_ok=True)
    errors = (check_isolation if which == "isolation" else check_qos)(sim, out_dir, seed, extra)
    for e in errors:
        print("FAIL:", e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
