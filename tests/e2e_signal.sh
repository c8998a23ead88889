#!/usr/bin/env bash
# End to end: Ctrl-C during a long scan. The first SIGINT stops sending, lets
# the probes in flight run to their timeout, writes what was measured and
# exits 0: the results file is in place (renamed from its .tmp), every row
# is whole and right for what it reports, there are more than none and fewer
# than all, and the summary says the scan was interrupted. A second SIGINT
# ends the probes in flight at once.
#
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
if ! pop_swarm "$POP" list.txt : 505 -- --count $COUNT --mix dead=0.9; then
    fail "the swarm starts"
    e2e_finish
fi
ok "swarm ready: $(cat pop.out)"

now_ms() { date +%s%3N; }

# interrupt NAME TIMEOUT_MS SIGNALS: starts a scan of list.txt at 2000 probes/s
# (far longer than this test), sends SIGINT after 3 s (twice, 0.3 s apart, if
# SIGNALS is 2), and sets RC and EXIT_MS (ms from the last SIGINT to the exit).
interrupt() {
    local name=$1 timeout_ms=$2 signals=$3 pid t0 i
    # A background job of a script ignores SIGINT unless it sets its own
    # handler; snprobe must (libuv's uv_signal_start does).
    "$SNPROBE" scan --no-rdns --allow 127.0.0.0/8 --rate 2000 --timeout "$timeout_ms" --retries 1 \
        -o "$name.csv" list.txt >"$name.out" 2>"$name.err" &
    pid=$!
    sleep 3
    kill -INT "$pid"
    if [ "$signals" = 2 ]; then
        sleep 0.3
        kill -INT "$pid"
    fi
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

# Whole rows, right for what they report, more than none, fewer than all.
check_partial() {
    local name=$1
    check "$name: the results file is in place" [ -f "$name.csv" ]
    check "$name: no .tmp file is left" [ ! -e "$name.csv.tmp" ]
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
        ok "$name: rows are right for what they report: $(tail -1 "$name.check")"
    else
        fail "$name: rows are right for what they report"
        cat "$name.check"
    fi
    check "$name: the summary says the scan was interrupted" grep -qi "interrupt" "$name.err"
}

# --- one SIGINT: in-flight probes (timeout 1 s, one retry) finish, then exit ---
interrupt first 1000 1
check "one SIGINT: exit status 0 (got $(rc_text $RC))" [ "$RC" -eq 0 ]
check "one SIGINT: exits within the probe timeout and a margin (${EXIT_MS} ms; bound 8000)" \
    [ "$EXIT_MS" -lt 8000 ]
check_partial first

# --- two SIGINTs: probes in flight (timeout 20 s here) end at once ---
interrupt second 20000 2
check "two SIGINTs: exit status 0 (got $(rc_text $RC))" [ "$RC" -eq 0 ]
check "two SIGINTs: exits at once, not after the 20 s probe timeout (${EXIT_MS} ms; bound 5000)" \
    [ "$EXIT_MS" -lt 5000 ]
check_partial second

swarm_stop
check "the swarm stops cleanly (exit $(rc_text $SWARM_RC))" [ "$SWARM_RC" -eq 0 ]
[ "$E2E_FAILS" -eq 0 ] || show first.err second.err

e2e_finish
