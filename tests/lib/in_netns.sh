#!/bin/sh
# in_netns.sh PROGRAM ARGS...: runs PROGRAM inside a private network namespace
# with only its own loopback up, so that whatever it binds (swarms on fixed
# ports, listeners) can neither meet nor disturb anything else on the
# machine. Used by CTest for the unit tests that bind loopback ports.
# Without the right to make a namespace (not root, no unshare), it runs
# PROGRAM as is: CTest's RESOURCE_LOCK still keeps those tests apart.
if [ "${SN_E2E_NETNS:-}" != 1 ] && command -v unshare >/dev/null 2>&1 &&
    command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
    SN_E2E_NETNS=1 exec unshare -n -- sh -c 'ip link set lo up || exit 1; exec "$@"' sh "$@"
fi
exec "$@"
