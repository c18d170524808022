// Fr and Fq against GMP, an independent big-integer implementation.
#include <gmp.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/mpz.h"
#include "../support/seed.h"
#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/ff/fq2.h"

namespace zkinfer {
namespace {

using testing::Mpz;

template <class F>
class FieldVsGmp : public ::testing::Test {
 protected:
  Mpz p{F::MOD};

  // Random values plus the edge cases 0, 1, 2, p-1, p-2.
  std::vector<F> samples(std::mt19937_64& rng, int n) {
    std::vector<F> xs = {F::zero(), F::one(), F::from_u64(2), -F::one(), -F::from_u64(2)};
    for (int i = 0; i < n; ++i) xs.push_back(field_random<F>(rng));
    return xs;
  }
  U256 ref(void (*op)(mpz_ptr, mpz_srcptr, mpz_srcptr), const F& a, const F& b) {
    Mpz x(a.to_canonical()), y(b.to_canonical()), r;
    op(r.v, x.v, y.v);
    mpz_mod(r.v, r.v, p.v);
    return r.to_u256();
  }
};

using FieldTypes = ::testing::Types<Fr, Fq>;
TYPED_TEST_SUITE(FieldVsGmp, FieldTypes);

TYPED_TEST(FieldVsGmp, ModulusAndMontgomeryConstants) {
  using F = TypeParam;
  Mpz r2, two;
  mpz_set_ui(two.v, 2);
  mpz_powm_ui(r2.v, two.v, 512, this->p.v);
  EXPECT_EQ(F::R2, r2.to_u256());
  Mpz r1;
  mpz_powm_ui(r1.v, two.v, 256, this->p.v);
  EXPECT_EQ(F::one().mont(), r1.to_u256());
  EXPECT_GE(mpz_probab_prime_p(this->p.v, 30), 1);
}

TYPED_TEST(FieldVsGmp, AddSubMulMatchGmp) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  auto xs = this->samples(rng, 200);
  for (size_t i = 0; i < xs.size(); ++i) {
    const F& a = xs[i];
    const F& b = xs[(i * 7 + 3) % xs.size()];
    ASSERT_EQ((a + b).to_canonical(), this->ref(mpz_add, a, b)) << field_to_decimal(a);
    ASSERT_EQ((a - b).to_canonical(), this->ref(mpz_sub, a, b)) << field_to_decimal(a);
    ASSERT_EQ((a * b).to_canonical(), this->ref(mpz_mul, a, b)) << field_to_decimal(a);
    ASSERT_EQ(a.sqr(), a * a);
    ASSERT_EQ(a.dbl(), a + a);
    ASSERT_EQ((-a + a), F::zero());
  }
}

TYPED_TEST(FieldVsGmp, InverseAndPowMatchGmp) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  for (const F& a : this->samples(rng, 50)) {
    Mpz x(a.to_canonical()), r;
    if (a.is_zero()) {
      EXPECT_TRUE(a.inverse().is_zero());
      continue;
    }
    ASSERT_NE(mpz_invert(r.v, x.v, this->p.v), 0);
    ASSERT_EQ(a.inverse().to_canonical(), r.to_u256());
    ASSERT_EQ(a * a.inverse(), F::one());

    U256 e{{rng(), rng(), rng(), rng()}};
    Mpz em(e), pr;
    mpz_powm(pr.v, x.v, em.v, this->p.v);
    ASSERT_EQ(a.pow(e).to_canonical(), pr.to_u256());
  }
}

TYPED_TEST(FieldVsGmp, SqrtAndLegendreMatchGmp) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  int squares = 0, non_squares = 0;
  for (const F& a : this->samples(rng, 60)) {
    Mpz x(a.to_canonical());
    int jac = mpz_legendre(x.v, this->p.v);
    ASSERT_EQ(a.legendre(), jac);
    F s;
    bool ok = a.sqrt(s);
    ASSERT_EQ(ok, jac >= 0);
    if (ok) {
      ASSERT_EQ(s.sqr(), a);
      ++squares;
    } else {
      ++non_squares;
    }
    F sq = a.sqr();
    ASSERT_TRUE(sq.sqrt(s));
    ASSERT_TRUE(s == a || s == -a);
  }
  EXPECT_GT(squares, 0);
  EXPECT_GT(non_squares, 0);
}

TYPED_TEST(FieldVsGmp, BatchInverse) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  std::vector<F> xs = this->samples(rng, 37), scratch(xs.size());
  xs.push_back(F::zero());
  scratch.resize(xs.size());
  std::vector<F> inv = xs;
  batch_inverse(inv.data(), inv.size(), scratch.data());
  for (size_t i = 0; i < xs.size(); ++i) ASSERT_EQ(inv[i], xs[i].inverse()) << i;
}

// Integers below p that are hard or unusual for a gcd: 0, 1, 2, p-1, p-2, (p-1)/2, (p+1)/2,
// small values, powers of two and p minus them (long runs of zeros, runs of ones below p), runs
// of ones 2^k - 1 and shifted runs, alternating bit patterns, limb-boundary values (2^62k: a
// whole 62-divstep batch of halvings), consecutive Fibonacci numbers (Euclid's worst case), and
// p mod 2^k and p >> k: the first agrees with f = p in its k low bits, so g - f starts with a run
// of k zeros, across batch boundaries.
template <class F>
std::vector<U256> gcd_stress_values() {
  const U256 p = F::MOD;
  auto below_p = [&](const U256& a) { return u256::less(a, p); };
  auto pow2 = [](unsigned k) {
    U256 a{};
    a.w[k / 64] = uint64_t{1} << (k % 64);
    return a;
  };
  auto sub = [](const U256& a, const U256& b) {
    uint64_t br = 0;
    return u256::sub(a, b, br);
  };
  auto add = [](const U256& a, const U256& b) {
    uint64_t c = 0;
    return u256::add(a, b, c);
  };
  std::vector<U256> v;
  for (uint64_t k = 0; k <= 300; ++k) {
    v.push_back(u256::from_u64(k));
    if (k > 0) v.push_back(sub(p, u256::from_u64(k)));
  }
  v.push_back(F::P_MINUS_1_HALF);
  v.push_back(add(F::P_MINUS_1_HALF, u256::from_u64(1)));
  for (unsigned k = 0; k < F::BITS; ++k) {
    U256 two_k = pow2(k);
    if (!below_p(two_k)) continue;
    v.push_back(two_k);
    v.push_back(sub(p, two_k));
    if (k > 0) {
      U256 ones = sub(two_k, u256::from_u64(1));  // k ones
      v.push_back(ones);
      v.push_back(sub(p, ones));
    }
    // k ones followed by as many zeros as fit, and ones from bit k up to the top bit.
    for (unsigned j = 1; j + k < F::BITS; j += 37) {
      U256 shifted{};
      for (unsigned b = j; b < j + k; ++b) shifted.w[b / 64] |= uint64_t{1} << (b % 64);
      if (below_p(shifted)) v.push_back(shifted);
    }
    U256 top_ones{};
    for (unsigned b = k; b + 1 < F::BITS; ++b) top_ones.w[b / 64] |= uint64_t{1} << (b % 64);
    if (below_p(top_ones)) v.push_back(top_ones);
    U256 p_low = p;  // p mod 2^k
    for (unsigned b = k; b < 256; ++b) p_low.w[b / 64] &= ~(uint64_t{1} << (b % 64));
    v.push_back(p_low);
    v.push_back(u256::shr(p, k + 1));
  }
  for (uint64_t pattern : {0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull, 0x3333333333333333ull,
                           0xf0f0f0f0f0f0f0f0ull, 0x8000000000000001ull, 0xffffffffffffffffull}) {
    for (unsigned drop : {0u, 1u, 2u, 8u, 30u, 61u}) {  // top bits cleared
      U256 a{{pattern, pattern, pattern, pattern}};
      a.w[3] &= ((uint64_t{1} << (F::BITS - 192)) - 1) >> drop;
      if (below_p(a)) v.push_back(a);
    }
  }
  for (unsigned k : {62u, 124u, 186u, 248u}) {
    v.push_back(pow2(k));
    v.push_back(add(pow2(k), u256::from_u64(1)));
    v.push_back(sub(pow2(k), u256::from_u64(1)));
    v.push_back(add(pow2(k), pow2(k - 62)));
  }
  U256 a = u256::from_u64(0), b = u256::from_u64(1);
  for (;;) {
    U256 c = add(a, b);
    if (!below_p(c)) break;
    v.push_back(c);
    a = b;
    b = c;
  }
  return v;
}

TYPED_TEST(FieldVsGmp, InverseVartimeMatchesGmpAndFermat) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  std::vector<F> xs = this->samples(rng, 5000);
  // Every stress value both as the element (canonical) and as its Montgomery word: the
  // algorithm runs on the Montgomery representation, so the second form puts the pattern
  // itself through the divsteps.
  for (const U256& v : gcd_stress_values<F>()) {
    xs.push_back(F::from_canonical(v));
    xs.push_back(F::from_mont(v));
  }
  size_t checked = 0;
  for (const F& a : xs) {
    const F inv = a.inverse_vartime();
    ASSERT_EQ(inv, a.inverse()) << field_to_decimal(a);
    if (a.is_zero()) {
      ASSERT_TRUE(inv.is_zero());
      continue;
    }
    Mpz x(a.to_canonical()), r;
    ASSERT_NE(mpz_invert(r.v, x.v, this->p.v), 0);
    ASSERT_EQ(inv.to_canonical(), r.to_u256()) << field_to_decimal(a);
    ASSERT_EQ(a * inv, F::one()) << field_to_decimal(a);
    ++checked;
  }
  EXPECT_GT(checked, 5000u);
}

// The plain safegcd core (no Montgomery form): c / x mod p against GMP.
TYPED_TEST(FieldVsGmp, SafegcdCoreMatchesGmp) {
  using F = TypeParam;
  using P = typename F::Params;
  auto rng = testing::seeded_rng();
  std::vector<U256> xs = gcd_stress_values<F>();
  for (int i = 0; i < 1000; ++i) xs.push_back(field_random<F>(rng).mont());
  const U256 c_values[] = {u256::from_u64(1), F::R2, F::P_MINUS_1,
                           field_random<F>(rng).to_canonical()};
  for (const U256& c : c_values) {
    const safegcd::S62 c62 = safegcd::to_s62(c);
    ASSERT_EQ(safegcd::from_s62(c62), c);
    Mpz cm(c);
    for (const U256& x : xs) {
      U256 got = safegcd::inverse_vartime<P>(x, c62);
      if (x.is_zero()) {
        ASSERT_TRUE(got.is_zero());
        continue;
      }
      Mpz xm(x), r;
      ASSERT_NE(mpz_invert(r.v, xm.v, this->p.v), 0);
      mpz_mul(r.v, r.v, cm.v);
      mpz_mod(r.v, r.v, this->p.v);
      ASSERT_EQ(got, r.to_u256()) << u256_to_decimal(x) << " c=" << u256_to_decimal(c);
    }
  }
}

TYPED_TEST(FieldVsGmp, InverseVartimeInConstantEvaluation) {
  using F = TypeParam;
  // Constant evaluation takes inverse(); the safegcd core is constexpr as well.
  constexpr F three = F::from_u64(3);
  constexpr F inv = three.inverse_vartime();
  static_assert(inv * three == F::one());
  constexpr U256 core =
      safegcd::inverse_vartime<typename F::Params>(three.mont(), safegcd::to_s62(F::R2));
  static_assert(core == inv.mont());
  EXPECT_EQ(inv, three.inverse());
}

TEST(Fq2Inverse, VartimeMatchesFermat) {
  auto rng = testing::seeded_rng();
  EXPECT_TRUE(Fq2::zero().inverse_vartime().is_zero());
  EXPECT_EQ(Fq2::one().inverse_vartime(), Fq2::one());
  std::vector<Fq2> xs = {Fq2{Fq::zero(), Fq::one()}, Fq2{Fq::from_u64(9), Fq::one()},
                         Fq2{-Fq::one(), Fq::zero()}};
  for (int i = 0; i < 500; ++i) {
    Fq r0 = field_random<Fq>(rng), r1 = field_random<Fq>(rng);
    xs.push_back(Fq2{r0, r1});
    xs.push_back(Fq2{r0, Fq::zero()});
    xs.push_back(Fq2{Fq::zero(), r1});
  }
  for (const Fq2& x : xs) {
    const Fq2 inv = x.inverse_vartime();
    ASSERT_EQ(x * inv, Fq2::one()) << field_to_decimal(x.c0) << " " << field_to_decimal(x.c1);
    ASSERT_EQ(inv, x.inverse());
  }
}

TYPED_TEST(FieldVsGmp, BytesAndDecimalRoundTrip) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  uint8_t buf[32];
  for (const F& a : this->samples(rng, 20)) {
    field_to_le_bytes(a, buf);
    EXPECT_EQ(field_from_le_bytes<F>(buf), a);
    field_to_mont_le_bytes(a, buf);
    EXPECT_EQ(field_from_mont_le_bytes<F>(buf), a);
    std::string d = field_to_decimal(a);
    Mpz m(d.c_str());
    EXPECT_EQ(m.to_u256(), a.to_canonical());
    EXPECT_EQ(field_from_decimal<F>(d), a);
  }
}

TYPED_TEST(FieldVsGmp, ParsingRefusesValuesAtOrAboveModulus) {
  using F = TypeParam;
  uint8_t buf[32];
  u256_to_le_bytes(F::MOD, buf);
  EXPECT_THROW(field_from_le_bytes<F>(buf), std::invalid_argument);
  EXPECT_THROW(field_from_mont_le_bytes<F>(buf), std::invalid_argument);
  std::memset(buf, 0xff, 32);
  EXPECT_THROW(field_from_le_bytes<F>(buf), std::invalid_argument);
  std::string p = u256_to_decimal(F::MOD);
  EXPECT_THROW(field_from_decimal<F>(p), std::invalid_argument);
  EXPECT_THROW(field_from_decimal<F>("12a"), std::invalid_argument);
  EXPECT_THROW(field_from_decimal<F>(""), std::invalid_argument);
  EXPECT_THROW(field_from_decimal<F>(std::string(90, '9')), std::invalid_argument);
  try {
    field_from_decimal<F>(p);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("not below the field modulus"), std::string::npos);
  }
  // p - 1 is accepted.
  EXPECT_EQ(field_from_decimal<F>(field_to_decimal(-F::one())), -F::one());
}

TEST(FrRootsOfUnity, TwoAdicRootHasExactOrder) {
  constexpr U256 w_mont = FpConsts<bn254::FrParams>::nonresidue_t;
  Fr w = Fr::from_mont(w_mont);
  EXPECT_EQ(Fr::S, 28u);
  Fr x = w;
  for (unsigned i = 0; i < 27; ++i) x = x.sqr();
  EXPECT_EQ(x, -Fr::one());  // order exactly 2^28
  // The value snarkjs and arkworks use.
  EXPECT_EQ(field_to_decimal(w),
            "19103219067921713944291392827692070036145651957329286315305642004821462161904");
}

}  // namespace
}  // namespace zkinfer
