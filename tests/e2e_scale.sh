#!/usr/bin/env bash
# End to end at scale: one scan of 50,000 swarm nodes at a high rate with
# 20,000 targets in flight must still classify every target right (the mix:
# a quarter dead, tcp-only, udp-only, closed, nat, the rest alive; no 443/80
# nodes, so no root is needed). The rate reached and the peak memory are
# printed for information; nothing here asserts speed.
#
# Usage: bash tests/e2e_scale.sh /path/to/snprobe
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_scale "${1:-}"
e2e_lock_swarms

COUNT=50000
POP=$TMP/pop.csv
LIST=$TMP/list.txt
swarm_up "the swarm for $COUNT nodes starts" "$POP" "$LIST" : 202 -- --count $COUNT \
    --mix dead=0.25,tcp-only=0.1,udp-only=0.1,closed=0.05,nat=0.1

udp_drops() { awk '/^Udp:/ && $2 ~ /^[0-9]+$/ {print $6}' /proc/net/snmp 2>/dev/null; }
drops0=$(udp_drops)
TIMEV=()
if [ -x /usr/bin/time ]; then
    TIMEV=(/usr/bin/time -v -o "$TMP/time.txt")
fi
limit 180 "${TIMEV[@]}" "$SNPROBE" scan --no-rdns --allow 127.0.0.0/8 --rate 100000 --max-inflight 20000 \
    --timeout 1000 --retries 1 -o "$TMP/res.csv" "$LIST" >"$TMP/scan.out" 2>"$TMP/scan.err"
rc=$?
drops1=$(udp_drops)
check "scan of $COUNT targets exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || show "$TMP/scan.err"
if python3 "$LIB/check_results.py" "$POP" "$TMP/res.csv" --retries 1 >"$TMP/check.txt"; then
    ok "every target classified right: $(tail -1 "$TMP/check.txt")"
else
    fail "every target classified right"
    cat "$TMP/check.txt"
fi
check "the summary counts $COUNT distinct targets, all probed" \
    grep -q "$COUNT distinct targets.*probed $COUNT" "$TMP/scan.err"

swarm_stop
check "the swarm stops cleanly on SIGTERM (exit $SWARM_RC)" [ "$SWARM_RC" -eq 0 ]

# Information only.
summary=$(grep -o "probed [0-9]* in [^)]*)" "$TMP/scan.err" | head -1)
log "scan: ${summary:-no summary line}"
if [ -f "$TMP/time.txt" ]; then
    rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$TMP/time.txt")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$TMP/time.txt")
    log "peak RSS ${rss:-?} kB, wall clock ${wall:-?}"
fi
log "swarm: $(grep "UDP requests" "$TMP/pop.err")"
if [ -n "${drops0:-}" ] && [ -n "${drops1:-}" ]; then
    log "UDP datagrams the kernel dropped for full receive buffers during the scan (whole machine): $((drops1 - drops0))"
fi

e2e_finish
