#!/usr/bin/env python3
"""Replaces the listing of examples/rc_pingpong.cpp in docs/consumer-api.md with the file.

The listing sits after the line "<!-- listing: examples/rc_pingpong.cpp -->" in a ```cpp fence;
the test examples.consumer_api_doc_matches_rc_pingpong fails when the two differ.
"""
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
doc = root / "docs" / "consumer-api.md"
name = "examples/rc_pingpong.cpp"
marker = f"<!-- listing: {name} -->\n```cpp\n"
text = doc.read_text()
src = (root / name).read_text()
at = text.find(marker)
if at < 0:
    text = text.rstrip("\n") + "\n\n" + marker + src + "```\n"
else:
    start = at + len(marker)
    end = text.find("\n```\n", start)
    if end < 0:
        sys.exit(f"{doc}: the listing of {name} is not closed")
    text = text[:start] + src + text[end + 1:]
doc.write_text(text)
