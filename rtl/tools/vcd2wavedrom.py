#!/usr/bin/env python3
"""Turns a window of a Verilator VCD into a WaveDrom timing diagram (JSON), so that the interface
timing pictures of docs/rtl.md are drawn from the RTL's real behaviour, not by hand.

Usage: vcd2wavedrom.py DUMP.vcd --clock top.clk_i --from T0 --cycles N --title TEXT
                       SIGNAL[=LABEL] ... > diagram.json
Signals are full VCD names (scope.name). One-bit signals become waves (0/1); wider ones become
data lanes showing their value in hex (or in decimal with a trailing :d, e.g. top.x:d). Values
are sampled just before each rising edge of the clock (what the edge takes). T0 is the time of
the first rising edge shown. Render with: wavedrom-cli -i diagram.json -s diagram.svg
"""
import argparse
import json
import sys


def parse_vcd(path, wanted):
    codes = {}      # id code -> list of wanted names
    scope = []
    changes = {n: [] for n in wanted}  # name -> [(time, value)]
    t = 0
    with open(path, encoding="ascii", errors="replace") as f:
        in_defs = True
        for line in f:
            tok = line.split()
            if not tok:
                continue
            if in_defs:
                if tok[0] == "$scope":
                    scope.append(tok[2])
                elif tok[0] == "$upscope":
                    scope.pop()
                elif tok[0] == "$var":
                    name = ".".join(scope + [tok[4]])
                    if name in changes:
                        codes.setdefault(tok[3], []).append(name)
                elif tok[0] == "$enddefinitions":
                    in_defs = False
                continue
            c = tok[0]
            if c[0] == "#":
                t = int(c[1:])
            elif c[0] in "01xz":
                for n in codes.get(c[1:], []):
                    changes[n].append((t, c[0]))
            elif c[0] == "b":
                for n in codes.get(tok[1], []):
                    changes[n].append((t, c[1:]))
    missing = [n for n in wanted if not changes[n]]
    if missing:
        sys.exit(f"vcd2wavedrom: not in the VCD (or never set): {', '.join(missing)}")
    return changes


def value_at(ch, t):
    v = None
    for (tt, vv) in ch:
        if tt >= t:
            break
        v = vv
    return v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vcd")
    ap.add_argument("--clock", required=True)
    ap.add_argument("--from", dest="t0", type=int, required=True)
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--title", default="")
    ap.add_argument("signals", nargs="+")
    a = ap.parse_args()
    specs = []
    for s in a.signals:
        name, _, label = s.partition("=")
        dec = name.endswith(":d")
        name = name[:-2] if dec else name
        specs.append((name, label or name.split(".")[-1], dec))
    ch = parse_vcd(a.vcd, [a.clock] + [n for n, _, _ in specs])
    rises = [t for (t, v) in ch[a.clock] if v == "1" and t >= a.t0][: a.cycles]
    lanes = [{"name": a.clock.split(".")[-1], "wave": "p" + "." * (len(rises) - 1)}]
    for name, label, dec in specs:
        wave, data, last = "", [], None
        one_bit = all(len(v) == 1 for _, v in ch[name])
        for t in rises:
            v = value_at(ch[name], t) or "x"
            if one_bit:
                wave += "." if v == last else v
            else:
                if v == last:
                    wave += "."
                else:
                    wave += "="
                    if "x" in v:
                        data.append("x")
                    else:
                        n = int(v, 2)
                        data.append(str(n) if dec else hex(n))
            last = v
        lane = {"name": label, "wave": wave}
        if data:
            lane["data"] = data
        lanes.append(lane)
    out = {"signal": lanes, "config": {"hscale": 1}}
    if a.title:
        out["head"] = {"text": a.title, "tick": 0}
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
