#!/usr/bin/env bash
# Recomputes the known answers stored in tests/compiler/test_poseidon.cpp with circomlib itself:
# compiles poseidon_vectors.circom (circomlib's Poseidon) with circom2, computes its witness for
# poseidon_vectors.input.json with snarkjs, and prints the public outputs as hex, in the order the
# test lists them. Also prints circom's constraint count for one Poseidon(16).
#
#   tests/compiler/data/regen_poseidon_vectors.sh
#
# Needs the node modules of tests/interop (scripts/setup.sh installs them).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
nm="$here/../../interop/node_modules"
if [[ ! -f "$nm/circom2/cli.js" || ! -f "$nm/snarkjs/build/cli.cjs" || ! -d "$nm/circomlib/circuits" ]]; then
  echo "regen_poseidon_vectors: node modules missing in tests/interop (run scripts/setup.sh)" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# circom2 runs in a WASI sandbox that sees only its working directory.
mkdir -p "$work/circomlib" "$work/out"
cp -r "$nm/circomlib/circuits" "$work/circomlib/"
cp "$here/poseidon_vectors.circom" "$here/poseidon_vectors.input.json" "$work/"
cat >"$work/poseidon16.circom" <<'CIRCOM'
pragma circom 2.1.0;
include "circomlib/circuits/poseidon.circom";
component main = Poseidon(16);
CIRCOM

(cd "$work" && node "$nm/circom2/cli.js" poseidon_vectors.circom --r1cs --wasm -o out >compile.log 2>&1) || {
  cat "$work/compile.log" >&2
  exit 1
}
node "$nm/snarkjs/build/cli.cjs" wtns calculate "$work/out/poseidon_vectors_js/poseidon_vectors.wasm" \
  "$work/poseidon_vectors.input.json" "$work/w.wtns" >/dev/null
node "$nm/snarkjs/build/cli.cjs" wtns export json "$work/w.wtns" "$work/w.json" >/dev/null

# Wires 1..34 are the outputs: small[16], large[16], commit17, commit0.
node -e '
const w = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const hex = (i) => "\"0x" + BigInt(w[i]).toString(16).padStart(64, "0") + "\"";
const list = (from, n) => Array.from({length: n}, (_, k) => "    " + hex(from + k) + ",").join("\n");
console.log("// small: Poseidon(n)(1, 2, ..., n), n = 1..16\n" + list(1, 16));
console.log("// large: Poseidon(n)(p-1, p-2, ..., p-n), n = 1..16\n" + list(17, 16));
console.log("// commit17: " + hex(33) + "\n// commit0: " + hex(34));
' "$work/w.json"

for level in O1 O2; do
  (cd "$work" && node "$nm/circom2/cli.js" poseidon16.circom --r1cs --$level -o out >p16.log 2>&1) || {
    cat "$work/p16.log" >&2
    exit 1
  }
  echo "// circomlib Poseidon(16), circom --$level: $(sed 's/\x1b\[[0-9;]*m//g' "$work/p16.log" |
    grep -E '^(non-)?linear constraints' | paste -sd, -)"
done
