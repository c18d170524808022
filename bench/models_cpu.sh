#!/usr/bin/env bash
# Model benchmark (issue 5): circuit size and proving time of compiled ONNX models on the CPU
# backend, with snarkjs proving the same key and witness side by side.
#
#   bench/models_cpu.sh [--models "digits-mlp digits-cnn mlp-50k ..."] [--repeats R]
#                       [--snarkjs-repeats S] [--build DIR] [--work DIR] [--out DIR]
#
# Models: the two examples in examples/digits, multilayer perceptrons with random weights of
# about 50k to 1.2M parameters on a 784-value input (the sizes of the "Cost of Intelligence"
# study), made by build/bin/make_mlp, and (by name, not in the default list) the torch exports in
# tests/compiler/data/exports as torch-NAME, e.g. torch-attention or torch-mobilenet_v3_block. For each: `zkinfer compile` with calibration, `zkinfer setup
# --dev`, then R times `zkinfer prove` (whole command: reading the model and key, witness, proof,
# its self-check, JSON) and S times `snarkjs groth16 prove` on the key and witness zkinfer wrote,
# alternately, each timed by bench/timed_run.sh (wall time, peak RSS); every proof is verified by
# snarkjs. Writes bench/results/models-cpu-<date>-<cpu>-<cores>cores.{md,json}. Defaults take
# about 5 minutes on 2 cores.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
models="digits-mlp digits-cnn mlp-50k mlp-100k mlp-200k mlp-400k mlp-670k mlp-1.2m"
repeats=3 sj_repeats=3
build="$root/build"
work="$root/build/bench-models"
out_dir="$root/bench/results"

while [ $# -gt 0 ]; do
  case "$1" in
    --models) models=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --snarkjs-repeats) sj_repeats=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "models_cpu.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

zkinfer="$build/bin/zkinfer" make_mlp="$build/bin/make_mlp"
nm="$root/tests/interop/node_modules"
for t in "$zkinfer" "$make_mlp"; do
  [ -x "$t" ] || { echo "models_cpu.sh: no $t (./scripts/build.sh)" >&2; exit 1; }
done
[ -f "$nm/snarkjs/build/cli.cjs" ] || { echo "models_cpu.sh: npm packages missing (./scripts/setup.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "models_cpu.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
snarkjs=(node "$nm/snarkjs/build/cli.cjs")

source "$root/bench/machine.sh"
source "$root/bench/timed_run.sh"
base="$out_dir/models-cpu-$day-$cpu_slug-${cores}cores"
mkdir -p "$work" "$out_dir"

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# Sets onnx, input, calibration and params for model $1.
model_files() {
  local sizes=""
  case "$1" in
    digits-mlp) onnx=$root/examples/digits/mlp.onnx input=$root/examples/digits/input.json
                calibration=$root/examples/digits/calibration.json params=2410; return ;;
    digits-cnn) onnx=$root/examples/digits/cnn.onnx input=$root/examples/digits/input_cnn.json
                calibration=$root/examples/digits/calibration_cnn.json params=666; return ;;
    mlp-50k) sizes=784,64,10 ;;
    mlp-100k) sizes=784,128,10 ;;
    mlp-200k) sizes=784,256,10 ;;
    mlp-400k) sizes=784,512,10 ;;
    mlp-670k) sizes=784,512,512,10 ;;
    mlp-1.2m) sizes=784,1024,384,10 ;;
    torch-*)
      local name=${1#torch-} ex=$root/tests/compiler/data/exports
      [ -f "$ex/$name.onnx" ] || { echo "models_cpu.sh: no export $ex/$name.onnx" >&2; exit 2; }
      onnx=$ex/$name.onnx input=$ex/$name.input.json calibration=$ex/$name.calibration.json
      # Float weights in the file (counted once with python3-onnx; the files do not change).
      case $name in
        pad_slice) params=156 ;; chunk_split) params=71 ;; conv_view_index) params=45 ;;
        mobilenet_v3_block) params=167 ;; gelu_mlp) params=212 ;; attention) params=216 ;;
        encoder_layer) params=2176 ;; prenorm_mlp) params=636 ;; causal_attention) params=216 ;;
        gpt_block) params=3248 ;; tiny_gpt) params=4368 ;; lstm_classifier) params=1051 ;;
        gru_bidirectional) params=471 ;; rnn_relu) params=62 ;; conv_decoder) params=251 ;;
        norm_block) params=240 ;; where_gate) params=128 ;; bicubic_up) params=38 ;;
        pixel_shuffle_up) params=193 ;;
        *) params=0 ;;
      esac
      return ;;
    *) echo "models_cpu.sh: unknown model $1" >&2; exit 2 ;;
  esac
  params=$("$make_mlp" "$sizes" "$work/$1/src")
  onnx=$work/$1/src/model.onnx input=$work/$1/src/input.json calibration=$work/$1/src/calibration.json
}

rows=()
for m in $models; do
  model_files "$m"
  d="$work/$m"
  mkdir -p "$d"
  read -r ct _ < <(timed_run "$work" "$zkinfer" compile "$onnx" -o "$d/model" --calibration "$calibration")
  constraints=$(sed -n 's/^constraints \([0-9]*\)$/\1/p' "$work/last.out")
  wires=$(sed -n 's/^wires \([0-9]*\)$/\1/p' "$work/last.out")
  read -r st _ < <(timed_run "$work" "$zkinfer" setup "$d/model" --dev)
  zk_t=() zk_m=() sj_t=() sj_m=()
  for ((i = 0; i < repeats || i < sj_repeats; i++)); do
    if ((i < repeats)); then
      read -r t mem < <(timed_run "$work" "$zkinfer" prove "$d/model" --input "$input" -o "$d/out")
      zk_t+=("$t") zk_m+=("$mem")
      witness_s=$(sed -n 's/^  witness  *\([0-9.]*\) s$/\1/p' "$work/last.err")
      domain=$(sed -n 's/.*public, domain 2^\([0-9]*\)$/\1/p' "$work/last.err")
    fi
    if ((i < sj_repeats)); then
      read -r t mem < <(timed_run "$work" "${snarkjs[@]}" groth16 prove "$d/model/circuit.zkey" "$d/out/witness.wtns" "$d/sj_proof.json" "$d/sj_public.json")
      sj_t+=("$t") sj_m+=("$mem")
      "${snarkjs[@]}" groth16 verify "$d/model/verification_key.json" "$d/sj_public.json" "$d/sj_proof.json" >/dev/null ||
        { echo "models_cpu.sh: snarkjs's proof of $m does not verify" >&2; exit 1; }
    fi
  done
  "${snarkjs[@]}" groth16 verify "$d/model/verification_key.json" "$d/out/public.json" "$d/out/proof.json" >/dev/null ||
    { echo "models_cpu.sh: zkinfer's proof of $m does not verify with snarkjs" >&2; exit 1; }
  zt=$(printf '%s\n' "${zk_t[@]}" | median) zm=$(printf '%s\n' "${zk_m[@]}" | median)
  sjt=$(printf '%s\n' "${sj_t[@]}" | median) sjm=$(printf '%s\n' "${sj_m[@]}" | median)
  rows+=("$m $params $constraints $wires $domain $ct $st $witness_s $zt $zm $sjt $sjm")
  echo "$m: $params parameters, $constraints constraints, zkinfer prove $zt s, snarkjs $sjt s" >&2
done

{
  echo "# Model proving on the CPU backend, $day"
  echo
  echo "Machine: $cpu, $cores cores (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))."
  echo "zkinfer $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), snarkjs 0.7.6 (node $(node --version))."
  echo "Compiled with calibration (act_bits 16, weight_bits 12), development keys. prove: median of $repeats"
  echo "runs of the whole \`zkinfer prove\` command (model and key loading, witness, proof, self-check,"
  echo "JSON); snarkjs: median of $sj_repeats runs of \`snarkjs groth16 prove\` on the same key and witness."
  echo "mlp-*: random-weight perceptrons on 784 inputs (make_mlp); digits-*: examples/digits;"
  echo "torch-*: tests/compiler/data/exports (torch.onnx.export)."
  echo
  echo "| model | parameters | constraints | domain | compile s | setup s | witness s | zkinfer prove s | snarkjs prove s | speed-up | zkinfer MiB | snarkjs MiB |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do
    read -r m p c w k ct st ws zt zm sjt sjm <<<"$row"
    awk -v m="$m" -v p="$p" -v c="$c" -v k="$k" -v ct="$ct" -v st="$st" -v ws="$ws" -v zt="$zt" -v zm="$zm" -v sjt="$sjt" -v sjm="$sjm" 'BEGIN {
      printf "| %s | %d | %d | 2^%d | %.2f | %.2f | %.3f | %.3f | %.2f | %.1fx | %.0f | %.0f |\n", m, p, c, k, ct, st, ws, zt, sjt, sjt / zt, zm / 1024, sjm / 1024 }'
  done
} >"$base.md"
{
  echo "{\"date\":\"$day\",\"cpu\":\"$cpu\",\"cores\":$cores,\"repeats\":$repeats,\"snarkjs_repeats\":$sj_repeats,\"results\":["
  sep=""
  for row in "${rows[@]}"; do
    read -r m p c w k ct st ws zt zm sjt sjm <<<"$row"
    echo "$sep{\"model\":\"$m\",\"parameters\":$p,\"constraints\":$c,\"wires\":$w,\"log_domain\":$k,\"compile_s\":$ct,\"setup_s\":$st,\"witness_s\":$ws,\"zkinfer_prove_s\":$zt,\"zkinfer_peak_kib\":$zm,\"snarkjs_prove_s\":$sjt,\"snarkjs_peak_kib\":$sjm}"
    sep=","
  done
  echo "]}"
} >"$base.json"
cat "$base.md"
echo "wrote $base.md and $base.json" >&2
