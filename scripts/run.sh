#!/usr/bin/env bash
# Installs what is missing, builds Release, and runs a single-node broker with its embedded
# gateway on 127.0.0.1:26500 (data in ./data, logs on the terminal). Extra arguments go to
# tern-broker, e.g. scripts/run.sh --log-level debug.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTERN_BUILD_TESTS=OFF > /dev/null
cmake --build build --target tern-broker
exec build/bin/tern-broker --data-dir ./data --gateway-address 127.0.0.1:26500 "$@"
