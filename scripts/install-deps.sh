#!/usr/bin/env bash
# Installs the Debian 12 packages Tern needs that are not installed yet.
#   scripts/install-deps.sh          what building and running needs
#   scripts/install-deps.sh --test   also what the tests need (the Zeebe clients' Node.js, and
#                                    Chromium for the console's browser tests)
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git python3
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev
  librocksdb-dev libabsl-dev libspdlog-dev libfmt-dev libpugixml-dev nlohmann-json3-dev
  libyaml-cpp-dev libre2-dev libcli11-dev prometheus-cpp-dev libcivetweb-dev
  libintelrdfpmath-dev libcurl4-openssl-dev libssl-dev libsodium-dev tzdata libsqlite3-dev
  libpq-dev
  libboost1.81-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
# Node.js and npm build the web console (console/, bundled at build time) and run the Node
# test clients; a node installed otherwise (e.g. NodeSource) is kept.
command -v node > /dev/null || packages+=(nodejs)
command -v npm > /dev/null || packages+=(npm)
if [[ "${1:-}" == "--test" ]]; then
  # The console's end-to-end tests drive Debian's Chromium headless (puppeteer-core, no
  # browser download).
  packages+=(chromium)
  # The history test reads the broker's SQLite store with the sqlite3 shell.
  command -v sqlite3 > /dev/null || packages+=(sqlite3)
  # The history store's tests run a real PostgreSQL server (initdb and pg_ctl of postgresql-15
  # on a temporary directory; tests/exporter/postgres_server.h, tests/system/lib/postgres.mjs).
  packages+=(postgresql-15 postgresql-client-15)
  # systemd-analyze, for the deploy tests of the unit files (present on most Debian systems).
  command -v systemd-analyze > /dev/null || packages+=(systemd)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2> /dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if (( ${#missing[@]} > 0 )); then
  echo "Installing: ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
