#!/usr/bin/env bash
# Builds the GPU tests and benchmarks here (no GPU needed) for sm_90 and packs them, stripped,
# with the shared libraries GPU machines lack, into build-gpu-prebuilt.tar.xz at the repository
# root (git-ignored); the cluster programs (zkinfer, zkinfer-coordinator, zkinfer-worker,
# setup_tool) likewise into build-gpu-cluster.tar.xz. bench/gpu_check.sh runs them with
# ZKINFER_GPU_PREBUILT (and ZKINFER_GPU_CLUSTER_PREBUILT) set, so a GPU lease is spent on the GPU
# rather than on nvcc (the MSM kernels take minutes to compile).
# Valid only where this machine's nvcc matches the GPU machine's driver (CUDA 13.0 on both here)
# and its C library is not newer than theirs; gpu_check.sh's build step is the fallback.
#   bench/gpu/prebuild.sh [BUILD_DIR]   (default build-gpu-local; ZKINFER_GPU_ARCH, default 90)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-gpu-local}
ARCH=${ZKINFER_GPU_ARCH:-90}
[[ -x /usr/local/cuda/bin/nvcc ]] && ! command -v nvcc >/dev/null && export PATH=/usr/local/cuda/bin:$PATH
command -v nvcc >/dev/null || { echo "prebuild.sh: nvcc not found" >&2; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
# The NCCL path where nvcc comes with nccl.h (the library is opened at run time: nccl_group.h).
nccl=()
[[ -f $(dirname "$(command -v nvcc)")/../include/nccl.h ]] && nccl=(-DZKINFER_NCCL=ON)
# "$ARCH-real": machine code only. The GPU machines run it directly; the PTX a plain "$ARCH" adds
# for other chips made the two archives 60 MiB instead of 39 (2026-11-27), and the device tool
# carries at most 64 MiB a call.
# The programs find the libraries packed beside them through an RPATH of $ORIGIN/../lib (an old-style
# DT_RPATH, which also serves the libraries' own dependencies and dlopen), so no LD_LIBRARY_PATH
# has to point there: one would reach every other program run after it, Nsight Compute and
# python3 included, with Debian's copies of OpenSSL, zlib and SQLite.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DZKINFER_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH-real" \
  -DZKINFER_BUILD_GPU_BENCH=ON "${nccl[@]}" "${launcher[@]}" -DCMAKE_BUILD_RPATH='$ORIGIN/../lib' \
  -DCMAKE_EXE_LINKER_FLAGS=-Wl,--disable-new-dtags >/dev/null
# The GPU tests and benchmarks, and the cluster programs for bench/gpu/cluster_gpu.sh.
cmake --build "$BUILD" --target zkinfer_gpu_all zkinfer zkinfer-coordinator zkinfer-worker setup_tool -j "$(nproc)"

# pack ARCHIVE PROGRAM...: the programs, stripped, with the shared libraries outside the C/C++
# runtime that they load (libsodium; ZeroMQ, protobuf, SQLite and the like for the cluster), and
# BUILD_INFO. Two archives, so that the tests and benchmarks can travel alone should the two
# outgrow the device tool's 64 MiB a call (each CUDA program carries every kernel, about 20 MB).
pack() {
  local archive=$1 stage
  shift
  stage=$(mktemp -d)
  mkdir -p "$stage/bin" "$stage/lib"
  for f in "$@"; do
    [[ -x $f ]] && cp "$f" "$stage/bin/"
  done
  strip "$stage"/bin/*
  for f in "$stage"/bin/*; do
    readelf -d "$f" | grep -q 'RPATH.*\$ORIGIN/\.\./lib' ||
      { echo "prebuild.sh: $f has no RPATH \$ORIGIN/../lib (configure $BUILD afresh)" >&2; exit 1; }
  done
  # The C library's own parts (libresolv and the like among them) come from the GPU machine's
  # C library, which they must match.
  ldd "$stage"/bin/* 2>/dev/null | awk '/=> \//{print $3}' | sort -u |
    grep -vE '/(libc|libm|libstdc\+\+|libgcc_s|libpthread|libdl|librt|libresolv|libanl|libnsl|libutil|libnss_[a-z]+|ld-linux[^/]*)\.so' |
    while read -r lib; do cp -L "$lib" "$stage/lib/"; done
  {
    echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+local changes')"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ), sm_$ARCH, $(nvcc --version | grep -o 'release [0-9.]*')"
  } >"$stage/BUILD_INFO"
  # Each CUDA program carries the same kernels (about 20 MB): a dictionary larger than one
  # program lets xz find the second copy (2026-11-27: the test and benchmark archive 37 MiB with
  # xz's default 8 MiB, 15 MiB with 64 MiB). Unpacking needs about 65 MiB of memory; tar -xJf
  # reads it as before.
  tar -C "$stage" -cf - . | xz -T1 --lzma2=preset=6,dict=64MiB >"$archive"
  echo "prebuild.sh: $archive ($(du -h "$archive" | cut -f1)): $(ls "$stage/bin" | tr '\n' ' ')"
  rm -rf "$stage"
}
pack build-gpu-prebuilt.tar.xz "$BUILD"/bin/test_gpu_* "$BUILD"/bin/bench_gpu_* "$BUILD"/bin/test_mont32_emu
pack build-gpu-cluster.tar.xz "$BUILD"/bin/zkinfer "$BUILD"/bin/zkinfer-coordinator "$BUILD"/bin/zkinfer-worker \
  "$BUILD"/bin/setup_tool
# Whether one device call can carry both (then gpu_check.sh runs the cluster too).
total=$(($(stat -c %s build-gpu-prebuilt.tar.xz) + $(stat -c %s build-gpu-cluster.tar.xz)))
if ((total <= 64 << 20)); then
  echo "prebuild.sh: both archives $((total >> 20)) MiB: one device call carries them (64 MiB)"
else
  echo "prebuild.sh: both archives $((total >> 20)) MiB: over the device tool's 64 MiB, carry them in separate calls"
fi
