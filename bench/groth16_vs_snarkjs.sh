#!/usr/bin/env bash
# zkinfer vs snarkjs `groth16 prove`, side by side in one run, on the same .zkey and .wtns.
#
# Two circuit families, each filling a domain of 2^K points:
#   mulchain    a multiplication chain of 2^K - 8 constraints (c[i] = c[i-1]^2 + y): every
#               witness value is a full-width field element, the hard case for MSM;
#   rangecheck  32-bit range checks (circomlib Num2Bits, 33 constraints each) of random values:
#               a witness of bits and small integers, the shape of quantized ML circuits, whose
#               activations are range-checked by bit decomposition.
# Each is compiled with circom2; the witness comes from circom's wasm generator through snarkjs; the key
# from `zkinfer groth16 setup` on a development .ptau (the same bytes `snarkjs groth16 setup`
# writes). Then, R times, snarkjs and zkinfer prove alternately (so load drift hits both), each
# timed by bench/timed_run.sh (wall time, peak RSS); every proof is checked by
# `snarkjs groth16 verify`. Medians and the ratio go to
# bench/results/groth16-vs-snarkjs-<date>-<cpu>-<cores>cores.{md,json}.
#
# Usage: bench/groth16_vs_snarkjs.sh [--sizes "12 16 18"] [--circuits "mulchain rangecheck"]
#                                    [--repeats R] [--zkinfer PATH] [--work DIR] [--out DIR]
# Defaults (2^12, 2^16, 2^18, both families, median of 3) take about 10 minutes on 2 cores, most
# of it snarkjs and circom at 2^18. Compiled circuits, witnesses, .ptau and keys are kept in the work
# directory and reused.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
sizes="12 16 18" circuits="mulchain rangecheck" repeats=3
zkinfer="$root/build/bin/zkinfer"
work="$root/build/bench-groth16"
out_dir="$root/bench/results"

while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --circuits) circuits=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --zkinfer) zkinfer=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "groth16_vs_snarkjs.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

nm="$root/tests/interop/node_modules"
[ -x "$zkinfer" ] || { echo "groth16_vs_snarkjs.sh: no zkinfer at $zkinfer (./scripts/build.sh)" >&2; exit 1; }
[ -f "$nm/snarkjs/build/cli.cjs" ] || { echo "groth16_vs_snarkjs.sh: npm packages missing (./scripts/setup.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "groth16_vs_snarkjs.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
snarkjs=(node "$nm/snarkjs/build/cli.cjs")
circom2=(node "$nm/circom2/cli.js")

# Machine label for the result file names (cpu, cpu_slug, cores, day).
source "$root/bench/machine.sh"
source "$root/bench/timed_run.sh"
base="$out_dir/groth16-vs-snarkjs-$day-$cpu_slug-${cores}cores"
mkdir -p "$work" "$out_dir"

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# Writes DIR/circuit.circom and DIR/input.json for family $1 at 2^$2, with what circom2's sandbox
# needs beside them; prints the number of constraints.
make_circuit() {
  local family=$1 k=$2 d=$3 n
  case "$family" in
    mulchain)
      n=$(( (1 << k) - 8 ))
      cp "$root/tests/interop/circuits/mulchain.circom" "$d/"
      printf 'pragma circom 2.1.0;\ninclude "mulchain.circom";\ncomponent main {public [x]} = MulChain(%d);\n' "$n" >"$d/circuit.circom"
      echo '{"x": "3", "y": "7"}' >"$d/input.json"
      echo "$n" ;;
    rangecheck)
      n=$(( ((1 << k) - 8) / 33 ))
      mkdir -p "$d/circomlib" && cp -r "$nm/circomlib/circuits" "$d/circomlib/"
      cat >"$d/circuit.circom" <<CIRCOM
pragma circom 2.1.0;
include "circomlib/circuits/bitify.circom";
template RangeChecks(n) {
    signal input x[n];
    component bits[n];
    for (var i = 0; i < n; i++) {
        bits[i] = Num2Bits(32);
        bits[i].in <== x[i];
    }
}
component main = RangeChecks($n);
CIRCOM
      awk -v n="$n" 'BEGIN { srand(7); printf "{\"x\": ["; for (i = 0; i < n; i++) printf "%s\"%d\"", (i ? "," : ""), int(rand() * 4294967296); print "]}" }' >"$d/input.json"
      echo $(( n * 33 )) ;;
    *) echo "groth16_vs_snarkjs.sh: unknown circuit family $family" >&2; exit 2 ;;
  esac
}

rows=()
for family in $circuits; do
for k in $sizes; do
  d="$work/${family}_$k"
  mkdir -p "$d"
  if [ ! -f "$d/circuit.wtns" ]; then
    echo "$family 2^$k: compiling with circom2" >&2
    make_circuit "$family" "$k" "$d" >"$d/constraints"
    (cd "$d" && "${circom2[@]}" circuit.circom --r1cs --wasm >/dev/null)
    "${snarkjs[@]}" wtns calculate "$d/circuit_js/circuit.wasm" "$d/input.json" "$d/circuit.wtns" >/dev/null
  fi
  n=$(cat "$d/constraints")
  if [ ! -f "$d/circuit.zkey" ]; then
    [ -f "$work/pot$k.ptau" ] || "$zkinfer" powersoftau dev "$k" "$work/pot$k.ptau" 2>/dev/null
    "$zkinfer" groth16 setup "$d/circuit.r1cs" "$work/pot$k.ptau" "$d/circuit.zkey" 2>/dev/null
    "$zkinfer" zkey export verificationkey "$d/circuit.zkey" "$d/vk.json" 2>/dev/null
  fi
  sj_t=() sj_m=() zk_t=() zk_m=()
  for r in $(seq "$repeats"); do
    echo "$family 2^$k: run $r of $repeats" >&2
    read -r t m < <(timed_run "$work" "${snarkjs[@]}" groth16 prove "$d/circuit.zkey" "$d/circuit.wtns" "$d/sj_proof.json" "$d/sj_public.json")
    sj_t+=("$t") sj_m+=("$m")
    read -r t m < <(timed_run "$work" "$zkinfer" groth16 prove "$d/circuit.zkey" "$d/circuit.wtns" "$d/zk_proof.json" "$d/zk_public.json")
    zk_t+=("$t") zk_m+=("$m")
    for who in sj zk; do
      "${snarkjs[@]}" groth16 verify "$d/vk.json" "$d/${who}_public.json" "$d/${who}_proof.json" >/dev/null ||
        { echo "groth16_vs_snarkjs.sh: a $who proof of $family at 2^$k did not verify" >&2; exit 1; }
    done
  done
  st=$(printf '%s\n' "${sj_t[@]}" | median) zt=$(printf '%s\n' "${zk_t[@]}" | median)
  sm=$(printf '%s\n' "${sj_m[@]}" | median) zm=$(printf '%s\n' "${zk_m[@]}" | median)
  rows+=("$family $k $n $st $zt $sm $zm")
  echo "$family 2^$k: snarkjs $st s, zkinfer $zt s" >&2
done
done

{
  echo "# zkinfer vs snarkjs groth16 prove, $day"
  echo
  echo "Machine: $cpu, $cores cores (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))."
  echo "snarkjs 0.7.6 (node $(node --version)), zkinfer $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') CPU backend."
  echo "mulchain: multiplication chains, full-width witness values; rangecheck: 32-bit Num2Bits range"
  echo "checks, a witness of bits and small integers. Median of $repeats runs each, run alternately;"
  echo "wall time of the whole command (process start, reading the key, proving, writing JSON) and peak RSS."
  echo
  echo "| circuit | domain | constraints | snarkjs s | zkinfer s | speed-up | snarkjs MiB | zkinfer MiB |"
  echo "|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do
    read -r family k n st zt sm zm <<<"$row"
    awk -v f="$family" -v k="$k" -v n="$n" -v st="$st" -v zt="$zt" -v sm="$sm" -v zm="$zm" 'BEGIN {
      printf "| %s | 2^%d | %d | %.2f | %.3f | %.1fx | %.0f | %.0f |\n", f, k, n, st, zt, st / zt, sm / 1024, zm / 1024 }'
  done
} >"$base.md"
{
  echo "{\"date\":\"$day\",\"cpu\":\"$cpu\",\"cores\":$cores,\"repeats\":$repeats,\"results\":["
  sep=""
  for row in "${rows[@]}"; do
    read -r family k n st zt sm zm <<<"$row"
    echo "$sep{\"circuit\":\"$family\",\"log_domain\":$k,\"constraints\":$n,\"snarkjs_s\":$st,\"zkinfer_s\":$zt,\"snarkjs_peak_kib\":$sm,\"zkinfer_peak_kib\":$zm}"
    sep=","
  done
  echo "]}"
} >"$base.json"
cat "$base.md"
echo "wrote $base.md and $base.json" >&2
