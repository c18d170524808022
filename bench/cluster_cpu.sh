#!/usr/bin/env bash
# Cluster benchmark (issue 6), on CPU workers of this one machine:
#   1. throughput: proofs per minute of the digits CNN (examples/digits/cnn.onnx, domain 2^15)
#      against 1..4 workers, N jobs submitted at once, timed from the first submission to the
#      last success;
#   2. latency of one split proof against its shard count: the chain test circuit at domain 2^L
#      (default 2^18; tests/support/chain_circuit.h, where MSMs dominate as in large models) on 4
#      workers, --split 1 (whole) .. 4, R runs each.
#
#   bench/cluster_cpu.sh [--workers "1 2 3 4"] [--jobs N] [--splits "1 2 3 4"] [--repeats R]
#                        [--log-domain L] [--worker-threads T] [--port-base P] [--build DIR]
#                        [--work DIR] [--out DIR]
#
# Every job's proof is checked by the coordinator before it succeeds, and the last of each
# series again with `zkinfer verify`. Workers run with T threads each (default 1): on a machine
# with C cores, more than C/T workers share cores, which the results file says. Writes
# bench/results/cluster-cpu-<date>-<cpu>-<cores>cores.{md,json}.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
worker_counts="1 2 3 4" jobs=24 splits="1 2 3 4" repeats=3 log_domain=18 threads=1 port_base=17700
build="$root/build" work="$root/build/bench-cluster" out_dir="$root/bench/results"
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) worker_counts=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --splits) splits=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --log-domain) log_domain=$2; shift 2 ;;
    --worker-threads) threads=$2; shift 2 ;;
    --port-base) port_base=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "cluster_cpu.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

zkinfer="$build/bin/zkinfer" setup_tool="$build/bin/setup_tool"
for t in "$zkinfer" "$setup_tool" "$build/bin/zkinfer-coordinator" "$build/bin/zkinfer-worker"; do
  [ -x "$t" ] || { echo "cluster_cpu.sh: no $t (./scripts/build.sh)" >&2; exit 1; }
done
source "$root/bench/machine.sh"
base="$out_dir/cluster-cpu-$day-$cpu_slug-${cores}cores"
rm -rf "$work"
mkdir -p "$work" "$out_dir"
export ZKINFER_COORDINATOR="tcp://127.0.0.1:$port_base"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

cluster_up() {  # cluster_up N DIR
  "$zkinfer" cluster up --detach --workers "$1" --worker-threads "$threads" --backend cpu --data "$2" \
    --clients "tcp://127.0.0.1:$port_base" --workers-endpoint "tcp://127.0.0.1:$((port_base + 1))" \
    --metrics "127.0.0.1:$((port_base + 2))" >/dev/null
  current_cluster=$2
}
current_cluster=""
trap '[ -n "$current_cluster" ] && "$zkinfer" cluster down --data "$current_cluster" >/dev/null 2>&1 || true' EXIT

add_model() {  # add_model ONNX CALIBRATION -> model id
  "$zkinfer" model add "$1" --calibration "$2" --dev 2>/dev/null | tail -n 1
}

# ---- 1. throughput ----------------------------------------------------------------------------
cnn=$root/examples/digits/cnn.onnx cnn_input=$root/examples/digits/input_cnn.json
throughput_rows=()
for n in $worker_counts; do
  d="$work/throughput-$n"
  cluster_up "$n" "$d"
  model=$(add_model "$cnn" "$root/examples/digits/calibration_cnn.json")
  # One warm-up proof per worker, so every worker has the key resident before the clock runs.
  warm=()
  for ((i = 0; i < n; ++i)); do warm+=("$("$zkinfer" submit "$model" --input "$cnn_input" | tail -n 1)"); done
  for j in "${warm[@]}"; do "$zkinfer" wait "$j" --timeout 600 >/dev/null 2>&1; done
  ids=()
  t0=$(now)
  for ((i = 0; i < jobs; ++i)); do ids+=("$("$zkinfer" submit "$model" --input "$cnn_input" | tail -n 1)"); done
  for j in "${ids[@]}"; do
    "$zkinfer" wait "$j" --timeout 1800 >/dev/null 2>&1 || { echo "cluster_cpu.sh: job $j did not succeed" >&2; exit 1; }
  done
  t1=$(now)
  "$zkinfer" result "${ids[-1]}" -o "$d/last" >/dev/null
  "$zkinfer" verify "$d/last/verification_key.json" "$d/last/public.json" "$d/last/proof.json" >/dev/null
  per_min=$(awk -v j="$jobs" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", 60 * j / (b - a)}')
  echo "throughput: $n workers: $jobs proofs in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') s, $per_min per minute" >&2
  throughput_rows+=("$n $per_min $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')")
  "$zkinfer" cluster down --data "$d" >/dev/null
  current_cluster=""
done

# ---- 2. latency of one split proof --------------------------------------------------------------
max_split=$(printf '%s\n' $splits | sort -n | tail -n 1)
d="$work/split"
n=$(( (1 << log_domain) - 3 ))  # the chain circuit's size for that domain (chain_witness.h)
"$setup_tool" chain-r1cs "$work/chain.r1cs" "$n"
"$setup_tool" setup-dev "$work/chain.r1cs" "$work/chain.zkey" >/dev/null 2>&1
"$setup_tool" chain-wtns "$work/chain.wtns" "$n" 3
cluster_up "$max_split" "$d"
model=$("$zkinfer" model add "$work/chain.r1cs" "$work/chain.zkey" 2>/dev/null | tail -n 1)
split_rows=()
for s in $splits; do
  times=()
  for ((r = 0; r <= repeats; ++r)); do  # run 0 warms the workers' key ranges
    t0=$(now)
    j=$("$zkinfer" submit "$model" --witness "$work/chain.wtns" --split "$s" | tail -n 1)
    "$zkinfer" wait "$j" --timeout 1800 >/dev/null 2>&1 || { echo "cluster_cpu.sh: split job $j did not succeed" >&2; exit 1; }
    t1=$(now)
    ((r > 0)) && times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')")
  done
  "$zkinfer" result "$j" -o "$d/last-$s" >/dev/null
  "$zkinfer" verify "$d/last-$s/verification_key.json" "$d/last-$s/public.json" "$d/last-$s/proof.json" >/dev/null
  med=$(printf '%s\n' "${times[@]}" | median)
  echo "split latency: --split $s: median $med s (${times[*]})" >&2
  split_rows+=("$s $med ${times[*]}")
done
"$zkinfer" cluster down --data "$d" >/dev/null
current_cluster=""

# ---- results ----------------------------------------------------------------------------------
base1=$(printf '%s\n' "${throughput_rows[@]}" | awk 'NR == 1 {print $2}')
whole=$(printf '%s\n' "${split_rows[@]}" | awk '$1 == 1 {print $2}')
{
  echo "# Cluster on CPU workers: throughput and split latency ($day)"
  echo
  echo "Machine: $cpu, $cores cores; every worker a separate process with $threads thread(s), all on this one machine,"
  echo "so beyond $((cores / threads)) workers they share cores. Commit $(git -C "$root" rev-parse --short HEAD). bench/cluster_cpu.sh."
  echo
  echo "## Throughput: digits CNN (domain 2^15), $jobs proofs submitted at once"
  echo
  echo "| workers | proofs/min | wall s | vs 1 worker |"
  echo "|---|---|---|---|"
  printf '%s\n' "${throughput_rows[@]}" | awk -v b="$base1" '{printf "| %d | %.1f | %.2f | %.2fx |\n", $1, $2, $3, $2 / b}'
  echo
  echo "## Latency of one proof against its split: chain circuit, domain 2^$log_domain, $max_split workers"
  echo
  echo "split 1 is a whole proof on one worker; split n > 1 is an H shard and n ranges of each of the five MSMs (the witness comes with the job). Median of $repeats after one warm-up."
  echo
  echo "| split | median s | runs s | vs whole |"
  echo "|---|---|---|---|"
  printf '%s\n' "${split_rows[@]}" | awk -v w="$whole" '{r = ""; for (i = 3; i <= NF; ++i) r = r (i > 3 ? " " : "") $i; printf "| %d | %.3f | %s | %.2fx |\n", $1, $2, r, w / $2}'
} >"$base.md"
{
  echo "{"
  echo "  \"date\": \"$day\", \"cpu\": \"$cpu\", \"cores\": $cores, \"worker_threads\": $threads, \"jobs\": $jobs,"
  echo "  \"throughput\": ["
  printf '%s\n' "${throughput_rows[@]}" | awk '{printf "%s    {\"workers\": %d, \"proofs_per_minute\": %s, \"wall_s\": %s}", (NR > 1 ? ",\n" : ""), $1, $2, $3} END {print ""}'
  echo "  ],"
  echo "  \"split_latency\": ["
  printf '%s\n' "${split_rows[@]}" | awk '{r = ""; for (i = 3; i <= NF; ++i) r = r (i > 3 ? ", " : "") $i; printf "%s    {\"split\": %d, \"median_s\": %s, \"runs_s\": [%s]}", (NR > 1 ? ",\n" : ""), $1, $2, r} END {print ""}'
  echo "  ]"
  echo "}"
} >"$base.json"
echo "wrote $base.md and $base.json" >&2
