// The satisfying witness of chain_circuit(n) (chain_circuit.h) for a chosen x_0, and the
// constraint count that gives a chosen Groth16 domain.
#pragma once

#include <cstdint>
#include <vector>

#include "zkinfer/ff/fields.h"

namespace zkinfer::testing {

// Wires: 0 = 1, 1 = out, 2 = x_0, 2 + i = x_i; x_(i+1) = x_i (x_i + i + 1), out = x_(n-1).
inline std::vector<Fr> chain_witness(uint32_t n, const Fr& x0) {
  std::vector<Fr> w(size_t{n} + 2);
  w[0] = Fr::one();
  w[2] = x0;
  for (uint32_t i = 0; i + 1 < n; ++i) w[i + 3] = w[i + 2] * (w[i + 2] + Fr::from_u64(i + 1));
  w[1] = w[n + 1];
  return w;
}

// Constraints of the largest chain whose domain is 2^log_domain: snarkjs needs
// N > constraints + public signals (2 here), so 2^log_domain - 3.
constexpr uint32_t chain_constraints_for_domain(unsigned log_domain) { return (uint32_t{1} << log_domain) - 3; }

}  // namespace zkinfer::testing
