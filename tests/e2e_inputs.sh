#!/usr/bin/env bash
# End to end: what `snprobe scan` does with the inputs a user really has.
# Malformed entries in a plain list are skipped and counted, each with a
# message naming file and line; --strict stops at the first one; a missing
# file, an XML with entity declarations (billion laughs, external entity) and
# a CSV without an ip column are errors naming the file; empty, binary and
# huge-line inputs never crash; several inputs aggregate into one target
# (seen_count summed, sources in input order); --dry-run writes the targets
# after dedupe and blocklist and sends nothing (loopback sockets listed as
# targets must receive nothing). No swarm runs here: every scan is a dry run.
#
# Usage: bash tests/e2e_inputs.sh /path/to/snprobe
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_inputs "${1:-}"
cd "$TMP" || exit 1

# dry FILE... : dry run of the inputs with results on out.csv, messages on err.txt; sets rc.
dry() {
    limit 60 "$SNPROBE" scan --dry-run --no-rdns --allow 127.0.0.0/8 --allow ::1/128 -o out.csv "$@" \
        >stdout.txt 2>err.txt
    rc=$?
}

# Prints column COL of out.csv for target ADDR PORT.
field() {
    python3 - "$1" "$2" "$3" <<'EOF'
import csv, sys
for r in csv.DictReader(open("out.csv")):
    if r["address"] == sys.argv[1] and r["port"] == sys.argv[2]:
        print(r[sys.argv[3]])
EOF
}

rows() { python3 -c 'import csv; print(sum(1 for _ in csv.DictReader(open("out.csv"))))'; }

# --- a plain list with bad entries ---
cat >bad.txt <<'EOF'
# harvested by hand
127.0.0.5:4000
127.0.0.6:99999
010.0.0.1:4000
127.1:4000
0x7f.0.0.1:4000
127.0.0.8
127.0.0.9:033033
::1:4002
[::1]:4002
127.0.0.11:+4011
127.0.0.12:0
127.0.0.13:4013x

  127.0.0.10:4010  # a trailing comment
127.0.0.5:4000
EOF
dry bad.txt
check "bad entries are skipped, not fatal (exit $(rc_text $rc))" [ "$rc" -eq 0 ]
missing=""
for line in 3 4 5 6 7 9 11 12 13; do
    grep -q "bad.txt:$line:" err.txt || missing="$missing $line"
done
check "every bad line is reported as bad.txt:LINE (missing:${missing:- none})" [ -z "$missing" ]
for line in 2 8 10 15 16; do
    if grep -q "bad.txt:$line:" err.txt; then fail "good line $line is reported as bad"; fi
done
check "the summary counts 9 bad entries skipped" grep -q "9 bad entries skipped" err.txt
check "4 distinct targets are written (got $(rows))" [ "$(rows)" -eq 4 ]
check "a port with leading zeros is decimal: 033033 is 33033" [ -n "$(field 127.0.0.9 33033 port)" ]
check "a target listed twice is one row with seen_count 2" [ "$(field 127.0.0.5 4000 seen_count)" = 2 ]
check "[::1]:4002 is read as IPv6 ::1 port 4002" [ "$(field ::1 4002 port)" = 4002 ]
[ "$E2E_FAILS" -eq 0 ] || show err.txt out.csv

# --- --strict ---
limit 60 "$SNPROBE" scan --dry-run --strict -o strict.csv bad.txt >/dev/null 2>err.txt
rc=$?
check "--strict makes the first bad entry fatal (exit $(rc_text $rc))" [ "$rc" -eq 1 ]
check "--strict names bad.txt:3, the first bad line" grep -q "bad.txt:3:" err.txt
check "--strict reports nothing beyond the first bad line" bash -c '! grep -q "bad.txt:4:" err.txt'

# --- a missing file ---
limit 60 "$SNPROBE" scan --dry-run -o miss.csv no-such-file.txt >/dev/null 2>err.txt
rc=$?
check "a missing input alone is an error (exit $(rc_text $rc))" [ "$rc" -eq 1 ]
check "the error names the missing file" grep -q "no-such-file.txt" err.txt
limit 60 "$SNPROBE" scan --dry-run -o miss.csv bad.txt no-such-file.txt >/dev/null 2>err.txt
rc=$?
check "a missing input among others is refused alone (exit $(rc_text $rc))" [ "$rc" -eq 0 ]
check "...and named" grep -q "input refused: no-such-file.txt" err.txt

# --- XML: billion laughs, external entity, and a good host cache ---
{
    echo '<?xml version="1.0"?>'
    echo '<!DOCTYPE lolz ['
    echo ' <!ENTITY lol "lol">'
    prev=lol
    for i in 1 2 3 4 5 6 7 8 9; do
        printf ' <!ENTITY lol%s "' "$i"
        for _ in 1 2 3 4 5 6 7 8 9 10; do printf '&%s;' "$prev"; done
        echo '">'
        prev=lol$i
    done
    echo ']>'
    echo '<config><Lib><Connection><HostCache><_1>&lol9;</_1></HostCache></Connection></Lib></config>'
} >laughs.xml
cat >xxe.xml <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE config [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<config><Lib><Connection><HostCache><_1>&xxe;</_1></HostCache></Connection></Lib></config>
EOF
for x in laughs xxe; do
    limit 30 "$SNPROBE" scan --dry-run -o "$x.csv" "$x.xml" >"$x.out" 2>"$x.err"
    rc=$?
    check "$x.xml is rejected without a crash (exit $(rc_text $rc))" [ "$rc" -eq 1 ]
    check "$x.xml: the message names the file and its entity declaration" \
        grep -qiE "$x.xml:[0-9]+:.*entit" "$x.err"
    if grep -q "root:" "$x.out" "$x.err" "$x.csv" 2>/dev/null; then
        fail "$x.xml: /etc/passwd content leaked into the output"
    fi
done
cat >good.xml <<'EOF'
<?xml version="1.0"?>
<config version="1.0" serial="1"><Lib><Connection><HostCache>
<_1>127.0.0.5:4000</_1><_2>127.0.0.6:4001</_2>
</HostCache></Connection></Lib></config>
EOF
dry good.xml
check "a well-formed host cache reads (exit $(rc_text $rc))" [ "$rc" -eq 0 ]
check "a well-formed host cache gives its 2 targets (got $(rows))" [ "$(rows)" -eq 2 ]

# --- empty, blank, binary and huge-line inputs ---
: >empty.txt
printf '\n\n# nothing here\n   \n' >blank.txt
head -c 100000 /dev/urandom >random.bin
python3 -c 'import sys; sys.stdout.write("1" * 2000000)' >huge.txt
dry random.bin
check "random.bin alone is refused, exit 1 (got $(rc_text $rc))" [ "$rc" -eq 1 ]
check "random.bin: not a text file" grep -q "random.bin: not a text file" err.txt
for f in empty.txt blank.txt huge.txt; do
    rm -f out.csv
    dry "$f"
    # No target at all is a distinct exit status (4), so a cron job can tell.
    check "$f: no crash, exit 4: no target (got $(rc_text $rc))" [ "$rc" -eq 4 ]
    check "$f: no results file written" [ ! -e out.csv ]
done
dry blank.txt
check "blank lines and comments are not bad entries" grep -q "0 bad entries skipped" err.txt
python3 -c 'import sys; sys.stdout.buffer.write(b"1.2.3.4:80 \x01\x02\x7f\xff\xfe junk\n" * 3)' >ctl.txt
dry ctl.txt
check "messages about binary lines quote them printably (no raw control bytes)" \
    bash -c '! LC_ALL=C grep -qP "[\x00-\x08\x0e-\x1f\x7f]" err.txt'

# --- CSV without an ip column ---
printf 'address,port,count\n127.0.0.5,4000,3\n' >noip.csv
limit 60 "$SNPROBE" scan --dry-run --input-format csv -o noip.out noip.csv >/dev/null 2>err.txt
rc=$?
check "a CSV without an ip column is an error (exit $(rc_text $rc))" [ "$rc" -eq 1 ]
check "the error names noip.csv:1 and the ip column" grep -qE 'noip.csv:1:.*"?ip"?' err.txt
dry noip.csv
sniffed_ok() { [ "$rc" -eq 1 ] || { [ "$rc" -eq 0 ] && [ "$(rows)" -eq 0 ] && grep -q "noip.csv:2" err.txt; }; }
check "without --input-format it is an error or yields no target, naming noip.csv lines" sniffed_ok

# --- several inputs aggregate ---
printf '127.0.0.5:4000\n127.0.0.7:4007\n' >list.txt
printf 'ip,port,count,source\n127.0.0.5,4000,5,harvester-A\n' >counted.csv
printf 'ip,port,count\n127.0.0.5,4000,2\n' >nosource.csv
dry list.txt counted.csv nosource.csv good.xml
check "aggregate: exit 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
check "seen_count sums the listings: 1 + 5 + 2 + 1 = 9 (got '$(field 127.0.0.5 4000 seen_count)')" \
    [ "$(field 127.0.0.5 4000 seen_count)" = 9 ]
src=$(field 127.0.0.5 4000 sources)
check "sources name every input in order (got '$src')" \
    [ "$src" = "list.txt;harvester-A;nosource.csv;good.xml" ]
check "a target of one input only has seen_count 1 and that source" \
    [ "$(field 127.0.0.7 4007 seen_count),$(field 127.0.0.7 4007 sources)" = "1,list.txt" ]
check "the aggregate has 3 distinct targets (got $(rows))" [ "$(rows)" -eq 3 ]

# --- --dry-run: dedupe and blocklist applied, nothing sent ---
printf '127.0.0.5:4000\n127.0.0.5:4000\n10.1.2.3:4000\n192.168.7.7:4000\n' >dry.txt
python3 "$LIB/listen.py" dry.txt counts.txt -- \
    timeout -k 5 60 "$SNPROBE" scan --dry-run --no-rdns --allow 127.0.0.0/8 --allow ::1/128 \
    -o out.csv dry.txt >/dev/null 2>err.txt
rc=$?
n_listen=$(grep -c "" dry.txt)
check "dry run exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
check "dry run sends nothing to the listed loopback sockets ($(cat counts.txt))" \
    grep -qx "udp 0 tcp 0" counts.txt
check "dry run writes every distinct target once ($(rows) rows for $((n_listen - 1)) distinct)" \
    [ "$(rows)" -eq $((n_listen - 1)) ]
if python3 - <<'EOF'; then
import csv, sys
bad = 0
for r in csv.DictReader(open("out.csv")):
    for col in ("udp_outcome", "tcp_outcome", "udp_attempts", "tcp_attempts", "reach_class"):
        if r[col] != "":
            print(f"  {r['address']}:{r['port']}: {col} is '{r[col]}' in a dry run"); bad = 1
    private = r["address"].startswith(("10.", "192.168."))
    if private and not r["blocked"]:
        print(f"  {r['address']}: private address not marked blocked"); bad = 1
    if not private and r["blocked"]:
        print(f"  {r['address']}: allowed loopback marked blocked ({r['blocked']})"); bad = 1
sys.exit(bad)
EOF
    ok "dry-run rows have empty outcomes; private targets carry their blocked reason"
else
    fail "dry-run rows"
fi
check "the dry-run summary says nothing was probed" grep -q "probed 0 " err.txt

# --- binary and broken inputs among good ones: each refused alone, the run goes on ---
cp "$SNPROBE" snprobe.bin
head -c 120 good.xml >truncated.xml
dry list.txt snprobe.bin truncated.xml counted.csv
check "the snprobe binary and a truncated host cache among good inputs: exit 0 (got $(rc_text $rc))" \
    [ "$rc" -eq 0 ]
check "the binary is refused as not a text file, by name" grep -q "snprobe.bin: not a text file" err.txt
check "the truncated host cache is an error naming it" grep -q "input refused: truncated.xml" err.txt
check "the summary counts 2 inputs refused" grep -q "Inputs refused: 2" err.txt
check "the good inputs give their 2 targets, nothing from the binary (got $(rows))" [ "$(rows)" -eq 2 ]
check "sources keep the good inputs (got '$(field 127.0.0.5 4000 sources)')" \
    [ "$(field 127.0.0.5 4000 sources)" = "list.txt;harvester-A" ]
dry --strict list.txt snprobe.bin counted.csv
check "--strict makes a refused input fatal (exit $(rc_text $rc))" [ "$rc" -eq 1 ]
check "--strict names the binary" grep -q "snprobe.bin: not a text file" err.txt

# --- an --exclude-file that is no list: a short escaped excerpt, never the whole line ---
printf 'root:$6$saltsaltsaltsalt$SECRETHASHSECRETHASHSECRETHASH:19000:0:99999:7:::\n' >shadow
dry --exclude-file shadow list.txt
check "an --exclude-file of no CIDR is an error (exit $(rc_text $rc))" [ "$rc" -eq 1 ]
check "the error names shadow:1" grep -q "shadow:1: not a CIDR" err.txt
check "the error shows no hash" bash -c '! grep -q SECRETHASH err.txt'

# --- --geo/--asn files are checked when opened, in a dry run too ---
printf 'just,two\n1,2\n' >two.csv
for g in /etc/passwd two.csv; do
    dry --geo "$g" list.txt
    check "--geo $g is refused in a dry run (exit $(rc_text $rc))" [ "$rc" -eq 1 ]
    check "the error names $g" grep -qF "$g:" err.txt
done
dry --asn "$SN_TEST_DATA/geo/ranges-asn.csv" list.txt
check "a good --asn CSV passes the check (exit $(rc_text $rc))" [ "$rc" -eq 0 ]

e2e_finish
