#!/usr/bin/env bash
# Installs what is missing, builds Release, and runs a single-node broker with its embedded
# gateway on 127.0.0.1:26500, REST and the console on 127.0.0.1:8080 (data in ./data, logs on
# the terminal). Extra arguments go to
# tern-broker, e.g. scripts/run.sh --log-level debug.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTERN_BUILD_TESTS=OFF > /dev/null
# The web console (console/, bundled with npm) is served on the REST address when it is built;
# without npm its target does not exist and the broker runs without it.
targets=(tern-broker)
if cmake --build build --target help | grep -q '^tern-console'; then targets+=(tern-console); fi
cmake --build build --target "${targets[@]}"
exec build/bin/tern-broker --data-dir ./data --gateway-address 127.0.0.1:26500 "$@"
