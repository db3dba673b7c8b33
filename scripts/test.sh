#!/usr/bin/env bash
# Installs what is missing (Debian packages and the pinned npm test clients), builds everything
# with AddressSanitizer and UndefinedBehaviorSanitizer, and runs every test through ctest.
# Extra arguments go to ctest, e.g. scripts/test.sh -L unit  or  scripts/test.sh -R compat.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
(cd tests/compat && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/deploy && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/console && npm ci --no-audit --no-fund --loglevel=error)
cmake -S . -B build-asan -G Ninja -DTERN_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build-asan
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir build-asan --output-on-failure -j "$(nproc)" "$@"
