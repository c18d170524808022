#!/usr/bin/env bash
# Copies the GoogleTest sources from this machine (Debian's googletest package, /usr/src/googletest)
# into build-deps/googletest, for GPU machines that have no GoogleTest and cannot download it.
# build-deps/ is git-ignored (/build*/): name it in the device tool's `carry`, and
# bench/gpu_check.sh builds GoogleTest from it there (about 20 s on 16 cores).
set -euo pipefail
cd "$(dirname "$0")/../.."
src=${GTEST_SOURCE_DIR:-/usr/src/googletest}
if [[ ! -f $src/CMakeLists.txt ]]; then
  echo "pack_deps.sh: no GoogleTest sources at $src (apt-get install googletest, or set GTEST_SOURCE_DIR)" >&2
  exit 1
fi
rm -rf build-deps/googletest
mkdir -p build-deps/googletest
# Sources and CMake files only: no docs, samples or GoogleTest's own tests.
tar -C "$src" --exclude=docs --exclude=samples --exclude=test --exclude='*.md' -cf - . | tar -C build-deps/googletest -xf -
echo "pack_deps.sh: build-deps/googletest ($(du -sh build-deps/googletest | cut -f1)) from $src"

# The prover's libraries, for test_gpu_groth16 and bench_gpu_groth16 (bench/gpu/check-project
# uses these copies where the GPU machine has no packages): nlohmann-json's headers, and
# libsodium's headers and static library (Debian's libsodium-dev, nlohmann-json3-dev), found
# where this machine's compiler and pkg-config find them.
rm -rf build-deps/nlohmann_json build-deps/sodium
json=$(echo '#include <nlohmann/json.hpp>' | ${CXX:-c++} -x c++ -std=c++17 -E -H - 2>&1 >/dev/null |
  grep -m1 '/nlohmann/json.hpp$' | sed 's/^\.* //' || true)
sodium_inc=$(pkg-config --variable=includedir libsodium 2>/dev/null || true)
sodium_lib=$(pkg-config --variable=libdir libsodium 2>/dev/null || true)
if [[ -f $json && -f $sodium_inc/sodium.h && -f $sodium_lib/libsodium.a ]]; then
  mkdir -p build-deps/nlohmann_json/include build-deps/sodium/include build-deps/sodium/lib
  cp -r "$(dirname "$json")" build-deps/nlohmann_json/include/
  cp -r "$sodium_inc/sodium.h" "$sodium_inc/sodium" build-deps/sodium/include/
  cp "$sodium_lib/libsodium.a" build-deps/sodium/lib/
  echo "pack_deps.sh: build-deps/nlohmann_json, build-deps/sodium ($(du -shc build-deps/nlohmann_json build-deps/sodium | tail -1 | cut -f1))"
else
  echo "pack_deps.sh: nlohmann-json or libsodium (with libsodium.a) not found: the GPU check will leave out the Groth16 test and benchmark" >&2
fi
echo "pack_deps.sh: carry [\"build-deps\"] with the device run of bench/gpu_check.sh"
