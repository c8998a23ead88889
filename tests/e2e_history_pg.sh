#!/usr/bin/env bash
# End to end: the PostgreSQL history backend under real scans (issue 13), on a
# server of the test's own (tests/lib/pg.sh: unix socket only, in $TMP).
#  1. scan --history postgresql://... records a complete run whose `history
#     results` are byte for byte the -o results file (as with SQLite).
#  2. Four shards write the server at the same time: every scan exits 0,
#     their union equals the unsharded scan target by target, and `history
#     results --run N` of any shard is that union.
#  3. The server is stopped (immediate: a crash) for 10 s in the middle of a
#     scan: the scan goes on, spools, reconnects and exits 0; the run's rows
#     in the history equal its results file: nothing lost, nothing doubled.
#  4. A password in the URI is refused, and the message does not show it.
#  5. history import moves a SQLite history (a plain run and a sharded night)
#     into an empty PostgreSQL database: the same runs, the same results.
#
# Usage: bash tests/e2e_history_pg.sh /path/to/snprobe
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_history_pg "${1:-}"
source "$LIB/pg.sh"
trap 'pg_stop; e2e_cleanup' EXIT
cd "$TMP" || exit 1
pg_start "$TMP"
rc=$?
if [ "$rc" -eq 77 ]; then
    echo "$NAME: skip: PostgreSQL is not installed (bash scripts/deps.sh --test installs postgresql)"
    exit 77
fi
[ "$rc" -eq 0 ] || { fail "the PostgreSQL server starts"; show "$PG_DIR/log"; e2e_finish; }
ok "PostgreSQL server on $PG_DIR/sock"
e2e_lock_swarms

COUNT=${E2E_HISTORY_PG_COUNT:-2000}
POP=$TMP/pop.csv
swarm_up "the swarm starts" "$POP" list.txt : 1401 -- --count "$COUNT" --mix dead=0.2,tcp-only=0.1,udp-only=0.1,closed=0.05
SCAN=("$SNPROBE" scan -q --no-rdns --allow 127.0.0.0/8 --timeout 400 --retries 2 --seed 5)

# 1. one run
limit 300 "${SCAN[@]}" --rate 2000 --history "$PG_URI" -o one.csv list.txt 2>one.err
rc=$?
check "scan --history postgresql:// exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ] || show one.err
limit 60 "$SNPROBE" history results --history "$PG_URI" -o one-hist.csv 2>hist.err
check "history results equal the scan's results file" cmp -s one.csv one-hist.csv || show hist.err
limit 60 "$SNPROBE" history runs --history "$PG_URI" -o runs1.csv
check "history runs shows the run complete" grep -q "^1,.*,complete," runs1.csv

# 2. four shards at once
scan_shards "four shards wrote one PostgreSQL history at the same time" list.txt \
    "${SCAN[@]}" --rate 1000 --site lab --night n1 --history "$PG_URI"
check_union "the shards' union equals the unsharded scan" union.txt one.csv s1.csv s2.csv s3.csv s4.csv
limit 60 "$SNPROBE" history runs --history "$PG_URI" -o runs2.csv
run2=$(grep ",2/4,n1\$" runs2.csv | cut -d, -f1)
limit 60 "$SNPROBE" history results --history "$PG_URI" --run "${run2:-0}" -o night.csv
check_union "history results --run $run2 is the union of the four shards" night.txt \
    night.csv s1.csv s2.csv s3.csv s4.csv
check "the targets are shared rows: $COUNT of them, not one per run" \
    [ "$(pg_psql -c 'SELECT count(*) FROM targets')" -eq "$COUNT" ]

# 3. the server away for 10 s in the middle of a scan
"${SCAN[@]}" --rate 150 --site away --history "$PG_URI" -o away.csv list.txt 2>away.err &
pid=$!
sleep 3
pg_kill
ok "server stopped (immediate) 3 s into the scan"
sleep 10
check "the scan keeps going while the server is away" kill -0 "$pid"
pg_restart || { fail "the server restarts"; show "$PG_DIR/log"; }
ok "server back after 10 s"
for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
wait "$pid"
rc=$?
check "the scan exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ] || show away.err
spooled=$(grep -o '[0-9]* rows spooled' away.err | cut -d' ' -f1)
check "it spooled while the server was away (${spooled:-0} rows) and says so" [ "${spooled:-0}" -gt 0 ]
check "no spool file is left behind" [ ! -e away.csv.history-spool ]
limit 60 "$SNPROBE" history runs --history "$PG_URI" -o runs3.csv
run3=$(grep ",away," runs3.csv | cut -d, -f1)
limit 60 "$SNPROBE" history results --history "$PG_URI" --run "${run3:-0}" -o away-hist.csv
rows=$(($(wc -l <away.csv) - 1))
hrows=$(($(wc -l <away-hist.csv) - 1))
check "nothing lost: the history has the results file's $rows rows (has $hrows)" [ "$rows" -eq "$hrows" ]
check "nothing changed: the history's rows are the results file's" python3 "$LIB/shards.py" same away.csv away-hist.csv
echo "$NAME: server away 10 s: rows $rows, spooled ${spooled:-0}, lost $((rows - hrows))"

# 4. no password on the command line
bad_uri="postgresql://snprobe:hunter2secret@/snprobe?host=$PG_DIR/sock"
limit 20 "$SNPROBE" history runs --history "$bad_uri" >/dev/null 2>pw.err
rc=$?
check "a password in the URI is refused (got $(rc_text $rc))" [ "$rc" -ne 0 ]
check "the message names the way to give it" grep -q "pgpass" pw.err
check "the message does not show the password" bash -c "! grep -q hunter2secret pw.err"
check "the server's own log never shows a password" bash -c "! grep -q hunter2secret '$PG_DIR/log'"

# 5. history import
limit 300 "${SCAN[@]}" --rate 2000 --site lab --history sq.db -o sq1.csv list.txt 2>/dev/null
for k in 1 2; do
    limit 300 "${SCAN[@]}" --rate 2000 --site lab --shard "$k/2" --night n9 --history sq.db -o "sq-s$k.csv" list.txt 2>/dev/null
done
"$PG_BIN/createdb" -h "$PG_DIR/sock" -U snprobe imported
IMP_URI="postgresql://snprobe@/imported?host=$PG_DIR/sock"
limit 300 "$SNPROBE" history import sq.db --history "$IMP_URI" 2>import.err
rc=$?
check "history import exits 0 (got $(rc_text $rc)): $(cat import.err)" [ "$rc" -eq 0 ]
limit 60 "$SNPROBE" history runs --history sq.db -o sq-runs.csv
limit 60 "$SNPROBE" history runs --history "$IMP_URI" -o imp-runs.csv
check "the imported runs are the SQLite ones (ids, times, sites, shards, nights, counts)" cmp -s sq-runs.csv imp-runs.csv || { show sq-runs.csv; show imp-runs.csv; }
for run in 1 2; do
    limit 60 "$SNPROBE" history results --history sq.db --run $run -o "sq-r$run.csv"
    limit 60 "$SNPROBE" history results --history "$IMP_URI" --run $run -o "imp-r$run.csv"
    check "history results --run $run: the same in both" cmp -s "sq-r$run.csv" "imp-r$run.csv"
done
check "the imported night of two shards is the whole list" python3 "$LIB/shards.py" same one.csv imp-r2.csv
e2e_finish
