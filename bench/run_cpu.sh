#!/usr/bin/env bash
# Runs the CPU benchmark programs (build/bin/bench_*, the GPU ones excluded) and writes one
# dated result file per program under bench/results/, named <program>-<date>-<cpu>-<cores>cores.json.
# Usage: bench/run_cpu.sh [program ...]   e.g. bench/run_cpu.sh bench_ntt bench_msm
# BENCH_ARGS adds Google Benchmark flags, e.g. BENCH_ARGS=--benchmark_filter=G1.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ZKINFER_BUILD_DIR:-build}/bin
day=$(date +%Y-%m-%d)
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1 | tr -c 'A-Za-z0-9\n' '-' | sed 's/-\+/-/g;s/-$//')
cores=$(nproc)
if (($#)); then
  programs=("$@")
else
  programs=()
  for b in "$BIN"/bench_*; do
    name=$(basename "$b")
    [[ -x $b && $name != bench_gpu_* ]] && programs+=("$name")
  done
fi
mkdir -p bench/results
for name in "${programs[@]}"; do
  [[ -x $BIN/$name ]] || { echo "run_cpu: $BIN/$name not built" >&2; exit 1; }
  out=bench/results/${name}-${day}-${cpu}-${cores}cores.json
  echo "== $name -> $out (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  # shellcheck disable=SC2086
  "$BIN/$name" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
       --benchmark_out="$out" --benchmark_out_format=json ${BENCH_ARGS:-}
done
