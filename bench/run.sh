#!/usr/bin/env bash
# The benchmark: one command that builds snprobe and the floor yardstick, runs
# an emulated super-node swarm on loopback, and probes the same targets with
# floor (the machine's limit), snprobe and nmap, one after the other in the
# same run, so that the ratios compare like with like. Each row is repeated
# (--reps) and reported as the median; correctness is scored against the
# population for every repetition and the worst one is reported.
#
#   bash bench/run.sh                 # full run: 65,536 and 1,000,000 targets
#   bash bench/run.sh --small         # CI: a few thousand targets, correctness only
#   bash bench/run.sh --help
#
# Cases (each with its own population and swarm, 25% of nodes dead and silent):
#   ip:port   random ports (harvested lists): floor, snprobe
#   one-port  every node on one port (the peers' case): floor, snprobe, nmap tuned
#   subset    the first --nmap-default-cap targets of one-port: snprobe, nmap
#             with default timing (on a subset so that the run stays short)
#   rtt       up to 16,384 ip:port targets, undelayed and with every UDP reply
#             delayed --delay-ms, scanned at --rtt-rate: RTT accuracy
#   scale     --scale-count targets, ip:port: wall time vs linear, memory
# Results: bench/results/bench-<timestamp>.{md,csv} and -raw.csv.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench

SMALL=0 REPS=3 COUNT=65536 SCALE_COUNT=1000000 NMAP_DEFAULT_CAP=4096 USE_NMAP=1
BUILD=$ROOT/build-bench SNPROBE="" FLOOR="" OUT="" PORT=33033 SEED=1 DELAY_MS=50
KEEP=0 TIMEOUT_MS=1000 NETNS=auto ROW_LIMIT=900 FLOOR_INFLIGHT=8192 SNPROBE_RATE=0
RTT_RATE=10000
ARGS=("$@")

usage() {
    sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<'EOF'
Options:
  --small              CI mode: 4,096 targets, 1 repetition, no scale and no
                       default-timing nmap; exits 1 if floor or snprobe
                       misclassifies any target
  --reps N             repetitions per row (default 3; the median is reported)
  --count N            targets in the main populations (default 65536)
  --scale-count N      targets in the scale case (default 1000000; 0 skips it)
  --nmap-default-cap N targets for default-timing nmap (default 4096)
  --no-nmap            skip the nmap rows
  --port P             the one port of the peers' case (default 33033)
  --floor-inflight N   floor's TCP connects in flight (default 8192: with
                       15,000 a burst of SYNs can overflow the swarm's accept
                       queue, somaxconn 4096, and lose handshakes)
  --snprobe-rate N     snprobe's --rate (default 0: as fast as it goes)
  --seed S             population seed (default 1)
  --delay-ms MS        reply delay of the RTT case (default 50)
  --rtt-rate N         snprobe's --rate in the RTT case (default 10000)
  --build-dir DIR      release build directory (default build-bench/)
  --snprobe PATH --floor PATH
                       use these binaries and skip the build
  --out DIR            results directory (default bench/results; --small: none)
  --keep               keep the work directory (populations, raw results)
  --netns / --no-netns run in a private network namespace with its own
                       loopback (default: when unshare allows it), so that
                       no other program's ports or traffic meet the swarm's
EOF
    exit "${1:-0}"
}

while [ $# -gt 0 ]; do
    case $1 in
    --small) SMALL=1 ;;
    --reps) REPS=$2; SET_REPS=1; shift ;;
    --count) COUNT=$2; SET_COUNT=1; shift ;;
    --scale-count) SCALE_COUNT=$2; shift ;;
    --nmap-default-cap) NMAP_DEFAULT_CAP=$2; shift ;;
    --no-nmap) USE_NMAP=0 ;;
    --port) PORT=$2; shift ;;
    --floor-inflight) FLOOR_INFLIGHT=$2; shift ;;
    --snprobe-rate) SNPROBE_RATE=$2; shift ;;
    --rtt-rate) RTT_RATE=$2; shift ;;
    --seed) SEED=$2; shift ;;
    --delay-ms) DELAY_MS=$2; shift ;;
    --build-dir) BUILD=$2; shift ;;
    --snprobe) SNPROBE=$2; shift ;;
    --floor) FLOOR=$2; shift ;;
    --out) OUT=$2; shift ;;
    --keep) KEEP=1 ;;
    --netns) NETNS=on ;;
    --no-netns) NETNS=off ;;
    -h | --help) usage 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage 2 >&2 ;;
    esac
    shift
done
for v in REPS COUNT SCALE_COUNT NMAP_DEFAULT_CAP PORT SEED DELAY_MS FLOOR_INFLIGHT SNPROBE_RATE RTT_RATE; do
    opt=${v,,}
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: --${opt//_/-} needs a number" >&2; exit 2; }
done
if [ "$SMALL" = 1 ]; then
    [ -n "${SET_REPS:-}" ] || REPS=1
    [ -n "${SET_COUNT:-}" ] || COUNT=4096
    SCALE_COUNT=0 NMAP_DEFAULT_CAP=0 ROW_LIMIT=120
fi
if [ "$REPS" -lt 1 ] || [ "$COUNT" -lt 16 ]; then
    echo "run.sh: need --reps >= 1 and --count >= 16" >&2
    exit 2
fi

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 2; }

# A private network namespace: its own loopback, free ports, no traffic but
# ours. Root gets a plain one; others a user namespace around it, if allowed.
if [ "$NETNS" != off ] && [ -z "${SN_BENCH_NETNS:-}" ]; then
    flags=-n
    [ "$(id -u)" = 0 ] || flags=-rn
    if command -v unshare >/dev/null && command -v ip >/dev/null && unshare "$flags" true 2>/dev/null; then
        log "re-running in a private network namespace (unshare $flags)"
        # shellcheck disable=SC2016 # $0 and $@ belong to the inner shell
        SN_BENCH_NETNS=1 exec unshare "$flags" bash -c 'ip link set lo up && exec bash "$0" "$@"' \
            "${BASH_SOURCE[0]}" "${ARGS[@]}"
    fi
    [ "$NETNS" = on ] && die "cannot create a network namespace (unshare $flags)"
    log "no private network namespace: running on the host's loopback"
fi

[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package: time)"
command -v python3 >/dev/null || die "python3 is missing"
if [ "$USE_NMAP" = 1 ]; then
    if ! command -v nmap >/dev/null; then
        log "nmap not found: the nmap rows are skipped"; USE_NMAP=0
    elif [ "$(id -u)" != 0 ]; then
        log "not root: nmap -sU needs raw sockets, the nmap rows are skipped"; USE_NMAP=0
    fi
fi

# --- build --------------------------------------------------------------------
if [ -z "$SNPROBE" ] || [ -z "$FLOOR" ]; then
    log "building (Release) in $BUILD"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSN_TESTS=OFF -DSN_WERROR=OFF >"${TMPDIR:-/tmp}/bench-cmake.log" 2>&1 ||
        { cat "${TMPDIR:-/tmp}/bench-cmake.log" >&2; die "cmake configure failed"; }
    cmake --build "$BUILD" -j2 --target snprobe floor >"${TMPDIR:-/tmp}/bench-build.log" 2>&1 ||
        { tail -40 "${TMPDIR:-/tmp}/bench-build.log" >&2; die "build failed"; }
    SNPROBE=${SNPROBE:-$BUILD/snprobe} FLOOR=${FLOOR:-$BUILD/bench/floor}
fi
[ -x "$SNPROBE" ] || die "no snprobe binary at $SNPROBE"
[ -x "$FLOOR" ] || die "no floor binary at $FLOOR"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
W=$(mktemp -d "${TMPDIR:-/tmp}/snprobe-bench.XXXXXX")
SWARM_PID=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    swarm_stop
    if [ "$KEEP" = 1 ]; then log "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RAW=$W/raw.csv CMDS=$W/commands.txt
: >"$CMDS"
python3 "$BENCH/table.py" header "$RAW"

# --- populations and the swarm -------------------------------------------------
# serve NAME COUNT [population options...]: generates $W/NAME.pop.csv and
# $W/NAME.list.txt and starts the swarm on it. If a port of the population is
# taken on this machine (another swarm, an ephemeral port), it retries with
# another seed, up to 5 times.
serve() {
    local name=$1 count=$2 seed=$SEED try
    shift 2
    for ((try = 0; try < 5; try++, seed += 1000)); do
        log "population $name: $count targets, seed $seed $*"
        "$SNPROBE" population --count "$count" --seed "$seed" --mix dead=0.25 "$@" \
            -o "$W/$name.pop.csv" --list "$W/$name.list.txt" >"$W/$name.gen.log" 2>&1 ||
            { cat "$W/$name.gen.log" >&2; die "snprobe population failed"; }
        swarm_start "$W/$name.pop.csv" && return 0
        grep -q 'in use' "$W/swarm.err" || break
        log "a port is in use; trying another seed"
    done
    cat "$W/swarm.err" >&2
    die "the swarm did not get ready"
}

swarm_start() {
    local pop=$1 i
    swarm_stop
    "$SNPROBE" swarm --population "$pop" >"$W/swarm.out" 2>"$W/swarm.err" &
    SWARM_PID=$!
    for ((i = 0; i < 3000; i++)); do # a 1,000,000-node swarm takes a while to bind
        if grep -q '^swarm: ready' "$W/swarm.out" 2>/dev/null; then
            log "$(head -1 "$W/swarm.out")"
            return 0
        fi
        kill -0 "$SWARM_PID" 2>/dev/null || break
        sleep 0.1
    done
    swarm_stop
    return 1
}

swarm_stop() {
    if [ -n "$SWARM_PID" ]; then
        kill -TERM "$SWARM_PID" 2>/dev/null || true
        wait "$SWARM_PID" 2>/dev/null || true
        SWARM_PID=""
    fi
}

# --- one row -----------------------------------------------------------------
# row CASE ROW CHECK FORMAT POP SCOPE RESULT -- COMMAND...
#   CHECK udp|tcp|both, FORMAT csv|nmap, SCOPE the list the command reads,
#   RESULT the file the command writes (scored after each repetition).
row() {
    local case=$1 row=$2 check=$3 format=$4 pop=$5 scope=$6 result=$7
    shift 8
    echo "$case $row: ${*//$W/\$W}" >>"$CMDS"
    local rep rc t0 t1
    for ((rep = 1; rep <= REPS; rep++)); do
        rm -f "$result" "$W/score.json" "$W/time.txt"
        rc=0
        t0=$(date +%s%N)
        /usr/bin/time -f '%U %S %M' -o "$W/time.txt" timeout -k 5 "$ROW_LIMIT" "$@" >"$W/cmd.log" 2>&1 || rc=$?
        t1=$(date +%s%N)
        if [ "$rc" != 0 ]; then
            log "$case $row: exit status $rc$([ "$rc" = 124 ] && echo " (killed after $ROW_LIMIT s)")"
            tail -5 "$W/cmd.log" >&2
        fi
        if [ -s "$result" ]; then
            python3 "$BENCH/score.py" check "$pop" "$result" --format "$format" --check "$check" \
                --targets "$scope" --label "$case $row #$rep" --json "$W/score.json" >&2 || true
        fi
        python3 "$BENCH/table.py" add "$RAW" --case "$case" --row "$row" --check "$check" \
            --rep "$rep" --targets "$(grep -c . "$scope")" --wall-ns $((t1 - t0)) \
            --time-file "$W/time.txt" --exit "$rc" --score "$W/score.json"
        [ -z "${AFTER:-}" ] || eval "$AFTER"
        if [ -n "$SWARM_PID" ] && ! kill -0 "$SWARM_PID" 2>/dev/null; then
            tail -5 "$W/swarm.err" >&2
            die "the swarm died during $case $row"
        fi
    done
}

# snprobe scan with one plan into the array SCAN; PROBES "" = the default plan.
scan_cmd() {
    local probes=$1 out=$2 list=$3
    SCAN=("$SNPROBE" scan --allow 127.0.0.0/8)
    [ -z "$probes" ] || SCAN+=(--probes "$probes")
    SCAN+=(--rate "${RATE:-$SNPROBE_RATE}" --timeout "$TIMEOUT_MS" --retries 0 --fallback-ports none -o "$out" "$list")
}

# The Skype request as nmap's --data payload: the layout floor and the skype
# probe send: id, 0x02, IV, CRC-32 of the payload, the 7 bytes "snprobe".
SKYPE_HEX=$(python3 -c '
import zlib
p = b"snprobe"
print((bytes([0x12, 0x34, 0x02, 0xa1, 0xb2, 0xc3, 0xd4]) + zlib.crc32(p).to_bytes(4, "big") + p).hex())')

# snprobe ROWNAME PROBES CHECK CASE POP LIST TAG: one snprobe scan row.
snprobe_row() {
    local name=$1 probes=$2 check=$3 c=$4 pop=$5 list=$6 out=$W/$7.csv
    scan_cmd "$probes" "$out" "$list"
    row "$c" "$name" "$check" csv "$pop" "$list" "$out" -- "${SCAN[@]}"
}

probe_rows() { # CASE POP LIST: floor and the three snprobe plans
    local c=$1 pop=$2 list=$3 tag=${1//[^a-z0-9]/}
    row "$c" floor-udp udp csv "$pop" "$list" "$W/$tag-fu.csv" -- \
        "$FLOOR" --udp --rate 0 --timeout-ms "$TIMEOUT_MS" -o "$W/$tag-fu.csv" "$list"
    row "$c" floor-tcp tcp csv "$pop" "$list" "$W/$tag-ft.csv" -- \
        "$FLOOR" --tcp --rate 0 --timeout-ms "$TIMEOUT_MS" --inflight "$FLOOR_INFLIGHT" -o "$W/$tag-ft.csv" "$list"
    snprobe_row snprobe-skype skype udp "$c" "$pop" "$list" "$tag-ss"
    snprobe_row snprobe-tcp tcp tcp "$c" "$pop" "$list" "$tag-st"
    snprobe_row snprobe-default "" both "$c" "$pop" "$list" "$tag-sd"
}

nmap_rows() { # CASE POP HOSTS TIMING(tuned|default)
    local c=$1 pop=$2 hosts=$3 timing=$4 tune=()
    [ "$timing" = tuned ] && tune=(--min-rate 50000 --max-retries 0 --min-hostgroup 4096)
    row "$c" "nmap-udp-$timing" udp nmap "$pop" "$hosts" "$W/nmap-u.gnmap" -- \
        nmap -n -Pn -sU -p "$PORT" --data "$SKYPE_HEX" "${tune[@]}" -iL "$hosts" -oG "$W/nmap-u.gnmap"
    row "$c" "nmap-tcp-$timing" tcp nmap "$pop" "$hosts" "$W/nmap-t.gnmap" -- \
        nmap -n -Pn -sT -p "$PORT" "${tune[@]}" -iL "$hosts" -oG "$W/nmap-t.gnmap"
}

# Enrichment rows (rDNS, geo/AS on the same loop) are added here later: run
# snprobe scan with the enrichment options on the ip:port population ($1, $2)
# through `row ip:port snprobe-enrich-<what> ...`, like probe_rows does.
enrichment_rows() { :; }

# --- the cases ---------------------------------------------------------------
T_START=$(date +%s)
serve ipport "$COUNT"
probe_rows ip:port "$W/ipport.pop.csv" "$W/ipport.list.txt"
enrichment_rows "$W/ipport.pop.csv" "$W/ipport.list.txt"

serve oneport "$COUNT" --one-port "$PORT"
cut -d: -f1 "$W/oneport.list.txt" >"$W/oneport.hosts.txt"
probe_rows one-port "$W/oneport.pop.csv" "$W/oneport.list.txt"
[ "$USE_NMAP" = 1 ] && nmap_rows one-port "$W/oneport.pop.csv" "$W/oneport.hosts.txt" tuned
if [ "$USE_NMAP" = 1 ] && [ "$NMAP_DEFAULT_CAP" -gt 0 ]; then
    head -n "$NMAP_DEFAULT_CAP" "$W/oneport.list.txt" >"$W/subset.list.txt"
    cut -d: -f1 "$W/subset.list.txt" >"$W/subset.hosts.txt"
    snprobe_row snprobe-skype skype udp subset "$W/oneport.pop.csv" "$W/subset.list.txt" sub-ss
    snprobe_row snprobe-tcp tcp tcp subset "$W/oneport.pop.csv" "$W/subset.list.txt" sub-st
    nmap_rows subset "$W/oneport.pop.csv" "$W/subset.hosts.txt" default
fi

# RTT accuracy: the same skype scan of an undelayed and a delayed population,
# paced (--rtt-rate), so that queueing at full speed does not swamp the figure.
# rtt_after BASE.csv: scores the RTTs of the last repetition against BASE.
rtt_after() {
    local delay=$1 base=$2 res=$3
    AFTER="{ [ -s $res ] && [ -s $base ] && python3 $BENCH/score.py rtt $res $base --delay-ms $delay --json $W/rtt.json >&2 && python3 $BENCH/table.py attach $RAW $W/rtt.json; } || log 'rtt: no figures'"
}
RTT_COUNT=$((COUNT < 16384 ? COUNT : 16384))
serve rtt0 "$RTT_COUNT"
rtt_after 0 "$W/rtt0.csv" "$W/rtt0.csv"
RATE=$RTT_RATE snprobe_row snprobe-skype-0ms skype udp rtt "$W/rtt0.pop.csv" "$W/rtt0.list.txt" rtt0
serve rtt "$RTT_COUNT" --delay-ms "$DELAY_MS"
rtt_after "$DELAY_MS" "$W/rtt0.csv" "$W/rtt.csv"
RATE=$RTT_RATE snprobe_row "snprobe-skype-${DELAY_MS}ms" skype udp rtt "$W/rtt.pop.csv" "$W/rtt.list.txt" rtt
AFTER=""

if [ "$SCALE_COUNT" -gt 0 ]; then
    serve scale "$SCALE_COUNT"
    snprobe_row snprobe-default "" both scale "$W/scale.pop.csv" "$W/scale.list.txt" scale-sd
fi
swarm_stop

# --- the table -----------------------------------------------------------------
STAMP=$(date +%Y%m%d-%H%M%S)
if [ -z "$OUT" ] && [ "$SMALL" = 0 ]; then OUT=$BENCH/results; fi
DEST=$W/bench-$STAMP
if [ -n "$OUT" ]; then mkdir -p "$OUT"; DEST=$OUT/bench-$STAMP; fi
cp "$RAW" "$DEST-raw.csv"
FAIL=() status=0
[ "$SMALL" = 1 ] && FAIL=(--fail-on "floor,snprobe")
python3 "$BENCH/table.py" render "$RAW" --md "$DEST.md" --csv "$DEST.csv" \
    --commands "$CMDS" --scale-base ip:port --title "snprobe benchmark $STAMP" \
    --meta "machine=$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)" \
    --meta "run=$([ "$SMALL" = 1 ] && echo 'small (correctness only)' || echo full), $REPS repetition(s), seed $SEED, $COUNT targets, one port $PORT, timeout ${TIMEOUT_MS} ms, dead share 0.25" \
    --meta "total time=$(($(date +%s) - T_START)) s" "${FAIL[@]}" || status=$?
cat "$DEST.md"
[ -n "$OUT" ] && log "results: $DEST.md, $DEST.csv, $DEST-raw.csv"
exit $status
