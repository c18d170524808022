// Radix-2 evaluation domains over Fr: the subgroup H = {omega^i : i < 2^k} of the 2^k-th roots
// of unity, k = 0..28 (Fr's 2-adicity), and the cosets the Groth16 prover evaluates on.
//
// Roots follow snarkjs/ffjavascript exactly, because a .zkey's H query and the prover's H
// evaluations must use the same points: ffjavascript takes the first quadratic non-residue
// (5 for BN254 Fr, also its multiplicative generator), sets w[28] = 5^t (t the odd part of r-1)
// and w[k] = w[k+1]^2. FpConsts<P>::nonresidue_t is that same 5^t.
//
// snarkjs computes H on the "odd coset" of the 2N domain: after the inverse FFT of A, B, C over
// the N domain it multiplies coefficient i by inc^i with inc = w[k+1], a primitive 2N-th root
// of unity, and runs the forward FFT again. The evaluations it gets are at omega_2N^(2i+1), the
// odd powers of the 2N domain, which no point of the N domain hits, so Z_N(x) = x^N - 1 = -2
// there. For k = 28 no 2^29-th root exists; snarkjs then uses inc = Fr.shift = 5^2 = 25.
// snarkjs_coset_shift() returns that inc for every k.
//
// Host-only: construction throws on a size out of range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "zkinfer/ff/fields.h"

namespace zkinfer {

// The largest k with a 2^k-th root of unity in Fr.
inline constexpr unsigned kFrMaxLogDomain = Fr::S;

// Fr's multiplicative generator 5: g*H is a coset disjoint from every radix-2 subgroup H,
// the usual choice (arkworks, ICICLE) for evaluating a quotient polynomial off the domain.
inline constexpr Fr fr_coset_generator() { return Fr::from_u64(bn254::FrParams::generator); }

// A primitive 2^log_n-th root of unity, the one snarkjs uses; log_n <= 28.
inline Fr fr_root_of_unity(unsigned log_n) {
  if (log_n > kFrMaxLogDomain)
    throw std::invalid_argument("no 2^" + std::to_string(log_n) +
                                "-th root of unity in Fr (2-adicity is " +
                                std::to_string(kFrMaxLogDomain) + ")");
  constexpr U256 top = FpConsts<bn254::FrParams>::nonresidue_t;
  Fr w = Fr::from_mont(top);
  for (unsigned i = log_n; i < kFrMaxLogDomain; ++i) w = w.sqr();
  return w;
}

// The multiplier snarkjs applies to coefficient i (as inc^i) before the forward FFT of the
// H computation for a domain of 2^log_n points: a primitive 2^(log_n+1)-th root of unity,
// or 25 when log_n = 28 (see the header comment).
inline Fr snarkjs_coset_shift(unsigned log_n) {
  if (log_n > kFrMaxLogDomain)
    throw std::invalid_argument("domain 2^" + std::to_string(log_n) +
                                " is larger than Fr allows (2^" + std::to_string(kFrMaxLogDomain) +
                                ")");
  if (log_n == kFrMaxLogDomain) return Fr::from_u64(bn254::FrParams::generator).sqr();
  return fr_root_of_unity(log_n + 1);
}

// The subgroup of 2^log_size points, with the constants an NTT over it needs.
struct Domain {
  unsigned log_size = 0;
  size_t size = 1;
  Fr omega = Fr::one();      // generator of the subgroup
  Fr omega_inv = Fr::one();  // omega^-1
  Fr size_inv = Fr::one();   // 1/size, the inverse NTT's scale

  Domain() = default;
  explicit Domain(unsigned log_n)
      : log_size(log_n),
        size(size_t{1} << log_n),
        omega(fr_root_of_unity(log_n)),
        omega_inv(omega.inverse()),
        size_inv(Fr::from_u64(size).inverse()) {}

  // The smallest domain with at least n points.
  static Domain for_size(size_t n) {
    unsigned k = 0;
    while ((size_t{1} << k) < n) {
      if (++k > kFrMaxLogDomain)
        throw std::invalid_argument("no radix-2 domain of " + std::to_string(n) +
                                    " points in Fr (at most 2^" + std::to_string(kFrMaxLogDomain) +
                                    ")");
    }
    return Domain(k);
  }

  // omega^i.
  Fr element(size_t i) const { return omega.pow(uint64_t(i % size)); }

  // See snarkjs_coset_shift(): the odd-coset multiplier of snarkjs's H computation.
  Fr snarkjs_shift() const { return snarkjs_coset_shift(log_size); }
};

}  // namespace zkinfer
