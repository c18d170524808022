#!/usr/bin/env bash
# Sets up a fresh machine, builds, and runs the whole test suite (GPU tests skip without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
cd "${ZKINFER_BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" "$@"
