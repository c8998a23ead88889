#!/usr/bin/env bash
# End to end: no spreadsheet formula (OWASP CSV injection) in snprobe's CSV.
# A real dnsmasq, in a private network namespace, serves the PTR name
# `=cmd|calc!A0.example.com`; an AS CSV gives organisations `@SUM(1+1)` and
# `-2+3 Org`; a CSV input labels its listings `+source`; another input is named
# `=HYPERLINK(1).txt`. `snprobe annotate` (no probe is sent) writes the results
# CSV, `snprobe report` the summary CSV: no cell of either begins with = + - @
# TAB or CR; the PTR cell escapes its first character as DNS text does
# ("\=cmd..."), the others carry a leading apostrophe; NDJSON keeps the exact
# text; and the results CSV reads back (report, export) to the same values.
#
# Usage: bash tests/e2e_formulas.sh /path/to/snprobe
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_formulas "${1:-}"

# dnsmasq listens on loopback: e2e_init has put this test in a network namespace of its own.
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || { log "dnsmasq is not installed (scripts/deps.sh --test): skipped"; exit 77; }
cd "$TMP" || exit 1

cat >dnsmasq.conf <<'EOF'
ptr-record=4.3.2.1.in-addr.arpa,=cmd|calc!A0.example.com
ptr-record=8.8.8.8.in-addr.arpa,-x.example.net
EOF
"$DNSMASQ" --port=5353 --conf-file="$TMP/dnsmasq.conf" --listen-address=127.0.0.1 \
    --bind-interfaces --no-resolv --no-hosts --keep-in-foreground --user=root \
    --pid-file= 2>dnsmasq.err &
DNS_PID=$!
trap 'kill $DNS_PID 2>/dev/null; e2e_cleanup' EXIT
# Ready when it answers a PTR query (50 tries, 0.1 s apart).
for _ in $(seq 50); do
    python3 - <<'EOF' && break
import socket, struct, sys
q = struct.pack("!6H", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in "4.3.2.1.in-addr.arpa".split(".")) + b"\0"
q += struct.pack("!2H", 12, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
s.sendto(q, ("127.0.0.1", 5353))
try:
    sys.exit(0 if s.recv(512)[:2] == q[:2] else 1)
except OSError:
    sys.exit(1)
EOF
    sleep 0.1
done

printf '1.2.3.0,1.2.3.255,64500,@SUM(1+1)\n8.8.8.0,8.8.8.255,64501,-2+3 Org\n' >asn-formula.csv
printf '1.2.3.4:4000\n' >'=HYPERLINK(1).txt'
printf 'ip,port,source\n8.8.8.8,53,+source\n' >labelled.csv

limit 60 "$SNPROBE" annotate --dns-server 127.0.0.1:5353 --geo asn-formula.csv -o out.csv \
    '=HYPERLINK(1).txt' labelled.csv >/dev/null 2>annotate.err
rc=$?
check "annotate exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
limit 60 "$SNPROBE" annotate --dns-server 127.0.0.1:5353 --geo asn-formula.csv --output-format ndjson \
    -o out.ndjson '=HYPERLINK(1).txt' labelled.csv >/dev/null 2>>annotate.err
check "annotate --output-format ndjson exits 0" [ $? -eq 0 ]
limit 60 "$SNPROBE" report --html report.html --summary summary.csv out.csv >/dev/null 2>report.err
check "report reads the results CSV back (exit $?)" [ -s summary.csv ]

# no_formula FILE: every cell of a CSV file begins with something else than = + - @ TAB CR.
no_formula() {
    python3 - "$1" <<'EOF'
import csv, sys
bad = [(i, c) for i, row in enumerate(csv.reader(open(sys.argv[1], newline="")))
       for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
for i, c in bad:
    print(f"  row {i}: {c!r}")
sys.exit(1 if bad else 0)
EOF
}
check "no cell of the results CSV begins with a formula character" no_formula out.csv
check "no cell of the summary CSV begins with a formula character" no_formula summary.csv

# cell FILE ADDR COLUMN
cell() {
    python3 - "$@" <<'EOF'
import csv, json, sys
f, addr, col = sys.argv[1:]
rows = [json.loads(l) for l in open(f)] if f.endswith(".ndjson") else csv.DictReader(open(f, newline=""))
for r in rows:
    if r["address"] == addr:
        print(r[col] if r[col] is not None else "")
EOF
}
check "the PTR name is DNS-escaped: '$(cell out.csv 1.2.3.4 ptr)'" \
    [ "$(cell out.csv 1.2.3.4 ptr)" = '\=cmd|calc!a0.example.com' ]
check "a PTR name beginning with '-' too: '$(cell out.csv 8.8.8.8 ptr)'" \
    [ "$(cell out.csv 8.8.8.8 ptr)" = '\-x.example.net' ]
check "the AS organisation gets an apostrophe: '$(cell out.csv 1.2.3.4 as_org)'" \
    [ "$(cell out.csv 1.2.3.4 as_org)" = "'@SUM(1+1)" ]
check "so does '-2+3 Org': '$(cell out.csv 8.8.8.8 as_org)'" [ "$(cell out.csv 8.8.8.8 as_org)" = "'-2+3 Org" ]
check "the file name source: '$(cell out.csv 1.2.3.4 sources)'" \
    [ "$(cell out.csv 1.2.3.4 sources)" = "'=HYPERLINK(1).txt" ]
check "the CSV source label: '$(cell out.csv 8.8.8.8 sources)'" [ "$(cell out.csv 8.8.8.8 sources)" = "'+source" ]
check "NDJSON keeps the exact PTR name" [ "$(cell out.ndjson 1.2.3.4 ptr)" = '=cmd|calc!a0.example.com' ]
check "NDJSON keeps the exact AS organisation" [ "$(cell out.ndjson 1.2.3.4 as_org)" = '@SUM(1+1)' ]
check "NDJSON keeps the exact source" [ "$(cell out.ndjson 1.2.3.4 sources)" = '=HYPERLINK(1).txt' ]

# The report reads the results CSV back (reports/resultsin.c): the exact names again,
# escaped for HTML only.
check "the HTML report shows the exact PTR name" grep -q '>=cmd|calc!a0.example.com<' report.html
check "the HTML report shows the exact AS organisation" grep -q '64500 @SUM(1+1)' report.html
check "no neutralising mark reaches the HTML report" bash -c "! grep -q -e \"'@SUM\" -e '\\\\=cmd' report.html"
[ "$E2E_FAILS" -eq 0 ] || show annotate.err report.err dnsmasq.err out.csv summary.csv
e2e_finish
