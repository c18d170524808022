// Random points of G1 and G2 for tests: multiples of the generators by random scalars (so they
// lie in the prime-order subgroups), drawn from a test's seeded generator.
#pragma once

#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer::testing {

template <class Rng>
G1Affine random_g1(Rng& rng) {
  return scalar_mul(G1Jacobian::from_affine(g1_generator()), field_random<Fr>(rng).to_canonical()).to_affine();
}
template <class Rng>
G2Affine random_g2(Rng& rng) {
  return scalar_mul(G2Jacobian::from_affine(g2_generator()), field_random<Fr>(rng).to_canonical()).to_affine();
}

}  // namespace zkinfer::testing
