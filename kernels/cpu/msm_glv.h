// GLV scalar decomposition for BN254 G1: k = k1 + k2 * lambda (mod r) with |k1|, |k2| < 2^127,
// so [k]P = [k1]P + [k2]phi(P) where phi(x, y) = (beta x, y) costs one field multiplication.
// An MSM over n points with 254-bit scalars becomes one over 2n points with 127-bit scalars.
#pragma once

#include "zkinfer/bn254.h"
#include "zkinfer/ff/u256.h"

namespace zkinfer::cpu {

// A signed 128-bit half of a decomposed scalar: magnitude and sign.
struct GlvHalf {
  u128 mag;
  bool neg;
};

struct GlvSplit {
  GlvHalf k1, k2;
};

// Bound on both magnitudes: |k1|, |k2| < a1 + a2 (see bn254.h), about 2^126.8.
inline constexpr u128 kGlvMagnitudeBound =
    ((u128)bn254::kG1GlvA1.w[1] << 64 | bn254::kG1GlvA1.w[0]) +
    ((u128)bn254::kG1GlvA2.w[1] << 64 | bn254::kG1GlvA2.w[0]);

namespace glv_detail {

ZK_HDI constexpr u128 lo128(const U256& a) { return (u128)a.w[1] << 64 | a.w[0]; }

// floor(k * g / 2^256) for a multiplier g of at most three words; the result fits 128 bits
// because it is below the matching basis entry (< 2^127).
ZK_HD constexpr u128 mul_shift256(const U256& k, const U256& g) {
  uint64_t prod[7] = {0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    uint64_t carry = 0;
    for (int j = 0; j < 4; ++j) {
      u128 t = (u128)k.w[j] * g.w[i] + prod[i + j] + carry;
      prod[i + j] = (uint64_t)t;
      carry = (uint64_t)(t >> 64);
    }
    prod[i + 4] = carry;
  }
  return (u128)prod[5] << 64 | prod[4];
}

ZK_HDI constexpr GlvHalf to_half(u128 v) {
  bool neg = (v >> 127) != 0;
  return {neg ? (u128)0 - v : v, neg};
}

}  // namespace glv_detail

// k canonical (< r). All arithmetic after the two Babai products runs modulo 2^128: the true
// k1 and k2 are below 2^127 in magnitude, so their two's-complement images are exact.
ZK_HD constexpr GlvSplit glv_decompose(const U256& k) {
  using namespace glv_detail;
  constexpr u128 a1 = lo128(bn254::kG1GlvA1), a2 = lo128(bn254::kG1GlvA2);
  constexpr u128 b1n = lo128(bn254::kG1GlvB1n), b2 = lo128(bn254::kG1GlvB2);
  constexpr U256 g1 = bn254::kG1GlvG1, g2 = bn254::kG1GlvG2;
  static_assert(g1.w[2] == 0 && g1.w[3] == 0 && g2.w[3] == 0, "Babai multipliers fit 3 words");
  u128 c1 = mul_shift256(k, g1), c2 = mul_shift256(k, g2);
  u128 k1 = lo128(k) - c1 * a1 - c2 * a2;
  u128 k2 = c1 * b1n - c2 * b2;
  return {to_half(k1), to_half(k2)};
}

}  // namespace zkinfer::cpu
