#!/usr/bin/env bash
# One-task throughput with 100,000 pending timers and 100,000 open message subscriptions on one
# partition, beside the empty-state figure of the same run, and how late due timers fire.
#
#   bench/pending_state_bench.sh [SECONDS] [PENDING]
#
# Builds Release, starts one broker with one partition (fsync on) and runs tern-bench in its
# pending-state mode: measure; create PENDING instances waiting on a 24 h timer and PENDING
# waiting on a message; measure again. After each measurement 200 timers due 2 s ahead time
# their firing (due date -> job pushed to a stream).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
pending="${2:-100000}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build --target tern-broker tern-bench > /dev/null
work="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

build/bin/tern-broker --data-dir "$work/data" --gateway-address 127.0.0.1:28800 \
  --cluster-address 127.0.0.1:28801 --monitoring-address 127.0.0.1:28802 --partitions 1 \
  --log-level warn &
pid=$!
for _ in $(seq 1 300); do
  curl -sf http://127.0.0.1:28802/ready > /dev/null && break
  sleep 0.1
done
build/bin/tern-bench --gateway 127.0.0.1:28800 --monitoring 127.0.0.1:28802 --rate 0 \
  --duration "$seconds" --warmup 5 --preload-timers "$pending" \
  --preload-subscriptions "$pending" --timer-probes 200
