#!/usr/bin/env bash
# A model exported by torch.onnx.export (tests/compiler/data/exports/) along a user's path:
#   exports_e2e.sh ZKINFER WORK NAME
#   zkinfer compile (with its calibration samples) -> setup --dev -> prove on its sample input;
#   zkinfer verify and snarkjs groth16 verify accept; every value in output.json is within 0.01
#   of onnxruntime's output for the same input (observed: 4e-5 to 1.4e-3 on the small exports,
#   whose derived bounds tests/interop/test_ops_onnxruntime.cpp TorchExports checks; 2.4e-3 on
#   encoder_layer, 2e-3 on gpt_block and 2.2e-3 on tiny_gpt (token ids to logits), whole
#   transformer blocks, for which a composed bound says nothing; the recurrent exports
#   lstm_classifier, gru_bidirectional and rnn_relu are unrolled at import; conv_decoder has
#   ConvTranspose and Resize in nearest and linear mode, norm_block InstanceNormalization and
#   torch's GroupNorm, where_gate comparisons of computed values, torch.where and boolean masks,
#   bicubic_up Resize in cubic mode, pixel_shuffle_up Pad in reflect and edge modes, DepthToSpace
#   and PRelu).
set -euo pipefail
zkinfer=$1 work=$2 name=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/interop/lib.sh"
nm="$root/tests/interop/node_modules"
if [[ ! -f $nm/snarkjs/build/cli.cjs || ! -f $nm/onnxruntime-node/package.json ]]; then
  echo "snarkjs or onnxruntime-node is not installed (run scripts/setup.sh): cannot run the interop checks" >&2
  exit 1
fi
snarkjs=(node "$nm/snarkjs/build/cli.cjs")
data="$here/data/exports"
d="$work/$name"
rm -rf "$d" && mkdir -p "$d"

run "$zkinfer" compile "$data/$name.onnx" -o "$d/model" --calibration "$data/$name.calibration.json"
run "$zkinfer" setup "$d/model" --dev
run "$zkinfer" prove "$d/model" --input "$data/$name.input.json" -o "$d/out"
run "$zkinfer" verify "$d/model/verification_key.json" "$d/out/public.json" "$d/out/proof.json"
run "${snarkjs[@]}" groth16 verify "$d/model/verification_key.json" "$d/out/public.json" "$d/out/proof.json" \
  | tee "$d/verify.txt"
grep -q "OK!" "$d/verify.txt"

# onnxruntime on the same input (ort_run.mjs takes {name: {shape, data}}).
node -e '
const fs = require("fs");
const input = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const shapeOf = (a) => (Array.isArray(a) ? [a.length, ...shapeOf(a[0])] : []);
const feeds = {};
for (const [k, v] of Object.entries(input)) feeds[k] = { shape: shapeOf(v), data: [v].flat(Infinity) };
fs.writeFileSync(process.argv[2], JSON.stringify(feeds));
' "$data/$name.input.json" "$d/ort_in.json"
run node "$root/tests/interop/ort_run.mjs" "$data/$name.onnx" "$d/ort_in.json" "$d/ort_out.json"
node -e '
const fs = require("fs");
const ours = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const ort = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
let worst = 0;
for (const [k, v] of Object.entries(ort)) {
  if (!(k in ours)) throw new Error(`output.json has no "${k}"`);
  const a = [ours[k]].flat(Infinity), b = v.data;
  if (a.length !== b.length) throw new Error(`${k}: ${a.length} values in output.json, onnxruntime has ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    worst = Math.max(worst, e);
    if (!(e <= 0.01)) throw new Error(`${k}[${i}]: circuit ${a[i]}, onnxruntime ${b[i]}`);
  }
}
console.log(`outputs within ${worst.toExponential(2)} of onnxruntime`);
' "$d/out/output.json" "$d/ort_out.json"
echo "exports_e2e $name: ok"
