// Multi-scalar multiplication on the CPU: out = sum_i scalars[i] * points[i].
//
// Pippenger's bucket method with signed digits (a b-bit window holds a digit in
// [-2^(b-1), 2^(b-1)), carrying into the next window; a negative digit adds the negated point,
// which is free in affine form), windows of balanced widths, buckets filled by batch-affine
// additions (one field inversion shared by a batch of independent additions, the products eight
// at a time in AVX-512 IFMA lanes where the CPU has them; an update to a bucket already in the
// batch waits for a later one), bucket sums reduced by running sums (batched the same way),
// windows combined by doubling. A scalar k counts as the signed magnitude min(k, r - k); those
// of more than 128 bits are split by the GLV endomorphism (G1 and G2) into two 127-bit halves,
// the others go through the plain method with windows covering only the bits they use (small
// positive and negative witness values), and a call holding both kinds runs the two classes
// apart and adds them. Scalars 0 cost nothing; scalars +-1, common in witnesses, are summed
// apart instead of piling into one bucket. Windows, and point ranges of the windows that do not
// divide evenly, are spread over the threads.
//
// Inputs: scalars in Montgomery form (as they lie in memory), any values including 0, 1 and
// r-1; points in affine form, the point at infinity stored as (0, 0), repeated and opposite
// points allowed; n may be 0 (the result is the point at infinity). Points must be on the curve;
// they are not checked here. The result does not depend on the configuration, only the time
// does.
#pragma once

#include <cstddef>

#include "zkinfer/ec/curves.h"

namespace zkinfer::cpu {

struct MsmConfig {
  // Widest window in bits, 2..16. 0: chosen from the number of scalars other than 0 and +-1 and
  // the group (tables measured on the project's 2-core reference machine, see msm.cpp).
  unsigned window_bits = 0;
  // Worker threads. 0: default_threads() (hardware concurrency or ZKINFER_THREADS). Fewer are
  // used for tiny inputs.
  unsigned threads = 0;
  // Split scalars of more than 128 bits with the GLV endomorphism (G1 and G2). Off gives the
  // plain method over 253-bit signed magnitudes (for comparison; on G1 4-10% slower, on G2 1-4%).
  bool glv = true;
  // How buckets are filled. Automatic uses batch-affine additions wherever a window sees
  // enough points to amortise the shared inversions, XYZZ mixed additions otherwise.
  // Xyzz also keeps scalars +-1 in the windows.
  enum class Accumulation { automatic, batch_affine, xyzz };
  Accumulation accumulation = Accumulation::automatic;
};

// Throws std::invalid_argument for a window_bits outside 0 and 2..16.
void msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n,
            const MsmConfig& cfg = {});
void msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n,
            const MsmConfig& cfg = {});

}  // namespace zkinfer::cpu
