// Multi-threaded CPU number-theoretic transform over Fr for radix-2 domains (2^0 .. 2^28 points).
//
// All transforms are in place with natural order in and out:
//   forward         a_i      -> p(omega^i),       p(x) = sum a_j x^j
//   inverse         p(omega^i) -> a_i             (scaled by 1/n)
//   coset forward   a_i      -> p(g * omega^i)
//   coset inverse   p(g * omega^i) -> a_i
// with omega = Domain(log_n).omega (the snarkjs root). For snarkjs's H polynomial use
// g = snarkjs_coset_shift(log_n) (see zkinfer/ff/domain.h).
//
// Algorithm: decimation in frequency, organised as a four-step split n = R * S. The R-point
// column transforms (stride S) run on a contiguous copy of 8 adjacent columns at a time (whole
// cache lines, and no power-of-two strides fighting over the same cache sets), each column then
// gets its w_n^(j*k) twiddles, and the R rows of S points are independent sub-transforms that
// recurse until a row fits in L2 (then plain radix-2 stages with per-stage contiguous twiddle
// tables). One blocked bit-reversal pass at the end restores natural order (the coset inverse
// then multiplies by g^-i in one more pass). Threads split the columns of the first column pass
// and then take whole rows, so a 2^22 transform crosses main memory three times. The coset
// multiply of the forward transform and the 1/n of the inverse ride along in the first column
// pass instead of costing passes of their own. Where the CPU has AVX-512 IFMA, rows and column
// batches run 8 butterflies per vector operation in a 52-bit-limb layout (about 3x the scalar
// MULX/ADX arithmetic).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fields.h"

namespace zkinfer::cpu {

// What one NTT call does; the defaults are a plain forward transform on every core.
struct NttConfig {
  bool inverse = false;                 // evaluations -> coefficients (includes the 1/n)
  bool coset = false;                   // points g*omega^i instead of omega^i
  Fr coset_gen = fr_coset_generator();  // g when coset is set; any non-zero element
  unsigned threads = 0;                 // 0: default_threads() (ZKINFER_THREADS or all cores)
  // Run the butterflies 8 at a time with AVX-512 IFMA where the CPU has it (Intel since Ice
  // Lake, AMD since Zen 4; see ntt_has_simd()) and ZKINFER_CPU_ISA does not ask for less than
  // adx. false: fp.h's scalar arithmetic throughout; tests compare the two.
  bool simd = true;
  // How sizes split (0: the tuned defaults, 13 and 10; values above 14 count as 14). Rows of up
  // to 2^row_log points run as plain radix-2 stages, column transforms have at most
  // 2^column_log points. Small values push small transforms through the recursive path.
  unsigned row_log = 0;
  unsigned column_log = 0;
};

// Twiddle tables for one domain size, built once and reused by every transform of that size
// (immutable after construction, so one plan serves any number of threads and calls).
// Holds 2 * min(n, 2^14) field elements, 2.25x that with the AVX-512 layout (2.3 MiB at most).
class NttPlan {
 public:
  explicit NttPlan(unsigned log_n);  // throws std::invalid_argument for log_n > 28

  unsigned log_size() const { return domain_.log_size; }
  size_t size() const { return domain_.size; }
  const Domain& domain() const { return domain_; }

  // Transforms data[0 .. size()) in place as cfg says.
  void run(Fr* data, const NttConfig& cfg = {}) const;

  void forward(Fr* data, unsigned threads = 0) const;
  void inverse(Fr* data, unsigned threads = 0) const;
  void coset_forward(Fr* data, const Fr& g, unsigned threads = 0) const;
  void coset_inverse(Fr* data, const Fr& g, unsigned threads = 0) const;

  // Per-stage twiddles: for a butterfly span h (power of two), entries [h-1, 2h-1) hold
  // w_2h^i for i < h, w_2h the primitive 2h-th root (in inv: its inverse). A stage's twiddles
  // depend only on its span, so every sub-transform of any size reads the same table.
  // vfwd/vinv: the same values laid out for the AVX-512 kernels (empty without IFMA).
  struct Tables {
    std::vector<Fr> fwd, inv;
    std::vector<uint64_t> vfwd, vinv;
  };

 private:
  Domain domain_;
  Tables stages_;
};

// Whether NttConfig::simd takes effect: the CPU has AVX-512 IFMA and ZKINFER_CPU_ISA allows adx.
bool ntt_has_simd();

// The plan for 2^log_n from a process-wide cache (built on first use, thread-safe, kept for
// the life of the process). For callers that do not keep their own NttPlan.
const NttPlan& ntt_plan(unsigned log_n);

// Transforms data[0 .. n) in place; n must be a power of two up to 2^28 (else invalid_argument).
void ntt(Fr* data, size_t n, const NttConfig& cfg = {});

}  // namespace zkinfer::cpu
