#!/usr/bin/env bash
# Installs every system package the build, tests and benchmarks need.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libgmp-dev libgtest-dev libgmock-dev googletest libbenchmark-dev libcli11-dev
  nlohmann-json3-dev libsodium-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libzmq3-dev cppzmq-dev libsqlite3-dev libcpp-httplib-dev libspdlog-dev libfmt-dev prometheus yq python3
  podman runc debootstrap  # tests/deploy/images.sh builds and runs the container images
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all system packages present"
fi

if command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]]; then
  echo "setup: nvcc found, the CUDA backend will be compiled"
else
  echo "setup: no nvcc, building without the CUDA backend"
fi

# Node.js peers for the interop tests (tests/interop: circom2, snarkjs, solc, anvil, ethers,
# onnxruntime-node).
# `npm ci` installs exactly what package-lock.json pins; it runs only when the lockfile (or the
# node version) changed since the last install, recorded in a stamp inside node_modules.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs npm"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
interop_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/interop"
if [[ -f "$interop_dir/package-lock.json" ]]; then
  want="$(sha256sum "$interop_dir/package-lock.json" | cut -d' ' -f1) node $(node --version)"
  stamp="$interop_dir/node_modules/.zkinfer-npm-ci-stamp"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "setup: tests/interop node modules up to date"
  else
    echo "setup: npm ci in tests/interop"
    # onnxruntime-node's postinstall would download CUDA provider binaries (a network fetch that
    # fails offline); ONNXRUNTIME_NODE_INSTALL=skip keeps it to the CPU runtime in the package.
    # The other install scripts (anvil's binary from its platform package) still run.
    (cd "$interop_dir" && ONNXRUNTIME_NODE_INSTALL=skip \
      npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
fi
