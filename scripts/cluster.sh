#!/usr/bin/env bash
# Installs what is missing, builds Release, and runs a local cluster on this machine: 3 brokers
# (3 partitions, replication factor 3, cluster addresses 127.0.0.1:26601-26603, monitoring on
# 127.0.0.1:9601-9603, data in ./data/cluster/broker-N) and a standalone tern-gateway on
# 127.0.0.1:26500. Logs go to the terminal, prefixed by process. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTERN_BUILD_TESTS=OFF > /dev/null
cmake --build build --target tern-broker tern-gateway

peers=127.0.0.1:26601,127.0.0.1:26602,127.0.0.1:26603
# Stopping the script stops every process it started (they share its process group).
trap 'trap - INT TERM EXIT; kill -TERM 0 2>/dev/null; wait' INT TERM EXIT
for node in 0 1 2; do
  build/bin/tern-broker --node-id "$node" --cluster-size 3 --partitions 3 --replication-factor 3 \
    --cluster-address "127.0.0.1:$((26601 + node))" --peers "$peers" \
    --data-dir "./data/cluster/broker-$node" --no-gateway \
    --monitoring-address "127.0.0.1:$((9601 + node))" "$@" 2>&1 | sed -u "s/^/[broker-$node] /" &
done
build/bin/tern-gateway --address 127.0.0.1:26500 --brokers "$peers" 2>&1 | sed -u 's/^/[gateway] /' &
wait
