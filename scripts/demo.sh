#!/usr/bin/env bash
# The main job: set up a fresh machine, build, start a local prover cluster, and prove an
# inference of the bundled digits model (examples/digits/cnn.onnx, a small CNN trained on
# scikit-learn's 8x8 digits) through it:
#
#   zkinfer cluster up   a coordinator and two workers on this machine (CUDA where a GPU is usable)
#   zkinfer model add    uploads the model; the coordinator compiles it (calibrated on
#                        examples/digits/calibration_cnn.json) and makes development Groth16 keys
#   zkinfer submit       a proof job: the model's inference on examples/digits/input_cnn.json
#   zkinfer wait/result  the job's output, proof and public signals, checked by the coordinator
#   zkinfer verify, and snarkjs groth16 verify as an independent check
#
# Everything lands in build/demo/ (cluster logs in build/demo/cluster/logs/). The same steps
# without a cluster are `zkinfer compile|setup|prove` (README); scripts/demo_circom.sh shows the
# snarkjs drop-in flow with a circom circuit instead.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh

root=$(pwd)
zkinfer="$root/${ZKINFER_BUILD_DIR:-build}/bin/zkinfer"
nm="$root/tests/interop/node_modules"
out="$root/${ZKINFER_BUILD_DIR:-build}/demo"
snarkjs=(node "$nm/snarkjs/build/cli.cjs")
# A cluster left running by an interrupted earlier run goes first.
[[ -f "$out/cluster/cluster.pids" ]] && "$zkinfer" cluster down --data "$out/cluster" >/dev/null 2>&1 || true
rm -rf "$out"
mkdir -p "$out"

step() { printf '\n== %s\n' "$*"; }

step "start a local cluster: a coordinator and 2 workers"
cluster="$out/cluster"
"$zkinfer" cluster up --detach --data "$cluster" --workers 2
trap '"$zkinfer" cluster down --data "$cluster" >/dev/null 2>&1 || true' EXIT

step "register examples/digits/cnn.onnx (compiled and set up by the coordinator; development keys)"
model=$("$zkinfer" model add examples/digits/cnn.onnx --calibration examples/digits/calibration_cnn.json --dev | tail -n 1)

step "prove the model's inference on examples/digits/input_cnn.json (a handwritten 2) on the cluster"
job=$("$zkinfer" submit "$model" --input examples/digits/input_cnn.json | tail -n 1)
"$zkinfer" wait "$job" --timeout 900
"$zkinfer" result "$job" -o "$out/proof"
printf 'output: %s\n' "$(cat "$out/proof/output.json")"

step "verify with zkinfer"
"$zkinfer" verify "$out/proof/verification_key.json" "$out/proof/public.json" "$out/proof/proof.json"

step "verify with snarkjs (independent implementation)"
"${snarkjs[@]}" groth16 verify "$out/proof/verification_key.json" "$out/proof/public.json" "$out/proof/proof.json"

step "stop the cluster"
"$zkinfer" cluster down --data "$cluster"
trap - EXIT

printf '\ndemo: the inference is proved on a local cluster, and the proof verified by zkinfer and by snarkjs; files in %s\n' "${out#"$root"/}"
