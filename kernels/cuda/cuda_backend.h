// The CUDA implementation of the Backend interface (backend.h): the MSM and NTT drivers of one
// GPU, created once and kept, so their streams, tables and scratch buffers serve every proof.
// resident_g1/resident_g2 copy points into device memory once (a proving key: see
// prover/resident_key.h) and add MSM point tables where memory allows; MSMs over them read the
// device copy in place and move only scalars.
// Checked against the CPU backend on an H100 (tests/gpu, bench/gpu_check.sh; first 2026-11-26).
#pragma once

#include <memory>
#include <string>

#include "backend.h"

namespace zkinfer::gpu {

struct CudaBackendConfig {
  int device = 0;
  // Every usable visible GPU instead of `device`: with more than one, a split backend
  // (split_backend.h) that spreads each MSM over them and keeps a slice of each resident key
  // array on each.
  bool all_devices = false;
  // MSM point tables (MsmTables, msm.h) for each resident point array (a proving key's): the
  // most tables per array; 0 chooses by memory, 1 makes none. An array with its tables takes at
  // most 1/16 of the device's memory and leaves at least a quarter of it free; where two tables
  // do not fit, or allocating them fails, the array is kept without.
  unsigned msm_tables = 0;
  // G1 MSMs with the device's dedicated Fq square (MsmConfig::g1_dedicated_square). An
  // experiment, off until a GPU run measures it (bench_gpu_groth16's groth16_resident_square
  // rows); proofs are the same either way.
  bool g1_dedicated_square = false;
};

// The backend on `device` (or on every usable GPU), or nullptr with `why_not` set ("no usable
// GPU: ...") when no device can be used (no driver, no device, no kernel image for it). Never
// throws for that. `notes`, where given, receives what the backend does without and why, for
// the log (several GPUs in a build with ZKINFER_NCCL whose NCCL library cannot be used: they
// exchange data by peer copies); empty otherwise.
std::unique_ptr<Backend> make_cuda_backend(const CudaBackendConfig& cfg, std::string* why_not,
                                           std::string* notes = nullptr);

}  // namespace zkinfer::gpu
