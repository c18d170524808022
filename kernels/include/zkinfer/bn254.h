// Every BN254 (alt_bn128) constant lives here, so a second curve (BLS12-381) can be
// added as another parameter header without touching the generic field and curve code.
#pragma once

#include "zkinfer/ff/u256.h"

namespace zkinfer::bn254 {

// Base field Fq.
struct FqParams {
  static constexpr U256 modulus =
      u256::from_dec("21888242871839275222246405745257275088696311157297823662689037894645226208583");
  static constexpr uint64_t generator = 3;
};

// Scalar field Fr (the group order); 2-adicity 28, generator 5 as snarkjs uses.
struct FrParams {
  static constexpr U256 modulus =
      u256::from_dec("21888242871839275222246405745257275088548364400416034343698204186575808495617");
  static constexpr uint64_t generator = 5;
};

// BN parameter x (u in some texts): p and r are polynomials in it; the ate loop runs over 6x+2.
inline constexpr uint64_t kBnX = 4965661367192848881ull;

// G1: y^2 = x^3 + 3, generator (1, 2).
inline constexpr uint64_t kG1B = 3;
inline constexpr U256 kG1GenX = u256::from_dec("1");
inline constexpr U256 kG1GenY = u256::from_dec("2");

// Sextic non-residue xi = 9 + u of Fq2: the tower is Fq6 = Fq2[v]/(v^3 - xi),
// Fq12 = Fq6[w]/(w^2 - v), and G2 is the twist by xi. Frobenius coefficients derive from it.
inline constexpr uint64_t kXiC0 = 9;
inline constexpr uint64_t kXiC1 = 1;

// Fq2 = Fq[u]/(u^2 + 1). G2 (the D-type sextic twist): y^2 = x^3 + 3/(9+u).
// Values are written c0 + c1*u.
inline constexpr U256 kG2BC0 =
    u256::from_dec("19485874751759354771024239261021720505790618469301721065564631296452457478373");
inline constexpr U256 kG2BC1 =
    u256::from_dec("266929791119991161246907387137283842545076965332900288569378510910307636690");
inline constexpr U256 kG2GenXC0 =
    u256::from_dec("10857046999023057135944570762232829481370756359578518086990519993285655852781");
inline constexpr U256 kG2GenXC1 =
    u256::from_dec("11559732032986387107991004021392285783925812861821192530917403151452391805634");
inline constexpr U256 kG2GenYC0 =
    u256::from_dec("8495653923123431417604973247489272438418190587263600148770280649306958101930");
inline constexpr U256 kG2GenYC1 =
    u256::from_dec("4082367875863433681332203403145435568316851327593401208105741076214120093531");

// The untwist-Frobenius-twist endomorphism psi of G2 (Galbraith-Scott) is
// psi(x, y) = (conj(x) * xi^((p-1)/3), conj(y) * xi^((p-1)/2)) with xi = 9 + u;
// tests/unit/test_curve.cpp recomputes both factors from their exponents.
inline constexpr U256 kG2PsiXC0 =
    u256::from_dec("21575463638280843010398324269430826099269044274347216827212613867836435027261");
inline constexpr U256 kG2PsiXC1 =
    u256::from_dec("10307601595873709700152284273816112264069230130616436755625194854815875713954");
inline constexpr U256 kG2PsiYC0 =
    u256::from_dec("2821565182194536844548159561693502659359617185244120367078079554186484126554");
inline constexpr U256 kG2PsiYC1 =
    u256::from_dec("3505843767911556378687030309984248845540243509899259641013678093033130930403");

}  // namespace zkinfer::bn254

namespace zkinfer::bn254 {

// G1 GLV endomorphism: phi(x, y) = (beta x, y) = [lambda](x, y), beta a cube root of unity in
// Fq and lambda = 36x^3 + 18x^2 + 6x + 1 one in Fr (the other roots pair with each other).
inline constexpr U256 kG1GlvBeta =
    u256::from_dec("2203960485148121921418603742825762020974279258880205651966");
inline constexpr U256 kG1GlvLambda =
    u256::from_dec("4407920970296243842393367215006156084916469457145843978461");
// The same on G2: on the twist y^2 = x^3 + b', (beta' x, y) with beta' in Fq scaling both
// coordinates of x is an endomorphism too; with the other cube root, beta' = beta^2 = q - 1 -
// beta, it is [lambda] on G2 (beta itself gives [lambda^2]; tests/unit/test_msm.cpp checks it),
// so the G1 decomposition below serves both groups.
inline constexpr U256 kG2GlvBeta =
    u256::from_dec("21888242871839275220042445260109153167277707414472061641714758635765020556616");

// Short basis of the lattice {(a, b) : a + b lambda = 0 mod r} (extended Euclid on r and lambda):
// v1 = (a1, -b1n), v2 = (a2, b2), with a1 b2 + a2 b1n = r. Here a1 = b2.
inline constexpr U256 kG1GlvA1 = u256::from_dec("9931322734385697763");
inline constexpr U256 kG1GlvB1n = u256::from_dec("147946756881789319000765030803803410728");
inline constexpr U256 kG1GlvA2 = u256::from_dec("147946756881789319010696353538189108491");
inline constexpr U256 kG1GlvB2 = u256::from_dec("9931322734385697763");
// Babai rounding multipliers g1 = ceil(2^256 b2 / r), g2 = ceil(2^256 b1n / r): for k < r,
// c_i = floor(k g_i / 2^256) lies in (beta_i - 1, beta_i + 1/4) where (k, 0) = beta1 v1 + beta2 v2,
// so k1 = k - c1 a1 - c2 a2 and k2 = c1 b1n - c2 b2 have |k1|, |k2| < a1 + a2 < 2^127.
inline constexpr U256 kG1GlvG1 = u256::from_dec("52538187511802934232");
inline constexpr U256 kG1GlvG2 = u256::from_dec("782660544089080853078787955015628534158");

}  // namespace zkinfer::bn254
