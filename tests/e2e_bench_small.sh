#!/usr/bin/env bash
# The benchmark in its small mode, as a correctness test: a few thousand swarm
# targets probed by floor and by snprobe's three plans (skype, tcp, both), on
# random ports and on one port, plus the delayed (RTT) population, and the
# enrichment rows: geo + AS lookups checked against generated range tables,
# and, when dnsmasq is installed, reverse lookups (enrich_bench and snprobe
# annotate) checked name by name. It fails when any target is misclassified,
# any name or answer is wrong, or a command fails; it never asserts speed.
# nmap rows run when nmap is installed and we are root (nmap -sU needs raw
# sockets), and are reported but not judged. The benchmark mix has no
# 443/80 nodes, so the swarm needs no root.
#
# Usage: bash tests/e2e_bench_small.sh /path/to/snprobe
set -euo pipefail
SNPROBE=${1:?usage: e2e_bench_small.sh /path/to/snprobe}
SRC=${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# Its swarm and DNS server run in a private network namespace (tests/lib/e2e.sh).
source "$SRC/tests/lib/e2e.sh"
e2e_isolate e2e_bench_small "${BASH_SOURCE[0]}" "$@"
FLOOR=$(dirname "$SNPROBE")/bench/floor
if [ ! -x "$FLOOR" ]; then
    echo "e2e_bench_small: no floor binary at $FLOOR (bench/ not built): skipped"
    exit 77
fi
command -v python3 >/dev/null || { echo "e2e_bench_small: python3 missing: skipped"; exit 77; }
[ -x /usr/bin/time ] || { echo "e2e_bench_small: /usr/bin/time missing (package time): skipped"; exit 77; }
exec bash "$SRC/bench/run.sh" --small --snprobe "$SNPROBE" --floor "$FLOOR"
