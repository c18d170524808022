#!/usr/bin/env bash
# collect-runtime.sh DEST BINARY...: copies the binaries to DEST/bin and every shared library they
# load to DEST/lib, so a runtime image gets only what runs. Left out: the C/C++ runtime every base
# image has, the CUDA libraries the CUDA runtime image has, and the driver, which the NVIDIA
# container toolkit mounts from the node.
set -euo pipefail
dest=$1
shift
mkdir -p "$dest/bin" "$dest/lib"
base='^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libresolv|libstdc\+\+|libgcc_s)\.so'
driver='^(libcuda|libnvidia-ml)\.so'
for bin in "$@"; do
  cp "$bin" "$dest/bin/"
  # ldd prints "libx.so.N => /path/libx.so.N (0x...)", or "libx.so.N => not found".
  while read -r name arrow path _; do
    [[ $arrow == "=>" ]] || continue
    [[ $name =~ $base || $name =~ $driver ]] && continue
    if [[ $path == "not" ]]; then
      echo "collect-runtime.sh: $bin needs $name, which is not installed" >&2
      exit 1
    fi
    [[ $path == /usr/local/cuda* ]] && continue
    cp -L "$path" "$dest/lib/$name"
  done < <(ldd "$bin")
done
