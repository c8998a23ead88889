#!/usr/bin/env bash
# End to end: two vantages, one history, and the report comparing them (issue 13).
#
# Usage: bash tests/e2e_sites.sh /path/to/snprobe   (root; exit 77 = skipped)
#
# The NAT lab of tests/lab/netlab.sh in its nat-udp-blocked case (a
# port-restricted NAT whose firewall drops UDP and lets TCP out only to 443
# and 80), plus a second scanner namespace linked to the target directly (a
# public vantage). Both scan the same swarm at the same time with --site
# (public, nat) and --stun, writing one PostgreSQL history (tests/lib/pg.sh;
# the unix socket is reachable from every namespace). Then `report --history
# --by-site` must show the two views as tests/lab/expect.tsv describes them:
# per site the alive count and every reachability class (the NAT-blocked
# site: no UDP, only 443/80 TCP), the Jaccard index, the nodes alive from
# both and from one, the class agreement, and each site's vantage verdict.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
LAB="$HERE/lab"
. "$LAB/netlab.sh"
. "$HERE/lib/pg.sh"
pg_available || lab_skip "PostgreSQL is not installed (bash scripts/deps.sh --test installs postgresql)"
lab_init e2e_sites "${1:?usage: e2e_sites.sh /path/to/snprobe}"
PUB="snl-pub-$$"
cleanup() {
    pg_stop
    lab_down
    local left
    left=$(ip netns pids "$PUB" 2> /dev/null)
    [ -n "$left" ] && kill -KILL $left 2> /dev/null
    ip netns del "$PUB" 2> /dev/null
    rm -rf "$WORK"
}
e2e_traps cleanup

pg_start "$WORK" || { echo "e2e_sites: the PostgreSQL server did not start" >&2; exit 1; }
echo "ok   - PostgreSQL on $PG_DIR/sock"
POP="$LAB/population.csv"
NODES="$WORK/nodes.txt"
tail -n +2 "$POP" | cut -d, -f1,2 | tr , : > "$NODES"

lab_up nat-udp-blocked && lab_services "$SNPROBE" "$POP" "$WORK" || { fail "the lab comes up"; exit 1; }
# The public vantage: its own namespace on a direct link to the target.
ip netns add "$PUB" || { fail "public namespace"; exit 1; }
ip link add p0 netns "$PUB" type veth peer name tp netns "$LAB_TGT" || { fail "public link"; exit 1; }
ip -n "$PUB" link set lo up
ip -n "$PUB" addr add 198.51.100.2/24 dev p0
ip -n "$PUB" link set p0 up
ip -n "$PUB" route add 203.0.113.0/24 via 198.51.100.1
ip -n "$LAB_TGT" addr add 198.51.100.1/24 dev tp
ip -n "$LAB_TGT" link set tp up
echo "ok   - lab up: nat-udp-blocked vantage in $LAB_SCAN, public vantage in $PUB"

scan() { # NS SITE
    ip netns exec "$1" timeout 300 "$SNPROBE" scan --allow 203.0.113.0/24 --timeout 400 --retries 2 \
        --no-rdns --no-geo -q --stun "$LAB_STUN" --site "$2" --history "$PG_URI" \
        -o "$WORK/$2.csv" "$NODES" 2> "$WORK/$2.err"
}
scan "$PUB" public &
p1=$!
scan "$LAB_SCAN" nat &
p2=$!
wait $p1 || fail "the public site's scan exits 0: $(cat "$WORK/public.err")"
wait $p2 || fail "the NAT site's scan exits 0: $(cat "$WORK/nat.err")"
echo "ok   - both sites scanned at the same time into one PostgreSQL history"

timeout 120 "$SNPROBE" history runs --history "$PG_URI" > "$WORK/runs.csv"
for s in public nat; do
    grep -q ",complete,$s," "$WORK/runs.csv" || fail "history runs has site $s complete"
done
timeout 120 "$SNPROBE" report --history "$PG_URI" --by-site --html "$WORK/r.html" 2> "$WORK/report.err" ||
    fail "report --by-site exits 0: $(cat "$WORK/report.err")"
python3 - "$LAB/expect.tsv" > "$WORK/expect.tsv" <<'PY'
import sys
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) >= 3 and f[0] in ("public", "nat-udp-blocked") and not line.startswith("#"):
        print("\t".join(f))
PY
python3 "$HERE/lib/sites.py" "$WORK/r.html" "$WORK/expect.tsv" public=public nat=nat-udp-blocked ||
    fail "the report's comparison matches the lab"
grep -A1 -o '<tr><td class="x">nat</td><td class="x">[^<]*' "$WORK/r.html" | grep -q "udp=blocked" ||
    fail "the NAT site's vantage verdict says UDP is blocked"
grep -o 'class="headline">[^<]*' "$WORK/r.html" | sed 's/.*">/    /'

e2e_finish
