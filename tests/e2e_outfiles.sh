#!/usr/bin/env bash
# End to end: what `-o`, `--summary` and `--list` name is never destroyed,
# and a run says by its exit status whether it did its job.
#   - a character device made with mknod stays a device after -o onto it;
#   - a symlink at -o keeps pointing at its file, which holds the rows;
#   - a symlink planted at a predictable temporary name is never followed;
#   - a directory at -o is refused before the scan, and nothing is created;
#   - two concurrent runs on one -o: the second refuses at once (exit 5,
#     naming the first's pid), the first leaves one complete, right result;
#   - a 200 KB tmpfs as output (private mount namespace) fails cleanly:
#     exit 1, a message naming the file, and a kept file of whole rows;
#   - `ulimit -n 16` is a clear error at start, before any output exists;
#   - `> /dev/full` fails (exit 1); an empty input, or one of bad entries
#     only, exits 4.
#
# Usage: bash tests/e2e_outfiles.sh /path/to/snprobe   (root; exit 77 = skipped)
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_outfiles "${1:-}"
cd "$TMP" || exit 1
if ! is_root; then
    log "mknod and mount need root: skipped"
    exit 77
fi

COUNT=3000
POP=$TMP/pop.csv
swarm_up "the swarm starts" "$POP" list.txt : 707 -- --count $COUNT --mix dead=0.2,closed=0.1,udp-only=0.1

SCAN=("$SNPROBE" scan --no-rdns --allow 127.0.0.0/8 --timeout 300 --retries 0
    --fallback-ports none -q)
rows_ok() { # FILE: every line has the header's column count and ends in \n
    python3 - "$1" <<'EOF'
import csv, sys
data = open(sys.argv[1], newline="").read()
if not data.endswith("\n"):
    print("does not end on a row boundary"); sys.exit(1)
rows = list(csv.reader(data.splitlines()))
bad = [i + 1 for i, r in enumerate(rows) if len(r) != len(rows[0])]
if bad:
    print(f"ragged lines {bad[:5]}"); sys.exit(1)
print(len(rows) - 1)
EOF
}
right() { python3 "$LIB/check_results.py" "$POP" "$1" --quiet >"$1.check"; }

# --- a character device stays a device ---
mknod dev c 1 3
"${SCAN[@]}" -o dev --summary dev list.txt 2>dev.err
rc=$?
check "-o onto a char device: exit 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
check "the char device is still a char device" [ -c dev ]
check "no temporary or lock file next to it" [ -z "$(ls -A | grep '^\.dev\.\|^dev\.lock')" ]

# --- a symlink is followed and kept ---
echo old >real.csv
ln -s real.csv link.csv
"${SCAN[@]}" -o link.csv list.txt 2>link.err
rc=$?
check "-o onto a symlink: exit 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
check "the symlink is still a symlink to real.csv" [ "$(readlink link.csv)" = real.csv ]
if right real.csv; then ok "the file it points to holds the complete, right rows"; else
    fail "the file it points to holds the complete, right rows"; head real.csv.check; fi

# --- planted symlinks at predictable temporary names ---
echo precious >victim
for n in res.csv.tmp .res.csv.tmp res.csv~ .res.csv.swp; do ln -s victim "$n"; done
"${SCAN[@]}" -o res.csv list.txt 2>res.err
rc=$?
check "with planted symlinks: exit 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
check "the planted symlinks' victim is untouched" [ "$(cat victim)" = precious ]
check "res.csv is a regular file" [ -f res.csv ] && [ ! -L res.csv ]

# --- a directory is refused before the scan ---
mkdir adir
: >dir.err
before=$(ls -A | wc -l)
"${SCAN[@]}" -o adir list.txt 2>dir.err
rc=$?
check "-o onto a directory: exit 1 (got $(rc_text $rc))" [ "$rc" -eq 1 ]
check "the message says it is a directory" grep -q "adir: it is a directory" dir.err
check "nothing was created" [ "$(ls -A | wc -l)" -eq "$before" ] && [ -z "$(ls -A adir)" ]

# --- two runs on one -o ---
"${SCAN[@]}" --rate 1000 -o same.csv list.txt 2>same1.err &
first=$!
for ((i = 0; i < 100; i++)); do [ -e same.csv.lock ] && break; sleep 0.05; done
t0=$(date +%s%3N)
"${SCAN[@]}" -o same.csv list.txt 2>same2.err
rc2=$?
t1=$(date +%s%3N)
wait $first
rc1=$?
check "the second run refuses with exit 5 (got $(rc_text $rc2))" [ "$rc2" -eq 5 ]
check "at once ($((t1 - t0)) ms; bound 2000)" [ $((t1 - t0)) -lt 2000 ]
check "naming the first run's pid $first" grep -q "pid $first" same2.err
check "the first run completes (exit $(rc_text $rc1))" [ "$rc1" -eq 0 ]
if right same.csv; then ok "same.csv is one complete, right result"; else
    fail "same.csv is one complete, right result"; head same.csv.check; show same2.err; fi

# --- a full disk: 200 KB tmpfs in a private mount namespace ---
mkdir small
unshare -m bash -c "mount -t tmpfs -o size=200k tmpfs small && \
    $(printf '%q ' "${SCAN[@]}") -o small/full.csv list.txt 2>full.err; echo \$? >full.rc; \
    ls -A small >full.ls; for f in small/.full.csv.*; do cp \"\$f\" full.kept 2>/dev/null; done"
rc=$(cat full.rc)
check "a full disk: exit 1 (got $(rc_text "$rc"))" [ "$rc" -eq 1 ]
check "the message names the file" grep -q "small/full.csv" full.err
not_listed() { ! grep -qx "$1" "$2"; }
check "the final name was not put in place" not_listed full.csv full.ls
if [ -f full.kept ] && n=$(rows_ok full.kept); then
    ok "the kept partial file ends on a row boundary, every row whole ($n rows)"
else
    fail "the kept partial file ends on a row boundary, every row whole"
    cat full.err full.ls
fi

# --- too few descriptors ---
(ulimit -n 16 && exec "${SCAN[@]}" -o fd.csv list.txt) 2>fd.err
rc=$?
check "ulimit -n 16: exit 1 (got $(rc_text $rc))" [ "$rc" -eq 1 ]
check "a clear message naming the limit needed" grep -q "open-file limit is 16; a scan needs at least" fd.err
check "no output file exists" [ ! -e fd.csv ] && [ -z "$(ls -A | grep '^\.fd\.csv')" ]

# --- standard output and inputs without targets ---
"${SCAN[@]}" -o - list.txt >/dev/full 2>full2.err
rc=$?
check "results to a full stdout: exit 1 (got $(rc_text $rc))" [ "$rc" -eq 1 ]
"$SNPROBE" --list-fields >/dev/full 2>/dev/null
rc=$?
check "--list-fields to a full stdout: exit 1 (got $(rc_text $rc))" [ "$rc" -eq 1 ]
: >empty.txt
printf 'garbage\n999.1.1.1:5\n' >bad.txt
"${SCAN[@]}" -o none.csv empty.txt 2>/dev/null
rc=$?
check "an empty input: exit 4 (got $(rc_text $rc))" [ "$rc" -eq 4 ]
"${SCAN[@]}" -o none.csv bad.txt 2>/dev/null
rc=$?
check "an input of bad entries only: exit 4 (got $(rc_text $rc))" [ "$rc" -eq 4 ]
check "no results file for no target" [ ! -e none.csv ]

swarm_stop
[ "$E2E_FAILS" -eq 0 ] || show dev.err link.err same1.err same2.err full.err fd.err
e2e_finish
