// Prime-order subgroup membership for the BN254 groups.
//
// G1: E(Fq): y^2 = x^3 + 3 has exactly r points (cofactor 1), so every point on the curve is in
// G1 and the check is the curve equation.
// G2: the twist E'(Fq2) has r * h points with h = 2p - r (a 254-bit cofactor), so a point read
// from outside can be on the curve and still outside G2. The reference test is [r]Q == O (a
// 254-bit scalar multiplication). The fast test uses the endomorphism psi, which acts on G2 as
// multiplication by p = 6x^2 (mod r). Dai, Lin, Zhao and Zhou (ePrint 2022/348) show that for BN
// curves whose seed x satisfies x != 4 (mod 13) and x != 92 (mod 97), as BN254's does,
//     Q in G2  <=>  [x+1]Q + psi([x]Q) + psi^2([x]Q) == psi^3([2x]Q),
// which costs one 63-bit scalar multiplication instead of a 254-bit one. (The simpler
// psi(Q) == [6x^2]Q of El Housni, Guillevic, Piellard, ePrint 2022/352, needs 127 bits.)
// Both tests expect a point on the curve; off-curve points are reported as not in the group.
#pragma once

#include "zkinfer/bn254.h"
#include "zkinfer/ec/curves.h"

namespace zkinfer {

// Cofactor 1: on the curve is in G1.
ZK_HD constexpr bool g1_in_subgroup(const G1Affine& p) { return p.is_on_curve(); }

// psi = untwist o Frobenius o twist: (x, y) -> (conj(x) * xi^((p-1)/3), conj(y) * xi^((p-1)/2)).
// In Jacobian coordinates Z is conjugated too, since x = X/Z^2 and y = Y/Z^3.
ZK_HD constexpr G2Jacobian g2_psi(const G2Jacobian& q) {
  constexpr U256 x0 = bn254::kG2PsiXC0, x1 = bn254::kG2PsiXC1;
  constexpr U256 y0 = bn254::kG2PsiYC0, y1 = bn254::kG2PsiYC1;
  constexpr Fq2 cx{Fq::from_canonical(x0), Fq::from_canonical(x1)};
  constexpr Fq2 cy{Fq::from_canonical(y0), Fq::from_canonical(y1)};
  return {q.x.conjugate() * cx, q.y.conjugate() * cy, q.z.conjugate()};
}

// Reference test: [r]Q == O.
ZK_HD constexpr bool g2_in_subgroup_slow(const G2Affine& q) {
  if (!q.is_on_curve()) return false;
  constexpr U256 r = bn254::FrParams::modulus;
  return scalar_mul(G2Jacobian::from_affine(q), r).is_infinity();
}

// Fast test (relation in the header comment).
ZK_HD constexpr bool g2_in_subgroup(const G2Affine& q) {
  if (!q.is_on_curve()) return false;
  if (q.is_infinity()) return true;
  const G2Jacobian xq = scalar_mul(G2Jacobian::from_affine(q), u256::from_u64(bn254::kBnX));
  const G2Jacobian psi_xq = g2_psi(xq);
  const G2Jacobian lhs = xq.add_affine(q) + psi_xq + g2_psi(psi_xq);
  const G2Jacobian rhs = g2_psi(g2_psi(g2_psi(xq.dbl())));
  return lhs == rhs;
}

}  // namespace zkinfer
