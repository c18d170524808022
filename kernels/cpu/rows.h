// Groth16's constraint evaluations on the CPU: SparseRows::eval_constraints (backend.h, the
// reference the device also follows) with its products as array products, so that where the CPU
// has AVX-512 IFMA eight run at once (cpu::mul_batch). Identical results: only the order of the
// products changes, not the sums.
#pragma once

#include <cstddef>

#include "backend.h"

namespace zkinfer::cpu {

// a[r] = A z, b[r] = B z and c[r] = a[r] b[r] for constraints r in [lo, hi) of the 2n rows of m.
void eval_constraints(const SparseRows& m, const Fr* z, size_t n, size_t lo, size_t hi, Fr* a, Fr* b, Fr* c);

}  // namespace zkinfer::cpu
