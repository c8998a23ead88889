#!/usr/bin/env bash
# End to end: `snprobe demo --nights 4` changes its population between nights
# (data/schedule.h: a core stays, dynamic nodes move to new addresses, flaky
# ones leave and return, new ones join) and scans each night into
# out-dir/history.db. `history runs`, `nodes`, `churn`, `staleness` and
# survival must equal, cell for cell, what the demo's schedule.csv (the
# ground truth) implies (tests/lib/check_history.py recomputes every figure
# from the definitions); and `history results` of the first night must be
# that night's results file.
#
# Usage: bash tests/e2e_history_demo.sh /path/to/snprobe
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_history_demo "${1:-}"
demo_setup 1500 707
limit 300 "$SNPROBE" demo --out-dir "$OUT" --count $COUNT --seed $seed --nights 4 \
    >"$TMP/demo.out" 2>"$TMP/demo.err"
rc=$?
check "demo --nights 4 exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || { show "$TMP/demo.err"; e2e_finish; }
check "demo wrote its history and schedule" [ -s "$OUT/history.db" ] && [ -s "$OUT/schedule.csv" ]
for t in runs nodes churn staleness survival; do
    "$SNPROBE" history "$t" --history "$OUT/history.db" -o "$TMP/$t.csv" 2>"$TMP/$t.err" ||
        { fail "history $t"; show "$TMP/$t.err"; }
done
if python3 "$LIB/check_history.py" "$OUT/schedule.csv" "$TMP"; then
    ok "every history table equals the schedule"
else
    fail "every history table equals the schedule"
fi
"$SNPROBE" history results --run 1 --history "$OUT/history.db" -o "$TMP/night1.csv"
check "history results --run 1 is night 1's results file" cmp -s "$OUT/results.csv" "$TMP/night1.csv"
"$SNPROBE" history results --history "$OUT/history.db" -o "$TMP/night4.csv"
check "history results (the newest) is night 4's results file" \
    cmp -s "$OUT/results-night-4.csv" "$TMP/night4.csv"
"$SNPROBE" history population --history "$OUT/history.db" -o "$TMP/population.csv"
check "population: one row per night" [ "$(($(wc -l <"$TMP/population.csv") - 1))" -eq 4 ]

# export --history --alive-within: every node alive in any night (all within a day)
"$SNPROBE" export --quiet --history "$OUT/history.db" --alive-within 1 --format plain \
    -o "$TMP/alive.txt"
check "export --history --alive-within 1 holds exactly the nodes the schedule has alive" \
    python3 - "$OUT/schedule.csv" "$TMP/alive.txt" <<'PY'
import csv, sys
want = {f"{r['address']}:{r['port']}" for r in csv.DictReader(open(sys.argv[1])) if r["alive"] == "1"}
got = {l.strip() for l in open(sys.argv[2]) if l.strip()}
print(f"schedule: {len(want)} alive, export: {len(got)}")
sys.exit(0 if want == got else 1)
PY
for c in history-alive history-churn history-age history-availability; do
    check "the demo's report-history.html has the $c chart" \
        grep -q "data-chart=\"$c\"" "$OUT/report-history.html"
done
"$SNPROBE" report --history "$OUT/history.db" --summary "$TMP/sum4.csv" --html "$TMP/rep4.html"
check "report --history reports the newest night's targets" \
    grep -q "^targets,$(($(wc -l <"$OUT/results-night-4.csv") - 1))," "$TMP/sum4.csv"
e2e_finish
