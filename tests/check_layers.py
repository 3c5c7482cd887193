#!/usr/bin/env python3
"""The #include edges of lib/ follow the layer order of docs/architecture.md.

Reads the layout table of docs/architecture.md (rows "| `lib/<layer>/` |",
top to bottom) and every #include "<layer>/..." of every .c and .h file under
lib/. A file may include headers of its own layer and of the layers above
it; an edge to a layer below fails, as does a folder of lib/ that the table
does not list (its place would be unknown).

usage: check_layers.py [SOURCE_DIR]
"""

import os
import re
import sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
doc = os.path.join(root, "docs", "architecture.md")
lib = os.path.join(root, "lib")

with open(doc) as f:
    order = re.findall(r"^\| `lib/([a-z_]+)/` \|", f.read(), re.M)
if len(order) < 3:
    print("found only %d layers in the table of %s; the parser is out of date" % (len(order), doc))
    sys.exit(1)
rank = {name: i for i, name in enumerate(order)}
print("layers, top to bottom: " + " > ".join(order))

failures = []
folders = sorted(d for d in os.listdir(lib) if os.path.isdir(os.path.join(lib, d)))
for d in folders:
    if d not in rank:
        failures.append("lib/%s/ is not in the layer table of docs/architecture.md" % d)
edges = 0
for d in folders:
    for dirpath, _, files in os.walk(os.path.join(lib, d)):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            with open(path, errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = re.match(r'\s*#\s*include\s+"([a-z_]+)/', line)
                    if not m:
                        continue
                    target = m.group(1)
                    edges += 1
                    if target not in rank:
                        failures.append("%s:%d includes %s/, which is not a layer" % (rel, lineno, target))
                    elif d in rank and rank[target] > rank[d]:
                        failures.append("%s:%d: layer %s includes %s of the lower layer %s"
                                        % (rel, lineno, d, line.split("include", 1)[1].strip(), target))
print("%d include edges between lib/ folders checked" % edges)
for msg in failures:
    print("FAIL:", msg)
print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
sys.exit(1 if failures else 0)
