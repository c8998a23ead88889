#!/usr/bin/env bash
# The whole test suite: install what is missing, then build and run every test
# twice through CTest: a plain -Werror build, and one with AddressSanitizer and
# UndefinedBehaviorSanitizer; then a short libFuzzer run of every harness with
# a coverage floor (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --test
jobs=$(nproc)
for variant in plain asan; do
  dir=build-test-$variant
  flags=(-DCMAKE_BUILD_TYPE=Release -DSN_WERROR=ON) # the flags the demo is built with
  [ $variant = asan ] && flags+=(-DSN_SANITIZE=ON)
  echo "== $variant build" >&2
  cmake -S . -B "$dir" "${flags[@]}" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
  echo "== $variant tests" >&2
  (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure -j"$jobs" --timeout 900)
done
echo "== fuzz (15 s per harness, two at a time)" >&2
bash scripts/fuzz.sh 15
