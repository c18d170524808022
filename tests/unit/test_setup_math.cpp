// The setups' curve helpers (prover/src/setup_math.h) against plain double-and-add: fixed-base
// multiplication of many scalars, Straus linear combinations, affine conversion, Lagrange values;
// with the edge scalars 0, +-1, r-1, (r-1)/2, powers of two at window boundaries.
#include "../../prover/src/setup_math.h"

#include <gtest/gtest.h>

#include <vector>

#include "../support/seed.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer::prover::setup_detail {
namespace {

template <class C>
Affine<C> gen() {
  if constexpr (std::is_same_v<C, G1Curve>) return g1_generator();
  else return g2_generator();
}

template <class C>
Jacobian<C> naive(const Affine<C>& p, const Fr& k) {
  return scalar_mul(Jacobian<C>::from_affine(p), k.to_canonical());
}

std::vector<Fr> edge_scalars(std::mt19937_64& rng) {
  std::vector<Fr> s = {Fr::zero(), Fr::one(), -Fr::one(), Fr::from_u64(2), -Fr::from_u64(2),
                       Fr::from_canonical(Fr::P_MINUS_1_HALF), Fr::from_canonical(Fr::P_MINUS_1_HALF) + Fr::one(),
                       Fr::from_u64(0xffffffffffffffffull)};
  for (unsigned b = 1; b < 254; b += 3) s.push_back(Fr::from_u64(2).pow((uint64_t)b));
  for (unsigned b = 12; b < 254; b += 13) s.push_back(Fr::from_u64(2).pow((uint64_t)b) - Fr::one());
  for (int i = 0; i < 40; ++i) s.push_back(field_random<Fr>(rng));
  for (int i = 0; i < 10; ++i) s.push_back(Fr::from_u64(rng() % 100000));
  return s;
}

template <class C>
void fixed_base_matches(size_t expected) {
  auto rng = zkinfer::testing::seeded_rng();
  Affine<C> base = naive(gen<C>(), field_random<Fr>(rng)).to_affine();
  std::vector<Fr> s = edge_scalars(rng);
  FixedBase<C> fb(base, expected);
  std::vector<Affine<C>> out(s.size());
  fb.mul(s, out);
  for (size_t i = 0; i < s.size(); ++i)
    EXPECT_EQ(out[i], naive(base, s[i]).to_affine()) << "scalar " << field_to_decimal(s[i]) << ", window " << fb.window_bits();
}

TEST(FixedBase, G1SmallTable) { fixed_base_matches<G1Curve>(10); }
TEST(FixedBase, G1LargeTable) { fixed_base_matches<G1Curve>(size_t{1} << 22); }
TEST(FixedBase, G2) { fixed_base_matches<G2Curve>(1000); }

TEST(FixedBase, ManyScalarsAcrossBatches) {
  auto rng = zkinfer::testing::seeded_rng();
  std::vector<Fr> s(1500);
  for (auto& x : s) x = field_random<Fr>(rng);
  s[700] = Fr::zero();
  s[701] = s[0];
  FixedBase<G1Curve> fb(g1_generator(), s.size());
  std::vector<G1Affine> out(s.size());
  fb.mul(s, out);
  for (size_t i = 0; i < s.size(); i += 37) EXPECT_EQ(out[i], naive(g1_generator(), s[i]).to_affine()) << i;
  EXPECT_TRUE(out[700].is_infinity());
  EXPECT_EQ(out[701], out[0]);
}

TEST(FixedBase, InfinityBase) {
  FixedBase<G1Curve> fb(G1Affine::infinity(), 4);
  Fr s[2] = {Fr::one(), Fr::from_u64(12345)};
  G1Affine out[2];
  fb.mul(s, out);
  EXPECT_TRUE(out[0].is_infinity());
  EXPECT_TRUE(out[1].is_infinity());
}

template <class C>
void lincomb_matches() {
  auto rng = zkinfer::testing::seeded_rng();
  std::vector<Fr> edge = edge_scalars(rng);
  for (size_t n : {1, 2, 3, 7, 20}) {
    for (int rep = 0; rep < 6; ++rep) {
      std::vector<Affine<C>> p(n);
      std::vector<Fr> k(n);
      Jacobian<C> want = Jacobian<C>::infinity();
      for (size_t i = 0; i < n; ++i) {
        p[i] = naive(gen<C>(), Fr::from_u64(rng() % 1000 + 1)).to_affine();
        if (rng() % 5 == 0) p[i] = Affine<C>::infinity();
        if (i > 0 && rng() % 4 == 0) p[i] = p[i - 1];         // repeated point
        if (i > 0 && rng() % 6 == 0) p[i] = -p[i - 1];        // opposite point
        k[i] = edge[rng() % edge.size()];
        want += naive(p[i], k[i]);
      }
      EXPECT_EQ(lincomb(p, k), want) << n << " terms";
    }
  }
  // Terms that cancel exactly.
  Affine<C> a = naive(gen<C>(), Fr::from_u64(5)).to_affine();
  Fr k = field_random<Fr>(rng);
  Affine<C> ps[2] = {a, a};
  Fr ks[2] = {k, -k};
  EXPECT_TRUE(lincomb(std::span<const Affine<C>>(ps), std::span<const Fr>(ks)).is_infinity());
  EXPECT_EQ(mul_var(a, k), naive(a, k));
}

TEST(Lincomb, G1) { lincomb_matches<G1Curve>(); }
TEST(Lincomb, G2) { lincomb_matches<G2Curve>(); }

TEST(ToAffine, ChunksAndInfinity) {
  auto rng = zkinfer::testing::seeded_rng();
  std::vector<G1Jacobian> j(10000);
  G1Jacobian step = naive(g1_generator(), field_random<Fr>(rng));
  j[0] = step;
  for (size_t i = 1; i < j.size(); ++i) j[i] = j[i - 1] + step;
  j[5] = G1Jacobian::infinity();
  j[4097] = G1Jacobian::infinity();
  std::vector<G1Affine> a(j.size());
  to_affine<G1Curve>(j, a);
  for (size_t i : {0ul, 4ul, 5ul, 4095ul, 4096ul, 4097ul, 9999ul}) EXPECT_EQ(a[i], j[i].to_affine()) << i;
}

TEST(Lagrange, ValuesInterpolate) {
  auto rng = zkinfer::testing::seeded_rng();
  Fr tau = field_random<Fr>(rng);
  for (unsigned k : {0u, 1u, 5u, 11u}) {
    size_t n = size_t{1} << k;
    std::vector<Fr> l(n), tail(n > 3 ? n - 3 : 0);
    lagrange_values(k, tau, 0, l);
    // sum_i L_i(tau) w^(ij) = tau^j: the basis interpolates x^j exactly.
    Fr w = fr_root_of_unity(k);
    for (uint64_t j : {uint64_t{0}, uint64_t{1}, (uint64_t)n - 1}) {
      if (j >= n) continue;
      Fr sum = Fr::zero();
      for (size_t i = 0; i < n; ++i) sum += l[i] * w.pow(i * j % n);
      EXPECT_EQ(sum, tau.pow(j)) << "k " << k << " j " << j;
    }
    // An offset range is the same values.
    if (!tail.empty()) {
      lagrange_values(k, tau, 3, tail);
      for (size_t i = 0; i < tail.size(); ++i) EXPECT_EQ(tail[i], l[i + 3]);
    }
    // Without the last power: interpolates x^j for j < n - 1, and 0 for x^(n-1).
    std::vector<Fr> d(n);
    lagrange_values(k, tau, 0, d, true);
    Fr top = Fr::zero(), one = Fr::zero();
    for (size_t i = 0; i < n; ++i) {
      top += d[i] * w.pow((uint64_t)(i * (n - 1) % n));
      one += d[i];
    }
    if (n > 1) {
      EXPECT_TRUE(top.is_zero()) << k;
      EXPECT_EQ(one, Fr::one()) << k;
    }
  }
  EXPECT_THROW(lagrange_values(3, fr_root_of_unity(3), 0, std::span<Fr>()), std::invalid_argument);
}

TEST(Secrets, RandomAndWiped) {
  Fr a = random_nonzero_fr(), b = random_nonzero_fr();
  EXPECT_FALSE(a.is_zero());
  EXPECT_NE(a, b);
  std::vector<Fr> v = {a, b};
  wipe(v);
  EXPECT_TRUE(v[0].is_zero() && v[1].is_zero());
  wipe(a);
  EXPECT_TRUE(a.is_zero());
}

}  // namespace
}  // namespace zkinfer::prover::setup_detail
