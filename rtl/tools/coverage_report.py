#!/usr/bin/env python3
"""Summarizes a Verilator coverage.dat: line coverage (line and branch points), toggle coverage,
and the hit count of every user cover point (SystemVerilog `cover property`).

Each record of the file is  C '<key><value>...' <count>  where keys and values are separated by
\\x01 and \\x02; key 'page' starts with v_line/, v_branch/, v_toggle/ or v_user/, 'f' is the file,
'l' the line, 'o' the point's name ('c' its comment).
Exit status 1 when line coverage is below --min-line or a cover point has no hit.
"""
import argparse
import collections
import re
import sys


def records(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^C '(.*)' (\d+)\s*$", line)
            if not m:
                continue
            fields = {}
            for part in m.group(1).split("\x01"):
                if "\x02" in part:
                    k, v = part.split("\x02", 1)
                    fields[k] = v
            yield fields, int(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dat")
    ap.add_argument("--min-line", type=float, default=95.0)
    ap.add_argument("--report")
    args = ap.parse_args()

    total = collections.Counter()
    hit = collections.Counter()
    user = {}
    missed_lines = []
    for r, count in records(args.dat):
        page = r.get("page", "")
        kind = page.split("/", 1)[0].replace("v_", "")
        total[kind] += 1
        hit[kind] += count > 0
        where = f"{r.get('f', '?')}:{r.get('l', '?')}"
        if kind == "user":
            # Hierarchy below the model's instance name (which each testbench picks), so that
            # the same point of every run adds up.
            hier = r.get("h", "").lstrip(".").split(".", 1)
            name = hier[1] if len(hier) == 2 else (r.get("o") or where)
            user[name] = user.get(name, 0) + count
        elif kind in ("line", "branch") and count == 0:
            missed_lines.append(f"{where} {r.get('o', '')}")

    def pct(kinds):
        t = sum(total[k] for k in kinds)
        h = sum(hit[k] for k in kinds)
        return (100.0 * h / t if t else 0.0), h, t

    line_pct, lh, lt = pct(["line", "branch"])
    tog_pct, th, tt = pct(["toggle"])
    out = [f"line coverage:   {line_pct:6.2f}% ({lh}/{lt} line and branch points)",
           f"toggle coverage: {tog_pct:6.2f}% ({th}/{tt} points)",
           f"cover points ({len(user)}):"]
    for name in sorted(user):
        out.append(f"  {user[name]:>10}  {name}")
    if missed_lines:
        out.append("line/branch points never hit:")
        out.extend(f"  {m}" for m in missed_lines)
    text = "\n".join(out)
    print(text)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    ok = True
    if line_pct < args.min_line:
        print(f"FAIL: line coverage {line_pct:.2f}% is below {args.min_line}%", file=sys.stderr)
        ok = False
    unhit = [n for n, c in user.items() if c == 0]
    if not user:
        print("FAIL: no cover points found (was the model built with --coverage?)",
              file=sys.stderr)
        ok = False
    for n in unhit:
        print(f"FAIL: cover point never hit: {n}", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
