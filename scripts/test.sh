#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, integration with real
# processes, end to end with a real Prometheus) under ctest.
#
# Environment: BUILD_DIR (default build-test), CTEST_ARGS (extra ctest arguments).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build-test}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j2
cd "$BUILD_DIR"
# shellcheck disable=SC2086
ctest -j2 --output-on-failure --timeout 600 ${CTEST_ARGS:-}
