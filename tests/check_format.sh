#!/usr/bin/env bash
# The tree is clang-format clean: every C source and header the repository tracks is
# formatted by the .clang-format at its root. Prints the files that are not, and how to fix
# them (clang-format -i FILE...). Skips (77) where clang-format is missing.
#
# usage: tests/check_format.sh [SOURCE_DIR]   (default: the repository this script is in)
set -euo pipefail

src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
command -v clang-format >/dev/null || { echo "check_format: clang-format is missing" >&2; exit 77; }
cd "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.h')
else
  mapfile -t files < <(find . -path ./build\* -prune -o \( -name '*.c' -o -name '*.h' \) -print)
fi
bad=()
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "check_format: ${#bad[@]} of ${#files[@]} files are not clang-format clean:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "check_format: fix with: clang-format -i ${bad[*]}" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files clean"
