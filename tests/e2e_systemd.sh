#!/usr/bin/env bash
# The nightly job's systemd units: `cmake --install` into a scratch prefix
# installs the binary and the units with that binary's path written in, and
# `systemd-analyze verify` accepts both units; a copy whose ExecStartPost
# names a missing program is refused (so the check can fail). Skipped
# without systemd-analyze or cmake.
#
# Usage: bash tests/e2e_systemd.sh /path/to/snprobe (in its build directory)
set -uo pipefail
source "${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/lib/e2e.sh"
e2e_init e2e_systemd "${1:-}"
for tool in systemd-analyze cmake; do
    if ! command -v "$tool" >/dev/null; then
        log "$tool is missing: skipped"
        exit 77
    fi
done
BUILD=$(dirname "$SNPROBE")
ROOT=$TMP/root
limit 120 cmake --install "$BUILD" --prefix "$ROOT" >"$TMP/install.log" 2>&1
rc=$?
check "cmake --install exits 0 (got $(rc_text $rc))" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || show "$TMP/install.log"
UNITS=$ROOT/lib/systemd/system
check "the binary is installed and runs" "$ROOT/bin/snprobe" --version
check "the units are installed" [ -s "$UNITS/snprobe-nightly.service" ] && [ -s "$UNITS/snprobe-nightly.timer" ]
check "the service names the installed binary" grep -q "$ROOT/bin/snprobe scan" "$UNITS/snprobe-nightly.service"
check "no placeholder is left" bash -c "! grep -q @ '$UNITS/snprobe-nightly.service'"
if limit 60 systemd-analyze verify "$UNITS/snprobe-nightly.service" "$UNITS/snprobe-nightly.timer" \
    >"$TMP/verify.log" 2>&1; then
    ok "systemd-analyze verify accepts the service and the timer"
else
    fail "systemd-analyze verify accepts the service and the timer"
    show "$TMP/verify.log"
fi
check "the timer is persistent with a randomised delay" \
    grep -q "^Persistent=true" "$UNITS/snprobe-nightly.timer"
mkdir -p "$TMP/bad"
sed "s|ExecStartPost=$ROOT/bin/snprobe report|ExecStartPost=$TMP/nowhere/snprobe report|" \
    "$UNITS/snprobe-nightly.service" >"$TMP/bad/snprobe-nightly.service"
if limit 60 systemd-analyze verify "$TMP/bad/snprobe-nightly.service" >"$TMP/bad.log" 2>&1; then
    fail "systemd-analyze verify refuses a unit naming a missing program"
else
    ok "systemd-analyze verify refuses a unit naming a missing program"
fi
e2e_finish
