// The CUDA NTT over Fr: forward, inverse and coset transforms of radix-2 domains, natural order
// in and out, several vectors per call, in place in device memory (algorithm: ntt_steps.h).
// Same semantics as Backend::ntt (backend.h) and the CPU NTT (cpu/ntt.h):
//   kForward       a_i -> p(w^i)            kInverse       p(w^i) -> a_i (includes 1/n)
//   kCosetForward  a_i -> p(g w^i)          kCosetInverse  p(g w^i) -> a_i
// with w = Domain(log_n).omega, the snarkjs root.
//
//   gpu::NttDriver ntt;                       // on the current device
//   ntt.run(d_data, 20, NttKind::kInverse, Fr::one(), 3, stream);  // 3 vectors of 2^20
//   ntt.run_host(h_data, 12, NttKind::kCosetForward, g);            // copies in and out
//
// One driver owns its stream, events, twiddle tables (built on first use of a domain size and
// kept) and a staging buffer for host data, and reuses them across calls (DESIGN.md 7). It is
// not thread-safe: one driver per host thread, or a lock around it.
#pragma once

#include <cuda_runtime_api.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "backend.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fields.h"

namespace zkinfer::gpu {
namespace ntt {
struct Shape;  // ntt_steps.h
}

// Defaults are the tuned shape (ntt_steps.h; measured on an H200, 2026-11-28). Tests set small tiles
// to push small sizes through the multi-pass path.
struct NttDriverConfig {
  unsigned tile_log = 0;         // elements per shared-memory tile, log2; 0: default (10),
                                 // lowered where the device's shared memory per block is smaller
  unsigned threads = 0;          // threads per block of the pass kernel; 0: default (256)
  int min_columns_log = -1;      // adjacent columns per row in a non-last pass, log2 (0: one
                                 // column, so a 2^24 transform in two passes of 2^12 tiles);
                                 // negative: default (2)
  bool reorder_pass = false;     // true: transforms larger than a tile run in place and end with
                                 // a separate reordering pass. false: their passes go through a
                                 // scratch vector (batch x 2^log_n elements per stream, kept) and
                                 // the last writes natural order; the reordering pass is then
                                 // only the fallback when the scratch cannot be allocated
  bool pass_twiddle_tables = true;  // true: each domain past one tile keeps the twiddles of its
                                    // non-last passes (about 2^log_n elements per direction):
                                    // one multiplication per element and pass instead of two.
                                    // false, or when that memory cannot be had: computed from
                                    // two small power tables
  bool shoup_twiddles = true;       // true: butterflies multiply by their stage twiddle as a product
                                    // by a fixed factor (Shoup: the twiddle canonical with
                                    // floor(w 2^256 / p) beside it; in SASS 97 IMAD.WIDE against a
                                    // Montgomery product's 123). Measured on an H200 (2026-11-28):
                                    // 2^24 forward 4.52 against 4.72 ms, 2^20 0.276 against 0.288
                                    // (bench_gpu_ntt's _montgomery rows); results are the same either way
  bool shoup_pass_twiddles = false;  // true: the pass twiddle tables (pass_twiddle_tables) in
                                     // Shoup form, 64 bytes an entry instead of 32, so a non-last
                                     // pass's twiddle product is one by a fixed factor like the
                                     // butterflies' (97 IMAD.WIDE against 123; 2 GiB of tables
                                     // at 2^24, both directions). An experiment, not yet
                                     // measured (bench_gpu_ntt's _shouppass rows); results are
                                     // the same either way
  bool radix4 = false;  // true: the butterflies two stages at a time, four points per thread in
                        // registers (ntt::phase_stage4): half the barriers and shared-memory
                        // round trips, the same products. Off: 1.01-1.10x slower
                        // with 2^10 and 2^11 tiles on an H200 (2026-11-28, bench_gpu_ntt's radix4
                        // rows; 104 registers a thread); results are the same either way
  unsigned last_rows_log = 0;  // rows per tile of a multi-pass transform's last pass, log2
                               // (ntt::Shape::last_rows_log): 2 makes its natural-order writes
                               // whole 128-byte lines. An experiment, not yet measured
                               // (bench_gpu_ntt's _rows4 rows); results are the same either way
};

class NttDriver {
 public:
  // Binds to the current device. Throws CudaError when no usable device is there.
  explicit NttDriver(const NttDriverConfig& cfg = {});
  ~NttDriver();
  NttDriver(const NttDriver&) = delete;
  NttDriver& operator=(const NttDriver&) = delete;

  // Transforms batch vectors of 2^log_n elements, back to back from device pointer data (16-byte
  // aligned, as cudaMalloc returns it), in place. Asynchronous on `stream` (any stream of this
  // device, 0 included); the tables it needs are built on first use on that stream.
  // coset_shift is g for the coset kinds (non-zero), ignored otherwise. Throws
  // std::invalid_argument on bad arguments (log_n > 28, zero shift, null data) and CudaError
  // when a CUDA call fails.
  void run(Fr* data, unsigned log_n, NttKind kind, const Fr& coset_shift, size_t batch,
           cudaStream_t stream);

  // The same for host data: copies to the device (through page-locked chunks), transforms,
  // copies back, waits. Vectors that do not fit the device at once go through in smaller groups.
  void run_host(Fr* data, unsigned log_n, NttKind kind, const Fr& coset_shift = Fr::one(),
                size_t batch = 1);

  // Groth16's quotient step (Backend::coset_quotient) on device data: abc holds a, b and c, three
  // vectors of 2^log_n evaluations on the domain, back to back. Each goes to coefficients and is
  // evaluated on the coset shift * <w> (two batched transforms), then the first vector becomes
  // h_i = a_i b_i - c_i; the other two are left as scratch. Asynchronous on `stream`.
  void coset_quotient(Fr* abc, unsigned log_n, const Fr& shift, cudaStream_t stream);
  // The same for host vectors: copies a, b and c in, h back into a, and waits.
  void coset_quotient_host(Fr* a, const Fr* b, const Fr* c, unsigned log_n, const Fr& shift);

  // Builds the tables of domain 2^log_n now (on `stream`) rather than on first use.
  void prepare(unsigned log_n, cudaStream_t stream);

  // Frees the scratch vectors of the out-of-place schedule (after the transforms that use them),
  // for a caller that needs the device memory back; later transforms allocate again.
  void release_scratch();
  // Device memory the scratch vectors hold now, in bytes.
  size_t scratch_bytes() const;
  // Whether domain 2^log_n has its pass twiddle tables (built on its first transform).
  bool has_pass_twiddle_tables(unsigned log_n) const;

  cudaStream_t stream() const;  // the driver's own stream (run_host uses it)
  unsigned tile_log() const { return tile_log_; }
  int device() const { return device_; }

 private:
  struct Domain;
  struct Coset;
  struct Scratch;
  Domain& domain(unsigned log_n, cudaStream_t stream);
  Coset& coset(Domain& d, const Fr& g, bool inverse, cudaStream_t stream);
  Scratch* scratch(size_t elements, cudaStream_t stream);
  ntt::Shape shape() const;

  int device_ = -1;
  unsigned tile_log_ = 0, threads_ = 0, min_columns_log_ = 0, last_rows_log_ = 0;
  bool reorder_pass_ = false, pass_twiddle_tables_ = true, shoup_twiddles_ = false, shoup_pass_twiddles_ = false,
       radix4_ = false;
  struct Resources;
  std::unique_ptr<Resources> res_;
  std::array<std::unique_ptr<Domain>, kFrMaxLogDomain + 1> domains_;
};

}  // namespace zkinfer::gpu
