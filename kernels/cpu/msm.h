// Multi-scalar multiplication on the CPU: out = sum_i scalars[i] * points[i].
//
// Pippenger's bucket method with signed c-bit digits (buckets 1..2^(c-1); a negative digit adds
// the negated point, which is free in affine form), buckets filled by batch-affine additions
// (one field inversion shared by a whole batch of independent additions), reduced by running
// sums, windows combined by doubling. On G1 every scalar is first split by the GLV endomorphism
// into two 127-bit halves. Windows (and, for many threads, point ranges) are spread over threads.
//
// Inputs: scalars in Montgomery form (as stored in memory and .zkey/.wtns after loading), any
// values including 0, 1 and r-1; points in affine form, the point at infinity stored as (0, 0);
// n may be 0 (the result is the point at infinity). Points must be on the curve; they are not
// checked here. The result does not depend on the configuration, only the time does.
#pragma once

#include <cstddef>

#include "zkinfer/ec/curves.h"

namespace zkinfer::cpu {

struct MsmConfig {
  // Window width c in bits, 1..16. 0: chosen from n and the group (a table measured on this
  // project's 2-core reference machine, see msm.cpp).
  unsigned window_bits = 0;
  // Worker threads. 0: default_threads() (hardware concurrency or ZKINFER_THREADS).
  unsigned threads = 0;
  // G1 only: split scalars with the GLV endomorphism. Off gives the plain 254-bit method
  // (for comparison; slower).
  bool glv = true;
  // How buckets are filled. Automatic uses batch-affine additions wherever a window sees
  // enough points to amortise the shared inversion, XYZZ mixed additions otherwise.
  enum class Accumulation { automatic, batch_affine, xyzz };
  Accumulation accumulation = Accumulation::automatic;
};

void msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n,
            const MsmConfig& cfg = {});
void msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n,
            const MsmConfig& cfg = {});

}  // namespace zkinfer::cpu
