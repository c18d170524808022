// Montgomery products on five 52-bit limbs in doubles (mont52.h), run on the host with the same
// FP64 operations the device uses, against GMP. Needs no GPU: IEEE-754 fused multiply-adds round
// the same on both, and the one the host cannot do directly (rounding down) is checked against
// the FPU's own rounding mode below.
#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <vector>

#include "../support/mpz.h"
#include "../support/seed.h"
#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/fp52.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/ff/mont52.h"

namespace zkinfer {
namespace {

using testing::Mpz;
using u128 = unsigned __int128;

// The FPU's fma under round-toward-minus-infinity; volatile keeps the compiler from moving the
// operation across the mode switches.
double fpu_fma_rd(double a, double b, double c) {
  volatile double va = a, vb = b, vc = c;
  std::fesetround(FE_DOWNWARD);
  volatile double r = std::fma(va, vb, vc);
  std::fesetround(FE_TONEAREST);
  return r;
}

constexpr uint64_t kMax52 = mont52::kLimbMask;

// Limb values that stress the split: the ends of the range and values around powers of two.
std::vector<uint64_t> edge_limbs() {
  std::vector<uint64_t> v{0, 1, 2, 3, kMax52, kMax52 - 1, uint64_t{1} << 51, (uint64_t{1} << 51) - 1,
                          (uint64_t{1} << 51) + 1, uint64_t{1} << 26, (uint64_t{1} << 26) + 1,
                          0xAAAAAAAAAAAAAull, 0x5555555555555ull};
  return v;
}

TEST(Mont52, FmaRoundDownMatchesTheFpu) {
  auto rng = testing::seeded_rng();
  std::vector<uint64_t> limbs = edge_limbs();
  for (int i = 0; i < 200; ++i) limbs.push_back(rng() & kMax52);
  const double cs[] = {mont52::kTwo104, mont52::kTwo104Plus52, 0.0, 1.0, std::ldexp(1.0, 80)};
  int checked = 0;
  for (uint64_t a : limbs) {
    for (uint64_t b : limbs) {
      for (double c : cs) {
        const double want = fpu_fma_rd(double(a), double(b), c);
        const double got = mont52::fma_rd_host(double(a), double(b), c);
        ASSERT_EQ(mont52::bits(got), mont52::bits(want)) << a << " * " << b << " + " << c;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 40000);
}

TEST(Mont52, SplitProductIsExact) {
  auto rng = testing::seeded_rng();
  std::vector<uint64_t> limbs = edge_limbs();
  for (int i = 0; i < 300; ++i) limbs.push_back(rng() & kMax52);
  for (int i = 0; i < 50; ++i) limbs.push_back(kMax52 - (rng() & 0xffff));
  for (uint64_t a : limbs) {
    for (uint64_t b : limbs) {
      uint64_t hb, lb;
      mont52::split_product(double(a), double(b), hb, lb);
      const uint64_t hi = hb - mont52::kBitsTwo104, lo = lb - mont52::kBitsTwo52;
      ASSERT_LT(hi, uint64_t{1} << 52) << a << " * " << b;
      ASSERT_LT(lo, uint64_t{1} << 52) << a << " * " << b;
      ASSERT_TRUE((u128(hi) << 52) + lo == u128(a) * b) << a << " * " << b;
    }
  }
}

// A 256-bit value as five limbs in doubles (no change of Montgomery form).
void limbs_of(double r[5], const U256& x) {
  for (int i = 0; i < 5; ++i) r[i] = double(mont52::limb_of(x.w, i));
}
U256 value_of(const double a[5]) {
  uint64_t l[5], w[4];
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(a[i], std::floor(a[i]));
    EXPECT_GE(a[i], 0.0);
    EXPECT_LT(a[i], mont52::kTwo52);
    l[i] = uint64_t(a[i]);
  }
  EXPECT_LT(l[4], uint64_t{1} << 48) << "value at or above 2^256";
  mont52::join_limbs(w, l);
  return U256{{w[0], w[1], w[2], w[3]}};
}

// Values below 2^256 (the inputs mul takes): ends of the range, multiples of p, limb patterns.
template <class F>
std::vector<U256> edge_values(std::mt19937_64& rng) {
  const U256 p = F::MOD;
  uint64_t borrow = 0, carry = 0;
  const U256 one{{1, 0, 0, 0}};
  const U256 pm1 = u256::sub(p, one, borrow);
  const U256 twop = u256::add(p, p, carry);
  const U256 twopm1 = u256::sub(twop, one, borrow);
  const U256 all{{~0ull, ~0ull, ~0ull, ~0ull}};
  std::vector<U256> v{U256{}, one, pm1, p, twopm1, twop, all, U256{{0, 0, 0, uint64_t{1} << 63}},
                      U256{{~0ull, 0, ~0ull, 0}}, U256{{0, ~0ull, 0, ~0ull}}};
  // Every limb all ones or zero (the top limb holds 48 bits below 2^256).
  for (int mask = 0; mask < 32; ++mask) {
    uint64_t l[5];
    for (int i = 0; i < 5; ++i) l[i] = (mask >> i & 1) ? (i == 4 ? (uint64_t{1} << 48) - 1 : kMax52) : 0;
    uint64_t w[4];
    mont52::join_limbs(w, l);
    v.push_back(U256{{w[0], w[1], w[2], w[3]}});
  }
  for (int i = 0; i < 8; ++i) v.push_back(U256{{rng(), rng(), rng(), rng()}});
  return v;
}

template <class F>
void check_mul(const U256& a, const U256& b) {
  double x[5], y[5], r[5];
  limbs_of(x, a);
  limbs_of(y, b);
  mont52::mul<typename F::Params>(r, x, y);
  const U256 got = value_of(r);

  // want: a b 2^-260 mod p; bound: got < a b / 2^260 + p, i.e. got 2^260 < a b + p 2^260.
  Mpz ma(a), mb(b), mp(F::MOD), mg(got), t, rinv, bound, scaled;
  mpz_mul(t.v, ma.v, mb.v);
  mpz_set_ui(rinv.v, 1);
  mpz_mul_2exp(rinv.v, rinv.v, 260);
  ASSERT_NE(mpz_invert(rinv.v, rinv.v, mp.v), 0);
  mpz_mul_2exp(bound.v, mp.v, 260);
  mpz_add(bound.v, bound.v, t.v);
  mpz_mul_2exp(scaled.v, mg.v, 260);
  mpz_mul(t.v, t.v, rinv.v);
  mpz_mod(t.v, t.v, mp.v);
  Mpz gm;
  mpz_mod(gm.v, mg.v, mp.v);
  ASSERT_EQ(mpz_cmp(gm.v, t.v), 0) << "a b 2^-260 mod p differs";
  ASSERT_LT(mpz_cmp(scaled.v, bound.v), 0) << "result not below a b / 2^260 + p";
}

template <class F>
void mul_matches_gmp() {
  auto rng = testing::seeded_rng();
  const std::vector<U256> edges = edge_values<F>(rng);
  for (const U256& a : edges)
    for (const U256& b : edges) check_mul<F>(a, b);
  for (int i = 0; i < 20000; ++i) {
    // Uniform words, and words whose limbs sit at the ends of their range.
    U256 a{{rng(), rng(), rng(), rng()}}, b{{rng(), rng(), rng(), rng()}};
    if (i % 4 == 1) {
      uint64_t l[5], w[4];
      for (int k = 0; k < 5; ++k) {
        const uint64_t top = k == 4 ? (uint64_t{1} << 48) - 1 : kMax52;
        l[k] = (rng() & 1) ? top - (rng() & 0xff) : (rng() & 0xff);
      }
      mont52::join_limbs(w, l);
      a = U256{{w[0], w[1], w[2], w[3]}};
    }
    check_mul<F>(a, b);
  }
}

TEST(Mont52, FrMulMatchesGmp) { mul_matches_gmp<Fr>(); }
TEST(Mont52, FqMulMatchesGmp) { mul_matches_gmp<Fq>(); }

// Fp's product on the FP64 pipe (R = 2^256, canonical): a below 2^256, b below p, against GMP.
template <class F>
void check_mul_r256(const U256& a, const U256& b) {
  uint64_t r[4];
  mont52::mul_r256<typename F::Params>(r, a.w, b.w);
  const U256 got{{r[0], r[1], r[2], r[3]}};
  Mpz ma(a), mb(b), mp(F::MOD), t, rinv;
  mpz_mul(t.v, ma.v, mb.v);
  mpz_set_ui(rinv.v, 1);
  mpz_mul_2exp(rinv.v, rinv.v, 256);
  ASSERT_NE(mpz_invert(rinv.v, rinv.v, mp.v), 0);
  mpz_mul(t.v, t.v, rinv.v);
  mpz_mod(t.v, t.v, mp.v);
  ASSERT_EQ(got, t.to_u256()) << "a b 2^-256 mod p, canonical";
}

template <class F>
void mul_r256_matches_gmp() {
  auto rng = testing::seeded_rng();
  const std::vector<U256> edges = edge_values<F>(rng);
  std::vector<U256> below_p;
  for (const U256& x : edges)
    if (u256::less(x, F::MOD)) below_p.push_back(x);
  ASSERT_GE(below_p.size(), 20u);
  for (const U256& a : edges)
    for (const U256& b : below_p) check_mul_r256<F>(a, b);
  for (int i = 0; i < 20000; ++i) {
    const U256 a{{rng(), rng(), rng(), rng()}};
    check_mul_r256<F>(a, field_random<F>(rng).mont());
    check_mul_r256<F>(field_random<F>(rng).mont(), field_random<F>(rng).mont());
  }
}

TEST(Mont52, FrMulR256MatchesGmp) { mul_r256_matches_gmp<Fr>(); }
TEST(Mont52, FqMulR256MatchesGmp) { mul_r256_matches_gmp<Fq>(); }

// Fp52 (limbs kept between operations, values in [0, 2p)) against Fp, each operand in both of
// its representations: canonical and plus p.
template <class F>
void fp52_matches_fp() {
  using P = typename F::Params;
  using E = Fp52<P>;
  auto rng = testing::seeded_rng();
  auto canonical = [](const F& x) {
    E e = E::from_fp(x);
    mont52::reduce_below<P>(e.l);
    return e;
  };
  auto plus_p = [](E e) {
    uint64_t c = 0;
    for (int i = 0; i < 5; ++i) {
      const uint64_t v = e.l[i] + mont52::modulus_limb<P>(i) + c;
      e.l[i] = v & mont52::kLimbMask;
      c = v >> 52;
    }
    return e;
  };
  std::vector<F> xs{F::zero(), F::one(), -F::one(), F::from_u64(2)};
  for (int i = 0; i < 300; ++i) xs.push_back(field_random<F>(rng));
  for (size_t i = 0; i < xs.size(); ++i) {
    const F x = xs[i], y = xs[(i * 13 + 5) % xs.size()], z = xs[(i * 7 + 1) % xs.size()];
    for (int form = 0; form < 4; ++form) {
      const E a = form & 1 ? plus_p(canonical(x)) : canonical(x);
      const E b = form & 2 ? plus_p(canonical(y)) : canonical(y);
      const E c = canonical(z);
      SCOPED_TRACE("element " + std::to_string(i) + ", form " + std::to_string(form));
      ASSERT_EQ(a.to_fp(), x);
      ASSERT_EQ((a + b).to_fp(), x + y);
      ASSERT_EQ((a - b).to_fp(), x - y);
      ASSERT_EQ((-a).to_fp(), -x);
      ASSERT_EQ(a.dbl().to_fp(), x.dbl());
      ASSERT_EQ((a * b).to_fp(), x * y);
      ASSERT_EQ(a.sqr().to_fp(), x.sqr());
      ASSERT_EQ(E::mul_sub_mul(a, b, c, a).to_fp(), x * y - z * x);
      ASSERT_EQ(a.is_zero(), x.is_zero());
      ASSERT_EQ(a == b, x == y);
      ASSERT_TRUE(a == a);
      // The invariant: limbs below 2^52, value below 2p.
      for (const E& r : {a + b, a - b, -a, a.dbl(), a * b}) {
        for (int k = 0; k < 5; ++k) ASSERT_LT(r.l[k], uint64_t{1} << 52);
        uint64_t w[4];
        mont52::join_limbs(w, r.l);
        Mpz mr(U256{{w[0], w[1], w[2], w[3]}}), twop(F::MOD);
        mpz_mul_2exp(twop.v, twop.v, 1);
        ASSERT_LT(mpz_cmp(mr.v, twop.v), 0);
      }
    }
  }
  EXPECT_EQ(E::one().to_fp(), F::one());
  EXPECT_EQ(E::from_u64(3).to_fp(), F::from_u64(3));
}

TEST(Mont52, Fp52FrMatchesFp) { fp52_matches_fp<Fr>(); }
TEST(Mont52, Fp52FqMatchesFp) { fp52_matches_fp<Fq>(); }

// The benchmark's path: host Montgomery words into the 2^260 form, a chain of products there,
// back to canonical words; against Fp's own products.
template <class F>
void chain_matches_host() {
  using P = typename F::Params;
  auto rng = testing::seeded_rng();
  std::vector<F> xs{F::zero(), F::one(), -F::one(), F::from_mont(U256{{1, 0, 0, 0}})};
  for (int i = 0; i < 200; ++i) xs.push_back(field_random<F>(rng));
  for (size_t i = 0; i < xs.size(); ++i) {
    const F x = xs[i], m = xs[(i * 7 + 3) % xs.size()];
    double dx[5], dm[5];
    mont52::to_limbs<P>(dx, x.mont().w);
    mont52::to_limbs<P>(dm, m.mont().w);
    F want = x;
    for (int k = 0; k < 64; ++k) {
      mont52::mul<P>(dx, dx, dm);
      want = want * m;
      ASSERT_LT(dx[4], std::ldexp(1.0, 48)) << "value at or above 2^256 after " << k + 1 << " products";
    }
    uint64_t w[4];
    mont52::from_limbs<P>(w, dx);
    const U256 got{{w[0], w[1], w[2], w[3]}};
    ASSERT_TRUE(u256::less(got, F::MOD)) << "not canonical";
    ASSERT_EQ(F::from_mont(got), want) << "element " << i;
  }
}

TEST(Mont52, FrChainMatchesHost) { chain_matches_host<Fr>(); }
TEST(Mont52, FqChainMatchesHost) { chain_matches_host<Fq>(); }

}  // namespace
}  // namespace zkinfer
