#!/usr/bin/env bash
# What `kill -9` costs: rows on disk against targets finished, at several
# moments of a swarm scan, without reverse lookups and with a slow DNS server
# (every query answered NXDOMAIN after --dns-delay seconds). Targets finished
# are counted by the swarm (UDP requests it answered: one per target, the
# population is all alive and the scan makes no retry), rows on disk in the
# temporary file the killed scan left. Runs in a private network namespace of
# its own (root). A measurement, not a test: it asserts nothing.
#
#   bash bench/kill9.sh build/snprobe [--count N] [--rate R] [--at "2 5 9"] [--dns-delay S]
set -uo pipefail
SNPROBE=${1:?usage: bench/kill9.sh SNPROBE [--count N] [--rate R] [--at "2 5 9"] [--dns-delay S]}
shift
SNPROBE=$(cd "$(dirname "$SNPROBE")" && pwd)/$(basename "$SNPROBE")
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$SRC/tests/lib/e2e.sh"
e2e_isolate kill9 "${BASH_SOURCE[0]}" "$SNPROBE" "$@"

COUNT=20000 RATE=1000 AT="2 5 9" DELAY=1.5
while [ $# -gt 0 ]; do
    case $1 in
        --count) COUNT=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --at) AT=$2; shift 2 ;;
        --dns-delay) DELAY=$2; shift 2 ;;
        *) echo "kill9: unknown option $1" >&2; exit 2 ;;
    esac
done
W=$(mktemp -d /tmp/snprobe-kill9.XXXXXX)
trap 'kill $DNS_PID 2>/dev/null; rm -rf "$W"' EXIT
cd "$W" || exit 1
"$SNPROBE" population --seed 3 --count "$COUNT" --mix dead=0 -o pop.csv --list list.txt >/dev/null

python3 - "$DELAY" >dns.port <<'EOF' &
import socket, sys, threading, time
delay = float(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
def answer(q, addr):
    time.sleep(delay)
    r = bytearray(q)
    r[2] = 0x81 | (q[2] & 0x01)  # QR, RD copied
    r[3] = 0x83                  # RA, NXDOMAIN
    r[6:12] = bytes(6)
    s.sendto(bytes(r), addr)
while True:
    q, addr = s.recvfrom(4096)
    threading.Thread(target=answer, args=(q, addr), daemon=True).start()
EOF
DNS_PID=$!
for ((i = 0; i < 100; i++)); do [ -s dns.port ] && break; sleep 0.05; done

echo "| DNS | kill -9 at | targets finished | rows on disk | rows lost |"
echo "|---|---|---|---|---|"
for mode in none slow; do
    for t in $AT; do
        rm -f .res.csv.* res.csv res.csv.lock
        : >swarm.out # before the fork: the last swarm's "ready" must not count for this one
        "$SNPROBE" swarm --population pop.csv >swarm.out 2>swarm.err &
        sw=$!
        for ((i = 0; i < 100; i++)); do grep -q ready swarm.out && break; sleep 0.1; done
        if [ $mode = none ]; then dns=(--no-rdns); else dns=(--dns-server "127.0.0.1:$(cat dns.port)"); fi
        "$SNPROBE" scan --allow 127.0.0.0/8 --no-geo --rate "$RATE" --timeout 500 --retries 0 \
            --fallback-ports none "${dns[@]}" -o res.csv list.txt 2>scan.err &
        p=$!
        sleep "$t"
        kill -9 $p
        wait $p 2>/dev/null
        kill -TERM $sw
        wait $sw
        f=$(ls .res.csv.* 2>/dev/null | head -1)
        rows=$(($(grep -c '' "$f") - 1))
        fin=$(sed -n 's/^swarm: \([0-9]*\) UDP requests.*/\1/p' swarm.err)
        echo "| $mode | ${t} s | $fin | $rows | $((fin - rows)) |"
    done
done
