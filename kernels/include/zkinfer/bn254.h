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

}  // namespace zkinfer::bn254
