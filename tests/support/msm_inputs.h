// MSM inputs shared by the CUDA MSM's host-simulator test and its GPU test: cheap distinct
// points, uniform scalars, and witness-like skewed scalars, drawn from a test's seeded generator.
#pragma once

#include <random>
#include <type_traits>
#include <vector>

#include "random_points.h"
#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer::testing {

template <class C>
Affine<C> random_point(std::mt19937_64& rng) {
  if constexpr (std::is_same_v<C, G1Curve>)
    return random_g1(rng);
  else
    return random_g2(rng);
}

// start + i * step: distinct points at one addition each and one shared inversion.
template <class C>
std::vector<Affine<C>> progression_points(std::mt19937_64& rng, size_t n) {
  Jacobian<C> at = Jacobian<C>::from_affine(random_point<C>(rng));
  const Affine<C> step = random_point<C>(rng);
  std::vector<Jacobian<C>> jac(n);
  for (size_t i = 0; i < n; ++i, at = at.add_affine(step)) jac[i] = at;
  std::vector<Affine<C>> out(n);
  std::vector<typename C::Field> scratch(n);
  batch_to_affine(jac.data(), out.data(), n, scratch.data());
  return out;
}

inline std::vector<Fr> uniform_scalars(std::mt19937_64& rng, size_t n) {
  std::vector<Fr> s(n);
  for (Fr& x : s) x = field_random<Fr>(rng);
  return s;
}

// Witness-like: mostly 0 and 1, then small values, their negatives, and a few full-width ones.
inline std::vector<Fr> skewed_scalars(std::mt19937_64& rng, size_t n) {
  std::vector<Fr> s(n);
  for (Fr& x : s) {
    const unsigned kind = unsigned(rng() % 100);
    if (kind < 45)
      x = Fr::zero();
    else if (kind < 80)
      x = Fr::one();
    else if (kind < 90)
      x = Fr::from_u64(rng() % 256);
    else if (kind < 95)
      x = -Fr::from_u64(1 + rng() % 4);
    else
      x = field_random<Fr>(rng);
  }
  return s;
}

}  // namespace zkinfer::testing
