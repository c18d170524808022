// G1/G2 group laws, published BN254 multiples, subgroup tests and point encodings.
#include <gmp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "../support/mpz.h"
#include "../support/seed.h"
#include "zkinfer/ec/curves.h"
#include "zkinfer/ec/serialize.h"
#include "zkinfer/ec/subgroup.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

// ---- helpers ----------------------------------------------------------------------------------

using testing::Mpz;

constexpr U256 kP = bn254::FqParams::modulus;
constexpr U256 kR = bn254::FrParams::modulus;

// h = #E'(Fq2) / r = 2p - r, the G2 cofactor.
U256 g2_cofactor() {
  Mpz h(kP), r(kR);
  mpz_mul_ui(h.v, h.v, 2);
  mpz_sub(h.v, h.v, r.v);
  return h.to_u256();
}

template <class C>
Affine<C> generator();
template <>
G1Affine generator<G1Curve>() {
  return g1_generator();
}
template <>
G2Affine generator<G2Curve>() {
  return g2_generator();
}

template <class Rng>
U256 random_scalar(Rng& rng) {
  return field_random<Fr>(rng).to_canonical();
}

// A random group element with a random-looking Z (scalar_mul leaves Z != 1).
template <class C, class Rng>
Jacobian<C> random_point(Rng& rng) {
  return scalar_mul(Jacobian<C>::from_affine(generator<C>()), random_scalar(rng));
}

// The same projective point with Z scaled by l: (X l^2, Y l^3, Z l).
template <class C>
Jacobian<C> rescale(const Jacobian<C>& p, const typename C::Field& l) {
  auto l2 = l.sqr();
  return {p.x * l2, p.y * l2 * l, p.z * l};
}

Fq2 random_fq2(std::mt19937_64& rng) { return {field_random<Fq>(rng), field_random<Fq>(rng)}; }

template <class F>
F random_nonzero(std::mt19937_64& rng);
template <>
Fq random_nonzero<Fq>(std::mt19937_64& rng) {
  Fq a;
  do a = field_random<Fq>(rng);
  while (a.is_zero());
  return a;
}
template <>
Fq2 random_nonzero<Fq2>(std::mt19937_64& rng) {
  Fq2 a;
  do a = random_fq2(rng);
  while (a.is_zero());
  return a;
}

// A random point of the twist E'(Fq2) without cofactor clearing: x at random until x^3 + b is
// a square. It lies outside G2 unless it happens to have order r (probability 1/h).
G2Affine hash_to_twist(std::mt19937_64& rng) {
  for (;;) {
    Fq2 x = random_fq2(rng), y;
    if ((x.sqr() * x + G2Curve::b()).sqrt(y)) return {x, y};
  }
}

std::vector<uint8_t> from_hex(const std::string& s) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    out.push_back((uint8_t)std::stoul(s.substr(i, 2), nullptr, 16));
  return out;
}

// fn must throw std::invalid_argument whose message contains every needle.
void expect_invalid(const std::function<void()>& fn, std::initializer_list<std::string> needles) {
  try {
    fn();
    ADD_FAILURE() << "no exception; expected one mentioning '" << *needles.begin() << "'";
  } catch (const std::invalid_argument& e) {
    for (const auto& n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << "message: " << e.what();
  }
}

G1Affine g1_from_dec(const char* x, const char* y) {
  return {field_from_decimal<Fq>(x), field_from_decimal<Fq>(y)};
}
G2Affine g2_from_dec(const char* x0, const char* x1, const char* y0, const char* y1) {
  return {{field_from_decimal<Fq>(x0), field_from_decimal<Fq>(x1)},
          {field_from_decimal<Fq>(y0), field_from_decimal<Fq>(y1)}};
}

// ---- group laws (typed over G1 and G2) ------------------------------------------------------

template <class C>
class CurveTest : public ::testing::Test {};
using Curves = ::testing::Types<G1Curve, G2Curve>;
TYPED_TEST_SUITE(CurveTest, Curves);

TYPED_TEST(CurveTest, GeneratorIsOnCurveAndHasOrderR) {
  using C = TypeParam;
  auto g = Jacobian<C>::from_affine(generator<C>());
  EXPECT_TRUE(generator<C>().is_on_curve());
  EXPECT_TRUE(scalar_mul(g, kR).is_infinity());
  uint64_t borrow = 0;
  EXPECT_FALSE(scalar_mul(g, u256::sub(kR, u256::from_u64(1), borrow)).is_infinity());
  uint64_t carry = 0;
  EXPECT_EQ(scalar_mul(g, u256::add(kR, u256::from_u64(1), carry)), g);
}

TYPED_TEST(CurveTest, JacobianGroupLaws) {
  using C = TypeParam;
  using J = Jacobian<C>;
  using F = typename C::Field;
  auto rng = testing::seeded_rng();
  const J o = J::infinity();
  for (int i = 0; i < 12; ++i) {
    J a = random_point<C>(rng), b = random_point<C>(rng), c = random_point<C>(rng);
    ASSERT_TRUE(a.is_on_curve());
    EXPECT_EQ((a + b) + c, a + (b + c));
    EXPECT_EQ(a + b, b + a);
    EXPECT_TRUE((a + b).is_on_curve());
    EXPECT_EQ(a + o, a);
    EXPECT_EQ(o + a, a);
    EXPECT_TRUE((a + (-a)).is_infinity());
    EXPECT_TRUE((a - a).is_infinity());
    EXPECT_TRUE((o + o).is_infinity());
    EXPECT_TRUE(o.dbl().is_infinity());
    // Doubling equals adding the point to itself, also when the two copies have different Z.
    J a2 = rescale(a, random_nonzero<F>(rng));
    EXPECT_EQ(a.dbl(), a + a);
    EXPECT_EQ(a.dbl(), a + a2);
    EXPECT_TRUE((a + (-a2)).is_infinity());
    EXPECT_TRUE(a.dbl().is_on_curve());
    // Mixed addition equals full addition, including the doubling and inverse cases.
    Affine<C> ba = b.to_affine(), aa = a.to_affine();
    EXPECT_EQ(a.add_affine(ba), a + J::from_affine(ba));
    EXPECT_EQ(a.add_affine(aa), a.dbl());
    EXPECT_TRUE(a.add_affine(-aa).is_infinity());
    EXPECT_EQ(a.add_affine(Affine<C>::infinity()), a);
    EXPECT_EQ(o.add_affine(ba), b);
    EXPECT_EQ((a - b) + b, a);
  }
}

TYPED_TEST(CurveTest, XyzzMatchesJacobian) {
  using C = TypeParam;
  using J = Jacobian<C>;
  using X = Xyzz<C>;
  auto rng = testing::seeded_rng();
  std::vector<Affine<C>> pts;
  for (int i = 0; i < 16; ++i) pts.push_back(random_point<C>(rng).to_affine());

  // Bucket-style accumulation, XYZZ mixed add against Jacobian mixed add. The sequence starts
  // with the special cases: p + p with ZZ = 1, 2p + 2p with ZZ != 1, 4p + (-4p), then infinity.
  const J p1 = J::from_affine(pts[0]);
  std::vector<Affine<C>> seq = {pts[0], pts[0], p1.dbl().to_affine(), -p1.dbl().dbl().to_affine(),
                                Affine<C>::infinity()};
  seq.insert(seq.end(), pts.begin(), pts.end());
  X acc_x = X::infinity();
  J acc_j = J::infinity();
  for (const auto& p : seq) {
    acc_x = acc_x.add_affine(p);
    acc_j = acc_j.add_affine(p);
    ASSERT_EQ(acc_x.to_jacobian(), acc_j);
    ASSERT_EQ(acc_x.to_affine(), acc_j.to_affine());
    ASSERT_TRUE(acc_x.to_jacobian().is_on_curve());
  }

  for (int i = 0; i + 1 < 16; ++i) {
    X a = X::from_affine(pts[i]).add_affine(pts[i + 1]);  // ZZ != 1
    X b = X::from_affine(pts[(i + 5) % 16]).add_affine(pts[(i + 7) % 16]);
    J aj = a.to_jacobian(), bj = b.to_jacobian();
    EXPECT_EQ((a + b).to_jacobian(), aj + bj);
    EXPECT_EQ((a + b).to_jacobian(), (b + a).to_jacobian());
    EXPECT_EQ(a.dbl().to_jacobian(), aj.dbl());
    EXPECT_EQ((a + a).to_jacobian(), aj.dbl());
    EXPECT_TRUE((a + (-a)).is_infinity());
    EXPECT_EQ((a + X::infinity()).to_jacobian(), aj);
    EXPECT_EQ((X::infinity() + a).to_jacobian(), aj);
    EXPECT_EQ(X::dbl_affine(pts[i]).to_jacobian(), J::from_affine(pts[i]).dbl());
    EXPECT_EQ(X::from_affine(pts[i]).add_affine(pts[i]).to_jacobian(),
              J::from_affine(pts[i]).dbl());
    EXPECT_TRUE(X::from_affine(pts[i]).add_affine(-pts[i]).is_infinity());
    EXPECT_EQ(a.add_affine(pts[i + 1]).to_jacobian(), aj.add_affine(pts[i + 1]));
  }
  EXPECT_TRUE(X::infinity().dbl().is_infinity());
  EXPECT_TRUE(X::dbl_affine(Affine<C>::infinity()).is_infinity());
  EXPECT_TRUE(X::infinity().to_jacobian().is_infinity());
  EXPECT_TRUE(X::infinity().to_affine().is_infinity());
}

TYPED_TEST(CurveTest, ScalarMulIsAHomomorphism) {
  using C = TypeParam;
  using J = Jacobian<C>;
  auto rng = testing::seeded_rng();
  J g = J::from_affine(generator<C>());
  for (int i = 0; i < 4; ++i) {
    Fr a = field_random<Fr>(rng), b = field_random<Fr>(rng);
    J pa = scalar_mul(g, a.to_canonical()), pb = scalar_mul(g, b.to_canonical());
    EXPECT_EQ(pa + pb, scalar_mul(g, (a + b).to_canonical()));
    EXPECT_EQ(scalar_mul(pa, b.to_canonical()), scalar_mul(g, (a * b).to_canonical()));
    EXPECT_TRUE(scalar_mul(pa, kR).is_infinity());
  }
  EXPECT_TRUE(scalar_mul(g, U256{}).is_infinity());
  EXPECT_EQ(scalar_mul(g, u256::from_u64(1)), g);
  EXPECT_TRUE(scalar_mul(J::infinity(), u256::from_u64(5)).is_infinity());
}

TYPED_TEST(CurveTest, BatchToAffineMatchesToAffine) {
  using C = TypeParam;
  using J = Jacobian<C>;
  auto rng = testing::seeded_rng();
  std::vector<J> in;
  in.push_back(J::infinity());
  for (int i = 0; i < 9; ++i) in.push_back(random_point<C>(rng));
  in.insert(in.begin() + 5, J::infinity());
  in.push_back(J::infinity());
  std::vector<Affine<C>> out(in.size());
  std::vector<typename C::Field> scratch(in.size());
  batch_to_affine(in.data(), out.data(), in.size(), scratch.data());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i], in[i].to_affine()) << i;
    EXPECT_EQ(out[i].is_infinity(), in[i].is_infinity()) << i;
  }
  // All infinity, and empty.
  std::vector<J> zeros(3, J::infinity());
  batch_to_affine(zeros.data(), out.data(), zeros.size(), scratch.data());
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(out[i].is_infinity());
  batch_to_affine(zeros.data(), out.data(), 0, scratch.data());
}

// ---- published multiples -------------------------------------------------------------------

// EIP-196 ecMul vectors (also in go-ethereum's bn256 tests and revm's precompile tests); each
// value was recomputed independently with textbook affine formulas before it was copied here.
TEST(PublishedMultiples, G1) {
  struct Case {
    const char *k, *x, *y;
  };
  const Case cases[] = {
      {"2", "1368015179489954701390400359078579693043519447331113978918064868415326638035",
       "9918110051302171585080402603319702774565515993150576347155970296011118125764"},
      {"3", "3353031288059533942658390886683067124040920775575537747144343083137631628272",
       "19321533766552368860946552437480515441416830039777911637913418824951667761761"},
      {"65", "21184532036463169063041779836861514142873086093180850953095098556309204188255",
       "16870949628445799017882714788639508275834535486794531840392367353784571921174"},
      {"10000000089",
       "4768044760451824005417871472283223457728569810854115125480649095031772328870",
       "21389337952468851259287213083493638952853622949895525580347877121675081015727"},
      // k = p and k = 2^256 - 1: scalars above r.
      {"21888242871839275222246405745257275088696311157297823662689037894645226208583",
       "7793429943220682609834519115512946233910458086191548249060013461061457526887",
       "16460968250425543446028981775631045522280113359306664586749259656855967130574"},
      {"115792089237316195423570985008687907853269984665640564039457584007913129639935",
       "21415159568991615317144600033915305503576371596506956373206836402282692989778",
       "8573070896319864868535933562264623076420652926303237982078693068147657243287"},
  };
  G1Jacobian g = G1Jacobian::from_affine(g1_generator());
  for (const Case& c : cases) {
    G1Affine want = g1_from_dec(c.x, c.y);
    EXPECT_TRUE(want.is_on_curve()) << c.k;
    EXPECT_EQ(scalar_mul(g, u256_from_decimal(c.k)).to_affine(), want) << c.k;
  }
  EXPECT_EQ(g.dbl().to_affine(), g1_from_dec(cases[0].x, cases[0].y));
  EXPECT_EQ(g.dbl().add_affine(g1_generator()).to_affine(), g1_from_dec(cases[1].x, cases[1].y));
}

// 2*G2 and 3*G2 as printed in BN254 libraries' tests (3*G2 is a common test verification key).
TEST(PublishedMultiples, G2) {
  const G2Affine two =
      g2_from_dec("18029695676650738226693292988307914797657423701064905010927197838374790804409",
                  "14583779054894525174450323658765874724019480979794335525732096752006891875705",
                  "2140229616977736810657479771656733941598412651537078903776637920509952744750",
                  "11474861747383700316476719153975578001603231366361248090558603872215261634898");
  const G2Affine three =
      g2_from_dec("2725019753478801796453339367788033689375851816420509565303521482350756874229",
                  "7273165102799931111715871471550377909735733521218303035754523677688038059653",
                  "2512659008974376214222774206987427162027254181373325676825515531566330959255",
                  "957874124722006818841961785324909313781880061366718538693995380805373202866");
  G2Jacobian g = G2Jacobian::from_affine(g2_generator());
  EXPECT_TRUE(two.is_on_curve());
  EXPECT_TRUE(three.is_on_curve());
  EXPECT_EQ(g.dbl().to_affine(), two);
  EXPECT_EQ(scalar_mul(g, u256::from_u64(2)).to_affine(), two);
  EXPECT_EQ(scalar_mul(g, u256::from_u64(3)).to_affine(), three);
  EXPECT_EQ(g.dbl().add_affine(g2_generator()).to_affine(), three);
  EXPECT_TRUE(scalar_mul(g, kR).is_infinity());
}

// ---- subgroups ------------------------------------------------------------------------------

TEST(Subgroup, PsiConstantsArePowersOfXi) {
  const Fq2 xi{Fq::from_u64(9), Fq::from_u64(1)};
  Mpz e3(Fq::P_MINUS_1), e2(Fq::P_MINUS_1);
  ASSERT_TRUE(mpz_divisible_ui_p(e3.v, 3));
  mpz_divexact_ui(e3.v, e3.v, 3);
  mpz_divexact_ui(e2.v, e2.v, 2);
  const Fq2 cx{Fq::from_canonical(bn254::kG2PsiXC0), Fq::from_canonical(bn254::kG2PsiXC1)};
  const Fq2 cy{Fq::from_canonical(bn254::kG2PsiYC0), Fq::from_canonical(bn254::kG2PsiYC1)};
  EXPECT_EQ(xi.pow(e3.to_u256()), cx);
  EXPECT_EQ(xi.pow(e2.to_u256()), cy);
  // The twist coefficient is 3 / xi.
  EXPECT_EQ(G2Curve::b() * xi, (Fq2{Fq::from_u64(3), Fq::zero()}));
}

// On G2, psi is multiplication by p, which is 6x^2 mod r.
TEST(Subgroup, PsiActsOnG2AsMultiplicationByP) {
  auto rng = testing::seeded_rng();
  Mpz six_x2(u256::from_u64(bn254::kBnX)), p_mod_r(kP), r(kR);
  mpz_mul(six_x2.v, six_x2.v, six_x2.v);
  mpz_mul_ui(six_x2.v, six_x2.v, 6);
  mpz_mod(p_mod_r.v, p_mod_r.v, r.v);
  ASSERT_EQ(mpz_cmp(six_x2.v, p_mod_r.v), 0);
  for (int i = 0; i < 3; ++i) {
    G2Jacobian q = random_point<G2Curve>(rng);
    G2Jacobian psi_q = g2_psi(q);
    EXPECT_TRUE(psi_q.is_on_curve());
    EXPECT_EQ(psi_q, scalar_mul(q, six_x2.to_u256()));
  }
  EXPECT_TRUE(g2_psi(G2Jacobian::infinity()).is_infinity());
  // On a point outside G2 psi is still an endomorphism of the twist, but not [p].
  G2Jacobian t = G2Jacobian::from_affine(hash_to_twist(rng));
  EXPECT_TRUE(g2_psi(t).is_on_curve());
  EXPECT_NE(g2_psi(t), scalar_mul(t, six_x2.to_u256()));
}

TEST(Subgroup, FastG2CheckAgreesWithSlowCheck) {
  auto rng = testing::seeded_rng();
  const U256 h = g2_cofactor();
  Mpz h_div(h);
  ASSERT_TRUE(mpz_divisible_ui_p(h_div.v, 10069));  // the smallest prime factor of h
  mpz_divexact_ui(h_div.v, h_div.v, 10069);
  const U256 h_over_10069 = h_div.to_u256();

  std::vector<std::pair<G2Affine, bool>> cases;  // point, expected membership
  cases.push_back({G2Affine::infinity(), true});
  cases.push_back({g2_generator(), true});
  cases.push_back({-g2_generator(), true});
  for (int i = 0; i < 4; ++i) {
    cases.push_back({random_point<G2Curve>(rng).to_affine(), true});
    G2Affine t = hash_to_twist(rng);
    cases.push_back({t, false});
    cases.push_back({-t, false});
    // Cofactor clearing puts a twist point into G2.
    cases.push_back({scalar_mul(G2Jacobian::from_affine(t), h).to_affine(), true});
    // A point of order 10069, alone and added to a G2 point: outside G2, with a small order.
    G2Jacobian small = scalar_mul(scalar_mul(G2Jacobian::from_affine(t), h_over_10069), kR);
    ASSERT_FALSE(small.is_infinity());
    ASSERT_TRUE(scalar_mul(small, u256::from_u64(10069)).is_infinity());
    cases.push_back({small.to_affine(), false});
    cases.push_back({small.add_affine(g2_generator()).to_affine(), false});
  }
  for (const auto& [q, in_g2] : cases) {
    ASSERT_TRUE(q.is_on_curve());
    EXPECT_EQ(g2_in_subgroup_slow(q), in_g2) << field_to_decimal(q.x.c0);
    EXPECT_EQ(g2_in_subgroup(q), in_g2) << field_to_decimal(q.x.c0);
  }
  // Off the curve: neither test reports membership.
  G2Affine off = g2_generator();
  off.y += Fq2::one();
  EXPECT_FALSE(g2_in_subgroup(off));
  EXPECT_FALSE(g2_in_subgroup_slow(off));
}

// E(Fq) has prime order r: a point hashed to the curve without any clearing has order r.
TEST(Subgroup, G1CofactorIsOne) {
  auto rng = testing::seeded_rng();
  for (int found = 0; found < 4;) {
    Fq x = field_random<Fq>(rng), y;
    if (!(x.sqr() * x + G1Curve::b()).sqrt(y)) continue;
    G1Affine p{x, y};
    EXPECT_TRUE(g1_in_subgroup(p));
    EXPECT_TRUE(scalar_mul(G1Jacobian::from_affine(p), kR).is_infinity());
    ++found;
  }
  EXPECT_FALSE(g1_in_subgroup(G1Affine{Fq::one(), Fq::one()}));
}

// ---- encodings: round trips -----------------------------------------------------------------

template <class C>
std::vector<Affine<C>> sample_points(std::mt19937_64& rng) {
  std::vector<Affine<C>> v = {Affine<C>::infinity(), generator<C>(), -generator<C>()};
  for (int i = 0; i < 8; ++i) v.push_back(random_point<C>(rng).to_affine());
  return v;
}

TYPED_TEST(CurveTest, UncompressedRoundTrip) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  std::vector<uint8_t> buf(kUncompressedBytes<C>);
  for (const auto& p : sample_points<C>(rng)) {
    for (FieldEncoding enc : {FieldEncoding::kMontgomery, FieldEncoding::kStandard}) {
      write_point<C>(buf, p, enc);
      EXPECT_EQ(read_point<C>(buf, enc), p);
      EXPECT_EQ(read_point<C>(buf, enc, PointCheck::kSkipSubgroup), p);
      bool all_zero = std::all_of(buf.begin(), buf.end(), [](uint8_t b) { return b == 0; });
      EXPECT_EQ(all_zero, p.is_infinity());
    }
  }
}

TYPED_TEST(CurveTest, CompressedRoundTrip) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  std::vector<uint8_t> buf(kCompressedBytes<C>);
  for (const auto& p : sample_points<C>(rng)) {
    write_point_compressed<C>(buf, p);
    EXPECT_EQ(read_point_compressed<C>(buf), p);
    // p and -p differ only in the flag bit.
    std::vector<uint8_t> neg(kCompressedBytes<C>);
    write_point_compressed<C>(neg, -p);
    if (!p.is_infinity()) {
      EXPECT_EQ(buf[0] ^ neg[0], kCompressedGreaterFlag);
      EXPECT_TRUE(std::equal(buf.begin() + 1, buf.end(), neg.begin() + 1));
    }
  }
}

TYPED_TEST(CurveTest, JsonRoundTrip) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  for (const auto& p : sample_points<C>(rng)) EXPECT_EQ(point_from_json<C>(point_to_json(p)), p);
}

// ---- encodings: fixed layouts ---------------------------------------------------------------

TEST(Encoding, G1Layouts) {
  uint8_t buf[64];
  write_point<G1Curve>(buf, g1_generator(), FieldEncoding::kStandard);
  uint8_t want[64] = {};
  want[0] = 1;
  want[32] = 2;
  EXPECT_EQ(std::memcmp(buf, want, 64), 0);
  write_point<G1Curve>(buf, g1_generator(), FieldEncoding::kMontgomery);
  uint8_t x_mont[32];
  field_to_mont_le_bytes(Fq::one(), x_mont);
  EXPECT_EQ(std::memcmp(buf, x_mont, 32), 0);
  EXPECT_EQ(point_to_json(g1_generator()), (G1Json{"1", "2", "1"}));
  EXPECT_EQ(point_to_json(G1Affine::infinity()), (G1Json{"0", "1", "0"}));
  EXPECT_EQ(point_to_json(G2Affine::infinity()), (G2Json{{{"0", "0"}, {"1", "0"}, {"0", "0"}}}));
}

// Encodings produced by ffjavascript 0.3.1 (toRprCompressed, toRprLEM, toObject) for [k]G.
struct FfjsVector {
  const char* k;
  const char* compressed;
  const char* lem;
};

template <class C>
void check_ffjs_vector(const FfjsVector& v) {
  SCOPED_TRACE(v.k);
  Affine<C> p =
      scalar_mul(Jacobian<C>::from_affine(generator<C>()), u256_from_decimal(v.k)).to_affine();
  std::vector<uint8_t> c(kCompressedBytes<C>), u(kUncompressedBytes<C>);
  write_point_compressed<C>(c, p);
  EXPECT_EQ(c, from_hex(v.compressed));
  write_point<C>(u, p, FieldEncoding::kMontgomery);
  EXPECT_EQ(u, from_hex(v.lem));
  EXPECT_EQ(read_point_compressed<C>(from_hex(v.compressed)), p);
  EXPECT_EQ(read_point<C>(from_hex(v.lem), FieldEncoding::kMontgomery), p);
}

TEST(Encoding, MatchesFfjavascriptG1) {
  const FfjsVector vs[] = {
      {"1", "0000000000000000000000000000000000000000000000000000000000000001",
       "9d0d8fc58d435dd33d0bc7f528eb780a2c4679786fa36e662fdf079ac1770a0e"
       "3a1b1e8b1b87baa67b168eeb51d6f114588cf2f0de46ddcc5ebe0f3483ef141c"},
      {"21888242871839275222246405745257275088548364400416034343698204186575808495616",  // r - 1
       "8000000000000000000000000000000000000000000000000000000000000001",
       "9d0d8fc58d435dd33d0bc7f528eb780a2c4679786fa36e662fdf079ac1770a0e"
       "0de25e4dfb04669511b4e37c3f948f8205cc8e90d7fe72ebcae121adef5e4f14"},
      {"3", "8769bf9ac56bea3ff40232bcb1b6bd159315d84715b8e679f2d355961915abf0",
       "a0118b244e1b839d7e4bf577068cf191d015dabf95eae50e3905c728f6baf010"
       "ea533698ea2315be1a9a627c17486ee84a212a6d8e9fcc51137975caf0254901"},
      {"123456789", "142a7688cf05c29f7593351e1b86eb87e3ad5dcb1b0fc3d853e9852040c57019",
       "5a5cbae04b00e4c621f6f11e175dfb22f9608581e4a8ff5a70cecbbb856eed21"
       "58a239f2f670e7023834d994430ec4d16e5d46b7785b55c9e2108b3904567611"},
      {"0", "4000000000000000000000000000000000000000000000000000000000000000",
       "0000000000000000000000000000000000000000000000000000000000000000"
       "0000000000000000000000000000000000000000000000000000000000000000"},
  };
  for (const auto& v : vs) check_ffjs_vector<G1Curve>(v);
  G1Json want{"9121282642809701931333593728297233225556711250127745709186816755779879923737",
              "8783642022119951289582979607207867126556038468480503109520224385365741455513", "1"};
  EXPECT_EQ(
      point_to_json(scalar_mul(G1Jacobian::from_affine(g1_generator()), u256::from_u64(123456789))
                        .to_affine()),
      want);
}

TEST(Encoding, MatchesFfjavascriptG2) {
  const FfjsVector vs[] = {
      {"1",
       "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
       "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed",
       "2620bc02d1b5838e72017b493519ebdcdf1a81974726b8fb3b5096af41385719"
       "40614ca87d73b4afc4d802585add4360862fa052fc50e9096b7bea3a83f0fe14"
       "f6e96b889dfa9d61789b9ef597d27ffefe7d1b23621a9eff06429eaeeb7efd28"
       "ee5618c7565b0964bb3c7d3222f957dc76103533be35f9558264fd93e6a0a40d"},
      {"21888242871839275222246405745257275088548364400416034343698204186575808495616",  // r - 1
       "998e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
       "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed",
       "2620bc02d1b5838e72017b493519ebdcdf1a81974726b8fb3b5096af41385719"
       "40614ca87d73b4afc4d802585add4360862fa052fc50e9096b7bea3a83f0fe14"
       "51131150799182da142fd372f99701995eda655e542bb2b8225e933287cf6607"
       "59a66411c03017d8d18df4356f7129bbe6474c4ef80f5762a73b344d8cadbf22"},
      {"3",
       "1014772f57bb9742735191cd5dcfe4ebbc04156b6878a0a7c9824f32ffb66e85"
       "06064e784db10e9051e52826e192715e8d7e478cb09a5e0012defa0694fbc7f5",
       "35c7a7cda3608e729694f2a32c7cd1f140e1d031c1e9e4eab12b94a0f9295a0f"
       "877ede7c927b2981de53ec9e32e0a266472619522f91b0483f73de0393bfcb11"
       "fc2869d3af8090a7c17381030de434678f26317c81e585ff2ed4294b4f7f0011"
       "d623f7b167c7204beaa11736b4c0254e07eb00549a5e96fb4b185a2096cb2c01"},
      {"123456789",
       "9c15df6dc9bd529991343f0a78d9a0d355b1b648567c7ee58d02664c8e2d4631"
       "00506c3def7620270716e18bfc554f9f5380ce2b3b425f0a6625d73afb204fff",
       "bc2fae3f6fd636dd15e622771a39ac20c658d938ddd163924367d540223ced17"
       "aae8d5a154acf6e958972afa202f569905590ef64df8090f4444dea3aa8a3703"
       "4ed85b16affbaec7f404d83fe95275231cf70f99f41f4d049dd6a1f9e5966f2f"
       "d40c07394bf91fcae8c2980c0adbb844ecb4c1dac77784f327f1788a49488f07"},
  };
  for (const auto& v : vs) check_ffjs_vector<G2Curve>(v);
  G2Json want{{{"142094823562702583669092464225103219873886198373818886253774429994499461119",
                "12703405598006979409108671416960902338538868397248453921759384556929622558257"},
               {"10504771741599673449168779439288281645955231116910341346670256599842843491846",
                "21792722069934396490667258760160363541978805696356802531479377933366930348185"},
               {"1", "0"}}};
  EXPECT_EQ(
      point_to_json(scalar_mul(G2Jacobian::from_affine(g2_generator()), u256::from_u64(123456789))
                        .to_affine()),
      want);
  std::vector<uint8_t> inf(64);
  write_point_compressed<G2Curve>(inf, G2Affine::infinity());
  EXPECT_EQ(inf[0], 0x40);
  EXPECT_TRUE(std::all_of(inf.begin() + 1, inf.end(), [](uint8_t b) { return b == 0; }));
}

// ---- encodings: rejection -------------------------------------------------------------------

TEST(Encoding, RejectsWrongSizes) {
  std::vector<uint8_t> b(200);
  auto span = [&](size_t n) { return std::span<const uint8_t>(b.data(), n); };
  for (size_t n : {0, 32, 63, 65}) {
    expect_invalid([&] { read_point<G1Curve>(span(n), FieldEncoding::kMontgomery); },
                   {"G1 point needs 64 bytes, got " + std::to_string(n)});
  }
  for (size_t n : {64, 127, 129})
    expect_invalid([&] { read_point<G2Curve>(span(n), FieldEncoding::kStandard); },
                   {"G2 point needs 128 bytes"});
  for (size_t n : {0, 31, 33})
    expect_invalid([&] { read_point_compressed<G1Curve>(span(n)); },
                   {"G1 compressed point needs 32 bytes"});
  for (size_t n : {32, 63, 65})
    expect_invalid([&] { read_point_compressed<G2Curve>(span(n)); },
                   {"G2 compressed point needs 64 bytes"});
  expect_invalid(
      [&] {
        write_point<G1Curve>(std::span<uint8_t>(b.data(), 63), g1_generator(),
                             FieldEncoding::kStandard);
      },
      {"output buffer needs 64 bytes"});
  expect_invalid(
      [&] { write_point_compressed<G2Curve>(std::span<uint8_t>(b.data(), 128), g2_generator()); },
      {"output buffer needs 64 bytes"});
}

TEST(Encoding, RejectsCoordinatesNotBelowP) {
  uint8_t pbytes[32];
  u256_to_le_bytes(kP, pbytes);
  for (FieldEncoding enc : {FieldEncoding::kMontgomery, FieldEncoding::kStandard}) {
    uint8_t g1[64];
    write_point<G1Curve>(g1, g1_generator(), enc);
    std::memcpy(g1, pbytes, 32);
    expect_invalid([&] { read_point<G1Curve>(g1, enc); },
                   {"G1 point x:", "not below the field modulus"});
    write_point<G1Curve>(g1, g1_generator(), enc);
    std::memset(g1 + 32, 0xff, 32);
    expect_invalid([&] { read_point<G1Curve>(g1, enc); },
                   {"G1 point y:", "not below the field modulus"});

    uint8_t g2[128];
    write_point<G2Curve>(g2, g2_generator(), enc);
    std::memcpy(g2 + 32, pbytes, 32);
    expect_invalid([&] { read_point<G2Curve>(g2, enc); }, {"G2 point x.c1:", "not below"});
    write_point<G2Curve>(g2, g2_generator(), enc);
    std::memcpy(g2 + 64, pbytes, 32);
    expect_invalid([&] { read_point<G2Curve>(g2, enc); }, {"G2 point y.c0:", "not below"});
  }
}

TEST(Encoding, RejectsPointsOffTheCurve) {
  uint8_t g1[64];
  write_point<G1Curve>(g1, G1Affine{Fq::one(), Fq::from_u64(3)}, FieldEncoding::kStandard);
  expect_invalid([&] { read_point<G1Curve>(g1, FieldEncoding::kStandard); },
                 {"G1 point is not on the curve"});
  // A Montgomery-form key read as standard form fails the curve check, not silently.
  write_point<G1Curve>(g1, g1_generator(), FieldEncoding::kMontgomery);
  expect_invalid([&] { read_point<G1Curve>(g1, FieldEncoding::kStandard); }, {"not on the curve"});

  G2Affine off = g2_generator();
  off.y.c0 += Fq::one();
  uint8_t g2[128];
  write_point<G2Curve>(g2, off, FieldEncoding::kMontgomery);
  expect_invalid(
      [&] { read_point<G2Curve>(g2, FieldEncoding::kMontgomery, PointCheck::kSkipSubgroup); },
      {"G2 point is not on the curve"});
}

TEST(Encoding, RejectsG2PointsOutsideTheSubgroup) {
  auto rng = testing::seeded_rng();
  G2Affine t = hash_to_twist(rng);
  ASSERT_FALSE(g2_in_subgroup_slow(t));
  uint8_t u[128], c[64];
  write_point<G2Curve>(u, t, FieldEncoding::kMontgomery);
  write_point_compressed<G2Curve>(c, t);
  G2Json j = point_to_json(t);
  const char* msg = "G2 point not in the prime-order subgroup";
  expect_invalid([&] { read_point<G2Curve>(u, FieldEncoding::kMontgomery); }, {msg});
  expect_invalid([&] { read_point_compressed<G2Curve>(c); },
                 {"G2 compressed point not in the prime-order subgroup"});
  expect_invalid([&] { point_from_json<G2Curve>(j); }, {msg});
  // Trusted input: the caller skips the subgroup test and gets the point back.
  EXPECT_EQ(read_point<G2Curve>(u, FieldEncoding::kMontgomery, PointCheck::kSkipSubgroup), t);
  EXPECT_EQ(read_point_compressed<G2Curve>(c, PointCheck::kSkipSubgroup), t);
  EXPECT_EQ(point_from_json<G2Curve>(j, PointCheck::kSkipSubgroup), t);
}

TEST(Encoding, RejectsBadCompressedInput) {
  auto rng = testing::seeded_rng();
  uint8_t c[32];
  write_point_compressed<G1Curve>(c, g1_generator());
  // Infinity flag together with other bits.
  uint8_t bad[32];
  std::memcpy(bad, c, 32);
  bad[0] |= 0x40;
  expect_invalid([&] { read_point_compressed<G1Curve>(bad); },
                 {"G1 compressed point: invalid flags"});
  uint8_t both[32] = {0xc0};
  expect_invalid([&] { read_point_compressed<G1Curve>(both); }, {"invalid flags"});
  uint8_t inf_tail[32] = {0x40};
  inf_tail[31] = 1;
  expect_invalid([&] { read_point_compressed<G1Curve>(inf_tail); }, {"invalid flags"});
  uint8_t inf_g2[64] = {0x40};
  inf_g2[40] = 7;
  expect_invalid([&] { read_point_compressed<G2Curve>(inf_g2); },
                 {"G2 compressed point: invalid flags"});

  // x >= p once the flag bits are masked off.
  uint8_t big[32];
  std::memset(big, 0xff, 32);
  big[0] = 0x3f;
  expect_invalid([&] { read_point_compressed<G1Curve>(big); },
                 {"G1 compressed point x:", "not below"});
  uint8_t big2[64] = {};
  std::memset(big2 + 32, 0xff, 32);  // x.c0 = 2^256 - 1
  expect_invalid([&] { read_point_compressed<G2Curve>(big2); },
                 {"G2 compressed point x.c0:", "not below"});

  // x with x^3 + b not a square: x = 0 for G1 (3 is not a square mod p); all zero bytes are
  // not the point at infinity in this form.
  uint8_t zero[32] = {};
  expect_invalid([&] { read_point_compressed<G1Curve>(zero); },
                 {"x is not the x-coordinate of a curve point"});
  for (int found = 0; found < 3;) {
    Fq2 x = random_fq2(rng), y;
    if ((x.sqr() * x + G2Curve::b()).sqrt(y)) continue;
    uint8_t buf[64];
    write_point_compressed<G2Curve>(buf, G2Affine{x, Fq2::one()});  // y only sets the flag
    expect_invalid([&] { read_point_compressed<G2Curve>(buf); }, {"x is not the x-coordinate"});
    ++found;
  }
}

TEST(Encoding, RejectsBadJson) {
  expect_invalid([] { point_from_json<G1Curve>({"1", "2", "2"}); }, {"G1 point: z must be 1"});
  expect_invalid(
      [] {
        point_from_json<G1Curve>({"1", "2a", "1"});
      },
      {"G1 point y:", "invalid decimal digit"});
  expect_invalid([] { point_from_json<G1Curve>({"", "2", "1"}); }, {"G1 point x:"});
  expect_invalid(
      [] {
        point_from_json<G1Curve>({u256_to_decimal(kP), "2", "1"});
      },
      {"G1 point x:", "not below the field modulus"});
  expect_invalid(
      [] {
        point_from_json<G1Curve>({"1", "3", "1"});
      },
      {"G1 point is not on the curve"});
  // (0, 0) is how memory stores infinity; written as a finite point it is off the curve.
  expect_invalid([] { point_from_json<G1Curve>({"0", "0", "1"}); }, {"not on the curve"});
  expect_invalid(
      [] {
        point_from_json<G1Curve>({"1", "2", "0"});
      },
      {"G1 point at infinity must be written"});
  EXPECT_TRUE(point_from_json<G1Curve>({"0", "1", "0"}).is_infinity());

  G2Json g = point_to_json(g2_generator());
  G2Json z = g;
  z[2] = {"1", "1"};
  expect_invalid([&] { point_from_json<G2Curve>(z); }, {"G2 point: z must be 1"});
  G2Json c = g;
  c[0][1] = u256_to_decimal(kP);
  expect_invalid([&] { point_from_json<G2Curve>(c); }, {"G2 point x.c1:", "not below"});
  G2Json swapped = g;  // c0 and c1 exchanged: the EIP-197 order, not snarkjs's
  std::swap(swapped[0][0], swapped[0][1]);
  std::swap(swapped[1][0], swapped[1][1]);
  expect_invalid([&] { point_from_json<G2Curve>(swapped); }, {"G2 point is not on the curve"});
  EXPECT_TRUE(point_from_json<G2Curve>({{{"0", "0"}, {"1", "0"}, {"0", "0"}}}).is_infinity());
  expect_invalid(
      [] {
        point_from_json<G2Curve>({{{"0", "0"}, {"0", "0"}, {"0", "0"}}});
      },
      {"G2 point at infinity must be written"});
}

}  // namespace
}  // namespace zkinfer
