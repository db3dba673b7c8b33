#!/bin/bash
# The image's entrypoint: fills in the per-replica settings that a Kubernetes StatefulSet or a
# scaled Compose service cannot spell out for each replica, then runs the command (tern-broker by
# default, or tern-gateway, ternctl, ...). Settings already given are never changed.
#   TERN_NODE_ID        for tern-broker, when unset: the number after the last '-' of the host
#                       name (a StatefulSet pod tern-broker-2 is node 2).
#   TERN_PEER_TEMPLATE  when set: an address with '{}' standing for the node id, e.g.
#                       tern-broker-{}.tern-broker.tern.svc.cluster.local:26501; expanded for
#                       node ids 0 .. TERN_CLUSTER_SIZE-1 into TERN_PEERS (tern-broker) and
#                       TERN_BROKERS (tern-gateway) when those are unset. Removed afterwards,
#                       since neither program knows it.
set -euo pipefail

if [[ $# -eq 0 ]]; then
  set -- tern-broker
fi

if [[ "$(basename "$1")" == "tern-broker" && -z "${TERN_NODE_ID:-}" ]]; then
  host="${HOSTNAME:-$(hostname)}"
  if [[ "$host" =~ -([0-9]+)$ ]]; then
    # 10#: an ordinal such as 08 is decimal, not an invalid octal number.
    export TERN_NODE_ID=$((10#${BASH_REMATCH[1]}))
  fi
fi

if [[ -n "${TERN_PEER_TEMPLATE:-}" ]]; then
  if [[ "$TERN_PEER_TEMPLATE" != *"{}"* ]]; then
    echo "tern-entrypoint: TERN_PEER_TEMPLATE must contain {} for the node id: $TERN_PEER_TEMPLATE" >&2
    exit 2
  fi
  size="${TERN_CLUSTER_SIZE:-1}"
  if ! [[ "$size" =~ ^[1-9][0-9]*$ ]]; then
    echo "tern-entrypoint: TERN_CLUSTER_SIZE must be a positive number, not '$size'" >&2
    exit 2
  fi
  peers=""
  for ((node = 0; node < size; node++)); do
    peers+="${peers:+,}${TERN_PEER_TEMPLATE//\{\}/$node}"
  done
  export TERN_PEERS="${TERN_PEERS:-$peers}"
  export TERN_BROKERS="${TERN_BROKERS:-$peers}"
  unset TERN_PEER_TEMPLATE
fi

exec "$@"
