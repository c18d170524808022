#!/usr/bin/env bash
# Checks everything GPU in zkinfer in one call on a GPU machine (DESIGN.md 4):
#   1. nvidia-smi and tool versions
#   2. GoogleTest built from build-deps/googletest when that was carried (bench/gpu/pack_deps.sh):
#      GPU machines here have no GoogleTest and no network
#   3. a Release build for one architecture (sm_90) into build-gpu/ with ninja on all cores: the
#      whole project when it configures on that machine, else bench/gpu/check-project (the GPU
#      parts alone); only the target zkinfer_gpu_all (GPU tests, GPU benchmarks) is built
#   4. ctest -L gpu (and the host carry-emulator test, to tell algorithm bugs from PTX ones)
#   5. the GPU tests again at a small size under compute-sanitizer (memcheck, initcheck)
#   6. every GPU benchmark (build-gpu/bin/bench_gpu_*), the cluster with a CUDA worker
#      (bench/gpu/cluster_gpu.sh, where the cluster programs were built), and a SASS summary of
#      the field kernels, and a side-by-side table of each timed change against what it replaced
#      (ratios of medians); then, with time left, the MSM and NTT kernels under Nsight Compute
#      (bench/gpu/profile.sh: one line per kernel launch in the results, the CSV beside them)
#   7. bench/results/gpu_check-<date>-<gpu>.{json,md}, copied into $OUT when it is set; the
#      summary table is printed last
# A failing step does not stop the others; the exit status is 1 if any step failed.
#
# Device tool, from a checkout where bench/gpu/pack_deps.sh has been run once:
#   run(command="bash bench/gpu_check.sh", carry=["build-deps"], timeout_s=600)
# Or, to spend no device time compiling, build here first with bench/gpu/prebuild.sh (same nvcc
# as the GPU machines, sm_90) and hand its archives over (the second, the cluster programs, runs
# bench/gpu/cluster_gpu.sh too, in the time the Nsight Compute profile would otherwise get: leave
# it out when the kernels' counters matter more):
#   run(command="ZKINFER_GPU_PREBUILT=build-gpu-prebuilt.tar.xz
#       ZKINFER_GPU_CLUSTER_PREBUILT=build-gpu-cluster.tar.xz bash bench/gpu_check.sh",
#       carry=["build-gpu-prebuilt.tar.xz", "build-gpu-cluster.tar.xz"], timeout_s=600)
# Then steps 2-3 are skipped and step 4 runs each test program directly (GoogleTest's counts).
# Measured with prebuilt programs (2026-11-26): 82 s on an H200 machine, 100 s on an H100 one
# (tests 15-17 s, sanitizer 10-11 s, benchmarks 54-70 s), before the Nsight Compute profile and the
# benchmark rows added since; building here instead adds GoogleTest (about 20 s) and the build.
#
# Environment: ZKINFER_GIT_COMMIT, recorded in the results (the device tool's copy has no .git);
# ZKINFER_GPU_ARCH (default 90); ZKINFER_GPU_CHECK_PROJECT = auto (default), full or gpu-only;
# ZKINFER_GPU_SANITIZER_N, the array size for the sanitizer run (default 4099);
# ZKINFER_GPU_CHECK_BUDGET_S (default 480): optional steps (sanitizer, SASS) are skipped once
# this many seconds have passed, so the results are written inside the device tool's 10 minutes;
# ZKINFER_GPU_PREBUILT, an archive from bench/gpu/prebuild.sh (see above), with
# ZKINFER_GPU_CLUSTER_PREBUILT, its archive of the cluster programs (prebuild.sh says whether the
# two together fit the device tool's 64 MiB of carried files: 26 MiB on 2026-11-27, so one call
# carries both; else one call each, or the cluster alone as bench/gpu/cluster_gpu.sh says), and
# ZKINFER_GPU_TEST_TIMEOUT_S (default 300), the limit for each test program it runs;
# ZKINFER_GPU_CHECK_DEADLINE_S (default 560): benchmarks that read ZKINFER_GPU_BENCH_BUDGET_S
# (bench_gpu_msm) get an even share of the time left before it (less 150 s kept for the cluster
# where its programs are here), and the cluster run what is left then.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$(date +%s)
BUILD=build-gpu
LOGDIR=build-gpu-check          # logs, benchmark JSON, SASS; git-ignored like every build*/
DEPS=build-gpu-deps             # GoogleTest built from build-deps/googletest
ARCH=${ZKINFER_GPU_ARCH:-90}
PROJECT_MODE=${ZKINFER_GPU_CHECK_PROJECT:-auto}
SANITIZER_N=${ZKINFER_GPU_SANITIZER_N:-4099}
BUDGET_S=${ZKINFER_GPU_CHECK_BUDGET_S:-480}
DEADLINE_S=${ZKINFER_GPU_CHECK_DEADLINE_S:-560}
PREBUILT=${ZKINFER_GPU_PREBUILT:-}
TEST_TIMEOUT_S=${ZKINFER_GPU_TEST_TIMEOUT_S:-300}
JOBS=$(nproc)
DAY=$(date -u +%Y-%m-%d)

rm -rf "$LOGDIR"
mkdir -p "$LOGDIR" bench/results
LOG=$LOGDIR/gpu_check.log
if [[ -n ${OUT:-} ]]; then
  mkdir -p "$OUT"
  LOG=$OUT/gpu_check.log  # written as we go: it comes back even if the call is cut off
fi
: >"$LOG"
if [[ -x /usr/local/cuda/bin/nvcc ]] && ! command -v nvcc >/dev/null; then
  export PATH=/usr/local/cuda/bin:$PATH
fi
# NCCL (kernels/cuda/nccl_group.h) is opened at run time as libnccl.so.2: where the loader does
# not know it, a Python wheel's copy (nvidia-nccl) is used, if there is one; without it the NCCL
# tests skip and the backend uses peer copies.
if ! ldconfig -p 2>/dev/null | grep -q 'libnccl\.so\.2'; then
  nccl_lib=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null || true)
  if [[ -n $nccl_lib && -f $nccl_lib/libnccl.so.2 ]]; then
    export LD_LIBRARY_PATH=$nccl_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi
fi

# ---- step bookkeeping ---------------------------------------------------------------------------
STEP_NAMES=() STEP_STATUS=() STEP_SECONDS=() STEP_NOTES=()
ANY_FAILED=0
say() { echo "$*" | tee -a "$LOG"; }
elapsed() { echo $(($(date +%s) - START)); }
# record NAME STATUS(ok|FAILED|skipped) SECONDS NOTE
record() {
  STEP_NAMES+=("$1") STEP_STATUS+=("$2") STEP_SECONDS+=("$3") STEP_NOTES+=("$4")
  [[ $2 == FAILED ]] && ANY_FAILED=1
  say "--- $1: $2 (${3}s)${4:+: $4}"
}
# run NAME LIMIT_S CMD...: output to the console and the log, status recorded; returns CMD's
# status (124 on timeout).
run() {
  local name=$1 limit=$2 rc=0 t0 left
  shift 2
  # No step may run past the device tool's 600 s: the results are written after the last one.
  left=$((DEADLINE_S + 20 - $(elapsed)))
  if ((left < 10)); then
    record "$name" skipped 0 "past the ${DEADLINE_S}s deadline"
    return 124
  fi
  ((limit > left)) && limit=$left
  t0=$(date +%s)
  say "=== $name: $*"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$LOG" || rc=$?
  local note=""
  ((rc == 124)) && note="timed out after ${limit}s"
  ((rc != 0 && rc != 124)) && note="exit status $rc"
  record "$name" "$([[ $rc == 0 ]] && echo ok || echo FAILED)" $(($(date +%s) - t0)) "$note"
  return $rc
}
json_escape() { printf '%s' "$1" | tr '\t' ' ' | tr -d '\000-\010\013-\037' | sed 's/\\/\\\\/g; s/"/\\"/g' | awk '{printf "%s%s", (NR>1?"\\n":""), $0}'; }

# ---- 1. the machine -----------------------------------------------------------------------------
HAVE_GPU=0
GPU_NAME=unknown-gpu
GPU_DRIVER=unknown
if command -v nvidia-smi >/dev/null; then
  if run nvidia-smi 60 nvidia-smi; then
    q=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 || true)
    if [[ -n $q ]]; then
      HAVE_GPU=1
      GPU_NAME=${q%%,*}
      GPU_DRIVER=$(echo "${q#*,}" | tr -d ' ')
    fi
  fi
else
  record nvidia-smi skipped 0 "nvidia-smi not found: no NVIDIA driver on this machine"
fi
GPU_SLUG=$(echo "$GPU_NAME" | tr -c 'A-Za-z0-9\n' '-' | sed 's/-\+/-/g; s/^-//; s/-$//')
CMAKE_VERSION=$(cmake --version 2>/dev/null | head -1 || echo "cmake not found")
NVCC_VERSION=$(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*, V[0-9.]*' || echo "nvcc not found")
CXX_VERSION=$(c++ --version 2>/dev/null | head -1 || echo "c++ not found")
GIT_COMMIT=${ZKINFER_GIT_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
GIT_DIRTY=$( (git status --porcelain --untracked-files=no 2>/dev/null | grep -q .) && echo true || echo false)
say "gpu: $GPU_NAME (driver $GPU_DRIVER); $CMAKE_VERSION; nvcc $NVCC_VERSION; $CXX_VERSION; $JOBS cores; commit $GIT_COMMIT"
GENERATOR=(-G Ninja)
if ! command -v ninja >/dev/null; then
  say "ninja not found: using Unix Makefiles"
  GENERATOR=(-G "Unix Makefiles")
fi

# ---- 2. GoogleTest --------------------------------------------------------------------------------
PREFIX_ARGS=()
if [[ -n $PREBUILT ]]; then
  record googletest skipped 0 "prebuilt programs from $PREBUILT"
elif [[ -f build-deps/googletest/CMakeLists.txt ]]; then
  if [[ ! -d $DEPS/gtest/include/gtest ]]; then
    run googletest 240 bash -c "cmake -S build-deps/googletest -B $DEPS/gtest-build ${GENERATOR[*]@Q} \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$ROOT/$DEPS/gtest -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
        -DBUILD_GMOCK=ON -DINSTALL_GTEST=ON && cmake --build $DEPS/gtest-build -j $JOBS --target install" || true
  else
    record googletest ok 0 "already built in $DEPS/gtest"
  fi
  PREFIX_ARGS=(-DCMAKE_PREFIX_PATH="$ROOT/$DEPS/gtest")
else
  record googletest skipped 0 "build-deps/googletest not carried: using the machine's GoogleTest, if any"
fi

# ---- 3. configure and build ---------------------------------------------------------------------
CONFIG_ARGS=("${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DZKINFER_CUDA=ON
  -DZKINFER_BUILD_BENCH=OFF -DZKINFER_BUILD_GPU_BENCH=ON "${PREFIX_ARGS[@]}")
# The NCCL path where nvcc comes with nccl.h.
if nvcc_path=$(command -v nvcc) && [[ -f $(dirname "$nvcc_path")/../include/nccl.h ]]; then
  CONFIG_ARGS+=(-DZKINFER_NCCL=ON)
fi
PROJECT_USED=none
[[ -n $PREBUILT ]] && PROJECT_MODE=prebuilt
configure_full() { rm -rf "$BUILD" && run configure-full 300 cmake -S . -B "$BUILD" "${CONFIG_ARGS[@]}"; }
configure_gpu_only() {
  rm -rf "$BUILD" && run configure-gpu-only 300 cmake -S bench/gpu/check-project -B "$BUILD" "${CONFIG_ARGS[@]}"
}
case $PROJECT_MODE in
  prebuilt)
    BUILD=build-gpu-prebuilt
    rm -rf "$BUILD" && mkdir -p "$BUILD"
    if run unpack-prebuilt 120 tar -C "$BUILD" -xJf "$PREBUILT"; then
      PROJECT_USED=prebuilt
      # Libraries the programs need that GPU machines lack (libsodium; ZeroMQ and the like for the
      # cluster) are packed in lib/ beside bin/, and the programs' RPATH ($ORIGIN/../lib) finds
      # them: no LD_LIBRARY_PATH, which would reach ncu, compute-sanitizer and python3 as well.
      if [[ -f $BUILD/BUILD_INFO ]]; then
        say "prebuilt: $(tr '\n' ' ' <"$BUILD/BUILD_INFO")"
        # The programs' commit is what the results describe, not the state of this copy.
        GIT_COMMIT=$(awk '/^commit /{sub(/[+].*/, "", $2); print $2; exit}' "$BUILD/BUILD_INFO")
        GIT_DIRTY=$(grep -q '+local changes' "$BUILD/BUILD_INFO" && echo true || echo false)
      fi
    fi
    # The cluster programs, in their own archive (each CUDA program carries every kernel).
    if [[ -n ${ZKINFER_GPU_CLUSTER_PREBUILT:-} ]]; then
      run unpack-cluster 120 tar -C "$BUILD" --exclude=./BUILD_INFO -xJf "$ZKINFER_GPU_CLUSTER_PREBUILT" || true
    fi
    ;;
  full) configure_full && PROJECT_USED=full || true ;;
  gpu-only) configure_gpu_only && PROJECT_USED=gpu-only || true ;;
  *)
    if configure_full; then
      PROJECT_USED=full
    else
      # Expected on a bare GPU machine: the rest of the project needs libraries it lacks. Not a
      # failure of the check; the GPU parts alone must configure.
      STEP_STATUS[-1]=skipped
      STEP_NOTES[-1]="the whole project does not configure here (log above); using bench/gpu/check-project"
      ANY_FAILED=0
      for s in "${STEP_STATUS[@]}"; do [[ $s == FAILED ]] && ANY_FAILED=1; done
      say "--- configure-full: ${STEP_NOTES[-1]}"
      configure_gpu_only && PROJECT_USED=gpu-only || true
    fi
    ;;
esac

BUILT=0
if [[ $PROJECT_USED == prebuilt ]]; then
  BUILT=1
  record build skipped 0 "prebuilt"
elif [[ $PROJECT_USED != none ]]; then
  run build 420 cmake --build "$BUILD" --target zkinfer_gpu_all -j "$JOBS" && BUILT=1 || true
else
  record build skipped 0 "nothing configured"
fi

# ---- 4. tests -----------------------------------------------------------------------------------
CTEST_TOTAL=0 CTEST_FAILED=0 CTEST_SKIPPED=0
if ((BUILT)) && [[ $PROJECT_USED == prebuilt ]]; then
  # No ctest tree: each program once, its GoogleTest summary counted.
  for t in "$BUILD"/bin/test_gpu_*; do
    [[ -x $t ]] || continue
    name=$(basename "$t")
    run "$name" "$TEST_TIMEOUT_S" "$t" --gtest_color=no || true
    summary=$(awk -v s="=== $name:" 'index($0, s) == 1 {f=1; next} /^--- /{f=0} f' "$LOG")
    passed=$(echo "$summary" | grep -oE '^\[  PASSED  \] [0-9]+' | grep -oE '[0-9]+$' || echo 0)
    failed=$(echo "$summary" | grep -oE '^\[  FAILED  \] [0-9]+ test' | grep -oE '[0-9]+' || echo 0)
    skipped=$(echo "$summary" | grep -oE '^\[  SKIPPED \] [0-9]+ test' | grep -oE '[0-9]+' || echo 0)
    CTEST_TOTAL=$((CTEST_TOTAL + ${passed:-0} + ${failed:-0} + ${skipped:-0}))
    CTEST_FAILED=$((CTEST_FAILED + ${failed:-0}))
    CTEST_SKIPPED=$((CTEST_SKIPPED + ${skipped:-0}))
    # Skipped for want of a GPU while nvidia-smi sees one is a failure; skips with other reasons
    # (two GPUs needed, no NCCL library) are not.
    no_gpu=$(echo "$summary" | grep -c '^no usable GPU' || true)
    if ((HAVE_GPU && no_gpu > 0)); then
      STEP_STATUS[-1]=FAILED
      STEP_NOTES[-1]="$no_gpu tests skipped for no usable GPU although nvidia-smi sees one"
      ANY_FAILED=1
      say "--- $name: FAILED: ${STEP_NOTES[-1]}"
    fi
  done
  [[ -x $BUILD/bin/test_mont32_emu ]] && { run carry-emulator 120 "$BUILD/bin/test_mont32_emu" --gtest_color=no || true; }
elif ((BUILT)); then
  rc=0
  run ctest-gpu 300 ctest --test-dir "$BUILD" -L gpu --output-on-failure --timeout 180 || rc=$?
  # The counts, from this step's output in the log.
  summary=$(awk '/^=== ctest-gpu:/{s=1} s' "$LOG")
  # CMake 3.x prints "100% tests passed, 0 tests failed out of N", CMake 4.x "100% tests passed out of N".
  CTEST_TOTAL=$(echo "$summary" | grep -oE 'tests (passed|failed) out of [0-9]+' | tail -1 | grep -oE '[0-9]+$' || echo 0)
  CTEST_FAILED=$(echo "$summary" | grep -oE '[0-9]+ tests failed out of' | tail -1 | grep -oE '^[0-9]+' || echo 0)
  CTEST_SKIPPED=$(echo "$summary" | grep -c '(Skipped)' || true)
  # The skip reasons are in ctest's own log; as above, only "no usable GPU" is a failure.
  no_gpu=$(grep -c '^no usable GPU' "$BUILD/Testing/Temporary/LastTest.log" 2>/dev/null || true)
  if ((HAVE_GPU && ${no_gpu:-0} > 0 && rc == 0)); then
    # nvidia-smi sees a GPU but the tests skipped: the probe's reason is in the log.
    STEP_STATUS[-1]=FAILED
    STEP_NOTES[-1]="${no_gpu} tests skipped for no usable GPU although nvidia-smi sees one"
    ANY_FAILED=1
    say "--- ctest-gpu: FAILED: ${STEP_NOTES[-1]}"
  fi
  run carry-emulator 120 ctest --test-dir "$BUILD" -R '^(Mont32Emu|CarryEmu)' --output-on-failure || true
else
  record ctest-gpu skipped 0 "not built"
fi

# ---- 5. compute-sanitizer -----------------------------------------------------------------------
SANITIZER=$(command -v compute-sanitizer || true)
[[ -z $SANITIZER && -x /usr/local/cuda/bin/compute-sanitizer ]] && SANITIZER=/usr/local/cuda/bin/compute-sanitizer
if ((!BUILT)); then
  record compute-sanitizer skipped 0 "not built"
elif [[ -z $SANITIZER ]]; then
  record compute-sanitizer skipped 0 "compute-sanitizer not found (PATH, /usr/local/cuda/bin)"
elif ((!HAVE_GPU)); then
  record compute-sanitizer skipped 0 "no GPU"
else
  for t in "$BUILD"/bin/test_gpu_*; do
    [[ -x $t ]] || continue
    # NCCL's own set-up makes failing driver calls on purpose and keeps allocations and spinning
    # kernels of its own, which the sanitizer reports as errors (NVIDIA/nccl#727); the tests
    # above run our copies through it.
    if [[ $(basename "$t") == test_gpu_nccl ]]; then
      record "sanitizer-test_gpu_nccl" skipped 0 "NCCL's internals are not ours to check"
      continue
    fi
    for tool in memcheck initcheck; do
      name="sanitizer-$tool-$(basename "$t")"
      if (($(elapsed) > BUDGET_S)); then
        record "$name" skipped 0 "time budget of ${BUDGET_S}s used up"
        continue
      fi
      extra=()
      [[ $tool == memcheck ]] && extra=(--leak-check full)
      run "$name" 240 env ZKINFER_GPU_TEST_N="$SANITIZER_N" "$SANITIZER" --tool "$tool" --error-exitcode 99 \
        "${extra[@]}" "$t" || true
    done
  done
fi

# ---- 6. benchmarks ------------------------------------------------------------------------------
BENCH_JSON=()
BENCH_TABLES=""
if ((BUILT)); then
  benches=()
  for b in "$BUILD"/bin/bench_gpu_*; do [[ -x $b ]] && benches+=("$b"); done
  left=${#benches[@]}
  # Where the cluster programs are here, 150 s are kept for the cluster run after the benchmarks.
  bench_deadline=$DEADLINE_S
  [[ -x $BUILD/bin/zkinfer-worker && -x $BUILD/bin/zkinfer ]] && bench_deadline=$((DEADLINE_S - 150))
  for b in "${benches[@]}"; do
    name=$(basename "$b")
    json=$LOGDIR/$name.json
    rm -f "$json"
    share=$(((bench_deadline - $(elapsed)) / left))
    left=$((left - 1))
    ZKINFER_GPU_BENCH_BUDGET_S=$((share > 20 ? share : 20)) run "$name" 300 "$b" --out "$json" || true
    [[ -s $json ]] && BENCH_JSON+=("$json")
    BENCH_TABLES+="$name:"$'\n'"$(awk -v s="=== $name:" 'index($0, s) == 1 {f=1; next} /^--- /{f=0} f' "$LOG")"$'\n\n'
  done
else
  record benchmarks skipped 0 "not built"
fi

# Side by side: each change that the benchmarks time against what it replaced, as the ratio of
# the medians (below 1: the change is faster), from the JSON files of this run. A pair is listed
# only when both results are there.
AB_PAIRS=(
  "fq2_mul_chain_ilp4|fq2_mul_three_reductions_chain_ilp4|Fq2 product: two reductions (lazy) vs three"
  "fq_sqr_dedicated_chain_ilp4|fq_sqr_as_product_chain_ilp4|Fq square: dedicated (mont32::sqr) vs the product x * x"
  "fr_mul_karatsuba_chain_ilp4|fr_mul_chain_ilp4|Fr product: Karatsuba + separate reduction vs interleaved (mont32::mul)"
  "fq_mul_karatsuba_chain_ilp4|fq_mul_chain_ilp4|Fq product: Karatsuba + separate reduction vs interleaved (mont32::mul)"
  "fq2_mul_karatsuba_chain_ilp4|fq2_mul_chain_ilp4|Fq2 product, lazy: Karatsuba 512-bit products vs schoolbook"
  "fr_mul_shoup_chain_ilp4|fr_mul_chain_ilp4|Fr product by a fixed factor: Shoup vs Montgomery (an NTT twiddle's cost)"
  "fq2_mul_sub_mul_chain_ilp4|fq2_mul_sub_mul_as_written_chain_ilp4|Fq2 a b - x y: two reductions vs two products and a subtraction (G2 formulas)"
  "ntt_sweep_t11_th256_mc2_forward_2^20|ntt_sweep_t11_th256_mc2_reorder_computed_forward_2^20|NTT 2^20, 2^11 tiles: scratch + twiddle tables vs reordering pass + computed twiddles"
  "ntt_sweep_t11_th256_mc2_forward_2^24|ntt_sweep_t11_th256_mc2_reorder_computed_forward_2^24|NTT 2^24, 2^11 tiles: scratch + twiddle tables vs reordering pass + computed twiddles"
  "ntt_sweep_t11_th256_mc2_forward_2^24|ntt_sweep_t11_th256_mc2_reorder_forward_2^24|NTT 2^24, 2^11 tiles: scratch vector vs reordering pass (tables both)"
  "ntt_sweep_t11_th256_mc2_forward_2^24|ntt_sweep_t11_th256_mc2_computed_forward_2^24|NTT 2^24, 2^11 tiles: twiddle tables vs computed (scratch both)"
  "ntt_sweep_t12_th256_mc0_forward_2^24|ntt_forward_2^24|NTT 2^24: two passes of 2^12 tiles vs the default three"
  "ntt_sweep_t11_th256_mc2_forward_2^20|ntt_sweep_t11_th256_mc2_montgomery_forward_2^20|NTT 2^20, 2^11 tiles: Shoup stage twiddles (default) vs Montgomery products"
  "ntt_sweep_t11_th256_mc2_forward_2^24|ntt_sweep_t11_th256_mc2_montgomery_forward_2^24|NTT 2^24, 2^11 tiles: Shoup stage twiddles (default) vs Montgomery products (target 4 ms)"
  "ntt_sweep_t12_th256_mc0_forward_2^24|ntt_sweep_t12_th256_mc0_montgomery_forward_2^24|NTT 2^24, two passes of 2^12 tiles: Shoup stage twiddles vs Montgomery"
  "ntt_forward_2^20|ntt_sweep_t11_th256_mc2_forward_2^20|NTT 2^20: 2^10 tiles (default) vs 2^11"
  "ntt_forward_2^24|ntt_sweep_t11_th256_mc2_forward_2^24|NTT 2^24: 2^10 tiles (default) vs 2^11 (target 4 ms)"
  "ntt_sweep_t9_th256_mc2_forward_2^24|ntt_forward_2^24|NTT 2^24: 2^9 tiles vs the default 2^10"
  "ntt_sweep_t10_th256_mc2_rows4_forward_2^24|ntt_forward_2^24|NTT 2^24: 4 rows per last-pass tile (128-byte runs of natural-order stores) vs 1 (target 4 ms)"
  "ntt_sweep_t10_th256_mc2_rows4_forward_2^20|ntt_forward_2^20|NTT 2^20: 4 rows per last-pass tile vs 1"
  "ntt_sweep_t10_th256_mc2_shouppass_forward_2^24|ntt_forward_2^24|NTT 2^24: pass twiddle tables in Shoup form vs Montgomery (target 4 ms)"
  "ntt_sweep_t10_th256_mc2_shouppass_forward_2^20|ntt_forward_2^20|NTT 2^20: pass twiddle tables in Shoup form vs Montgomery"
  "ntt_sweep_t10_th256_mc2_rows4_shouppass_forward_2^24|ntt_sweep_t10_th256_mc2_rows4_forward_2^24|NTT 2^24, 4 rows per last-pass tile: pass twiddles in Shoup form vs Montgomery (target 4 ms)"
  "ntt_sweep_t10_th256_mc2_rows2_forward_2^24|ntt_forward_2^24|NTT 2^24: 2 rows per last-pass tile vs 1"
  "ntt_sweep_t10_th128_mc2_rows4_forward_2^24|ntt_sweep_t10_th128_mc2_forward_2^24|NTT 2^24, 128 threads: 4 rows per last-pass tile vs 1"
  "ntt_sweep_t10_th128_mc2_forward_2^24|ntt_forward_2^24|NTT 2^24: 128 threads per 2^10 tile vs 256 (default)"
  "ntt_sweep_t11_th256_mc2_rows4_forward_2^24|ntt_sweep_t11_th256_mc2_forward_2^24|NTT 2^24, 2^11 tiles: 4 rows per last-pass tile vs 1"
  "ntt_sweep_t11_th256_mc2_rows8_forward_2^24|ntt_forward_2^24|NTT 2^24: 2^11 tiles with 8 rows per last-pass tile (8 + 8 + 8 stages) vs the default"
  "ntt_sweep_t10_th256_mc2_radix4_forward_2^24|ntt_forward_2^24|NTT 2^24, 2^10 tiles: radix4 vs one stage per phase"
  "ntt_sweep_t11_th256_mc2_radix4_forward_2^20|ntt_sweep_t11_th256_mc2_forward_2^20|NTT 2^20, 2^11 tiles: two stages per phase (radix4) vs one"
  "ntt_sweep_t11_th256_mc2_radix4_forward_2^24|ntt_sweep_t11_th256_mc2_forward_2^24|NTT 2^24, 2^11 tiles: two stages per phase (radix4) vs one (target 4 ms)"
  "ntt_sweep_t12_th256_mc0_radix4_forward_2^24|ntt_sweep_t12_th256_mc0_forward_2^24|NTT 2^24, two passes of 2^12 tiles: radix4 vs one stage per phase"
  "g1_msm_tables_2^20|g1_msm_2^20|G1 MSM 2^20: point tables vs plain points"
  "g1_msm_tables_2^24|g1_msm_2^24|G1 MSM 2^24: point tables vs plain points"
  "g2_msm_tables_2^20|g2_msm_2^20|G2 MSM 2^20: point tables vs plain points"
  "g2_msm_tables_2^20|g1_msm_tables_2^20|G2 vs G1 MSM 2^20, point tables (target <= 3)"
  "groth16_resident_2^20|groth16_resident_no_tables_2^20|Groth16 2^20, key resident: MSM point tables vs none"
  "g1_msm_2^16|g1_msm_join1_2^16|G1 MSM 2^16: step 3a joins runs over up to 32 segments vs across one edge (join_segments 1)"
  "g2_msm_2^16|g2_msm_join1_2^16|G2 MSM 2^16: step 3a joins runs over up to 32 segments vs across one edge"
  "g1_msm_2^20|g1_msm_join1_2^20|G1 MSM 2^20: step 3a joins runs over up to 32 segments vs across one edge"
  "g2_msm_2^20|g2_msm_join1_2^20|G2 MSM 2^20: step 3a joins runs over up to 32 segments vs across one edge"
  "g1_msm_2^20|g1_sweep_2^20_chunk8|G1 MSM 2^20: later reduction levels in chunks of 2 (default) vs 8"
  "g2_msm_2^20|g2_sweep_2^20_chunk8|G2 MSM 2^20: later reduction levels in chunks of 2 (default) vs 8"
  "g1_tables_sweep_2^20_planned|g1_tables_sweep_2^20_planned_chunk8|G1 MSM 2^20, point tables: reduction chunks of 2 (default) vs 8"
  "g1_msm_2^20|g1_msm_uncapped_regs_2^20|G1 MSM 2^20: accumulation capped at 4 blocks per SM, 128 registers (default) vs 3"
  "g2_msm_capped_regs_2^20|g2_msm_2^20|G2 MSM 2^20: accumulation at 3 blocks per SM (168 registers, spills) vs 2"
  "g1_msm_join4_2^16|g1_msm_2^16|G1 MSM 2^16: step 3a joins runs over up to 4 segments vs 32 (default)"
  "g1_msm_join4_2^16|g1_msm_join1_2^16|G1 MSM 2^16: step 3a joins runs over up to 4 segments vs 1"
  "g2_msm_join4_2^16|g2_msm_2^16|G2 MSM 2^16: step 3a joins runs over up to 4 segments vs 32 (default)"
  "g1_msm_join4_2^20|g1_msm_2^20|G1 MSM 2^20: step 3a joins runs over up to 4 segments vs 32 (default)"
  "g2_msm_join4_2^20|g2_msm_2^20|G2 MSM 2^20: step 3a joins runs over up to 4 segments vs 32 (default)"
  "g1_msm_square_2^20|g1_msm_2^20|G1 MSM 2^20: the dedicated Fq square (msm_g1_square) vs the product x * x"
  "g1_msm_square_tables_2^20|g1_msm_tables_2^20|G1 MSM 2^20, point tables: the dedicated Fq square vs x * x (target 4 ms)"
  "groth16_resident_square_2^20|groth16_resident_2^20|Groth16 2^20, key resident: G1 MSMs with the dedicated Fq square vs x * x (target 50 ms)"
  "g1_msm_split_reduce_2^16|g1_msm_2^16|G1 MSM 2^16: later reduction levels as ReducePairStep (X' and Y' in separate warps) vs one thread"
  "g1_msm_split_reduce_2^20|g1_msm_2^20|G1 MSM 2^20: later reduction levels as ReducePairStep vs one thread"
  "g1_msm_tables_split_reduce_2^20|g1_msm_tables_2^20|G1 MSM 2^20, point tables: later reduction levels as ReducePairStep vs one thread (target 4 ms)"
  "g2_msm_split_reduce_2^16|g2_msm_2^16|G2 MSM 2^16: later reduction levels as ReducePairStep vs one thread"
  "g2_msm_split_reduce_2^20|g2_msm_2^20|G2 MSM 2^20: later reduction levels as ReducePairStep vs one thread"
  "g2_msm_tables_split_reduce_2^20|g2_msm_tables_2^20|G2 MSM 2^20, point tables: later reduction levels as ReducePairStep vs one thread"
  "g1_msm_split_reduce_first2_2^20|g1_msm_split_reduce_2^20|G1 MSM 2^20, reduction as pairs: the first level too (chunks of 2) vs chunks of up to 16"
  "g1_msm_tables_split_reduce_first2_2^20|g1_msm_tables_split_reduce_2^20|G1 MSM 2^20, point tables, reduction as pairs: the first level too vs chunks of up to 16 (target 4 ms)"
  "g1_msm_tables_split_reduce_square_2^20|g1_msm_tables_2^20|G1 MSM 2^20, point tables: split reduction levels and the dedicated Fq square together vs neither (target 4 ms)"
  "g1_msm_tables_split_reduce_c20_2^20|g1_msm_tables_split_reduce_2^20|G1 MSM 2^20, point tables, split reduction: window 20 (13 digit windows) vs the planned width"
  "g1_msm_tables_split_reduce_c22_2^20|g1_msm_tables_split_reduce_2^20|G1 MSM 2^20, point tables, split reduction: window 22 (12 digit windows) vs the planned width"
  "g2_msm_split_reduce_first2_2^20|g2_msm_split_reduce_2^20|G2 MSM 2^20, reduction as pairs: the first level too vs chunks of up to 16"
  "g1_sweep_2^20_4batches|g1_msm_2^20|G1 MSM 2^20: four batches vs one"
  "g2_sweep_2^20_4batches|g2_msm_2^20|G2 MSM 2^20: four batches vs one"
)
AB_TABLE=""
if ((${#BENCH_JSON[@]})); then
  # "median|NAME|MS" for every benchmark row, read once for the two tables below.
  MEDIANS=$(cat "${BENCH_JSON[@]}" | awk '
    /"name": "/ && /"median_ms": / {
      n = $0; sub(/.*"name": "/, "", n); sub(/".*/, "", n)
      m = $0; sub(/.*"median_ms": /, "", m); sub(/[,}].*/, "", m)
      print "median|" n "|" m + 0
    }')
  AB_TABLE=$(
    { for pair in "${AB_PAIRS[@]}"; do echo "pair|$pair"; done; echo "$MEDIANS"; } |
      awk -F'|' '
        /^pair\|/ { np++; a[np] = $2; b[np] = $3; what[np] = $4; next }
        /^median\|/ { med[$2] = $3 + 0 }
        END {
          for (k in med) any = 1
          for (i = 1; i <= np; i++)
            if ((a[i] in med) && (b[i] in med) && med[b[i]] > 0)
              printf "%-78s %9.3f ms vs %9.3f ms: %.3f\n", what[i], med[a[i]], med[b[i]], med[a[i]] / med[b[i]]
            else if (any)  # a misspelt or unregistered name shows here, not as a silent gap
              printf "%-78s not measured: %s\n", what[i], ((a[i] in med) ? b[i] : a[i])
        }'
  )
  if [[ -n $AB_TABLE ]]; then
    say "side by side (new vs old, ratio of medians):"
    say "$AB_TABLE"
  fi
  # Issue 4's targets (DESIGN.md 5, for an H100 with inputs resident), read off the default
  # configuration's rows: "ms|NAME|LIMIT|WHAT" a median at most LIMIT ms, "ratio|A|B|LIMIT|WHAT"
  # A's median at most LIMIT times B's.
  TARGETS=(
    "ms|g1_msm_2^20|4|G1 MSM 2^20, points resident"
    "ms|g1_msm_tables_2^20|4|G1 MSM 2^20, points resident with their point tables (a resident key's)"
    "ms|g1_msm_2^24|50|G1 MSM 2^24, points resident"
    "ms|g1_msm_tables_2^24|50|G1 MSM 2^24, with point tables"
    "ratio|g2_msm_2^20|g1_msm_2^20|3|G2 MSM 2^20 against G1"
    "ratio|g2_msm_tables_2^20|g1_msm_tables_2^20|3|G2 MSM 2^20 against G1, with point tables"
    "ms|ntt_forward_2^24|4|NTT 2^24 forward"
    "ms|groth16_resident_2^20|50|Groth16 prove, 2^20 constraints, key resident"
  )
  TARGET_TABLE=$(
    { for t in "${TARGETS[@]}"; do echo "target|$t"; done; echo "$MEDIANS"; } |
      awk -F'|' '
        /^target\|/ { nt++; kind[nt] = $2; a[nt] = $3
                      if ($2 == "ms") { b[nt] = ""; lim[nt] = $4; what[nt] = $5 }
                      else { b[nt] = $4; lim[nt] = $5; what[nt] = $6 }
                      next }
        /^median\|/ { med[$2] = $3 + 0 }
        END {
          for (i = 1; i <= nt; i++) {
            if (!(a[i] in med) || (kind[i] == "ratio" && !(b[i] in med && med[b[i]] > 0))) {
              printf "%-72s not measured\n", what[i]
            } else if (kind[i] == "ms") {
              printf "%-72s %9.3f ms (target %s ms): %s\n", what[i], med[a[i]], lim[i], med[a[i]] <= lim[i] ? "met" : "not met"
            } else {
              r = med[a[i]] / med[b[i]]
              printf "%-72s %9.3fx (target %sx): %s\n", what[i], r, lim[i], r <= lim[i] ? "met" : "not met"
            }
          }
        }'
  )
  say "targets (DESIGN.md 5, H100; this device: $GPU_NAME):"
  say "$TARGET_TABLE"
fi

# The cluster with a CUDA worker and a CPU worker (bench/gpu/cluster_gpu.sh), where the cluster
# programs were built (prebuilt archives carry them; the GPU-only project build has none).
# It gets what is left before the deadline (at most 240 s), so the results are still written.
CLUSTER_LIMIT=$((DEADLINE_S - $(elapsed)))
((CLUSTER_LIMIT > 240)) && CLUSTER_LIMIT=240
if ((!BUILT)) || [[ ! -x $BUILD/bin/zkinfer-worker || ! -x $BUILD/bin/zkinfer ]]; then
  record cluster skipped 0 "cluster programs not built"
elif (($(elapsed) > BUDGET_S || CLUSTER_LIMIT < 60)); then
  record cluster skipped 0 "time budget used up (${BUDGET_S}s; ${CLUSTER_LIMIT}s left before the deadline)"
else
  run cluster "$CLUSTER_LIMIT" bash bench/gpu/cluster_gpu.sh "$BUILD/bin" || true
  BENCH_TABLES+="cluster:"$'\n'"$(awk 'index($0, "=== cluster:") == 1 {f=1; next} /^--- /{f=0} f' "$LOG")"$'\n\n'
fi

# SASS instruction counts of the field kernels: what the PTX carry chains became on this chip.
SASS_SUMMARY=""
if ((BUILT)) && command -v cuobjdump >/dev/null && [[ -x $BUILD/bin/bench_gpu_field ]] && (($(elapsed) <= BUDGET_S)); then
  t0=$(date +%s)
  if cuobjdump -sass "$BUILD/bin/bench_gpu_field" >"$LOGDIR/sass_bench_gpu_field.txt" 2>>"$LOG"; then
    demangle="cat"
    command -v c++filt >/dev/null && demangle=c++filt
    SASS_SUMMARY=$(awk '
      /Function : / { fn = $NF; next }
      fn != "" && /^[ \t]+\/\*[0-9a-f]+\*\/[ \t]+[A-Z@]/ {
        line = $0; sub(/^[ \t]+\/\*[0-9a-f]+\*\/[ \t]+/, "", line); sub(/^@!?U?P[0-9T]+ +/, "", line)
        split(line, w, /[ ;]/); op = w[1]; total[fn]++
        if (op ~ /^IMAD/) imad[fn]++; if (op ~ /^IADD3/) iadd[fn]++; if (op ~ /^(LDL|STL)/) lmem[fn]++
        if (op ~ /^D(FMA|ADD|MUL)/) dfp[fn]++
      }
      END { for (f in total) printf "%6d instr %5d IMAD* %5d IADD3* %4d DFMA/DADD %3d LDL/STL  %s\n", total[f], imad[f], iadd[f], dfp[f], lmem[f], f }
    ' "$LOGDIR/sass_bench_gpu_field.txt" | $demangle |
      sed 's/zkinfer::Fp<zkinfer::bn254::\(F[rq]\)Params>/\1/g; s/zkinfer::Fq2/Fq2/g; s/>(.*$/>/; s/^\( *[0-9].*STL  \)void /\1/
           s/zkinfer::[a-z]*::\(detail::\|(anonymous namespace)::\)\?//g; s/(FieldOp)0/Mul/; s/(FieldOp)1/Add/
           s/(FieldOp)2/Sub/; s/(FieldOp)3/Sqr/; s/(FieldOp)4/Inverse/' | sort -k11)
    say "SASS per kernel (bench_gpu_field):"
    say "$SASS_SUMMARY"
    record sass ok $(($(date +%s) - t0)) ""
  else
    record sass FAILED $(($(date +%s) - t0)) "cuobjdump failed"
  fi
else
  record sass skipped 0 "needs a build, cuobjdump and time left"
fi

# Hardware counters of the MSM and NTT kernels (bench/gpu/profile.sh, Nsight Compute), when time
# is left: one line per kernel launch in the results, the full CSV in $LOGDIR (and $OUT).
PROFILE_SUMMARY=""
PROFILE_DIR=$LOGDIR/profile
PROFILE_LIMIT=$((DEADLINE_S - $(elapsed)))  # the results must still be written in time
((PROFILE_LIMIT > 240)) && PROFILE_LIMIT=240
if ((BUILT)) && (($(elapsed) <= BUDGET_S)) && ((PROFILE_LIMIT >= 60)); then
  t0=$(date +%s)
  say "=== profile: bench/gpu/profile.sh $BUILD/bin $PROFILE_DIR (limit ${PROFILE_LIMIT}s)"
  prc=0
  timeout --kill-after=10 "$PROFILE_LIMIT" bash bench/gpu/profile.sh "$BUILD/bin" "$PROFILE_DIR" \
    >"$LOGDIR/profile.out" 2>&1 || prc=$?
  cat "$LOGDIR/profile.out" >>"$LOG"
  case $prc in
    0) record profile ok $(($(date +%s) - t0)) "" ;;
    3) record profile skipped $(($(date +%s) - t0)) "$(head -1 "$LOGDIR/profile.out")" ;;
    124) record profile FAILED $(($(date +%s) - t0)) "timed out after ${PROFILE_LIMIT}s" ;;
    *) record profile FAILED $(($(date +%s) - t0)) "exit status $prc" ;;
  esac
  # Cut off or failed part-way (2026-11-28: both CSVs written, the summary not): summarise the
  # launches the CSVs hold.
  if [[ ! -s $PROFILE_DIR/ncu-summary.txt ]] && compgen -G "$PROFILE_DIR/ncu-*.csv" >/dev/null &&
    command -v python3 >/dev/null; then
    python3 bench/gpu/ncu_summary.py "$PROFILE_DIR"/ncu-*.csv >"$PROFILE_DIR/ncu-summary.txt" 2>>"$LOG" || true
  fi
  [[ -s $PROFILE_DIR/ncu-summary.txt ]] && PROFILE_SUMMARY=$(cat "$PROFILE_DIR/ncu-summary.txt")
else
  record profile skipped 0 "needs a build and time left"
fi

# ---- 7. results ---------------------------------------------------------------------------------
TOTAL_S=$(elapsed)
BASE=bench/results/gpu_check-$DAY-$GPU_SLUG
OVERALL=$([[ $ANY_FAILED == 0 ]] && echo ok || echo FAILED)
{
  printf '{\n  "script": "bench/gpu_check.sh",\n  "date": "%s",\n  "commit": "%s",\n  "dirty": %s,\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$GIT_COMMIT" "$GIT_DIRTY"
  printf '  "gpu": {"name": "%s", "driver": "%s", "visible": %s},\n' "$(json_escape "$GPU_NAME")" \
    "$(json_escape "$GPU_DRIVER")" "$([[ $HAVE_GPU == 1 ]] && echo true || echo false)"
  printf '  "host": {"cores": %s, "cmake": "%s", "nvcc": "%s", "cxx": "%s"},\n' "$JOBS" \
    "$(json_escape "$CMAKE_VERSION")" "$(json_escape "$NVCC_VERSION")" "$(json_escape "$CXX_VERSION")"
  printf '  "build": {"project": "%s", "cuda_architectures": "%s", "dir": "%s"},\n' "$PROJECT_USED" "$ARCH" "$BUILD"
  printf '  "ctest_gpu": {"tests": %s, "failed": %s, "skipped": %s},\n' "${CTEST_TOTAL:-0}" "${CTEST_FAILED:-0}" \
    "${CTEST_SKIPPED:-0}"
  printf '  "steps": [\n'
  for i in "${!STEP_NAMES[@]}"; do
    printf '    {"name": "%s", "status": "%s", "seconds": %s, "note": "%s"}%s\n' "${STEP_NAMES[$i]}" \
      "${STEP_STATUS[$i]}" "${STEP_SECONDS[$i]}" "$(json_escape "${STEP_NOTES[$i]}")" \
      "$([[ $i -lt $((${#STEP_NAMES[@]} - 1)) ]] && echo , || true)"
  done
  printf '  ],\n  "benchmarks": ['
  sep=""
  for j in "${BENCH_JSON[@]}"; do
    printf '%s\n' "$sep"
    sed 's/^/    /' "$j"
    sep=","
  done
  printf '\n  ],\n  "sass_summary": "%s",\n  "total_seconds": %s,\n  "status": "%s"\n}\n' \
    "$(json_escape "$SASS_SUMMARY")" "$TOTAL_S" "$OVERALL"
} >"$BASE.json"

STEP_TABLE=$(
  printf '| step | status | seconds | note |\n|---|---|---|---|\n'
  for i in "${!STEP_NAMES[@]}"; do
    printf '| %s | %s | %s | %s |\n' "${STEP_NAMES[$i]}" "${STEP_STATUS[$i]}" "${STEP_SECONDS[$i]}" "${STEP_NOTES[$i]}"
  done
)
{
  echo "# GPU check $DAY: $GPU_NAME"
  echo
  echo "Commit $GIT_COMMIT$([[ $GIT_DIRTY == true ]] && echo ' (with local changes)'), driver $GPU_DRIVER, nvcc $NVCC_VERSION,"
  echo "$CMAKE_VERSION, $JOBS cores. Build: $PROJECT_USED project, sm_$ARCH, $BUILD/. Total ${TOTAL_S}s: **$OVERALL**."
  echo
  echo "$STEP_TABLE"
  echo
  echo "ctest -L gpu: ${CTEST_TOTAL:-0} tests, ${CTEST_FAILED:-0} failed, ${CTEST_SKIPPED:-0} skipped."
  echo
  echo "## Benchmarks (median of the timed runs)"
  echo
  echo '```'
  printf '%s' "$BENCH_TABLES"
  echo '```'
  if [[ -n $AB_TABLE ]]; then
    echo
    echo "## Side by side (new vs old, ratio of the medians; below 1: the new one is faster)"
    echo
    echo '```'
    echo "$AB_TABLE"
    echo '```'
  fi
  if [[ -n ${TARGET_TABLE:-} ]]; then
    echo
    echo "## Targets (DESIGN.md 5, set for an H100 with inputs resident; this device: $GPU_NAME)"
    echo
    echo '```'
    echo "$TARGET_TABLE"
    echo '```'
  fi
  if [[ -n $PROFILE_SUMMARY ]]; then
    echo
    echo "## Kernels under Nsight Compute (bench/gpu/profile.sh; one steady-state call each)"
    echo
    echo '```'
    echo "$PROFILE_SUMMARY"
    echo '```'
  fi
  if [[ -n $SASS_SUMMARY ]]; then
    echo
    echo "## SASS per kernel (bench_gpu_field)"
    echo
    echo '```'
    echo "$SASS_SUMMARY"
    echo '```'
  fi
} >"$BASE.md"

if [[ -n ${OUT:-} ]]; then
  cp "$BASE.json" "$BASE.md" "$OUT/"
  [[ -f $LOGDIR/sass_bench_gpu_field.txt ]] && cp "$LOGDIR/sass_bench_gpu_field.txt" "$OUT/"
  for f in "$PROFILE_DIR"/ncu-*.csv "$PROFILE_DIR"/ncu-summary.txt; do  # at most 8 files come back
    [[ -f $f ]] && cp "$f" "$OUT/"
  done
fi

echo
echo "================ GPU check summary ($GPU_NAME, ${TOTAL_S}s) ================"
echo "$STEP_TABLE" | column -t -s '|' 2>/dev/null || echo "$STEP_TABLE"
echo "ctest -L gpu: ${CTEST_TOTAL:-0} tests, ${CTEST_FAILED:-0} failed, ${CTEST_SKIPPED:-0} skipped"
printf '%s' "$BENCH_TABLES"
echo "results: $BASE.json, $BASE.md${OUT:+ (copied to \$OUT)}"
echo "overall: $OVERALL"
[[ $OVERALL == ok ]]
