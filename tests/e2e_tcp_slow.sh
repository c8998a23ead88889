#!/usr/bin/env bash
# End to end: the TCP timeout learned from the answers (scanner/rto.h) never
# calls a slow live node dead. A population on one port: 60% answer the
# handshake at once, 15% answer it 200 ms late, 25% are dead and silent. The
# swarm's delay_ms delays UDP only, so the SYN-ACKs of the slow share (its own
# /16) go through an NFQUEUE rule in this test's network namespace to
# tests/lib/nfq_delay.py, which lets each one go 200 ms after it came.
#
# snprobe scans with its defaults (1 s timeout, one retry) at a rate that makes
# the scan last several timeouts, so that most targets are probed with the
# learned timeout. Every slow node must be alive with an RTT near 200 ms, every
# fast one alive, every dead one filtered; the summary must say the timeout was
# learned (shorter than 1 s, and at least twice 200 ms). The same scan with
# --fixed-timeout must agree; both wall times are printed.
#
# Needs root (iptables in the namespace) and iptables with the NFQUEUE target;
# skipped otherwise.
#
# Usage: bash tests/e2e_tcp_slow.sh /path/to/snprobe
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_tcp_slow "${1:-}"

if ! is_root; then
    echo "$NAME: iptables in the test's namespace needs root: skipped"
    exit 77
fi
if ! command -v iptables >/dev/null; then
    echo "$NAME: iptables is missing (Debian package: iptables): skipped"
    exit 77
fi

COUNT=${E2E_TCP_SLOW_COUNT:-6000}
RATE=${E2E_TCP_SLOW_RATE:-1500}
DELAY_MS=200
PORT=33033
POP=$TMP/pop.csv
LIST=$TMP/list.txt
NFQ_PID=""

# Fast nodes in 127.10/16, slow ones in 127.20/16, dead ones in 127.30/16, interleaved in
# the list (snprobe shuffles the order besides).
python3 - "$COUNT" "$PORT" "$POP" "$LIST" <<'EOF'
import sys
count, port, pop, lst = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(pop, "w") as p, open(lst, "w") as l:
    p.write("address,port,behaviour,delay_ms,loss\n")
    for i in range(count):
        k = i % 20
        net, beh = (20, "alive") if k < 3 else (30, "dead") if k < 8 else (10, "alive")
        a = f"127.{net}.{i // 250 + 1}.{i % 250 + 1}"
        p.write(f"{a},{port},{beh},0,0\n")
        l.write(f"{a}:{port}\n")
EOF

stop_nfq() {
    if [ -n "$NFQ_PID" ] && kill -0 "$NFQ_PID" 2>/dev/null; then
        kill -TERM "$NFQ_PID"
        wait "$NFQ_PID" 2>/dev/null
    fi
    NFQ_PID=""
}
cleanup() {
    stop_nfq
    e2e_cleanup
}
e2e_traps cleanup

if ! iptables -A OUTPUT -p tcp -s 127.20.0.0/16 --sport "$PORT" --tcp-flags SYN,ACK SYN,ACK \
    -j NFQUEUE --queue-num 7 2>"$TMP/iptables.err"; then
    echo "$NAME: iptables has no NFQUEUE target here ($(head -1 "$TMP/iptables.err")): skipped"
    exit 77
fi
python3 "$LIB/nfq_delay.py" --queue 7 --delay-ms "$DELAY_MS" --ready "$TMP/nfq.ready" \
    2>"$TMP/nfq.err" &
NFQ_PID=$!
for ((i = 0; i < 100; i++)); do
    [ -e "$TMP/nfq.ready" ] && break
    kill -0 "$NFQ_PID" 2>/dev/null || break
    sleep 0.05
done
if [ ! -e "$TMP/nfq.ready" ]; then
    echo "$NAME: the NFQUEUE delayer did not start ($(tail -1 "$TMP/nfq.err")): skipped"
    exit 77
fi

if ! swarm_start "$POP" "$TMP/swarm"; then
    fail "the swarm for $COUNT nodes starts"
    show "$TMP/swarm.err"
    e2e_finish
fi
ok "the swarm for $COUNT nodes starts; SYN-ACKs of 127.20.0.0/16 held $DELAY_MS ms"

# check RESULT.csv LABEL: every node as the population says, the slow ones near 200 ms.
check_slow() {
    python3 - "$1" "$DELAY_MS" <<'EOF'
import csv, sys
res, delay = sys.argv[1], int(sys.argv[2])
bad, n, slow_rtt = [], {"10": 0, "20": 0, "30": 0}, []
with open(res, newline="") as f:
    for r in csv.DictReader(f):
        net = r["address"].split(".")[1]
        n[net] += 1
        o, rtt = r["tcp_outcome"], r["tcp_rtt_us"]
        if net == "30":
            if o != "filtered":
                bad.append(f"dead {r['address']}: {o}")
        elif o != "alive":
            bad.append(f"{'slow' if net == '20' else 'fast'} {r['address']}: {o}")
        elif net == "20":
            slow_rtt.append(int(rtt))
            if not delay * 1000 * 0.95 <= int(rtt) <= delay * 1000 * 1.6:
                bad.append(f"slow {r['address']}: rtt {rtt} us")
        elif int(rtt) >= delay * 1000 * 0.5:
            bad.append(f"fast {r['address']}: rtt {rtt} us")
slow_rtt.sort()
mid = slow_rtt[len(slow_rtt) // 2] if slow_rtt else 0
print(f"fast {n['10']}, slow {n['20']} (rtt median {mid} us, max {slow_rtt[-1] if slow_rtt else 0} us), "
      f"dead {n['30']}; {len(bad)} wrong" + "".join(f"\n  {b}" for b in bad[:20]))
sys.exit(1 if bad or not slow_rtt else 0)
EOF
}

for mode in adaptive fixed; do
    extra=()
    [ $mode = fixed ] && extra=(--fixed-timeout)
    t0=$(date +%s%N)
    limit 120 "$SNPROBE" scan --probes tcp --fallback-ports none --rate "$RATE" --no-rdns --no-geo \
        --allow 127.0.0.0/8 "${extra[@]}" -o "$TMP/$mode.csv" "$LIST" >"$TMP/$mode.out" 2>"$TMP/$mode.err"
    rc=$?
    t1=$(date +%s%N)
    wall=$(((t1 - t0) / 1000000))
    check "$mode: the scan exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
    [ "$rc" -eq 0 ] || show "$TMP/$mode.err"
    if check_slow "$TMP/$mode.csv" >"$TMP/$mode.check"; then
        ok "$mode: every slow node alive near $DELAY_MS ms, fast ones alive, dead ones filtered: $(head -1 "$TMP/$mode.check")"
    else
        fail "$mode: every node as the population says"
        cat "$TMP/$mode.check"
    fi
    learned=$(sed -n 's/.*TCP handshakes waited \([0-9]*\) ms at the end.*/\1/p' "$TMP/$mode.err")
    if [ $mode = adaptive ]; then
        check "adaptive: the timeout was learned, at least twice $DELAY_MS ms and under 1000 (${learned:-none} ms)" \
            test "${learned:-0}" -ge $((2 * DELAY_MS)) -a "${learned:-0}" -lt 1000
    else
        check "fixed: no learned timeout in the summary" [ -z "$learned" ]
    fi
    log "$mode: wall $wall ms for $COUNT targets at $RATE/s"
done

swarm_stop
check "the swarm stops cleanly on SIGTERM (exit $SWARM_RC)" [ "$SWARM_RC" -eq 0 ]
stop_nfq
log "$(tail -1 "$TMP/nfq.err")"
e2e_finish
