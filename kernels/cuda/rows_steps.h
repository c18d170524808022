// Groth16's constraint evaluation on the device, the part that needs no CUDA: one thread per
// constraint row computes a = A z, b = B z and c = a b (the prover's C z on the domain), written
// as the three vectors NttDriver::coset_quotient takes. The CUDA backend runs it as a kernel
// (rows.cu); tests/unit/test_ntt_sim.cpp runs it over every thread on the host (DESIGN.md 4).
#pragma once

#include <cstddef>
#include <cstdint>

#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/hd.h"

namespace zkinfer::gpu {

struct RowEvalStep {
  static constexpr unsigned kBlock = 256;
  const uint32_t* row_start;  // 2n + 1 entries: A's rows, then B's
  const uint32_t* cols;       // witness indices
  const Fr* values;
  const Fr* z;  // the witness
  uint64_t n;   // constraints (the domain size)
  Fr* abc;      // 3n outputs: a, then b, then c

  ZK_HD Fr row_times(uint64_t r) const {
    Fr acc = Fr::zero();
    for (uint32_t k = row_start[r]; k < row_start[r + 1]; ++k) acc = acc + values[k] * z[cols[k]];
    return acc;
  }
  ZK_HD void operator()(size_t r) const {
    const Fr a = row_times(r), b = row_times(n + r);
    abc[r] = a;
    abc[n + r] = b;
    abc[2 * n + r] = a * b;
  }
};

}  // namespace zkinfer::gpu
