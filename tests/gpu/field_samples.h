// Field elements that stress limb carries: the usual 0, 1, p-1, and raw Montgomery words that
// fill or empty whole 32-bit limbs, plus uniform random elements.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "zkinfer/ff/fp_io.h"

namespace zkinfer::testing {

// Raw Montgomery representations (Fp::from_mont), all below p.
template <class F>
std::vector<F> edge_values() {
  constexpr U256 p = F::MOD;
  std::vector<U256> raw = {u256::from_u64(0), u256::from_u64(1),  u256::from_u64(2),
                           F::one().mont(),   (-F::one()).mont(), (-F::from_u64(2)).mont()};
  uint64_t br = 0;
  raw.push_back(u256::sub(p, u256::from_u64(1), br));  // largest raw word
  raw.push_back(u256::sub(p, u256::from_u64(2), br));
  raw.push_back(u256::shr(p, 1));  // (p-1)/2
  for (int k = 0; k < 8; ++k) {
    // 2^(32k) * (2^32 - 1): one full limb; p - 2^(32k): borrows through k limbs.
    U256 full{}, bit{};
    full.w[k / 2] = uint64_t{0xffffffff} << (32 * (k % 2));
    bit.w[k / 2] = uint64_t{1} << (32 * (k % 2));
    if (u256::less(full, p)) raw.push_back(full);
    raw.push_back(u256::sub(p, bit, br));
  }
  // All limbs 0xffffffff except the top one, which takes p's top limb minus one.
  U256 ones{{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}, p.w[3] - 1}};
  raw.push_back(ones);
  std::vector<F> out;
  for (const U256& r : raw) out.push_back(F::from_mont(r));
  return out;
}

template <class F>
std::vector<F> random_values(std::mt19937_64& rng, size_t n) {
  std::vector<F> out(n);
  for (F& x : out) x = field_random<F>(rng);
  return out;
}

// Operand arrays of length n: every ordered pair of edge values first, then random elements.
template <class F>
void make_operands(std::mt19937_64& rng, size_t n, std::vector<F>& a, std::vector<F>& b) {
  a = random_values<F>(rng, n);
  b = random_values<F>(rng, n);
  const std::vector<F> e = edge_values<F>();
  size_t k = 0;
  for (size_t i = 0; i < e.size(); ++i)
    for (size_t j = 0; j < e.size() && k < n; ++j, ++k) {
      a[k] = e[i];
      b[k] = e[j];
    }
}

}  // namespace zkinfer::testing
