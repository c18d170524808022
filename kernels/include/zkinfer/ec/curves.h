// The BN254 groups: G1 over Fq and G2 (the sextic twist) over Fq2.
#pragma once

#include "zkinfer/bn254.h"
#include "zkinfer/ec/point.h"
#include "zkinfer/ff/fq2.h"

namespace zkinfer {

struct G1Curve {
  using Field = Fq;
  ZK_HDI static constexpr Fq b() { return Fq::from_u64(bn254::kG1B); }
};

struct G2Curve {
  using Field = Fq2;
  ZK_HDI static constexpr Fq2 b() {
    constexpr U256 c0 = bn254::kG2BC0, c1 = bn254::kG2BC1;
    return {Fq::from_canonical(c0), Fq::from_canonical(c1)};
  }
};

using G1Affine = Affine<G1Curve>;
using G1Jacobian = Jacobian<G1Curve>;
using G1Xyzz = Xyzz<G1Curve>;
using G2Affine = Affine<G2Curve>;
using G2Jacobian = Jacobian<G2Curve>;
using G2Xyzz = Xyzz<G2Curve>;

ZK_HDI constexpr G1Affine g1_generator() {
  constexpr U256 x = bn254::kG1GenX, y = bn254::kG1GenY;
  return {Fq::from_canonical(x), Fq::from_canonical(y)};
}

ZK_HDI constexpr G2Affine g2_generator() {
  constexpr U256 x0 = bn254::kG2GenXC0, x1 = bn254::kG2GenXC1;
  constexpr U256 y0 = bn254::kG2GenYC0, y1 = bn254::kG2GenYC1;
  return {{Fq::from_canonical(x0), Fq::from_canonical(x1)},
          {Fq::from_canonical(y0), Fq::from_canonical(y1)}};
}

}  // namespace zkinfer
