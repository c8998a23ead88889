#!/usr/bin/env bash
# Short libFuzzer run of every harness, as CI does it: builds the fuzz copy of the
# library with clang (coverage instrumentation + ASan/UBSan), runs each
# tests/fuzz/fuzz_<parser> for a fixed time starting from its checked-in corpus,
# and fails if a harness crashes, hangs, or ends below its coverage floor in
# tests/fuzz/floors.txt (a floor catches a build that goes blind again: without
# coverage instrumentation of the library a harness stays at cov: 2-3).
#   scripts/fuzz.sh [SECONDS_PER_HARNESS] [HARNESS...]
# A crashing or hanging input is copied into tests/fuzz/corpus/<parser>/ so that
# the CTest replay keeps it once it is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
shift || true
dir=build-fuzz
floors=tests/fuzz/floors.txt
CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSN_WERROR=ON -DSN_FUZZ=ON \
  -DSN_TESTS=ON >/dev/null
cmake --build "$dir" -j"$(nproc)" --target fuzzers >/dev/null

if [ $# -gt 0 ]; then
  harnesses=("$@")
else
  harnesses=()
  for f in tests/fuzz/fuzz_*.c; do
    n=$(basename "$f" .c)
    harnesses+=("${n#fuzz_}")
  done
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_one() { # parser: fuzz from a scratch copy of the corpus, log to $work/<parser>.log
  local p=$1 corpus=$work/corpus-$1
  mkdir -p "$corpus" "$work/art-$p"
  cp tests/fuzz/corpus/"$p"/* "$corpus"/ 2>/dev/null || true
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp \
    "$dir/tests/fuzz_$p" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/art-$p/" "$corpus" >"$work/$p.log" 2>&1
  echo $? >"$work/$p.rc"
}

# Two harnesses at a time: CI has two cores.
par=$(($(nproc) >= 2 ? 2 : 1))
running=0
for p in "${harnesses[@]}"; do
  run_one "$p" &
  running=$((running + 1))
  if [ "$running" -ge "$par" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

fail=0
printf '%-12s %10s %6s %6s  %s\n' harness execs cov floor verdict
for p in "${harnesses[@]}"; do
  log=$work/$p.log
  rc=$(cat "$work/$p.rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" 2>/dev/null | tail -1 | awk '{print $2}' || true)
  floor=$(awk -v p="$p" '$1 == p {print $2}' "$floors" 2>/dev/null)
  verdict=ok
  if [ "$rc" != 0 ]; then
    verdict="FAILED (exit $rc)"
    for a in "$work/art-$p"/*; do
      [ -f "$a" ] || continue
      cp "$a" tests/fuzz/corpus/"$p"/
      verdict="$verdict, kept tests/fuzz/corpus/$p/$(basename "$a")"
    done
    grep -m5 -E 'ERROR|SUMMARY|runtime error' "$log" >&2 || true
    fail=1
  elif [ -z "$floor" ]; then
    verdict="FAILED (no floor in $floors)"
    fail=1
  elif [ -z "$cov" ] || [ "$cov" -lt "$floor" ]; then
    verdict="FAILED (coverage below floor: is the library instrumented?)"
    fail=1
  fi
  printf '%-12s %10s %6s %6s  %s\n' "$p" "${execs:-?}" "${cov:-?}" "${floor:-?}" "$verdict"
done
exit $fail
