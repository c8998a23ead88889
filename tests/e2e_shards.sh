#!/usr/bin/env bash
# End to end: a night scanned in four shards on one machine (issue 13).
#  1. `--dry-run --shard K/N` lists each shard's targets: the four lists are
#     disjoint and together the unsharded dry run, blocked targets included,
#     and the same seed gives the same split twice.
#  2. Four scans --shard K/4 --site lab write one history at the same time
#     (one lock per site and shard): each exits 0, and their union equals
#     an unsharded scan of the same list target by target, each target
#     exactly once (tests/lib/shards.py).
#  3. `history results --run N` of any shard's run gives the union of the
#     night's four shards, equal to the four results files; `history runs`
#     shows the site and each shard.
#     `report --history` says Where: the site, the night and its shards.
#  4. Bad --shard values are refused before anything runs.
#
# Usage: bash tests/e2e_shards.sh /path/to/snprobe
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_shards "${1:-}"
cd "$TMP" || exit 1
e2e_lock_swarms

COUNT=${E2E_SHARDS_COUNT:-3000}
POP=$TMP/pop.csv
swarm_up "the swarm starts" "$POP" list.txt : 1301 -- --count "$COUNT" --mix dead=0.2,tcp-only=0.1,udp-only=0.1,closed=0.05
# A blocked target and a duplicate listing: the split is of the de-duplicated set, blocked
# targets included (each written by its own shard only).
{ cat list.txt; echo "10.9.8.7:4000"; head -n 3 list.txt; } >in.txt

SEED=(--seed 77)
SCAN=("$SNPROBE" scan -q --no-rdns --allow 127.0.0.0/8 --timeout 400 --retries 2 --rate 2000 "${SEED[@]}")

# 1. dry runs
limit 60 "${SCAN[@]}" --dry-run -o dry-all.csv in.txt 2>dry-all.err
for k in 1 2 3 4; do
    limit 60 "${SCAN[@]}" --dry-run --shard "$k/4" -o "dry-$k.csv" in.txt 2>"dry-$k.err"
done
limit 60 "${SCAN[@]}" --dry-run --shard 2/4 -o dry-2b.csv in.txt 2>/dev/null
check_union "the four shards' dry runs split the unsharded one" dry.txt \
    dry-all.csv dry-1.csv dry-2.csv dry-3.csv dry-4.csv
check "the same seed gives the same shard twice" python3 "$LIB/shards.py" same dry-2.csv dry-2b.csv
n1=$(($(wc -l <dry-1.csv) - 1))
check "a shard holds about a quarter of the targets ($n1 of $COUNT)" test "$n1" -gt $((COUNT / 4 - COUNT / 10)) -a "$n1" -lt $((COUNT / 4 + COUNT / 10))
check "the blocked target is in exactly one shard" [ "$(grep -c '^10\.9\.8\.7,' dry-1.csv dry-2.csv dry-3.csv dry-4.csv | awk -F: '{s += $2} END {print s}')" -eq 1 ]

# 2. the unsharded scan, then four shards at once into one history
limit 300 "${SCAN[@]}" -o whole.csv in.txt 2>whole.err
check "the unsharded scan exits 0" [ -s whole.csv ]
scan_shards "four shards wrote one history at the same time, each exits 0" in.txt \
    "${SCAN[@]}" --site lab --night n1 --history night.db
check_union "the shards' union equals the unsharded scan" union.txt whole.csv s1.csv s2.csv s3.csv s4.csv

# 3. the night as one result set
limit 60 "$SNPROBE" history runs --history night.db -o runs.csv
check "history runs has four runs" [ "$(($(wc -l <runs.csv) - 1))" -eq 4 ]
for k in 1 2 3 4; do
    check "history runs shows site lab, shard $k/4, night n1" grep -q ",lab,.*,$k/4,n1\$" runs.csv
done
run3=$(grep ",3/4,n1\$" runs.csv | cut -d, -f1)
limit 60 "$SNPROBE" history results --history night.db --run "$run3" -o night.csv
check_union "history results --run $run3 (shard 3) is the union of the four shards" night.txt \
    night.csv s1.csv s2.csv s3.csv s4.csv
check "history results has one header and one row per target" [ "$(wc -l <night.csv)" -eq "$(wc -l <whole.csv)" ]
limit 120 "$SNPROBE" report --history night.db --html night.html 2>report.err
where=$(grep -o 'Where</th><td class="x">[^<]*' night.html)
check "report --history says Where: site lab, night n1 ($where)" grep -q "site lab; night n1, shards" <<<"$where"
for k in 1 2 3 4; do
    check "report --history's Where names shard $k/4" grep -q " $k/4" <<<"$where"
done
check "the scan says how many targets it left to other shards" grep -q "Left to the other shards" <(limit 60 "$SNPROBE" scan --no-rdns --allow 127.0.0.0/8 "${SEED[@]}" --dry-run --shard 1/4 -o /dev/null in.txt 2>&1)

# 4. refusals
for bad in 0/4 5/4 x 1/0 "1/4 "; do
    limit 20 "${SCAN[@]}" --dry-run --shard "$bad" -o bad.csv in.txt 2>bad.err
    rc=$?
    check "--shard '$bad' is a usage error (got $(rc_text $rc))" [ "$rc" -eq 2 ]
    check "--shard '$bad': the message names --shard" grep -q -- "--shard" bad.err
done
check "no results file was written by a refused run" [ ! -e bad.csv ]
e2e_finish
