# shellcheck shell=bash
# A PostgreSQL server of the test's own, for the PostgreSQL history backend.
#
#   source tests/lib/pg.sh
#   pg_start DIR     initdb into DIR/pg (DIR made by the caller with mktemp -d),
#                    start it on a unix socket in DIR/pg/sock with no TCP at all
#                    (listen_addresses=''), its log DIR/pg/log inside the temp dir;
#                    sets PG_URI (postgresql://snprobe@/snprobe?host=DIR/pg/sock)
#                    and PG_DIR. Returns 77 (skip) with a message where Debian's
#                    postgresql is not installed, 1 when it does not start.
#   pg_stop          stops it (fast shutdown); call it from the test's exit trap.
#   pg_kill          stops the server at once (immediate: a crash), for
#                    the lost-connection tests; pg_restart starts it again.
#
# PostgreSQL refuses to run as root, so initdb and pg_ctl run as the user
# postgres (runuser) and the directory is chowned to it; the binaries are
# Debian's (/usr/lib/postgresql/15/bin), never whatever is first on PATH.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=
PG_URI=

pg_available() {
    [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && [ -x "$PG_BIN/psql" ] &&
        id postgres >/dev/null 2>&1 && command -v runuser >/dev/null 2>&1
}

_pg_as() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_start() {
    local base=$1
    if ! pg_available; then
        echo "skip: PostgreSQL not installed ($PG_BIN/initdb missing; bash scripts/deps.sh --test installs postgresql)" >&2
        return 77
    fi
    PG_DIR=$base/pg
    mkdir -p "$PG_DIR/sock" || return 1
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$PG_DIR"
    chmod 700 "$PG_DIR"
    [ "$(id -u)" -eq 0 ] && chmod 755 "$base"
    if ! _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U snprobe --auth=trust -E UTF8 \
        >"$PG_DIR/initdb.log" 2>&1; then
        cat "$PG_DIR/initdb.log" >&2
        return 1
    fi
    cat >>"$PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$PG_DIR/sock'
max_connections = 40
shared_buffers = 32MB
fsync = on
CONF
    if ! _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 120 start \
        >"$PG_DIR/pg_ctl.log" 2>&1; then
        cat "$PG_DIR/pg_ctl.log" "$PG_DIR/log" >&2
        return 1
    fi
    chmod 755 "$PG_DIR" "$PG_DIR/sock" # the scanner (root or not) reaches the socket
    if ! _pg_as "$PG_BIN/createdb" -h "$PG_DIR/sock" -U snprobe snprobe >>"$PG_DIR/pg_ctl.log" 2>&1; then
        cat "$PG_DIR/pg_ctl.log" >&2
        return 1
    fi
    PG_URI="postgresql://snprobe@/snprobe?host=$PG_DIR/sock"
    export PG_URI
    return 0
}

pg_psql() { "$PG_BIN/psql" -X -q -At -h "$PG_DIR/sock" -U snprobe snprobe "$@"; }

pg_stop() {
    [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] &&
        _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 60 stop >/dev/null 2>&1
    return 0
}

pg_kill() {
    # An immediate shutdown is the server's crash: every connection drops at once.
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 60 stop >>"$PG_DIR/pg_ctl.log" 2>&1
}

pg_restart() {
    _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 120 start >>"$PG_DIR/pg_ctl.log" 2>&1
}
