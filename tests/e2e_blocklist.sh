#!/usr/bin/env bash
# End to end: the default blocklist keeps loopback and private targets out of
# a scan unless --allow names them, and --exclude-file wins over --allow.
#
# Safety: the only real (non-dry) runs here list loopback addresses alone
# (swarm nodes in 127.0.0.0/8 and listening sockets on 127.0.0.1 / ::1).
# Lists holding 10.x, 172.16.x, 192.168.x or 100.64.x targets are only ever
# run with --dry-run.
#
# Usage: bash tests/e2e_blocklist.sh /path/to/snprobe
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_blocklist "${1:-}"
cd "$TMP" || exit 1

# Column COL of every row of CSV as "address:port=value" lines, sorted.
col() {
    python3 - "$1" "$2" <<'EOF'
import csv, sys
for r in sorted(csv.DictReader(open(sys.argv[1])), key=lambda r: (r["address"], r["port"])):
    print(f"{r['address']}:{r['port']}={r[sys.argv[2]]}")
EOF
}
rows() { python3 -c 'import csv,sys; print(sum(1 for _ in csv.DictReader(open(sys.argv[1]))))' "$1"; }

# --- dry runs over a mixed list ---
cat >mixed.txt <<'EOF'
127.3.0.1:4000
10.1.2.3:4000
192.168.7.7:4000
172.16.0.1:4000
100.64.0.1:4000
[::1]:4000
EOF
limit 60 "$SNPROBE" scan --dry-run --no-rdns -o dry1.csv mixed.txt >/dev/null 2>dry1.err
rc=$?
check "dry run without --allow exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
all_blocked() { ! col "$1" blocked | grep -q '=$'; }
check "without --allow every target of the mixed list is blocked" all_blocked dry1.csv
check "the summary counts 6 blocked" grep -q "6 blocked" dry1.err
check "the reasons name the ranges (loopback, private)" \
    bash -c "grep -q '127.3.0.1,4000,.*loopback' dry1.csv && grep -q '10.1.2.3,4000,.*private' dry1.csv && grep -q '192.168.7.7,4000,.*private' dry1.csv"

limit 60 "$SNPROBE" scan --dry-run --no-rdns --allow 127.0.0.0/8 -o dry2.csv mixed.txt >/dev/null 2>dry2.err
rc=$?
check "dry run with --allow 127.0.0.0/8 exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
blocked_of() { col "${2:-dry2.csv}" blocked | grep "^$1=" | cut -d= -f2-; }
check "--allow 127.0.0.0/8 opens 127.3.0.1 (blocked='$(blocked_of 127.3.0.1:4000)')" \
    [ -z "$(blocked_of 127.3.0.1:4000)" ]
for t in 10.1.2.3:4000 192.168.7.7:4000 172.16.0.1:4000 100.64.0.1:4000 ::1:4000; do
    check "--allow 127.0.0.0/8 leaves $t blocked ('$(blocked_of $t)')" [ -n "$(blocked_of $t)" ]
done

echo "127.3.0.0/16" >ex.txt
limit 60 "$SNPROBE" scan --dry-run --no-rdns --allow 127.0.0.0/8 --exclude-file ex.txt -o dry3.csv \
    mixed.txt >/dev/null 2>dry3.err
check "--exclude-file beats --allow in a dry run (blocked='$(blocked_of 127.3.0.1:4000 dry3.csv)')" \
    [ -n "$(blocked_of 127.3.0.1:4000 dry3.csv)" ]

printf '127.0.0.1/8\n' >exbad.txt
limit 60 "$SNPROBE" scan --dry-run -o dry4.csv --exclude-file exbad.txt mixed.txt >/dev/null 2>dry4.err
rc=$?
check "an exclude file with a bad CIDR is an error (exit $(rc_text $rc))" [ "$rc" -eq 1 ]
check "the error names exbad.txt:1" grep -q "exbad.txt:1" dry4.err

# --- real runs: loopback swarm nodes only ---
e2e_lock_swarms
POP=$TMP/pop.csv
swarm_up "the swarm of 40 alive nodes starts" "$POP" nodes.txt : 303 -- --count 40 --mix dead=0
n_nodes=$(grep -c "" nodes.txt)

# Without --allow: nothing may reach the swarm or the listening sockets.
cp nodes.txt noallow.txt
python3 "$LIB/listen.py" noallow.txt listen1.txt -- \
    timeout -k 5 60 "$SNPROBE" scan --no-rdns --timeout 500 -o real1.csv noallow.txt >/dev/null 2>real1.err
rc=$?
check "real run without --allow exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
total=$(grep -c "" noallow.txt)
check "every target has a row ($(rows real1.csv) of $total)" [ "$(rows real1.csv)" -eq "$total" ]
check "every row carries a blocked reason and no outcome" python3 - real1.csv <<'EOF'
import csv, sys
bad = [r for r in csv.DictReader(open(sys.argv[1]))
       if not r["blocked"] or r["udp_outcome"] or r["tcp_outcome"]]
for r in bad[:5]:
    print("  ", r["address"], r["port"], repr(r["blocked"]), r["udp_outcome"], r["tcp_outcome"])
sys.exit(1 if bad else 0)
EOF
check "the listening loopback sockets received nothing ($(cat listen1.txt))" grep -qx "udp 0 tcp 0" listen1.txt
swarm_stop
check "the swarm stops cleanly (exit $(rc_text $SWARM_RC))" [ "$SWARM_RC" -eq 0 ]
check "the swarm received 0 UDP requests and accepted 0 TCP connections" \
    grep -q "swarm: 0 UDP requests.* 0 TCP connections accepted" pop.err
[ "$E2E_FAILS" -eq 0 ] || show pop.err real1.err

# With --allow 127.0.0.0/8 and the first 10 nodes excluded: the rest are
# probed and alive, the excluded ones are blocked and untouched.
if ! swarm_start "$POP" pop2; then
    fail "the swarm restarts"
    show pop2.err
    e2e_finish
fi
head -10 nodes.txt | sed 's/:[0-9]*$/\/32/' >exclude.txt
printf '127.0.0.1/32\n::1/128\n' >>exclude.txt
cp nodes.txt allow.txt
python3 "$LIB/listen.py" allow.txt listen2.txt -- \
    timeout -k 5 60 "$SNPROBE" scan --no-rdns --allow 127.0.0.0/8 --allow ::1/128 --exclude-file exclude.txt \
    --timeout 1000 --retries 1 -o real2.csv allow.txt >/dev/null 2>real2.err
rc=$?
check "real run with --allow and --exclude-file exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
check "excluded loopback sockets received nothing ($(cat listen2.txt))" grep -qx "udp 0 tcp 0" listen2.txt
check "allowed nodes are probed and alive, excluded ones blocked" python3 - real2.csv exclude.txt <<'EOF'
import csv, sys
excl = {l.split("/")[0] for l in open(sys.argv[2]) if l.strip()}
bad = 0
n_alive = 0
for r in csv.DictReader(open(sys.argv[1])):
    if r["address"] in excl:
        if not r["blocked"] or r["udp_outcome"] or r["tcp_outcome"]:
            print(f"  excluded {r['address']}: blocked={r['blocked']!r} udp={r['udp_outcome']}"); bad += 1
    elif r["blocked"] or r["udp_outcome"] != "alive" or r["tcp_outcome"] != "alive":
        print(f"  allowed {r['address']}:{r['port']}: blocked={r['blocked']!r} "
              f"udp={r['udp_outcome']} tcp={r['tcp_outcome']}"); bad += 1
    else:
        n_alive += 1
if n_alive != 30:
    print(f"  {n_alive} allowed nodes alive, 30 expected"); bad += 1
sys.exit(1 if bad else 0)
EOF
swarm_stop
requests=$(sed -n 's/^swarm: \([0-9]*\) UDP requests.*/\1/p' pop2.err)
in_range() { [ -n "$requests" ] && [ "$requests" -ge 30 ] && [ "$requests" -le 60 ]; }
check "the swarm saw requests only for the 30 allowed nodes (got ${requests:-none}, first tries and retries)" \
    in_range
[ "$E2E_FAILS" -eq 0 ] || show pop2.err real2.err

# --- the floor: --allow 0.0.0.0/0 --allow ::/0 still never probes multicast, broadcast or
# the unspecified addresses (dry run), and says what it opens ---
cat >floor.txt <<'EOF'
224.0.0.1:1900
239.255.255.250:1900
255.255.255.255:53
0.0.0.0:80
[::]:80
[ff02::1]:1900
[ff05::1:3]:547
[::ffff:224.0.0.1]:1900
[64:ff9b::e000:1]:1900
EOF
limit 60 "$SNPROBE" scan --dry-run --no-rdns --no-geo --allow 0.0.0.0/0 --allow ::/0 \
    --allow 8.8.8.0/24 -o floor.csv floor.txt >/dev/null 2>floor.err
rc=$?
check "dry run with --allow 0.0.0.0/0 ::/0 exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
check "every multicast, broadcast and unspecified target stays blocked" all_blocked floor.csv
check "the summary counts 9 blocked" grep -q "9 blocked" floor.err
check "--allow 0.0.0.0/0 prints what it opens (private)" \
    grep -q "opened: 10.0.0.0/8 .*private" floor.err
check "--allow ::/0 prints that multicast is never probed" grep -q "never probed: ff00::/8" floor.err
check "--allow 8.8.8.0/24 says it opens nothing the blocklist holds" \
    grep -q -- "--allow 8.8.8.0/24 opens nothing the blocklist holds" floor.err
[ "$E2E_FAILS" -eq 0 ] || show floor.err floor.csv

e2e_finish
