// CUDA multi-scalar multiplication for BN254 G1 and G2: out = sum_i scalars[i] * points[i].
// Pippenger with signed digits, radix-sorted (bucket, point) pairs, segment-balanced XYZZ bucket
// accumulation (skewed witnesses do not serialise on one bucket) and a chunked bucket reduction;
// the method is described in msm_steps.h, whose per-thread steps the unit tests also run on the
// host. First run on an H100 on 2026-11-26 (bench/results/gpu_check-*): correct, and the tuning
// constants are still the first estimates (bench_gpu_msm's sweep measures alternatives).
//
// Inputs as for the CPU MSM (kernels/cpu/msm.h): scalars in Montgomery form, any values; affine
// points, infinity stored as (0, 0), repeats and opposites allowed, not checked to be on the
// curve; n may be 0. Each of scalars and points may lie in device memory (of this driver's
// device, 16-byte aligned; then it is read in place and must be complete before the call, e.g.
// written on stream() or synchronised) or in host memory (then it is copied in through the
// driver's page-locked chunks, in batches where MsmConfig asks for them or memory is short, the
// copy of the next batch overlapping the work on the current one).
// The call returns when the result is on the host.
//
//   gpu::MsmDriver msm;               // device 0; keep it: its buffers serve every later call
//   G1Jacobian out;
//   msm.msm_g1(out, scalars, points, n);
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>

#include "cuda/msm_steps.h"  // MsmOutOfMemory, MsmTables, msm::Tuning
#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fields.h"

namespace zkinfer::gpu {

struct MsmConfig {
  // Window width in bits, 2..24. 0: chosen from n, the SM count and the memory budget
  // (msm::choose_window_bits).
  unsigned window_bits = 0;
  // Most points per batch; 0: as many as the memory budget allows (all of them if they fit).
  size_t max_batch_points = 0;
  // Points per batch when an input is in host memory (the copy of the next batch overlaps the
  // work on this one); 0: no limit beyond the memory budget, so usually one batch. Measured on an
  // H100 (bench_gpu_msm, 2026-11-26): G1 2^20 with host scalars in four overlapped batches took
  // 32 ms, the accumulation alone 27 ms, against 10 ms for one batch; copying all scalars first
  // costs a few ms.
  size_t host_batch_points = 0;
  // Device memory the driver may hold (scratch and input staging), bytes. 0: what is free at
  // the call plus what the driver already holds, less a reserve of 1/32 of the device.
  size_t memory_limit_bytes = 0;
  msm::Tuning tuning{};
  // Every G1 MSM (msm_g1, with or without point tables) through msm_g1_square's kernels. An
  // experiment, off until a GPU run measures it (bench_gpu_msm's g1_msm_square rows); the
  // results are the same either way.
  bool g1_dedicated_square = false;
};

class MsmDriver {
 public:
  // Throws CudaError when the device cannot be used.
  explicit MsmDriver(int device = 0, const MsmConfig& cfg = {});
  ~MsmDriver();
  MsmDriver(MsmDriver&&) noexcept;
  MsmDriver& operator=(MsmDriver&&) noexcept;
  MsmDriver(const MsmDriver&) = delete;
  MsmDriver& operator=(const MsmDriver&) = delete;

  // Throw MsmOutOfMemory when not even small batches fit the device, std::invalid_argument for
  // null or misaligned inputs or a device pointer of another device, CudaError for any other
  // CUDA failure.
  void msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n);
  void msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n);

  // Point tables for MSMs over up to n points (stride n), the window width chosen for n on this
  // device, as many tables as max_bytes holds (points of point_bytes each, table 0 included).
  // tables = 1 (no tables) where fewer than two fit or a table would not pay.
  MsmTables plan_tables(size_t n, size_t point_bytes, size_t max_bytes) const;
  // Fills tables 1.. of `table` (device memory of this device, t.points() entries, 16-byte
  // aligned) from the n points written at table[0, n) (n <= t.stride); returns when done. A point
  // at infinity stays at infinity in every table. Throws std::invalid_argument for a table not on
  // this device or a layout that does not fit.
  void precompute_g1(G1Affine* table, size_t n, const MsmTables& t);
  void precompute_g2(G2Affine* table, size_t n, const MsmTables& t);
  // out = sum_i scalars[i] * table[i], i < n, through the tables precompute_g1/g2 wrote (table
  // may point into table 0 at an offset; the others follow at t.stride). The scalars may lie on
  // the host or the device as above.
  void msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* table, size_t n, const MsmTables& t);
  void msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* table, size_t n, const MsmTables& t);

  // msm_g1 with the device's dedicated Fq square where the XYZZ formulas square
  // (msm::G1CurveSquare): the same inputs, result and errors, with or without point tables
  // (precompute_g1 fills them for both). An experiment: bench_gpu_msm's g1_msm_square rows
  // measure it; MsmConfig::g1_dedicated_square sends every msm_g1 here.
  void msm_g1_square(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n);
  void msm_g1_square(G1Jacobian& out, const Fr* scalars, const G1Affine* table, size_t n, const MsmTables& t);

  // The same chosen by the points' curve, for code templated on it.
  void msm(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n) { msm_g1(out, scalars, points, n); }
  void msm(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n) { msm_g2(out, scalars, points, n); }
  void msm(G1Jacobian& out, const Fr* scalars, const G1Affine* table, size_t n, const MsmTables& t) {
    msm_g1(out, scalars, table, n, t);
  }
  void msm(G2Jacobian& out, const Fr* scalars, const G2Affine* table, size_t n, const MsmTables& t) {
    msm_g2(out, scalars, table, n, t);
  }
  void precompute(G1Affine* table, size_t n, const MsmTables& t) { precompute_g1(table, n, t); }
  void precompute(G2Affine* table, size_t n, const MsmTables& t) { precompute_g2(table, n, t); }

  // What the last call did, for logs and benchmarks.
  struct RunInfo {
    unsigned window_bits = 0;
    unsigned tables = 1;  // point tables read (1: plain points)
    size_t batch_points = 0, batches = 0;
    bool scalars_on_device = false, points_on_device = false;
    // Device time of the phases, summed over batches (CUDA events on the compute stream):
    // digits and sort (with any wait for an input copy), accumulation (carry_levels_ms of it
    // after the point additions: the carry levels, and for a batch after the first the merge
    // into the buckets), bucket reduction; and the whole call from the first step to
    // the result.
    float sort_ms = 0, accumulate_ms = 0, carry_levels_ms = 0, reduce_ms = 0, device_ms = 0;
  };
  RunInfo last_run() const;

  int device() const;
  // The stream the MSM kernels run on; device inputs written on it need no other synchronisation.
  cudaStream_t stream() const;
  // Device memory held between calls, and giving it back.
  size_t scratch_bytes() const;
  void release_scratch();

 private:
  struct Impl;

  std::unique_ptr<Impl> impl_;
};

}  // namespace zkinfer::gpu
