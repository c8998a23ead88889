#!/usr/bin/env bash
# The main job on its embedded default: install what is missing (the build
# packages and dnsmasq, which serves the demo's PTR names), build, run the local
# demo (a swarm of emulated super nodes on loopback, scanned end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --demo
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec ./build/snprobe demo "$@"
