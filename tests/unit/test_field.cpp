// Fr and Fq against GMP, an independent big-integer implementation.
#include <gmp.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/mpz.h"
#include "../support/seed.h"
#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/fp_io.h"

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
