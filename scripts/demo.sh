#!/usr/bin/env bash
# The main job: set up a fresh machine, build, and prove an inference of the bundled digits model
# (examples/digits/cnn.onnx, a small CNN trained on scikit-learn's 8x8 digits):
#
#   zkinfer compile   ONNX -> quantized circuit (calibrated on examples/digits/calibration_cnn.json)
#   zkinfer setup     Groth16 proving and verification keys (development setup, NOT for production)
#   zkinfer prove     runs the model on examples/digits/input_cnn.json and proves the inference
#   zkinfer verify, and snarkjs groth16 verify as an independent check
#
# Everything lands in build/demo/. scripts/demo_circom.sh shows the snarkjs drop-in flow with a
# circom circuit instead.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh

root=$(pwd)
zkinfer="$root/${ZKINFER_BUILD_DIR:-build}/bin/zkinfer"
nm="$root/tests/interop/node_modules"
out="$root/${ZKINFER_BUILD_DIR:-build}/demo"
snarkjs=(node "$nm/snarkjs/build/cli.cjs")
rm -rf "$out"
mkdir -p "$out"

step() { printf '\n== %s\n' "$*"; }

step "compile examples/digits/cnn.onnx"
"$zkinfer" compile examples/digits/cnn.onnx -o "$out/model" --calibration examples/digits/calibration_cnn.json

step "Groth16 setup (development keys)"
"$zkinfer" setup "$out/model" --dev

step "prove the model's inference on examples/digits/input_cnn.json (a handwritten 2)"
"$zkinfer" prove "$out/model" --input examples/digits/input_cnn.json -o "$out/proof"

step "verify with zkinfer"
"$zkinfer" verify "$out/model/verification_key.json" "$out/proof/public.json" "$out/proof/proof.json"

step "verify with snarkjs (independent implementation)"
"${snarkjs[@]}" groth16 verify "$out/model/verification_key.json" "$out/proof/public.json" "$out/proof/proof.json"

printf '\ndemo: the inference is proved, and the proof verified by zkinfer and by snarkjs; files in %s\n' "${out#"$root"/}"
