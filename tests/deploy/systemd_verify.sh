#!/usr/bin/env bash
# deploy/systemd: `systemd-analyze verify` accepts both units, with no warning either (it exits 0
# on unknown keys, so its output must be empty too). ExecStart is pointed at the binaries just
# built, since verify also checks that the program exists; everything else is the shipped unit.
# The sysusers.d file is parsed by systemd-sysusers in dry-run mode against a scratch root.
# Exits 77 (ctest: skipped) where systemd-analyze is missing.
#   systemd_verify.sh REPO_ROOT TERN_BROKER_BIN TERN_GATEWAY_BIN
set -euo pipefail
root="$1" broker_bin="$2" gateway_bin="$3"
if ! command -v systemd-analyze > /dev/null; then
  echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
  exit 77
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

sed "s|/usr/local/bin/tern-broker|$broker_bin|" "$root/deploy/systemd/tern-broker.service" \
  > "$scratch/tern-broker.service"
sed "s|/usr/local/bin/tern-gateway|$gateway_bin|" "$root/deploy/systemd/tern-gateway.service" \
  > "$scratch/tern-gateway.service"
grep -q "ExecStart=$broker_bin --config /etc/tern/broker.yaml" "$scratch/tern-broker.service"
grep -q "ExecStart=$gateway_bin" "$scratch/tern-gateway.service"

cd "$scratch"
output=$(systemd-analyze verify tern-broker.service tern-gateway.service 2>&1) || {
  echo "$output"
  exit 1
}
if [[ -n "$output" ]]; then
  echo "systemd-analyze verify warned:"
  echo "$output"
  exit 1
fi
echo "systemd-analyze verify: both units accepted"

# The hardening is there: an offline exposure score of at most 2.0 ("OK") for each unit.
for unit in tern-broker.service tern-gateway.service; do
  score=$(systemd-analyze security --offline=true "$unit" 2>&1 |
    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
  echo "$unit exposure level: ${score:-?}"
  awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }' || {
    echo "$unit: exposure level above 2.0"
    exit 1
  }
done

if command -v systemd-sysusers > /dev/null; then
  mkdir -p "$scratch/sysroot/etc"
  : > "$scratch/sysroot/etc/passwd"
  : > "$scratch/sysroot/etc/group"
  systemd-sysusers --dry-run --root="$scratch/sysroot" "$root/deploy/systemd/tern.sysusers.conf" 2>&1 |
    tee "$scratch/sysusers.out"
  grep -q "tern" "$scratch/sysusers.out"
fi
