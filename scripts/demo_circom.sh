#!/usr/bin/env bash
# Groth16 as a drop-in for snarkjs: set up, build, and prove and verify the bundled circom circuit
# (examples/groth16/hash_preimage.circom: knowledge of a secret behind a public Poseidon digest).
#
#   circom2 -> circuit.r1cs + witness generator -> circuit.wtns (snarkjs wtns calculate)
#   zkinfer powersoftau dev -> zkinfer groth16 setup -> zkinfer groth16 prove
#   zkinfer groth16 verify, and snarkjs groth16 verify as an independent check
#   zkinfer zkey export solidityverifier (the contract for an EVM chain)
#
# Everything lands in build/demo-circom/. The .ptau and key are development ones (NOT for production).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh

root=$(pwd)
zkinfer="$root/${ZKINFER_BUILD_DIR:-build}/bin/zkinfer"
nm="$root/tests/interop/node_modules"
out="$root/${ZKINFER_BUILD_DIR:-build}/demo-circom"
snarkjs=(node "$nm/snarkjs/build/cli.cjs")
rm -rf "$out"
mkdir -p "$out/src"

step() { printf '\n== %s\n' "$*"; }

step "compile examples/groth16/hash_preimage.circom with circom2"
# circom2 runs in a WASI sandbox that sees only its working directory: give it the circuit and
# a copy of circomlib there. --O2 folds the linear constraints into their neighbours.
cp examples/groth16/hash_preimage.circom "$out/src/"
mkdir -p "$out/src/circomlib" && cp -r "$nm/circomlib/circuits" "$out/src/circomlib/"
(cd "$out/src" && node "$nm/circom2/cli.js" hash_preimage.circom --O2 --r1cs --wasm -o . | grep -E "constraints|wires")
cp "$out/src/hash_preimage.r1cs" "$out/circuit.r1cs"

step "witness for examples/groth16/input.json"
"${snarkjs[@]}" wtns calculate "$out/src/hash_preimage_js/hash_preimage.wasm" examples/groth16/input.json "$out/circuit.wtns"

step "development powers of tau (2^14) and Groth16 setup"
"$zkinfer" powersoftau dev 14 "$out/pot14.ptau"
"$zkinfer" groth16 setup "$out/circuit.r1cs" "$out/pot14.ptau" "$out/circuit.zkey"
"$zkinfer" zkey export verificationkey "$out/circuit.zkey" "$out/verification_key.json"

step "prove"
"$zkinfer" groth16 prove "$out/circuit.zkey" "$out/circuit.wtns" "$out/proof.json" "$out/public.json"
echo "public signals (digest, salt): $(tr -d ' \n' <"$out/public.json")"

step "verify with zkinfer"
"$zkinfer" groth16 verify "$out/verification_key.json" "$out/public.json" "$out/proof.json"

step "verify with snarkjs (independent implementation)"
"${snarkjs[@]}" groth16 verify "$out/verification_key.json" "$out/public.json" "$out/proof.json"

step "Solidity verifier"
"$zkinfer" zkey export solidityverifier "$out/circuit.zkey" "$out/verifier.sol"

printf '\ndemo: proof made and verified by zkinfer and by snarkjs; files in %s\n' "${out#"$root"/}"
