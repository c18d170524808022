#!/usr/bin/env bash
# The cluster on a GPU machine (bench/gpu_check.sh runs it when the cluster programs were built):
# a local coordinator with one CUDA worker, then the same with one CPU worker on every core, each
#   - proving the digits CNN (examples/digits/cnn.onnx, domain 2^15) N times, submitted at once:
#     proofs per minute;
#   - proving the chain test circuit at domain 2^L whole, R times one after another: latency.
# Every proof is checked by the coordinator before its job succeeds, and the last of each series
# again with `zkinfer verify`. Prints a table; the worker's join line shows what it found.
#   bench/gpu/cluster_gpu.sh BIN_DIR    (zkinfer, zkinfer-coordinator, zkinfer-worker, setup_tool)
# From bench/gpu/prebuild.sh's build-gpu-cluster.tar.xz on a GPU machine (device tool):
#   mkdir -p /tmp/c && tar -C /tmp/c -xJf build-gpu-cluster.tar.xz && bash bench/gpu/cluster_gpu.sh /tmp/c/bin
# (the programs find the libraries packed beside them in /tmp/c/lib through their RPATH)
# Environment: ZKINFER_CLUSTER_JOBS (default 40), ZKINFER_CLUSTER_LOG_DOMAIN (default 20),
# ZKINFER_CLUSTER_REPEATS (default 3), ZKINFER_CLUSTER_PORT (default 17800),
# ZKINFER_CLUSTER_BACKENDS (default "cuda cpu"), ZKINFER_CLUSTER_LOGS (a directory that gets the
# coordinator's and workers' logs, with their per-shard phase times).
set -euo pipefail
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
jobs=${ZKINFER_CLUSTER_JOBS:-40}
log_domain=${ZKINFER_CLUSTER_LOG_DOMAIN:-20}
repeats=${ZKINFER_CLUSTER_REPEATS:-3}
port=${ZKINFER_CLUSTER_PORT:-17800}
backends=${ZKINFER_CLUSTER_BACKENDS:-cuda cpu}
zkinfer=$bin/zkinfer
work=$(mktemp -d)
export ZKINFER_COORDINATOR=tcp://127.0.0.1:$port
current=""
keep_logs() {
  [ -n "${ZKINFER_CLUSTER_LOGS:-}" ] || return 0
  mkdir -p "$ZKINFER_CLUSTER_LOGS"
  for f in "$work"/*/logs/*.log; do [ -f "$f" ] && cp "$f" "$ZKINFER_CLUSTER_LOGS/$(basename "$(dirname "$(dirname "$f")")")-$(basename "$f")"; done
  return 0
}
trap '[ -n "$current" ] && "$zkinfer" cluster down --data "$current" >/dev/null 2>&1; keep_logs; rm -rf "$work"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
verify_last() {  # verify_last JOB DIR
  "$zkinfer" result "$1" -o "$2" >/dev/null
  "$zkinfer" verify "$2/verification_key.json" "$2/public.json" "$2/proof.json" >/dev/null
}

n=$(((1 << log_domain) - 3))  # the chain circuit's size for that domain (tests/support/chain_witness.h)
t0=$(now)
"$bin/setup_tool" chain-r1cs "$work/chain.r1cs" "$n"
"$bin/setup_tool" setup-dev "$work/chain.r1cs" "$work/chain.zkey" >/dev/null 2>&1
"$bin/setup_tool" chain-wtns "$work/chain.wtns" "$n" 3
echo "chain circuit 2^$log_domain: r1cs, development key and witness in $(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}') s"

rows=()
for backend in $backends; do
  d=$work/$backend
  "$zkinfer" cluster up --detach --workers 1 --backend "$backend" --data "$d" --clients "tcp://127.0.0.1:$port" \
    --workers-endpoint "tcp://127.0.0.1:$((port + 1))" --metrics "127.0.0.1:$((port + 2))" >/dev/null
  current=$d
  cnn=$("$zkinfer" model add "$root/examples/digits/cnn.onnx" --calibration "$root/examples/digits/calibration_cnn.json" \
    --dev 2>/dev/null | tail -n 1)
  grep -h "joined" "$d/logs/coordinator.log" | sed 's/^.*coordinator info: /  /'
  j=$("$zkinfer" submit "$cnn" --input "$root/examples/digits/input_cnn.json" 2>/dev/null | tail -n 1)  # warm-up
  "$zkinfer" wait "$j" --timeout 300 >/dev/null 2>&1
  ids=()
  t0=$(now)
  for ((i = 0; i < jobs; ++i)); do ids+=("$("$zkinfer" submit "$cnn" --input "$root/examples/digits/input_cnn.json" 2>/dev/null | tail -n 1)"); done
  for j in "${ids[@]}"; do "$zkinfer" wait "$j" --timeout 600 >/dev/null 2>&1 || { echo "job $j did not succeed" >&2; exit 1; }; done
  t1=$(now)
  verify_last "${ids[-1]}" "$d/cnn-last"
  per_min=$(awk -v j="$jobs" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", 60 * j / (b - a)}')

  chain=$("$zkinfer" model add "$work/chain.r1cs" "$work/chain.zkey" 2>/dev/null | tail -n 1)
  times=()
  for ((r = 0; r <= repeats; ++r)); do  # run 0 makes the key resident
    t0=$(now)
    j=$("$zkinfer" submit "$chain" --witness "$work/chain.wtns" 2>/dev/null | tail -n 1)
    "$zkinfer" wait "$j" --timeout 600 >/dev/null 2>&1 || { echo "chain job $j did not succeed" >&2; exit 1; }
    t1=$(now)
    ((r > 0)) && times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')")
  done
  verify_last "$j" "$d/chain-last"
  med=$(printf '%s\n' "${times[@]}" | median)
  rows+=("$backend $per_min $med ${times[*]}")
  "$zkinfer" cluster down --data "$d" >/dev/null
  current=""
done

echo "cluster: one worker; digits CNN ($jobs proofs at once) and the 2^$log_domain chain circuit whole (median of $repeats, submit to result, the witness uploaded each time)"
printf '%-8s %14s %22s   %s\n' worker "CNN proofs/min" "2^$log_domain proof median s" runs
for r in "${rows[@]}"; do
  read -r b p m rest <<<"$r"
  printf '%-8s %14s %22s   %s\n' "$b" "$p" "$m" "$rest"
done
