#!/usr/bin/env bash
# Raft alone, side by side with etcd in the same run on the same disk:
#  - etcd 3.4 (Debian's etcd-server): 3 members on loopback, `etcdctl check perf --load=xl`
#    (writes/s through etcd's whole stack: gRPC, Raft, WAL fsync, bbolt);
#  - tern-raft-bench: 3 Tern Raft members with their journals (fsync), in-memory mailboxes,
#    committed entries/s.
#
#   bench/raft_vs_etcd.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
if ! command -v etcd > /dev/null || ! command -v etcdctl > /dev/null; then
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get install -y -q etcd-server etcd-client > /dev/null
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build --target tern-raft-bench > /dev/null

work="$(mktemp -d /var/tmp/raft-vs-etcd.XXXXXX)"
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cluster="e0=http://127.0.0.1:23800,e1=http://127.0.0.1:23810,e2=http://127.0.0.1:23820"
for i in 0 1 2; do
  etcd --name "e$i" --data-dir "$work/e$i" \
    --listen-peer-urls "http://127.0.0.1:238${i}0" --initial-advertise-peer-urls "http://127.0.0.1:238${i}0" \
    --listen-client-urls "http://127.0.0.1:237${i}9" --advertise-client-urls "http://127.0.0.1:237${i}9" \
    --initial-cluster "$cluster" --initial-cluster-state new --log-level error > "$work/e$i.log" 2>&1 &
  pids+=($!)
done
endpoints=127.0.0.1:23709,127.0.0.1:23719,127.0.0.1:23729
for _ in $(seq 1 100); do
  ETCDCTL_API=3 etcdctl --endpoints "$endpoints" endpoint health > /dev/null 2>&1 && break
  sleep 0.2
done
echo "== etcd $(etcd --version | head -n 1 | awk '{print $3}'): 3 members, etcdctl check perf --load=xl"
ETCDCTL_API=3 etcdctl --endpoints "$endpoints" check perf --load=xl 2>&1 | tr '\r' '\n' | grep -E "Throughput|Slowest|Stddev|PASS|FAIL" || true
kill "${pids[@]}"; wait 2>/dev/null || true; pids=()

echo "== tern raft"
build/bin/tern-raft-bench --dir "$work/tern" --seconds "$seconds" | head -n 1
