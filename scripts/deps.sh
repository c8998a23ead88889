#!/usr/bin/env bash
# Installs what snprobe needs on Debian 12, only what is missing (run as root).
#   scripts/deps.sh          build and run: compiler, CMake, the libraries
#   scripts/deps.sh --demo   also what the demo needs (dnsmasq serves its PTR names; without
#                            it the report has no academic or dynamic/static figures)
#   scripts/deps.sh --test   also the real servers and tools the test suite uses
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libuv1-dev libc-ares-dev libmaxminddb-dev
  libcsv-dev libexpat1-dev libsqlite3-dev libpq-dev libcmocka-dev libpsl-dev publicsuffix)
demo_pkgs=(dnsmasq)
test_pkgs=(dnsmasq unbound coturn nmap iptables nftables ipset iproute2 libmaxmind-db-writer-perl
  python3 time procps chromium util-linux systemd
  postgresql # the PostgreSQL history backend's tests (tests/lib/pg.sh)
  clang libclang-rt-14-dev # clang + libFuzzer's runtime for scripts/fuzz.sh
  clang-format)            # tests/check_format.sh

want=("${build_pkgs[@]}")
case "${1:-}" in
  "") ;;
  --demo) want+=("${demo_pkgs[@]}") ;;
  --test) want+=("${demo_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: scripts/deps.sh [--demo|--test]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "snprobe: missing Debian packages: ${missing[*]}" >&2
  echo "snprobe: run this script as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "snprobe: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Services some packages start on install (dnsmasq, unbound, coturn) are not
# used: the tests start their own instances on unprivileged loopback ports.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for svc in dnsmasq unbound coturn; do
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
