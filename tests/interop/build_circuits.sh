#!/usr/bin/env bash
# Compiles the interop test circuits with circom2 and computes their witnesses with snarkjs.
#
#   tests/interop/build_circuits.sh OUT_DIR [NAME...]
#
# For every circuit NAME (default: each circuits/*.input.json), writes
#   OUT_DIR/NAME/NAME.r1cs   OUT_DIR/NAME/NAME.wasm   OUT_DIR/NAME/NAME.wtns   OUT_DIR/NAME/input.json
# A circuit is skipped when its stamp (hash of the main file, the local files it includes, its
# input and the npm lockfile) is unchanged since the last build.
#
# circom2 is circom compiled to WebAssembly and runs in a WASI sandbox that only sees its working
# directory: each circuit is compiled from a private folder holding a copy of the circuit, its
# local includes and (when used) circomlib's circuits, with relative paths only.
#
# Measured on the 2-core dev machine (circom 2.2.3 through circom2 0.2.23, snarkjs 0.7.6; two runs):
#   circuit           constraints                    circom2 --r1cs --wasm   wtns calculate
#   mulchain_small       100                               0.5-0.7 s            0.2-0.4 s
#   matmul (3x3)          36 (27 non-linear)               0.4-0.6 s            0.2-0.3 s
#   poseidon_chain     4,136 (8 hashes, 1,944 non-linear)  1.6-2.3 s            0.2-0.6 s
#   mulchain_large    70,000 (domain 2^17)                10.4-11.6 s           0.2-0.7 s
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
if (($# < 1)); then
  echo "usage: $0 OUT_DIR [NAME...]" >&2
  exit 2
fi
mkdir -p "$1"
out_root="$(cd "$1" && pwd)"
shift

nm="$here/node_modules"
if [[ ! -f "$nm/circom2/cli.js" || ! -f "$nm/snarkjs/build/cli.cjs" || ! -d "$nm/circomlib/circuits" ]]; then
  echo "build_circuits: node modules missing in tests/interop (run scripts/setup.sh)" >&2
  exit 1
fi
circom2=(node "$nm/circom2/cli.js")
snarkjs=(node "$nm/snarkjs/build/cli.cjs")

names=("$@")
if ((${#names[@]} == 0)); then
  for f in "$here"/circuits/*.input.json; do
    b="$(basename "$f")"
    names+=("${b%.input.json}")
  done
fi

# Local (non-circomlib) files a circuit includes, one level deep: `include "x.circom";`.
local_includes() {
  sed -n 's/^[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1" | grep -v '^circomlib/' || true
}

for name in "${names[@]}"; do
  main="$here/circuits/$name.circom"
  input="$here/circuits/$name.input.json"
  if [[ ! -f "$main" || ! -f "$input" ]]; then
    echo "build_circuits: no circuit $name (need circuits/$name.circom and circuits/$name.input.json)" >&2
    exit 1
  fi
  mapfile -t incs < <(local_includes "$main")
  stamp_files=("$main" "$input" "$here/package-lock.json")
  for inc in "${incs[@]}"; do stamp_files+=("$here/circuits/$inc"); done
  want="$(cat "${stamp_files[@]}" | sha256sum | cut -d' ' -f1)"

  dir="$out_root/$name"
  if [[ -f "$dir/stamp" && "$(cat "$dir/stamp")" == "$want" && -f "$dir/$name.r1cs" &&
        -f "$dir/$name.wasm" && -f "$dir/$name.wtns" ]]; then
    echo "build_circuits: $name up to date"
    continue
  fi

  rm -rf "$dir"
  work="$dir/src"
  mkdir -p "$work/out"
  cp "$main" "$work/"
  for inc in "${incs[@]}"; do cp "$here/circuits/$inc" "$work/"; done
  if grep -q 'include[[:space:]]*"circomlib/' "$main"; then
    mkdir -p "$work/circomlib"
    cp -r "$nm/circomlib/circuits" "$work/circomlib/"
  fi

  start=$(date +%s.%N)
  (cd "$work" && "${circom2[@]}" "$name.circom" --r1cs --wasm -o out >compile.log 2>&1) || {
    cat "$work/compile.log" >&2
    echo "build_circuits: circom2 failed on $name" >&2
    exit 1
  }
  mid=$(date +%s.%N)
  mv "$work/out/$name.r1cs" "$dir/"
  mv "$work/out/${name}_js/$name.wasm" "$dir/"
  cp "$input" "$dir/input.json"
  "${snarkjs[@]}" wtns calculate "$dir/$name.wasm" "$dir/input.json" "$dir/$name.wtns" >/dev/null
  end=$(date +%s.%N)
  constraints="$(sed 's/\x1b\[[0-9;]*m//g' "$work/compile.log" | grep -E '^(non-)?linear constraints' |
    paste -sd, -)"
  rm -rf "$work"
  echo "$want" >"$dir/stamp"
  awk -v n="$name" -v a="$start" -v b="$mid" -v c="$end" -v k="$constraints" \
    'BEGIN { printf "build_circuits: %s compiled in %.1f s, witness in %.1f s (%s)\n", n, b - a, c - b, k }'
done
