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
echo "pack_deps.sh: carry [\"build-deps\"] with the device run of bench/gpu_check.sh"
