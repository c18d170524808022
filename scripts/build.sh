#!/usr/bin/env bash
# Configures and builds zkinfer into build/ (or $ZKINFER_BUILD_DIR). Executables land in build/bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${ZKINFER_BUILD_DIR:-build}
args=(-G Ninja -DCMAKE_BUILD_TYPE=${ZKINFER_BUILD_TYPE:-Release})
if command -v ccache >/dev/null; then
  args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
if [[ -x /usr/local/cuda/bin/nvcc ]] && ! command -v nvcc >/dev/null; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
cmake -S . -B "$BUILD_DIR" "${args[@]}" ${ZKINFER_CMAKE_ARGS:-}
cmake --build "$BUILD_DIR" -j "$(nproc)"
