#!/usr/bin/env bash
# Hardware counters of the MSM and NTT kernels with Nsight Compute (ncu): bench_gpu_msm and
# bench_gpu_ntt in their --profile mode (G1 and G2 MSM at 2^20, NTT forward 2^24 and inverse of
# three 2^20 vectors, one steady-state call each), every kernel of those calls profiled with the
# sections below. Writes, in OUT_DIR:
#   ncu-<program>.csv   ncu's details page as CSV (every metric of every section, per launch)
#   ncu-<program>.log   the program's own output and ncu's messages
#   ncu-summary.txt     one line per kernel launch: time, SM and memory throughput, occupancy,
#                       registers, issue activity (bench/gpu/ncu_summary.py), also printed
# bench/gpu_check.sh runs it after the benchmarks when time is left.
#
#   bench/gpu/profile.sh BIN_DIR OUT_DIR      (ZKINFER_NCU: the ncu to use, else found on PATH)
# Exit status: 0 profiled; 3 no ncu here, or it cannot read this machine's counters (gVisor
# machines cannot: the device tool's KINDS.md); 1 anything else failed.
set -uo pipefail
if (($# != 2)); then
  echo "usage: bench/gpu/profile.sh BIN_DIR OUT_DIR" >&2
  exit 1
fi
BIN=$1
OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"

# ZKINFER_NCU, when set, is the only ncu tried (the script's test sets a stand-in).
if [[ -n ${ZKINFER_NCU+set} ]]; then
  NCU=$ZKINFER_NCU
else
  NCU=$(command -v ncu || true)
  for c in /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu; do
    [[ -z $NCU && -x $c ]] && NCU=$c
  done
fi
if [[ -z $NCU || ! -x $NCU ]]; then
  echo "profile: no ncu (Nsight Compute) on this machine"
  exit 3
fi
PYTHON=$(command -v python3 || true)

# The clocks are left alone (the device tool's METHOD.md); one steady-state call per kernel
# family; the sections that say where a kernel's time goes.
SECTIONS=(SpeedOfLight Occupancy LaunchStats SchedulerStats WarpStateStats ComputeWorkloadAnalysis
  MemoryWorkloadAnalysis)
args=(--profile-from-start off --clock-control none --csv --page details)
for s in "${SECTIONS[@]}"; do args+=(--section "$s"); done

status=0
csvs=()
for prog in bench_gpu_msm bench_gpu_ntt; do
  if [[ ! -x $BIN/$prog ]]; then
    echo "profile: $BIN/$prog not built"
    status=1
    continue
  fi
  csv=$OUT/ncu-$prog.csv
  log=$OUT/ncu-$prog.log
  rm -f "$csv"
  "$NCU" "${args[@]}" --log-file "$csv" "$BIN/$prog" --profile >"$log" 2>&1
  rc=$?
  if ! grep -q '^"ID"' "$csv" 2>/dev/null; then
    # No profile: a machine whose counters ncu cannot read (as ncu words it), or a failure.
    if grep -q -e "LibraryNotLoaded" -e "ERR_NVGPUCTRPERM" -e "Failed to initialize the profiler" \
      "$csv" "$log" 2>/dev/null; then
      echo "profile: ncu cannot read the counters here:"
      grep -h -e "==ERROR==" "$csv" "$log" 2>/dev/null | head -3
      exit 3
    fi
    echo "profile: ncu on $prog exited $rc with no profile; the end of its output:"
    tail -5 "$log"
    status=1
    continue
  fi
  csvs+=("$csv")
  if ((rc != 0)); then  # profiled, but the program or ncu failed (a check, a CUDA error)
    echo "profile: ncu on $prog exited $rc; the end of its output:"
    tail -5 "$log"
    status=1
  fi
done

if ((${#csvs[@]})); then
  if [[ -n $PYTHON ]]; then
    "$PYTHON" "$HERE/ncu_summary.py" "${csvs[@]}" | tee "$OUT/ncu-summary.txt"
    ((PIPESTATUS[0] == 0)) || status=1
  else
    echo "profile: no python3 for the summary; the CSV files are in $OUT"
  fi
fi
exit $status
