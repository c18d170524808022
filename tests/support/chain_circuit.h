// A synthetic R1CS shared by the unit tests and `setup_tool chain-r1cs` (which writes it for
// snarkjs), so both sides of a comparison use the same circuit.
#pragma once

#include <cstdint>

#include "zkinfer/ff/fields.h"
#include "zkinfer/prover/r1cs.h"

namespace zkinfer::testing {

// N constraints over wires 0 = 1, 1 = out (public), 2 = x_0 (public input), 3.. = x_1 ..
// x_(N-1): x_i * (x_i + (i + 1)) = x_(i+1) for i < N - 1, and x_(N-1) * 1 = out.
inline prover::R1cs chain_circuit(uint32_t n) {
  prover::R1cs cs;
  cs.header.n_pub_out = 1;
  cs.header.n_pub_in = 1;
  cs.header.n_wires = n + 2;
  cs.header.n_labels = n + 2;
  cs.header.n_constraints = n;
  auto x = [](uint32_t i) { return i + 2; };
  const Fr one = Fr::one();
  for (uint32_t i = 0; i + 1 < n; ++i) {
    uint32_t a[1] = {x(i)}, b[2] = {x(i), 0}, c[1] = {x(i + 1)};
    Fr ac[1] = {one}, bc[2] = {one, Fr::from_u64(i + 1)}, cc[1] = {one};
    cs.a.add_row(a, ac);
    cs.b.add_row(b, bc);
    cs.c.add_row(c, cc);
  }
  uint32_t a[1] = {x(n - 1)}, b[1] = {0}, c[1] = {1};
  Fr k[1] = {one};
  cs.a.add_row(a, k);
  cs.b.add_row(b, k);
  cs.c.add_row(c, k);
  return cs;
}

}  // namespace zkinfer::testing
