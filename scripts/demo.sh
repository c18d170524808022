#!/usr/bin/env bash
# The main job: set up a fresh machine, build, and run the strongest end-to-end job zkinfer has.
# Today that is the BN254 backend benchmark: MSM (G1, G2) and NTT at growing sizes, every result
# checked against an independent computation. Extra arguments go to `zkinfer bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
exec "${ZKINFER_BUILD_DIR:-build}/bin/zkinfer" bench "$@"
