#!/usr/bin/env bash
# End to end on a bundled example model (issue 5), checked by snarkjs at every step:
#   models_e2e.sh ZKINFER WORK mlp|cnn|cnn-private|mlp-ptau
#   zkinfer compile (with calibration) -> snarkjs r1cs info (same constraint count)
#   zkinfer setup --dev (mlp-ptau: a development .ptau, then snarkjs zkey verify)
#   zkinfer prove -> snarkjs wtns check; zkinfer verify and snarkjs groth16 verify accept
#   the predicted class matches the float model's (examples/digits/expected.json)
#   a tampered public output is rejected by both verifiers
set -euo pipefail
zkinfer=$1 work=$2 case=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/interop/lib.sh"
nm="$root/tests/interop/node_modules"
if [[ ! -f $nm/snarkjs/build/cli.cjs ]]; then
  echo "snarkjs is not installed (run scripts/setup.sh): cannot run the interop checks" >&2
  exit 1
fi
snarkjs=(node "$nm/snarkjs/build/cli.cjs")
ex="$root/examples/digits"
d="$work/$case"
rm -rf "$d" && mkdir -p "$d"

visibility=public
case $case in
  mlp | mlp-ptau) model=mlp input=input.json calibration=calibration.json ;;
  cnn) model=cnn input=input_cnn.json calibration=calibration_cnn.json ;;
  cnn-private) model=cnn input=input_cnn.json calibration=calibration_cnn.json visibility=private ;;
  *) echo "models_e2e.sh: unknown case $case" >&2; exit 2 ;;
esac

run "$zkinfer" compile "$ex/$model.onnx" -o "$d/model" --calibration "$ex/$calibration" --input-visibility $visibility \
  | tee "$d/compile.txt"
constraints=$(sed -n 's/^constraints \([0-9]*\)$/\1/p' "$d/compile.txt")
"${snarkjs[@]}" r1cs info "$d/model/circuit.r1cs" | tee "$d/info.txt"
grep -q "# of Constraints: $constraints\b" "$d/info.txt" || { echo "snarkjs reads another constraint count" >&2; exit 1; }

if [[ $case == mlp-ptau ]]; then
  run "$zkinfer" powersoftau dev 12 "$d/pot12.ptau"
  run "$zkinfer" setup "$d/model" --ptau "$d/pot12.ptau"
  run "${snarkjs[@]}" zkey verify "$d/model/circuit.r1cs" "$d/pot12.ptau" "$d/model/circuit.zkey"
else
  run "$zkinfer" setup "$d/model" --dev
fi

run "$zkinfer" prove "$d/model" --input "$ex/$input" -o "$d/out" | tee "$d/prove.txt"
"${snarkjs[@]}" wtns check "$d/model/circuit.r1cs" "$d/out/witness.wtns" | tee "$d/wtns.txt"
grep -q "WITNESS CHECKING FINISHED SUCCESSFULLY" "$d/wtns.txt"
run "$zkinfer" verify "$d/model/verification_key.json" "$d/out/public.json" "$d/out/proof.json"
run "${snarkjs[@]}" groth16 verify "$d/model/verification_key.json" "$d/out/public.json" "$d/out/proof.json" | tee "$d/verify.txt"
grep -q "OK!" "$d/verify.txt"

# The proved class is the float model's.
want=$(node -e "const e=require('$ex/expected.json'); console.log(e['$model'].predicted)")
grep -q "(argmax $want)" "$d/prove.txt" || { echo "the circuit's class is not the float model's ($want)" >&2; exit 1; }

# Public signals: outputs first; the commitment (private) or the inputs follow.
n_public=$(node -e "console.log(require('$d/out/public.json').length)")
[[ $visibility == private ]] && expect_public=11 || expect_public=74
[[ $n_public == "$expect_public" ]] || { echo "expected $expect_public public signals, got $n_public" >&2; exit 1; }

# A tampered output is rejected by both verifiers.
node -e "const fs=require('fs'); const p=require('$d/out/public.json'); p[0]=(BigInt(p[0])+1n).toString(); fs.writeFileSync('$d/tampered.json', JSON.stringify(p));"
if "$zkinfer" verify "$d/model/verification_key.json" "$d/tampered.json" "$d/out/proof.json"; then
  echo "zkinfer accepted a tampered output" >&2; exit 1
fi
"${snarkjs[@]}" groth16 verify "$d/model/verification_key.json" "$d/tampered.json" "$d/out/proof.json" | tee "$d/tverify.txt" || true
if grep -q "OK!" "$d/tverify.txt"; then echo "snarkjs accepted a tampered output" >&2; exit 1; fi
echo "models_e2e $case: ok"
