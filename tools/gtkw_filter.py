"""Prints a GTKWave save file keeping only the signal rows whose name matches one of the globs.

Usage: gtkw_filter.py SAVE.gtkw 'GLOB[,GLOB...]' [UNMATCHED_FILE]
A signal row is preceded by its [color] and @flags lines, which go with it. Group rows (flags
800200 open, 1000200 close) are kept only when the group keeps a signal. Globs match the full
name without the bit range. Exits 1, printing nothing, when no signal matches. The globs that
matched no row of the save file are written, comma-separated, to UNMATCHED_FILE if given (the
caller adds those from the dump itself).
"""
import fnmatch
import re
import sys


def main():
    path, patterns = sys.argv[1], [p.strip() for p in sys.argv[2].split(",") if p.strip()]
    head, body, pending = [], [], []
    group = None
    kept = 0
    used = set()
    in_body = False
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("@") or line.startswith("[color]"):
            in_body = True
            pending.append(line)
            continue
        if not in_body:
            head.append(line)
            continue
        if line.startswith("-"):
            flags = next((p for p in pending if p.startswith("@")), "")
            if flags == "@800200":
                group = {"open": pending + [line], "rows": []}
            elif flags == "@1000200" and group is not None:
                if group["rows"]:
                    body += group["open"] + group["rows"] + pending + [line]
                group = None
            pending = []
            continue
        if line.startswith("["):
            body.append(line)
            continue
        bare = re.sub(r"\[[0-9]+:[0-9]+\]$", "", line)
        hits = [p for p in patterns if fnmatch.fnmatchcase(bare, p)]
        used.update(hits)
        if hits:
            rows = pending + [line]
            kept += 1
            if group is not None:
                group["rows"] += rows
            else:
                body += rows
        pending = []
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w") as f:
            f.write(",".join(p for p in patterns if p not in used))
    if kept == 0:
        sys.exit(1)
    print("\n".join(head + body))


main()
