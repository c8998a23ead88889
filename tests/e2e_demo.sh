#!/usr/bin/env bash
# End to end: `snprobe demo`, the command a new user runs first. It must
# exit 0, leave its population, harvests and results in --out-dir, classify
# every node of its own population right (tests/lib/check_results.py), count
# each node's listings over the three harvests it wrote, and print a summary.
#
# Usage: bash tests/e2e_demo.sh /path/to/snprobe
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_demo "${1:-}"
demo_setup 1500 606

for ((try = 0; try < 3; try++)); do
    rm -rf "$OUT"
    # A relative --out-dir, as the README's demo gives (out/demo): dnsmasq must still find
    # its files after it changes to /.
    (cd "$TMP" && limit 180 "$SNPROBE" demo --out-dir "${OUT#"$TMP"/}" --count $COUNT --seed $seed \
        >"$TMP/demo.out" 2>"$TMP/demo.err")
    rc=$?
    # A port held by someone else makes the swarm fail to start: not the demo's fault.
    if [ "$rc" -ne 0 ] && grep -qi "in use" "$TMP/demo.err"; then
        log "a swarm port is in use: trying seed $((seed + 1))"
        seed=$((seed + 1))
        continue
    fi
    break
done
check "demo exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || show "$TMP/demo.err"
for f in population.csv results.csv harvest-1.txt harvest-2.csv shared.xml; do
    check "demo wrote $f" [ -s "$OUT/$f" ]
done
check "no temporary or output lock file is left (the history keeps its writer's lock file)" bash -c "! ls -A '$OUT' | grep -v '^history.db.lock$' | grep -q '^\.\|\.lock\$'"

if python3 "$LIB/check_results.py" "$OUT/population.csv" "$OUT/results.csv" --retries 1 \
    >"$TMP/check.txt"; then
    ok "every demo result matches its population: $(tail -1 "$TMP/check.txt")"
else
    fail "demo results match the population"
    cat "$TMP/check.txt"
fi
check "the population has $COUNT nodes" \
    [ "$(($(grep -c "" "$OUT/population.csv") - 1))" -eq $COUNT ]

# seen_count and sources, recomputed from the harvest files themselves.
if python3 - "$OUT" <<'EOF'; then
import csv, os, re, sys
d = sys.argv[1]
seen, srcs = {}, {}
def add(key, n, src):
    seen[key] = seen.get(key, 0) + n
    srcs.setdefault(key, [])
    if src not in srcs[key]:
        srcs[key].append(src)
def split(hp):
    host, _, port = hp.rpartition(":")
    return host.strip("[]"), port
for line in open(os.path.join(d, "harvest-1.txt")):
    line = line.strip()
    if line and not line.startswith("#"):
        add(split(line), 1, "harvest-1.txt")
for r in csv.DictReader(open(os.path.join(d, "harvest-2.csv"))):
    add((r["ip"], r["port"]), int(r["count"]), r.get("source") or "harvest-2.csv")
for hp in re.findall(r"<_\d+>([^<]+)</_\d+>", open(os.path.join(d, "shared.xml")).read()):
    add(split(hp), 1, "shared.xml")
bad = 0
rows = list(csv.DictReader(open(os.path.join(d, "results.csv"))))
for r in rows:
    key = (r["address"], r["port"])
    if key not in seen:
        print(f"  {key}: in the results, in no harvest"); bad += 1
        continue
    if r["seen_count"] != str(seen[key]):
        if bad < 10:
            print(f"  {key}: seen_count {r['seen_count']}, harvests list it {seen[key]} times")
        bad += 1
    # file sources are named as the demo gave them (its paths): compare base names
    got = {os.path.basename(s) for s in r["sources"].split(";")}
    if got != set(srcs[key]):
        if bad < 10:
            print(f"  {key}: sources {r['sources']!r}, harvests {srcs[key]}")
        bad += 1
if len(rows) != len(seen):
    print(f"  {len(rows)} rows for {len(seen)} distinct harvested targets"); bad += 1
sys.exit(1 if bad else 0)
EOF
    ok "seen_count and sources of every row agree with the three harvests"
else
    fail "seen_count and sources agree with the harvests"
fi

check "demo says its population is emulated and the match is by construction" \
    grep -q "population is emulated.*by construction" "$TMP/demo.err"
check "the report says so too" grep -q "by construction, not a measurement" "$OUT/report.html"
check "demo prints a summary naming the results" \
    grep -q "$COUNT distinct targets.*Results: .*results.csv" "$TMP/demo.err"

# Every statistic of the summary, recomputed from the population and its
# identity alone (tests/lib/demo_stats.py), for the scan's own summary and for
# the one `snprobe report` rebuilds from the results CSV.
for f in identity.csv summary.csv report.html; do
    check "demo wrote $f" [ -s "$OUT/$f" ]
done
ptr=--no-ptr
grep -q "PTR names served by dnsmasq" "$TMP/demo.err" && ptr=
if [ -n "$ptr" ]; then
    if command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ]; then
        fail "dnsmasq is installed but the demo served no PTR names"
        show "$TMP/demo.err"
    else
        log "dnsmasq is not installed: classes not compared"
    fi
fi
if python3 "$LIB/demo_stats.py" "$OUT/population.csv" "$OUT/identity.csv" "$OUT/summary.csv" \
    $ptr >"$TMP/stats.txt"; then
    ok "scan summary: $(tail -1 "$TMP/stats.txt")"
else
    fail "the scan's summary equals the population's statistics"
    cat "$TMP/stats.txt"
fi
if python3 "$LIB/demo_stats.py" "$OUT/population.csv" "$OUT/identity.csv" "$OUT/results.csv" \
    --results $ptr >"$TMP/nodes.txt"; then
    ok "every node's PTR, country, continent, AS and classes: $(tail -1 "$TMP/nodes.txt")"
else
    fail "every node's enrichment equals its identity"
    cat "$TMP/nodes.txt"
fi
limit 60 "$SNPROBE" report --summary "$TMP/re.csv" --html "$TMP/re.html" "$OUT/results.csv" \
    2>"$TMP/report.err"
check "snprobe report exits 0" [ $? -eq 0 ]
if python3 "$LIB/demo_stats.py" "$OUT/population.csv" "$OUT/identity.csv" "$TMP/re.csv" \
    $ptr --rebuilt >"$TMP/stats2.txt"; then
    ok "summary rebuilt from results.csv: $(tail -1 "$TMP/stats2.txt")"
else
    fail "the rebuilt summary equals the population's statistics"
    cat "$TMP/stats2.txt"
fi
check "snprobe report wrote the HTML" grep -q "<svg" "$TMP/re.html"

# The firewall export of the eligible nodes parses back.
limit 60 "$SNPROBE" export --format nft --eligible-only -o "$TMP/set.nft" "$OUT/results.csv" \
    2>/dev/null
check "export exits 0" [ $? -eq 0 ]
eligible=$(python3 -c "import csv,sys; print(sum(r['sn_eligible']=='1' for r in csv.DictReader(open(sys.argv[1]))))" "$OUT/results.csv")
check "the nft set holds the $eligible eligible nodes" \
    [ "$(grep -Eo '127\.[0-9.]+ \. [0-9]+' "$TMP/set.nft" | wc -l)" -eq "$eligible" ]
if command -v nft >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    check "nft -c accepts the exported set" nft -c -f "$TMP/set.nft"
fi

# A namespace whose loopback is down sends nothing anywhere: every probe fails, and the demo
# must not pass that off as a night in which no node answered.
if unshare -n true 2>/dev/null; then
    limit 120 unshare -n "$SNPROBE" demo --out-dir "$TMP/lo-down" --count 200 --seed $seed \
        >/dev/null 2>"$TMP/lo-down.err"
    rc=$?
    check "with loopback down the demo fails (exit 1, got $(rc_text $rc))" [ "$rc" -eq 1 ]
    check "and says the probes did not reach the swarm" \
        grep -q "did not reach the swarm.*ip link set lo up" "$TMP/lo-down.err"
    check "and keeps the night's results" [ -s "$TMP/lo-down/results.csv" ]
else
    log "no nested network namespace: the loopback-down case is not run"
fi

e2e_finish
