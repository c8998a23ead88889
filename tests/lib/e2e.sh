# Shared helpers of the end-to-end tests (tests/e2e_*.sh), sourced by each.
#
# A test calls e2e_init NAME "$@" first: it checks its tools (python3), makes
# a scratch directory $TMP, and installs an EXIT trap that stops every swarm
# the test started (by the process ids it recorded, never by name) and
# removes $TMP unless E2E_KEEP=1. Checks call ok/fail; e2e_finish turns the
# failure count into the exit status (77 is CTest's "skipped").
#
# Swarms bind 0.0.0.0:PORT for every port of their population, so two swarms
# (or any other loopback server) on one port cannot coexist, and a `closed`
# node on a port someone else holds would be misreported. Hence every test
# runs in a private network namespace of its own: e2e_init re-executes the
# script under `unshare -n` with only its loopback up (e2e_isolate), so that
# nothing on the machine can hold its ports and it holds none of theirs.
# Without the right to make one (not root) the test is skipped (77). The
# busy-port check and the retry with another seed stay as a second line.

E2E_FAILS=0
E2E_SWARMS=()
E2E_LOCK_FD=

# e2e_isolate NAME SCRIPT ARGS...: unless already isolated, re-executes
# SCRIPT ARGS in a private network namespace with lo up; exits 77 when no
# namespace can be made.
e2e_isolate() {
    local name=$1
    shift
    [ "${SN_E2E_NETNS:-}" = 1 ] && return 0
    if ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
        echo "$name: unshare (util-linux) or ip (iproute2) is missing: skipped"
        exit 77
    fi
    if ! unshare -n true 2>/dev/null; then
        echo "$name: a private network namespace (unshare -n) needs root: skipped"
        exit 77
    fi
    SN_E2E_NETNS=1 exec unshare -n -- bash -c 'ip link set lo up || exit 1; exec bash "$@"' \
        bash "$@"
}

# e2e_init NAME SNPROBE: sets NAME, SNPROBE, SRC, LIB, TMP; runs the calling
# script in a private network namespace (e2e_isolate).
e2e_init() {
    NAME=$1
    e2e_isolate "$NAME" "${BASH_SOURCE[1]}" "${@:2}"
    SNPROBE=${2:-}
    if [ -z "$SNPROBE" ] || [ ! -x "$SNPROBE" ]; then
        echo "$NAME: usage: bash tests/$NAME.sh /path/to/snprobe (got '${SNPROBE}')" >&2
        exit 2
    fi
    SNPROBE=$(cd "$(dirname "$SNPROBE")" && pwd)/$(basename "$SNPROBE")
    SRC=${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
    LIB=$SRC/tests/lib
    if ! command -v python3 >/dev/null; then
        echo "$NAME: python3 is missing: skipped"
        exit 77
    fi
    TMP=$(mktemp -d "/tmp/$NAME.XXXXXX")
    e2e_traps e2e_cleanup
}

# e2e_traps CLEANUP: CLEANUP runs when the test exits, also on INT or TERM (exit 130).
# The lab tests (tests/e2e_lab.sh, e2e_sites.sh), which make namespaces of their own
# instead of calling e2e_init, install their cleanup with it too.
e2e_traps() {
    # shellcheck disable=SC2064 # the cleanup's name is meant to be read now
    trap "$1" EXIT
    trap 'exit 130' INT TERM
}

e2e_cleanup() {
    local pid
    for pid in "${E2E_SWARMS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        fi
    done
    if [ "${E2E_KEEP:-0}" = 1 ]; then
        echo "$NAME: scratch files kept in $TMP"
    else
        rm -rf "$TMP"
    fi
}

log() { echo "$NAME: $*"; }

ok() { echo "ok   - $*"; }

fail() {
    echo "FAIL - $*"
    E2E_FAILS=$((E2E_FAILS + 1))
}

# check DESCRIPTION COMMAND...: ok when the command succeeds, else fail.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

# Prints a file (indented) to explain a failure.
show() {
    local f
    for f in "$@"; do
        echo "  --- $f:"
        if [ -f "$f" ]; then head -c 3000 "$f" | sed 's/^/  | /'; echo; fi
    done
}

e2e_finish() {
    if [ "$E2E_FAILS" -ne 0 ]; then
        echo "$NAME: $E2E_FAILS check(s) failed"
        exit 1
    fi
    echo "$NAME: all checks passed"
    exit 0
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# limit SECS COMMAND...: runs COMMAND, killing it if it is not done in SECS
# seconds (a hang must fail the test, not stall CTest); status 124 then.
limit() {
    local secs=$1
    shift
    timeout -k 5 "$secs" "$@"
}

# Describes an exit status: "0", "1", "124 (timed out: hung?)", "139 (SIGSEGV)".
rc_text() {
    case $1 in
        124) echo "124 (timed out: hung?)" ;;
        137) echo "137 (killed)" ;;
        *)
            if [ "$1" -gt 128 ]; then
                echo "$1 (signal $(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128))))"
            else
                echo "$1"
            fi
            ;;
    esac
}

# Held the swarm lock when tests shared the machine's loopback; in a private
# namespace (always, see e2e_isolate) there is nothing to share.
e2e_lock_swarms() {
    [ "${SN_E2E_NETNS:-}" = 1 ] && return 0
    command -v flock >/dev/null || return 0
    exec {E2E_LOCK_FD}>"/tmp/snprobe-e2e-swarm.lock"
    if ! flock -w 600 "$E2E_LOCK_FD"; then
        echo "$NAME: could not get /tmp/snprobe-e2e-swarm.lock in 10 minutes" >&2
        exit 1
    fi
}

# swarm_start POP.csv PREFIX: starts `snprobe swarm` in the background with
# stdout in PREFIX.out and stderr in PREFIX.err, waits (up to 60 s) for its
# "ready" line, and sets SWARM_PID. Returns 1 if it exits or stays silent.
swarm_start() {
    local pop=$1 prefix=$2 i
    # Emptied before the fork: the child's redirection comes later, and a previous swarm's
    # "ready" line in the same file must not pass the check below.
    : >"$prefix.out"
    "$SNPROBE" swarm --population "$pop" >"$prefix.out" 2>"$prefix.err" &
    SWARM_PID=$!
    E2E_SWARMS+=("$SWARM_PID")
    for ((i = 0; i < 600; i++)); do
        if grep -q "ready" "$prefix.out" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$SWARM_PID" 2>/dev/null; then
            wait "$SWARM_PID" 2>/dev/null
            return 1
        fi
        sleep 0.1
    done
    kill -TERM "$SWARM_PID" 2>/dev/null
    wait "$SWARM_PID" 2>/dev/null
    return 1
}

# swarm_stop: SIGTERM to the last swarm started; sets SWARM_RC to its exit
# status (0 when it stopped cleanly).
swarm_stop() {
    SWARM_RC=0
    if kill -0 "$SWARM_PID" 2>/dev/null; then
        kill -TERM "$SWARM_PID"
    fi
    wait "$SWARM_PID" 2>/dev/null || SWARM_RC=$?
}

# pop_swarm POP.csv LIST.txt EDIT SEED -- POPULATION-ARGS...: generates a
# population with `snprobe population`, runs the edit command EDIT on it
# (a shell function or ":"), checks that its closed nodes' ports are free, and
# starts its swarm (prefix POP without .csv). On a busy port, tries again with
# the next seed, up to 5 times. Sets SWARM_PID.
pop_swarm() {
    local pop=$1 list=$2 edit=$3 seed=$4 try
    shift 5
    for ((try = 0; try < 5; try++)); do
        if ! "$SNPROBE" population --seed $((seed + try)) "$@" -o "$pop" --list "$list" \
            >"$TMP/population.log" 2>&1; then
            show "$TMP/population.log"
            return 1
        fi
        $edit "$pop" || return 1
        if ! python3 "$LIB/pop.py" ports-free "$pop"; then
            log "population with seed $((seed + try)) meets a busy port: trying another seed"
            continue
        fi
        if swarm_start "$pop" "${pop%.csv}"; then
            return 0
        fi
        if grep -qi "in use" "${pop%.csv}.err"; then
            log "swarm could not bind (port in use): trying another seed"
            continue
        fi
        show "${pop%.csv}.err"
        return 1
    done
    return 1
}

# demo_seed COUNT SEED: the set-up of the demo tests. As root the demo puts nodes on
# 443 and 80: when another program holds them its swarm cannot start, whatever the seed,
# so the test skips (77). Otherwise sets SEED to the first seed from SEED (up to 5 tries) whose
# population of COUNT nodes puts no closed node on a port someone holds.
demo_seed() {
    local count=$1 seed=$2 try
    if is_root && ! python3 "$LIB/pop.py" port-free 443 80; then
        log "another program holds port 443 or 80, which the demo's swarm needs: skipped"
        exit 77
    fi
    for ((try = 0; try < 5; try++)); do
        "$SNPROBE" population --count "$count" --seed "$seed" -o "$TMP/probe.csv" >/dev/null 2>&1 &&
            python3 "$LIB/pop.py" ports-free "$TMP/probe.csv" && break
        seed=$((seed + 1))
    done
    SEED=$seed
}

# demo_setup COUNT SEED: the start of the demo tests after e2e_init: the swarm lock,
# COUNT, OUT ($TMP/demo, the demo's --out-dir) and seed, the first good seed from SEED
# (demo_seed).
demo_setup() {
    e2e_lock_swarms
    COUNT=$1
    OUT=$TMP/demo
    demo_seed "$COUNT" "$2"
    seed=$SEED
}

# swarm_up WHAT POP.csv LIST.txt EDIT SEED -- POPULATION-ARGS...: pop_swarm, then ok
# "swarm ready: ..." with the swarm's own line; when the swarm does not start, fails WHAT
# ("the swarm starts") and ends the test, since no check after it could pass.
swarm_up() {
    local what=$1 pop=$2
    shift
    if ! pop_swarm "$@"; then
        fail "$what"
        e2e_finish
    fi
    ok "swarm ready: $(cat "${pop%.csv}.out")"
}

# scan_shards WHAT LIST COMMAND...: runs COMMAND --shard K/4 -o sK.csv LIST (stderr in
# sK.err, in the current directory) for K = 1 to 4 at the same time. Fails once for each
# shard that does not exit 0, and is ok WHAT when all four did.
scan_shards() {
    local what=$1 list=$2 k rc all=0 pids=()
    shift 2
    for k in 1 2 3 4; do
        "$@" --shard "$k/4" -o "s$k.csv" "$list" 2>"s$k.err" &
        pids+=($!)
    done
    for k in 1 2 3 4; do
        wait "${pids[$((k - 1))]}"
        rc=$?
        [ "$rc" -eq 0 ] || { all=1; fail "shard $k/4 exits 0 (got $(rc_text $rc))"; show "s$k.err"; }
    done
    if [ "$all" -eq 0 ]; then ok "$what"; fi
}

# check_union WHAT OUT WHOLE PARTS...: ok "WHAT: summary" when the PARTS' rows together are
# WHOLE's, each target in exactly one part (tests/lib/shards.py union, its summary or
# complaint in OUT); else fails WHAT and shows OUT.
check_union() {
    local what=$1 out=$2
    shift 2
    if python3 "$LIB/shards.py" union "$@" >"$out"; then
        ok "$what: $(cat "$out")"
    else
        fail "$what"
        show "$out"
    fi
}
