#!/bin/bash
# The image's health check: GET /ready on the broker's monitoring address, healthy on 200. Uses
# bash's /dev/tcp so that the image needs no HTTP client. The port comes from
# TERN_MONITORING_ADDRESS (default 9600); the request goes to loopback, which a listener on
# 0.0.0.0 serves too.
#   tern-healthcheck [PATH]     PATH defaults to /ready (use /health for liveness only)
set -uo pipefail
path="${1:-/ready}"
address="${TERN_MONITORING_ADDRESS:-127.0.0.1:9600}"
port="${address##*:}"
exec 3<> "/dev/tcp/127.0.0.1/${port}" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
read -r -t 5 protocol status _ <&3 || exit 1
exec 3<&-
[[ "$protocol" == HTTP/* && "$status" == "200" ]]
