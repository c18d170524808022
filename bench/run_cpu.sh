#!/usr/bin/env bash
# Runs every CPU benchmark program (build/bin/bench_*) and writes one dated result file
# per program under bench/results/, named <program>-<date>-<host kind>.json.
# Usage: bench/run_cpu.sh [extra Google Benchmark flags, e.g. --benchmark_filter=MSM]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ZKINFER_BUILD_DIR:-build}/bin
day=$(date +%Y-%m-%d)
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1 | tr -c 'A-Za-z0-9\n' '-' | sed 's/-\+/-/g;s/-$//')
cores=$(nproc)
mkdir -p bench/results
for b in "$BIN"/bench_*; do
  [[ -x $b ]] || continue
  name=$(basename "$b")
  out=bench/results/${name}-${day}-${cpu}-${cores}cores.json
  echo "== $name -> $out"
  "$b" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
       --benchmark_out="$out" --benchmark_out_format=json "$@"
done
