#!/usr/bin/env bash
# Cluster throughput and latency on this machine, beside a single-node baseline in the same run.
#
#   bench/cluster_bench.sh [SECONDS] [BASELINE_BIN_DIR]
#
# Builds Release, then for (a) one broker with its embedded gateway and (b) 3 brokers with
# 3 partitions, replication factor 3 and a standalone tern-gateway (fsync on everywhere) runs
# tern-bench twice: at a fixed 500 instances/s, then as fast as it goes. Prints tern-bench's
# figures (completed instances/s, p50/p99 create->complete) for each.
#
# With BASELINE_BIN_DIR (the bin/ of another Release build, e.g. of the commit before a change:
# `git worktree add /tmp/base HEAD~1 && cmake -S /tmp/base -B /tmp/base/build -G Ninja
# -DCMAKE_BUILD_TYPE=Release -DTERN_BUILD_TESTS=OFF && ninja -C /tmp/base/build tern-broker
# tern-gateway`) each scenario runs on the baseline's brokers and gateway first and then on
# this build's, one after the other, with this build's tern-bench driving both.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
baseline_bin="${2:-}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build --target tern-broker tern-gateway tern-bench > /dev/null
work="$(mktemp -d)"
pids=()
cleanup() {
  kill -9 "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_ready() {  # monitoring addresses...
  for address in "$@"; do
    for _ in $(seq 1 300); do
      curl -sf "http://$address/ready" > /dev/null && break
      sleep 0.1
    done
  done
}

run_bench() {  # label gateway monitoring
  local label="$1" gateway="$2" monitoring="$3"
  # The fixed rate first: after an overload run the brokers are still compacting what it wrote,
  # which is not the steady state the latency figure is about.
  echo "== $label: 500 instances/s"
  build/bin/tern-bench --gateway "$gateway" --monitoring "$monitoring" --rate 500 \
    --duration "$seconds" --warmup 5 | tail -n 1
  echo "== $label: as fast as possible"
  build/bin/tern-bench --gateway "$gateway" --monitoring "$monitoring" --rate 0 \
    --duration "$seconds" --warmup 5 | tail -n 1
}

single_node() {  # label bin-dir
  local label="$1" bin="$2"
  rm -rf "$work/single"
  "$bin/tern-broker" --data-dir "$work/single" --gateway-address 127.0.0.1:28500 \
    --cluster-address 127.0.0.1:28501 --monitoring-address 127.0.0.1:28502 --partitions 3 \
    --log-level warn &
  pids+=($!)
  wait_ready 127.0.0.1:28502
  run_bench "$label: 1 broker, 3 partitions" 127.0.0.1:28500 127.0.0.1:28502
  kill -9 "${pids[@]}"; wait 2>/dev/null || true; pids=()
}

three_brokers() {  # label bin-dir
  local label="$1" bin="$2"
  rm -rf "$work"/broker-*
  peers=127.0.0.1:28601,127.0.0.1:28602,127.0.0.1:28603
  for node in 0 1 2; do
    "$bin/tern-broker" --node-id "$node" --cluster-size 3 --partitions 3 --replication-factor 3 \
      --cluster-address "127.0.0.1:$((28601 + node))" --peers "$peers" --no-gateway \
      --data-dir "$work/broker-$node" --monitoring-address "127.0.0.1:$((28701 + node))" \
      --log-level warn &
    pids+=($!)
  done
  "$bin/tern-gateway" --address 127.0.0.1:28600 --brokers "$peers" --log-level warn &
  pids+=($!)
  wait_ready 127.0.0.1:28701 127.0.0.1:28702 127.0.0.1:28703
  sleep 3  # leadership settles on the preferred leaders
  run_bench "$label: 3 brokers, 3 partitions, replication factor 3, standalone gateway" \
    127.0.0.1:28600 127.0.0.1:28701
  kill -9 "${pids[@]}"; wait 2>/dev/null || true; pids=()
}

builds=()
[[ -n "$baseline_bin" ]] && builds+=("baseline=$baseline_bin")
builds+=("this build=build/bin")
# (a) single node, then (b) 3 brokers + gateway, each on every build in turn.
for build in "${builds[@]}"; do single_node "${build%%=*}" "${build#*=}"; done
for build in "${builds[@]}"; do three_brokers "${build%%=*}" "${build#*=}"; done
