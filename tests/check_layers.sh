#!/usr/bin/env bash
# The house rule, checked: every project include points down to a room the including
# room may use, and no headers include each other in a circle.
#
# The rooms and what each may include (the README's architecture section):
#   lib      nothing          probes   lib               data    lib
#   scanner  lib probes data  reports  lib data probes
#   lab      everything above cli      everything
# tests/ and bench/ may include any room.
#
# Includes that still point up today are listed in tests/layers.allow, one
# "file -> header" per line with the reason; the check fails on any upward include not
# listed there, and on a listed one that no longer exists, so the list only shrinks.
#
# usage: tests/check_layers.sh [SOURCE_DIR]   (default: the repository this script is in)
set -euo pipefail

src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
command -v python3 >/dev/null || { echo "check_layers: python3 is missing" >&2; exit 77; }

exec python3 - "$src" <<'EOF'
import os, re, sys

src = sys.argv[1]
allowed = {
    "lib": set(),
    "probes": {"lib"},
    "data": {"lib"},
    "scanner": {"lib", "probes", "data"},
    "reports": {"lib", "data", "probes"},
    "lab": {"lib", "probes", "data", "scanner", "reports"},
    "cli": {"lib", "probes", "data", "scanner", "reports", "lab"},
}
inc_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"')

files = []
for room in allowed:
    d = os.path.join(src, room)
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d)):
        if name.endswith((".c", ".h")):
            files.append(f"{room}/{name}")

problems = []
if not files:
    problems.append(f"no room with sources under {src}")
edges = {}  # header -> headers it includes
found = set()
for f in files:
    room = f.split("/", 1)[0]
    with open(os.path.join(src, f), encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            m = inc_re.match(line)
            if not m:
                continue
            inc = m.group(1)
            parts = inc.split("/")
            if len(parts) != 2 or parts[0] not in allowed:
                problems.append(f"{f}:{lineno}: include \"{inc}\" is not of the form \"room/file.h\"")
                continue
            if not os.path.isfile(os.path.join(src, inc)):
                problems.append(f"{f}:{lineno}: include \"{inc}\" names no file")
                continue
            target = parts[0]
            if target != room and target not in allowed[room]:
                found.add((f, inc))
            if f.endswith(".h"):
                edges.setdefault(f, []).append(inc)

listed = {}
allow_path = os.path.join(src, "tests", "layers.allow")
if os.path.exists(allow_path):
    with open(allow_path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            m = re.match(r"^(\S+)\s*->\s*(\S+)$", line)
            if not m:
                problems.append(f"tests/layers.allow:{lineno}: not \"file -> header\"")
                continue
            listed[(m.group(1), m.group(2))] = lineno

for f, inc in sorted(found - set(listed)):
    room, target = f.split("/", 1)[0], inc.split("/", 1)[0]
    problems.append(f"{f}: includes {inc}: {room}/ may not use {target}/ "
                    f"(it may use: {', '.join(sorted(allowed[room])) or 'nothing'})")
for key in sorted(set(listed) - found):
    problems.append(f"tests/layers.allow:{listed[key]}: {key[0]} -> {key[1]} no longer "
                    "points up: remove the line")

# Circles among headers: a depth-first walk that meets a header still on its path.
state = {}
def walk(h, path):
    state[h] = 1
    path.append(h)
    for n in edges.get(h, []):
        if state.get(n) == 1:
            problems.append("include circle: " + " -> ".join(path[path.index(n):] + [n]))
        elif n not in state:
            walk(n, path)
    path.pop()
    state[h] = 2
for h in sorted(edges):
    if h not in state:
        walk(h, [])

for p in problems:
    print("check_layers: " + p, file=sys.stderr)
print(f"check_layers: {len(files)} files, {len(found)} upward includes "
      f"({len(listed)} listed in tests/layers.allow), {len(problems)} problems")
sys.exit(1 if problems else 0)
EOF
