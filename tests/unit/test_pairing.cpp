// The Fq6/Fq12 tower and the optimal ate pairing: field axioms on random elements, Frobenius
// maps against plain powers, the final exponentiation against f^((p^12-1)/r) computed with a
// GMP exponent, bilinearity, and the Ethereum bn256 pairing precompile (EIP-197) test vectors
// as an independent known answer.
#include <gmp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "../support/mpz.h"
#include "../support/random_points.h"
#include "../support/seed.h"
#include "zkinfer/ec/curves.h"
#include "zkinfer/ec/pairing.h"
#include "zkinfer/ec/subgroup.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/ff/fq12.h"

namespace zkinfer {
namespace {

template <class Rng>
Fq2 random_fq2(Rng& rng) {
  return {field_random<Fq>(rng), field_random<Fq>(rng)};
}
template <class Rng>
Fq6 random_fq6(Rng& rng) {
  return {random_fq2(rng), random_fq2(rng), random_fq2(rng)};
}
template <class Rng>
Fq12 random_fq12(Rng& rng) {
  return {random_fq6(rng), random_fq6(rng)};
}

// a^e for an exponent of any size (square-and-multiply over the bits of a GMP integer).
template <class F>
F pow_big(const F& a, const mpz_t e) {
  F r = F::one();
  for (size_t i = mpz_sizeinbase(e, 2); i-- > 0;) {
    r = r.sqr();
    if (mpz_tstbit(e, i)) r = r * a;
  }
  return r;
}

using testing::Mpz;

U256 fr_bits(const Fr& a) { return a.to_canonical(); }

G1Affine g1_mul(const G1Affine& p, const Fr& k) {
  return scalar_mul(G1Jacobian::from_affine(p), fr_bits(k)).to_affine();
}
G2Affine g2_mul(const G2Affine& q, const Fr& k) {
  return scalar_mul(G2Jacobian::from_affine(q), fr_bits(k)).to_affine();
}
using zkinfer::testing::random_g1;
using zkinfer::testing::random_g2;

// ---- tower -----------------------------------------------------------------------------

TEST(Fq6, RingAxiomsAndInverse) {
  auto rng = testing::seeded_rng();
  for (int i = 0; i < 20; ++i) {
    Fq6 a = random_fq6(rng), b = random_fq6(rng), c = random_fq6(rng);
    ASSERT_EQ((a * b) * c, a * (b * c));
    ASSERT_EQ(a * b, b * a);
    ASSERT_EQ(a * (b + c), a * b + a * c);
    ASSERT_EQ(a.sqr(), a * a);
    ASSERT_EQ(a * a.inverse(), Fq6::one());
    ASSERT_EQ(a - b + b, a);
    ASSERT_EQ(a.mul_by_v(), (a * Fq6{Fq2::zero(), Fq2::one(), Fq2::zero()}));
    ASSERT_EQ(a.mul_by_01(b.c0, b.c1), (a * Fq6{b.c0, b.c1, Fq2::zero()}));
    ASSERT_EQ(a * b.c2, (a * Fq6{b.c2, Fq2::zero(), Fq2::zero()}));
  }
  EXPECT_TRUE(Fq6::zero().inverse().is_zero());
}

TEST(Fq6, TowerRelationAndFrobenius) {
  Fq6 v{Fq2::zero(), Fq2::one(), Fq2::zero()};
  EXPECT_EQ(v * v * v, (Fq6{fq2_xi(), Fq2::zero(), Fq2::zero()}));
  auto rng = testing::seeded_rng();
  Mpz p(Fq::MOD);
  for (int i = 0; i < 3; ++i) {
    Fq6 a = random_fq6(rng);
    Fq6 f1 = a.frobenius_map<1>();
    ASSERT_EQ(f1, pow_big(a, p.v));
    ASSERT_EQ(a.frobenius_map<2>(), f1.frobenius_map<1>());
    ASSERT_EQ(a.frobenius_map<3>(), f1.frobenius_map<1>().frobenius_map<1>());
    ASSERT_EQ(a.frobenius_map<3>().frobenius_map<3>(), a);  // p^6 fixes Fq6
  }
}

// The G2 endomorphism constants of bn254.h (typed in, used by the subgroup test) are the
// Frobenius coefficients gamma[1][2] and gamma[1][3] derived here at compile time.
TEST(Fq12, FrobeniusCoefficientsMatchPsiConstants) {
  constexpr U256 x0 = bn254::kG2PsiXC0, x1 = bn254::kG2PsiXC1;
  constexpr U256 y0 = bn254::kG2PsiYC0, y1 = bn254::kG2PsiYC1;
  EXPECT_EQ((frobenius_coeff<1, 2>()), (Fq2{Fq::from_canonical(x0), Fq::from_canonical(x1)}));
  EXPECT_EQ((frobenius_coeff<1, 3>()), (Fq2{Fq::from_canonical(y0), Fq::from_canonical(y1)}));
  EXPECT_EQ((frobenius_coeff<2, 3>()), -Fq2::one());  // so -pi^2(Q) keeps y
}

TEST(Fq12, RingAxiomsAndInverse) {
  auto rng = testing::seeded_rng();
  for (int i = 0; i < 20; ++i) {
    Fq12 a = random_fq12(rng), b = random_fq12(rng), c = random_fq12(rng);
    ASSERT_EQ((a * b) * c, a * (b * c));
    ASSERT_EQ(a * b, b * a);
    ASSERT_EQ(a * (b + c), a * b + a * c);
    ASSERT_EQ(a.sqr(), a * a);
    ASSERT_EQ(a * a.inverse(), Fq12::one());
    ASSERT_EQ(-a + a, Fq12::zero());
    // A line value d0 + d3 w + d4 w^3 as a dense element: w^3 = v w.
    Fq2 d0 = random_fq2(rng), d3 = random_fq2(rng), d4 = random_fq2(rng);
    Fq12 line{{d0, Fq2::zero(), Fq2::zero()}, {d3, d4, Fq2::zero()}};
    ASSERT_EQ(a.mul_by_034(d0, d3, d4), a * line);
  }
  EXPECT_TRUE(Fq12::zero().inverse().is_zero());
}

TEST(Fq12, TowerRelationAndFrobenius) {
  Fq12 w{Fq6::zero(), Fq6::one()};
  EXPECT_EQ(w * w, (Fq12{{Fq2::zero(), Fq2::one(), Fq2::zero()}, Fq6::zero()}));
  auto rng = testing::seeded_rng();
  for (int i = 0; i < 3; ++i) {
    Fq12 a = random_fq12(rng);
    Fq12 f1 = a.frobenius_map<1>();
    ASSERT_EQ(f1, a.pow(Fq::MOD));
    ASSERT_EQ(a.frobenius_map<2>(), f1.frobenius_map<1>());
    ASSERT_EQ(a.frobenius_map<3>(), a.frobenius_map<2>().frobenius_map<1>());
    ASSERT_EQ(a.frobenius_map<3>().frobenius_map<3>(), a.conjugate());  // p^6
    Fq12 x = a;
    for (int k = 0; k < 12; ++k) x = x.frobenius_map<1>();
    ASSERT_EQ(x, a);
    ASSERT_EQ(a.frobenius_map<3>().frobenius_map<3>().frobenius_map<3>().frobenius_map<3>(), a);
    ASSERT_EQ((a * f1).frobenius_map<2>(), a.frobenius_map<2>() * f1.frobenius_map<2>());
  }
}

TEST(Fq12, CyclotomicSquaringMatchesSquaring) {
  auto rng = testing::seeded_rng();
  for (int i = 0; i < 10; ++i) {
    Fq12 f = random_fq12(rng);
    Fq12 t = f.conjugate() * f.inverse();
    t = t.frobenius_map<2>() * t;  // now of order dividing p^4 - p^2 + 1
    ASSERT_EQ(t.cyclotomic_sqr(), t.sqr());
    ASSERT_EQ(t.conjugate(), t.inverse());
    ASSERT_EQ(t.cyclotomic_sqr().cyclotomic_sqr(), t.sqr().sqr());
  }
}

// ---- pairing ---------------------------------------------------------------------------

TEST(FinalExponentiation, EqualsPowerByPToTheTwelveMinusOneOverR) {
  Mpz p(Fq::MOD), r(Fr::MOD);
  mpz_t e;
  mpz_init(e);
  mpz_pow_ui(e, p.v, 12);
  mpz_sub_ui(e, e, 1);
  ASSERT_TRUE(mpz_divisible_p(e, r.v));
  mpz_divexact(e, e, r.v);
  auto rng = testing::seeded_rng();
  for (int i = 0; i < 2; ++i) {
    Fq12 f = random_fq12(rng);
    ASSERT_EQ(final_exponentiation(f), pow_big(f, e));
  }
  mpz_clear(e);
}

// The digit expansions the loops run over give back 6x + 2 and x, within their digit bounds.
TEST(Pairing, NafExpansions) {
  auto value = [](const detail::Naf& n, int w) {
    __int128 v = 0;
    for (int i = n.len - 1; i >= 0; --i) {
      EXPECT_TRUE(n.d[i] == 0 || (n.d[i] % 2 != 0 && std::abs(n.d[i]) < (1 << (w - 1))));
      v = 2 * v + n.d[i];
    }
    return (u128)v;
  };
  EXPECT_TRUE(value(detail::kAteNaf, 2) == (u128)6 * bn254::kBnX + 2);
  EXPECT_TRUE(value(detail::kBnXNaf, detail::kExpXWindow) == (u128)bn254::kBnX);
  EXPECT_EQ(kAteLineCount, 88);  // 65 doublings, 21 additions of +-Q, 2 Frobenius additions
}

TEST(Pairing, NonDegenerateWithOrderR) {
  Fq12 g = pairing(g1_generator(), g2_generator());
  EXPECT_FALSE(g.is_one());
  EXPECT_TRUE(g.pow(Fr::MOD).is_one());
  EXPECT_EQ(g.conjugate(), g.inverse());
}

TEST(Pairing, Bilinear) {
  auto rng = testing::seeded_rng();
  G1Affine p = random_g1(rng);
  G2Affine q = random_g2(rng);
  Fr a = field_random<Fr>(rng), b = field_random<Fr>(rng);
  Fq12 e = pairing(p, q);
  Fq12 eab = pairing(g1_mul(p, a), g2_mul(q, b));
  EXPECT_EQ(eab, e.pow(fr_bits(a * b)));
  EXPECT_EQ(eab, pairing(g1_mul(p, a * b), q));
  EXPECT_EQ(eab, pairing(p, g2_mul(q, a * b)));
  // Linear in the first argument for a sum of different points.
  G1Affine p2 = random_g1(rng);
  G1Affine sum = (G1Jacobian::from_affine(p) + G1Jacobian::from_affine(p2)).to_affine();
  EXPECT_EQ(pairing(sum, q), e * pairing(p2, q));
}

TEST(Pairing, PointsAtInfinityContributeOne) {
  auto rng = testing::seeded_rng();
  G1Affine p = random_g1(rng);
  G2Affine q = random_g2(rng);
  EXPECT_TRUE(pairing(G1Affine::infinity(), q).is_one());
  EXPECT_TRUE(pairing(p, G2Affine::infinity()).is_one());
  EXPECT_TRUE(pairing_product_is_one(nullptr, static_cast<const G2Affine*>(nullptr), 0));

  G1Affine ps[4] = {-p, G1Affine::infinity(), p, p};
  G2Affine qs[4] = {q, q, q, G2Affine::infinity()};
  EXPECT_TRUE(pairing_product_is_one(ps, qs, 4));
  G2Prepared pq = g2_prepare(q), pinf = g2_prepare(G2Affine::infinity());
  const G2Prepared* pqs[4] = {&pq, &pq, &pq, &pinf};
  EXPECT_TRUE(pairing_product_is_one(ps, pqs, 4));
}

TEST(Pairing, ProductCheck) {
  auto rng = testing::seeded_rng();
  G1Affine p = random_g1(rng);
  G2Affine q = random_g2(rng);
  G1Affine ps[2] = {-p, p};
  G2Affine qs[2] = {q, q};
  EXPECT_TRUE(pairing_product_is_one(ps, qs, 2));
  ps[0] = p;
  EXPECT_FALSE(pairing_product_is_one(ps, qs, 2));
}

// The Groth16 verifier's equation e(A, B) = e(alpha, beta) e(L, gamma) e(C, delta) as a product
// of four pairings, with random discrete logs chosen so that it holds.
TEST(Pairing, Groth16ShapedCheckWithPreparedKey) {
  auto rng = testing::seeded_rng();
  Fr alpha = field_random<Fr>(rng), beta = field_random<Fr>(rng), gamma = field_random<Fr>(rng);
  Fr delta = field_random<Fr>(rng), l = field_random<Fr>(rng), c = field_random<Fr>(rng);
  Fr a = field_random<Fr>(rng);
  Fr b = (alpha * beta + l * gamma + c * delta) * a.inverse();
  G1Affine g1 = g1_generator();
  G2Affine g2 = g2_generator();
  G1Affine ps[4] = {g1_mul(g1, a), -g1_mul(g1, alpha), -g1_mul(g1, l), -g1_mul(g1, c)};
  G2Affine qs[4] = {g2_mul(g2, b), g2_mul(g2, beta), g2_mul(g2, gamma), g2_mul(g2, delta)};
  EXPECT_TRUE(pairing_product_is_one(ps, qs, 4));

  G2Prepared prep[4] = {g2_prepare(qs[0]), g2_prepare(qs[1]), g2_prepare(qs[2]), g2_prepare(qs[3])};
  const G2Prepared* pq[4] = {&prep[0], &prep[1], &prep[2], &prep[3]};
  EXPECT_EQ(miller_loop(ps, pq, 4), miller_loop(ps, qs, 4));  // the same lines, same order
  EXPECT_TRUE(pairing_product_is_one(ps, pq, 4));

  // A wrong C is rejected.
  ps[3] = -g1_mul(g1, c + Fr::one());
  EXPECT_FALSE(pairing_product_is_one(ps, qs, 4));
  EXPECT_FALSE(pairing_product_is_one(ps, pq, 4));
}

// More pairs than one Miller chunk: the loop splits them and multiplies the parts.
TEST(Pairing, ManyPairsSpanChunks) {
  auto rng = testing::seeded_rng();
  constexpr size_t n = 2 * detail::kMillerChunk + 3;
  std::vector<G1Affine> ps(n);
  std::vector<G2Affine> qs(n);
  Fr sum = Fr::zero();
  for (size_t i = 0; i + 1 < n; ++i) {
    Fr a = field_random<Fr>(rng), b = field_random<Fr>(rng);
    ps[i] = g1_mul(g1_generator(), a);
    qs[i] = g2_mul(g2_generator(), b);
    sum += a * b;
  }
  ps[n - 1] = -g1_mul(g1_generator(), sum);
  qs[n - 1] = g2_generator();
  EXPECT_TRUE(pairing_product_is_one(ps.data(), qs.data(), n));
  Fq12 prod = Fq12::one();
  for (size_t i = 0; i < 3; ++i) prod *= pairing(ps[i], qs[i]);
  EXPECT_EQ(final_exponentiation(miller_loop(ps.data(), qs.data(), 3)), prod);
  ps[2] = -ps[2];
  EXPECT_FALSE(pairing_product_is_one(ps.data(), qs.data(), n));
}

// ---- EIP-197 known answers -------------------------------------------------------------
//
// Inputs of go-ethereum's core/vm/testdata/precompiles/bn256Pairing.json: per pair 192 bytes,
// big-endian 32-byte words x, y of P, then Q as x.c1, x.c0, y.c1, y.c0 (imaginary part first).
// The precompile returns 1 when the product of the pairings is 1.

struct Eip197Case {
  const char* name;
  const char* input;
  bool expected;
};

const Eip197Case kEip197[] = {
    {"jeff1",
     "1c76476f4def4bb94541d57ebba1193381ffa7aa76ada664dd31c16024c43f593034dd2920f673e204fee2811c678745fc819b55d3e9d294e45c9b03a76aef41209dd15ebff5d46c4bd888e51a93cf99a7329636c63514396b4a452003a35bf704bf11ca01483bfa8b34b43561848d28905960114c8ac04049af4b6315a416782bb8324af6cfc93537a2ad1a445cfd0ca2a71acd7ac41fadbf933c2a51be344d120a2a4cf30c1bf9845f20c6fe39e07ea2cce61f0c9bb048165fe5e4de877550111e129f1cf1097710d41c4ac70fcdfa5ba2023c6ff1cbeac322de49d1b6df7c2032c61a830e3c17286de9462bf242fca2883585b93870a73853face6a6bf411198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c21800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
     true},
    {"jeff2",
     "2eca0c7238bf16e83e7a1e6c5d49540685ff51380f309842a98561558019fc0203d3260361bb8451de5ff5ecd17f010ff22f5c31cdf184e9020b06fa5997db841213d2149b006137fcfb23036606f848d638d576a120ca981b5b1a5f9300b3ee2276cf730cf493cd95d64677bbb75fc42db72513a4c1e387b476d056f80aa75f21ee6226d31426322afcda621464d0611d226783262e21bb3bc86b537e986237096df1f82dff337dd5972e32a8ad43e28a78a96a823ef1cd4debe12b6552ea5f06967a1237ebfeca9aaae0d6d0bab8e28c198c5a339ef8a2407e31cdac516db922160fa257a5fd5b280642ff47b65eca77e626cb685c84fa6d3b6882a283ddd1198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c21800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
     true},
    {"jeff3",
     "0f25929bcb43d5a57391564615c9e70a992b10eafa4db109709649cf48c50dd216da2f5cb6be7a0aa72c440c53c9bbdfec6c36c7d515536431b3a865468acbba2e89718ad33c8bed92e210e81d1853435399a271913a6520736a4729cf0d51eb01a9e2ffa2e92599b68e44de5bcf354fa2642bd4f26b259daa6f7ce3ed57aeb314a9a87b789a58af499b314e13c3d65bede56c07ea2d418d6874857b70763713178fb49a2d6cd347dc58973ff49613a20757d0fcc22079f9abd10c3baee245901b9e027bd5cfc2cb5db82d4dc9677ac795ec500ecd47deee3b5da006d6d049b811d7511c78158de484232fc68daf8a45cf217d1c2fae693ff5871e8752d73b21198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c21800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
     true},
    {"jeff4",
     "2f2ea0b3da1e8ef11914acf8b2e1b32d99df51f5f4f206fc6b947eae860eddb6068134ddb33dc888ef446b648d72338684d678d2eb2371c61a50734d78da4b7225f83c8b6ab9de74e7da488ef02645c5a16a6652c3c71a15dc37fe3a5dcb7cb122acdedd6308e3bb230d226d16a105295f523a8a02bfc5e8bd2da135ac4c245d065bbad92e7c4e31bf3757f1fe7362a63fbfee50e7dc68da116e67d600d9bf6806d302580dc0661002994e7cd3a7f224e7ddc27802777486bf80f40e4ca3cfdb186bac5188a98c45e6016873d107f5cd131f3a3e339d0375e58bd6219347b008122ae2b09e539e152ec5364e7e2204b03d11d3caa038bfc7cd499f8176aacbee1f39e4e4afc4bc74790a4a028aff2c3d2538731fb755edefd8cb48d6ea589b5e283f150794b6736f670d6a1033f9b46c6f5204f50813eb85c8dc4b59db1c5d39140d97ee4d2b36d99bc49974d18ecca3e7ad51011956051b464d9e27d46cc25e0764bb98575bd466d32db7b15f582b2d5c452b36aa394b789366e5e3ca5aabd415794ab061441e51d01e94640b7e3084a07e02c78cf3103c542bc5b298669f211b88da1679b0b64a63b7e0e7bfe52aae524f73a55be7fe70c7e9bfc94b4cf0da1213d2149b006137fcfb23036606f848d638d576a120ca981b5b1a5f9300b3ee2276cf730cf493cd95d64677bbb75fc42db72513a4c1e387b476d056f80aa75f21ee6226d31426322afcda621464d0611d226783262e21bb3bc86b537e986237096df1f82dff337dd5972e32a8ad43e28a78a96a823ef1cd4debe12b6552ea5f",
     true},
    {"jeff5",
     "20a754d2071d4d53903e3b31a7e98ad6882d58aec240ef981fdf0a9d22c5926a29c853fcea789887315916bbeb89ca37edb355b4f980c9a12a94f30deeed30211213d2149b006137fcfb23036606f848d638d576a120ca981b5b1a5f9300b3ee2276cf730cf493cd95d64677bbb75fc42db72513a4c1e387b476d056f80aa75f21ee6226d31426322afcda621464d0611d226783262e21bb3bc86b537e986237096df1f82dff337dd5972e32a8ad43e28a78a96a823ef1cd4debe12b6552ea5f1abb4a25eb9379ae96c84fff9f0540abcfc0a0d11aeda02d4f37e4baf74cb0c11073b3ff2cdbb38755f8691ea59e9606696b3ff278acfc098fa8226470d03869217cee0a9ad79a4493b5253e2e4e3a39fc2df38419f230d341f60cb064a0ac290a3d76f140db8418ba512272381446eb73958670f00cf46f1d9e64cba057b53c26f64a8ec70387a13e41430ed3ee4a7db2059cc5fc13c067194bcc0cb49a98552fd72bd9edb657346127da132e5b82ab908f5816c826acb499e22f2412d1a2d70f25929bcb43d5a57391564615c9e70a992b10eafa4db109709649cf48c50dd2198a1f162a73261f112401aa2db79c7dab1533c9935c77290a6ce3b191f2318d198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c21800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
     true},
    {"jeff6",
     "1c76476f4def4bb94541d57ebba1193381ffa7aa76ada664dd31c16024c43f593034dd2920f673e204fee2811c678745fc819b55d3e9d294e45c9b03a76aef41209dd15ebff5d46c4bd888e51a93cf99a7329636c63514396b4a452003a35bf704bf11ca01483bfa8b34b43561848d28905960114c8ac04049af4b6315a416782bb8324af6cfc93537a2ad1a445cfd0ca2a71acd7ac41fadbf933c2a51be344d120a2a4cf30c1bf9845f20c6fe39e07ea2cce61f0c9bb048165fe5e4de877550111e129f1cf1097710d41c4ac70fcdfa5ba2023c6ff1cbeac322de49d1b6df7c103188585e2364128fe25c70558f1560f4f9350baf3959e603cc91486e110936198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c21800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
     false},
    {"empty_data", "", true},
    {"one_point",
     "00000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000002198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c21800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
     false},
    {"two_point_match_2",
     "00000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000002198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c21800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa00000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000002198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c21800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed275dc4a288d1afb3cbb1ac09187524c7db36395df7be3b99e673b13a075a65ec1d9befcd05a5323e6da4d435f3b617cdb3af83285c2df711ef39c01571827f9d",
     true},
    {"two_point_match_3",
     "00000000000000000000000000000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000000000002203e205db4f19b37b60121b83a7333706db86431c6d835849957ed8c3928ad7927dc7234fd11d3e8c36c59277c3e6f149d5cd3cfa9a62aee49f8130962b4b3b9195e8aa5b7827463722b8c153931579d3505566b4edf48d498e185f0509de15204bb53b8977e5f92a0bc372742c4830944a59b4fe6b1c0466e2a6dad122b5d2e030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd31a76dae6d3272396d0cbe61fced2bc532edac647851e3ac53ce1cc9c7e645a83198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c21800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
     true},
    {"two_point_match_4",
     "105456a333e6d636854f987ea7bb713dfd0ae8371a72aea313ae0c32c0bf10160cf031d41b41557f3e7e3ba0c51bebe5da8e6ecd855ec50fc87efcdeac168bcc0476be093a6d2b4bbf907172049874af11e1b6267606e00804d3ff0037ec57fd3010c68cb50161b7d1d96bb71edfec9880171954e56871abf3d93cc94d745fa114c059d74e5b6c4ec14ae5864ebe23a71781d86c29fb8fb6cce94f70d3de7a2101b33461f39d9e887dbb100f170a2345dde3c07e256d1dfa2b657ba5cd030427000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000000000000000000000000021a2c3013d2ea92e13c800cde68ef56a294b883f6ac35d25f587c09b1b3c635f7290158a80cd3d66530f74dc94c94adb88f5cdb481acca997b6e60071f08a115f2f997f3dbd66a7afe07fe7862ce239edba9e05c5afff7f8a1259c9733b2dfbb929d1691530ca701b4a106054688728c9972c8512e9789e9567aae23e302ccd75",
     true},
};

Fq eip197_word(const std::string& hex, size_t word) {
  uint8_t le[32];
  for (size_t i = 0; i < 32; ++i) le[31 - i] = (uint8_t)std::stoi(hex.substr(64 * word + 2 * i, 2), nullptr, 16);
  return field_from_le_bytes<Fq>(le);
}

void eip197_decode(const std::string& hex, std::vector<G1Affine>& ps, std::vector<G2Affine>& qs) {
  ASSERT_EQ(hex.size() % 384, 0u);
  for (size_t k = 0; k < hex.size() / 64; k += 6) {
    ps.push_back({eip197_word(hex, k), eip197_word(hex, k + 1)});
    qs.push_back({{eip197_word(hex, k + 3), eip197_word(hex, k + 2)},
                  {eip197_word(hex, k + 5), eip197_word(hex, k + 4)}});
    // What the precompile checks before pairing.
    ASSERT_TRUE(g1_in_subgroup(ps.back()));
    ASSERT_TRUE(g2_in_subgroup(qs.back()));
  }
}

TEST(Pairing, Eip197PrecompileVectors) {
  for (const Eip197Case& c : kEip197) {
    std::vector<G1Affine> ps;
    std::vector<G2Affine> qs;
    eip197_decode(c.input, ps, qs);
    EXPECT_EQ(pairing_product_is_one(ps.data(), qs.data(), ps.size()), c.expected) << c.name;
    std::vector<G2Prepared> prep;
    for (const G2Affine& q : qs) prep.push_back(g2_prepare(q));
    std::vector<const G2Prepared*> pq;
    for (const G2Prepared& q : prep) pq.push_back(&q);
    EXPECT_EQ(pairing_product_is_one(ps.data(), pq.data(), ps.size()), c.expected) << c.name;
  }
}

// ten_point_match_1 of the same file is two_point_match_2 five times over: ten pairs, more than
// one Miller chunk.
TEST(Pairing, Eip197TenPointMatch) {
  std::string two = kEip197[8].input, ten;
  ASSERT_STREQ(kEip197[8].name, "two_point_match_2");
  for (int i = 0; i < 5; ++i) ten += two;
  std::vector<G1Affine> ps;
  std::vector<G2Affine> qs;
  eip197_decode(ten, ps, qs);
  ASSERT_EQ(ps.size(), 10u);
  EXPECT_TRUE(pairing_product_is_one(ps.data(), qs.data(), ps.size()));
}

}  // namespace
}  // namespace zkinfer
