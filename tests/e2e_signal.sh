#!/usr/bin/env bash
# End to end: stopping a long scan by a signal never writes a wrong answer.
#
# A swarm of 6000 nodes, most of them dead or answering TCP only on a
# fallback port (443 or 80), is scanned with fallback ports 443,80, and
# stopped by SIGTERM, SIGINT or SIGHUP at random moments, once or twice.
# Every stop must:
#   - exit 3 (interrupted: results partial), never 0;
#   - leave the results file in place under its final name, no temporary or
#     lock file behind, every row whole;
#   - write more than none and fewer than all rows, each one right for its
#     node (tests/lib/check_results.py --partial): a probe the stop cut short
#     (an attempt, retry or fallback port not made) says `incomplete` and its
#     reach_class `incomplete`, never `filtered`/`closed`/`none`;
#   - say on stderr that the scan was interrupted.
# One stop lets the probes in flight run to their timeout; two stop at once.
# The bounds on how long the exit takes are generous (the machine may be
# busy): they tell "waits for the in-flight probes and stops" from "goes on
# scanning" and "hangs".
#
# Usage: bash tests/e2e_signal.sh /path/to/snprobe
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_signal "${1:-}"
cd "$TMP" || exit 1
e2e_lock_swarms

COUNT=6000
POP=$TMP/pop.csv
swarm_up "the swarm starts" "$POP" list.txt : 505 -- --count $COUNT \
    --mix dead=0.5,tcp-443-only=0.15,tcp-80-only=0.1,closed=0.1,udp-only=0.05

now_ms() { date +%s%3N; }

# interrupt NAME TIMEOUT_MS SIGNAL COUNT DELAY_S: starts a scan of list.txt at
# 2000 probes/s (far longer than this test), sends SIGNAL after DELAY_S
# seconds (COUNT times, 0.3 s apart), and sets RC and EXIT_MS (ms from the
# last signal to the exit).
interrupt() {
    local name=$1 timeout_ms=$2 sig=$3 count=$4 delay=$5 pid t0 i
    # A background job of a script ignores SIGINT unless it sets its own
    # handler; snprobe must (libuv's uv_signal_start does).
    "$SNPROBE" scan --no-rdns --allow 127.0.0.0/8 --rate 2000 --timeout "$timeout_ms" --retries 1 \
        --fallback-ports 443,80 -o "$name.csv" list.txt >"$name.out" 2>"$name.err" &
    pid=$!
    sleep "$delay"
    for ((i = 0; i < count; i++)); do
        [ "$i" -gt 0 ] && sleep 0.3
        kill -"$sig" "$pid"
    done
    t0=$(now_ms)
    # Wait at most 60 s, then kill it: a hang is a failure, not a stuck test.
    for ((i = 0; i < 600; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
    fi
    wait "$pid"
    RC=$?
    EXIT_MS=$(($(now_ms) - t0))
}

# Whole rows, right for what they report or incomplete, more than none, fewer than all.
check_partial() {
    local name=$1
    check "$name: the results file is in place" [ -f "$name.csv" ]
    local left
    left=$(ls -A | grep "^\.$name\.csv\.\|^$name\.csv\.lock" | tr '\n' ' ')
    check "$name: no temporary or lock file is left (${left:-none})" [ -z "$left" ]
    local n
    n=$(python3 - "$name.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
if not rows:
    print("empty"); sys.exit()
width = len(rows[0])
short = [i + 1 for i, r in enumerate(rows) if len(r) != width]
print(f"ragged lines {short[:5]}" if short else len(rows) - 1)
EOF
)
    is_count() { [[ "$1" =~ ^[0-9]+$ ]]; }
    check "$name: every row has every column ($n rows)" is_count "$n"
    if [[ "$n" =~ ^[0-9]+$ ]]; then
        between() { [ "$1" -gt 0 ] && [ "$1" -lt "$COUNT" ]; }
        check "$name: some rows but not all ($n of $COUNT)" between "$n"
    fi
    if python3 "$LIB/check_results.py" "$POP" "$name.csv" --partial >"$name.check"; then
        ok "$name: every row is right or incomplete: $(tail -1 "$name.check")"
    else
        fail "$name: every row is right or incomplete"
        cat "$name.check"
    fi
    check "$name: the summary says the scan was interrupted" grep -qi "interrupt" "$name.err"
    # Read back (reports/resultsin.c): the incomplete rows are counted apart
    # and in no denominator.
    if "$SNPROBE" report --summary "$name.sum.csv" "$name.csv" 2>"$name.report.err" &&
        python3 - "$name.csv" "$name.sum.csv" >"$name.sum.check" <<'EOF'; then
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
m = {r["metric"]: r["value"] for r in csv.DictReader(open(sys.argv[2], newline=""))}
inc = sum(1 for r in rows if r["reach_class"] == "incomplete")
want = {"incomplete": inc, "probed": len(rows) - inc}
bad = {k: (m.get(k), v) for k, v in want.items() if m.get(k) != str(v)}
print(f"incomplete {inc}, probed {len(rows) - inc}" if not bad else f"mismatch {bad}")
sys.exit(1 if bad else 0)
EOF
        ok "$name: read back, the summary counts them apart: $(cat "$name.sum.check")"
    else
        fail "$name: read back, the summary counts the incomplete rows apart"
        cat "$name.sum.check" "$name.report.err"
    fi
}

# Random moments, reproducible from the seed printed here.
SEED=${E2E_SEED:-$(date +%s)}
RANDOM=$SEED
log "stop moments drawn with seed $SEED (E2E_SEED=$SEED to repeat)"
moment() { echo "$((1 + RANDOM % 4)).$((RANDOM % 10))"; }

# --- one signal: in-flight probes (timeout 1 s, one retry) finish, then exit ---
k=0
for sig in TERM TERM INT HUP; do
    k=$((k + 1))
    at=$(moment)
    interrupt "one$k" 1000 "$sig" 1 "$at"
    check "one SIG$sig at ${at} s: exit status 3 (got $(rc_text $RC))" [ "$RC" -eq 3 ]
    check "one SIG$sig: exits within the probe timeout and a margin (${EXIT_MS} ms; bound 8000)" \
        [ "$EXIT_MS" -lt 8000 ]
    check_partial "one$k"
done

# --- two signals: probes in flight (timeout 20 s here) end at once ---
for k in 1 2; do
    at=$(moment)
    interrupt "two$k" 20000 TERM 2 "$at"
    check "two SIGTERMs at ${at} s: exit status 3 (got $(rc_text $RC))" [ "$RC" -eq 3 ]
    check "two SIGTERMs: exit at once, not after the 20 s probe timeout (${EXIT_MS} ms; bound 5000)" \
        [ "$EXIT_MS" -lt 5000 ]
    check_partial "two$k"
done

swarm_stop
check "the swarm stops cleanly (exit $(rc_text $SWARM_RC))" [ "$SWARM_RC" -eq 0 ]
[ "$E2E_FAILS" -eq 0 ] || show one1.err two1.err

e2e_finish
