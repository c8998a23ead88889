#!/usr/bin/env bash
# End to end: the history store under a real scan of a swarm.
#  1. A clean scan --history records one complete run whose `history
#     results` are byte for byte the -o results file.
#  2. Crash: a scan of $COUNT targets is killed with SIGKILL at random
#     moments, three times, each time continued with --resume, then resumed
#     to the end. The run's results hold every target exactly once, each
#     classified as the population prescribes (check_results.py), and each
#     with the reach class of the clean run; `history runs` shows one run,
#     complete.
#  3. Lock: while a scan writes a history, a second scan on it exits 5 at
#     once naming the first one's pid, and `history runs` reads alongside.
#  4. SIGTERM: exit 3, the run is interrupted, and everything written to the
#     results file is in the history.
#
# Usage: bash tests/e2e_history.sh /path/to/snprobe
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_history "${1:-}"
cd "$TMP" || exit 1
e2e_lock_swarms

COUNT=${E2E_HISTORY_COUNT:-50000}
POP=$TMP/pop.csv
swarm_up "the swarm starts" "$POP" list.txt : 1201 -- --count "$COUNT" --mix dead=0.2,tcp-only=0.1,udp-only=0.1,closed=0.05

RESUME=("$SNPROBE" scan --no-rdns --allow 127.0.0.0/8 --timeout 300 --retries 1) # says what it resumes
SCAN=("${RESUME[@]}" -q)

# 1. clean run
limit 300 "${SCAN[@]}" --rate 0 --history clean.db -o clean.csv list.txt 2>clean.err
rc=$?
check "clean scan exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
limit 60 "$SNPROBE" history results --history clean.db -o clean-hist.csv
check "history results equal the scan's results file" cmp -s clean.csv clean-hist.csv
if python3 "$LIB/check_results.py" "$POP" clean.csv --retries 1 --quiet >check-clean.txt 2>&1; then
    ok "clean run classified as the population says"
else
    fail "clean run classified as the population says"
    show check-clean.txt
fi

# 2. crash and resume
kills=0
# Started directly (not under `limit`), so that $! is snprobe itself.
"${SCAN[@]}" --rate 5000 --history crash.db -o /dev/null list.txt 2>crash0.err &
pid=$!
sleep "$(python3 -c 'import random; print(round(random.uniform(0.8, 2.5), 2))')"
kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
wait "$pid" 2>/dev/null
for i in 1 2; do
    "${RESUME[@]}" --rate 5000 --history crash.db --resume -o /dev/null list.txt 2>"crash$i.err" &
    pid=$!
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.8, 2.0), 2))')"
    kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
    wait "$pid" 2>/dev/null
done
limit 300 "${RESUME[@]}" --rate 0 --history crash.db --resume -o /dev/null list.txt 2>crash3.err
rc=$?
check "final --resume exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
check "killed mid-scan 3 times (got $kills)" [ "$kills" -eq 3 ]
log "resumes: $(grep -ho 'resuming run.*' crash[123].err | tr '\n' ';')"
"$SNPROBE" history runs --history crash.db >crash-runs.csv
check "one run, complete" [ "$(tail -n +2 crash-runs.csv | cut -d, -f4 | tr '\n' ' ')" = "complete " ]
"$SNPROBE" history results --history crash.db -o crash.csv
rows=$(($(wc -l <crash.csv) - 1))
distinct=$(tail -n +2 crash.csv | cut -d, -f1,2 | sort -u | wc -l)
log "resumed run: $rows rows, $distinct distinct targets, $COUNT in the list"
check "every target exactly once ($rows rows, $distinct distinct, $COUNT targets)" \
    [ "$rows" -eq "$COUNT" ] && [ "$distinct" -eq "$COUNT" ]
if python3 "$LIB/check_results.py" "$POP" crash.csv --retries 1 --quiet >check-crash.txt 2>&1; then
    ok "resumed run classified as the population says"
else
    fail "resumed run classified as the population says"
    show check-crash.txt
fi
same_class() {
    python3 - "$1" "$2" <<'EOF'
import csv, sys
def load(p):
    with open(p, newline="") as f:
        return {(r["address"], r["port"]): r["reach_class"] for r in csv.DictReader(f)}
a, b = load(sys.argv[1]), load(sys.argv[2])
diff = [k for k in a if a[k] != b.get(k)]
print(f"{len(diff)} targets differ of {len(a)}")
sys.exit(0 if not diff and len(a) == len(b) else 1)
EOF
}
check "resumed run's reach classes equal the clean run's" same_class clean.csv crash.csv

# 3. the lock, and a reader alongside
"${SCAN[@]}" --rate 3000 --history lock.db -o lock.csv list.txt 2>lock1.err &
pid=$!
for ((i = 0; i < 100; i++)); do
    [ -s lock.db.lock ] && [ -f lock.db ] && break
    sleep 0.05
done
sleep 0.3
limit 20 "${SCAN[@]}" --history lock.db -o /dev/null list.txt 2>lock2.err
rc=$?
check "a second writer exits 5 (got $(rc_text $rc))" [ "$rc" -eq 5 ]
check "its message names the holder's pid $pid" grep -q "pid $pid" lock2.err
limit 20 "$SNPROBE" history runs --history lock.db >lock-runs.csv 2>lock-runs.err
rc=$?
check "a reader runs alongside the writer (got $(rc_text $rc))" [ "$rc" -eq 0 ]
grep -q ",running," lock-runs.csv || { fail "the reader sees the run running"; show lock-runs.csv; }

# 4. SIGTERM on that scan, once it is probing (its handlers are in place by then: a slow
# sanitizer build may still be reading its inputs when the lock and the run row appear)
for ((i = 0; i < 200; i++)); do
    "$SNPROBE" history results --history lock.db -o lock-probe.csv 2>/dev/null &&
        [ "$(wc -l <lock-probe.csv)" -gt 1 ] && break
    sleep 0.05
done
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM: exit 3 (got $(rc_text $rc))" [ "$rc" -eq 3 ]
"$SNPROBE" history runs --history lock.db >lock-runs.csv
check "SIGTERM: the run is interrupted" grep -q ",interrupted," lock-runs.csv
"$SNPROBE" history results --history lock.db -o lock-hist.csv
written=$(($(wc -l <lock.csv) - 1))
stored=$(($(wc -l <lock-hist.csv) - 1))
check "SIGTERM: all $written measured rows are in the history ($stored)" \
    [ "$written" -eq "$stored" ] && [ "$written" -gt 0 ]
check "SIGTERM: the same rows" cmp -s <(sort lock.csv) <(sort lock-hist.csv)

swarm_stop
e2e_finish
