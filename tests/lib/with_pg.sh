#!/usr/bin/env bash
# with_pg.sh PROGRAM ARGS...: runs PROGRAM with a PostgreSQL server of its own
# (tests/lib/pg.sh) and SN_TEST_PG_URI naming it, so that one set of history
# tests runs against both backends. Exits 77 (skip) where PostgreSQL is not
# installed; the server and its directory go at exit.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/pg.sh"
base=$(mktemp -d "${TMPDIR:-/tmp}/sn_pg.XXXXXX") || exit 1
trap 'pg_stop; rm -rf "$base"' EXIT
pg_start "$base"
rc=$?
if [ "$rc" -ne 0 ]; then
    [ "$rc" -eq 77 ] && exit 77
    echo "with_pg.sh: the PostgreSQL server did not start (log: above)" >&2
    exit 1
fi
SN_TEST_PG_URI=$PG_URI "$@"
