// Evaluation domains and the CPU NTT, against naive O(n^2) DFTs and Horner evaluation: both
// kernel paths (AVX-512 IFMA vectors where the CPU has them, fp.h scalars), the recursive split
// forced onto small sizes, and multi-threaded runs against single-threaded ones.
// ZKINFER_CPU_ISA=portable|x86_64|adx picks the scalar arithmetic, as for every field test.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/seed.h"
#include "cpu/ntt.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

using cpu::NttConfig;
using cpu::NttPlan;

std::vector<Fr> random_vector(std::mt19937_64& rng, size_t n) {
  std::vector<Fr> v(n);
  for (auto& x : v) x = field_random<Fr>(rng);
  return v;
}

Fr horner(const std::vector<Fr>& coeffs, const Fr& x) {
  Fr acc = Fr::zero();
  for (size_t i = coeffs.size(); i-- > 0;) acc = acc * x + coeffs[i];
  return acc;
}

// p(shift * omega^i) for every i: the naive DFT.
std::vector<Fr> naive_evaluations(const std::vector<Fr>& coeffs, unsigned log_n, const Fr& shift) {
  const Domain d(log_n);
  std::vector<Fr> out(d.size);
  Fr x = shift;
  for (size_t i = 0; i < d.size; ++i, x *= d.omega) out[i] = horner(coeffs, x);
  return out;
}

std::string describe(const NttConfig& c) {
  return std::string(c.inverse ? "inverse" : "forward") + (c.coset ? " coset" : "") +
         (c.simd ? " simd" : " scalar") + " threads=" + std::to_string(c.threads) +
         " row_log=" + std::to_string(c.row_log) + " column_log=" + std::to_string(c.column_log);
}

// Checks all four transforms of 2^log_n points with cfg's arithmetic, threads and split.
void check_against_naive(std::mt19937_64& rng, unsigned log_n, NttConfig base, const Fr& g) {
  const NttPlan plan(log_n);
  const std::vector<Fr> coeffs = random_vector(rng, plan.size());
  for (bool coset : {false, true}) {
    const Fr shift = coset ? g : Fr::one();
    const std::vector<Fr> evals = naive_evaluations(coeffs, log_n, shift);
    NttConfig cfg = base;
    cfg.coset = coset;
    cfg.coset_gen = g;

    cfg.inverse = false;
    std::vector<Fr> v = coeffs;
    plan.run(v.data(), cfg);
    EXPECT_EQ(v, evals) << "n=2^" << log_n << " " << describe(cfg);

    cfg.inverse = true;
    v = evals;
    plan.run(v.data(), cfg);
    EXPECT_EQ(v, coeffs) << "n=2^" << log_n << " " << describe(cfg);
  }
}

TEST(Domain, RootOrders) {
  for (unsigned k = 0; k <= kFrMaxLogDomain; ++k) {
    const Domain d(k);
    ASSERT_EQ(d.size, size_t{1} << k);
    Fr w = d.omega;
    for (unsigned i = 0; i + 1 < k; ++i) w = w.sqr();
    if (k >= 1) {
      EXPECT_EQ(w, -Fr::one()) << "omega^(n/2) for k=" << k;
      w = w.sqr();
    }
    EXPECT_TRUE(w.is_one()) << "omega^n for k=" << k;
    EXPECT_TRUE((d.omega * d.omega_inv).is_one()) << k;
    EXPECT_TRUE((d.size_inv * Fr::from_u64(d.size)).is_one()) << k;
    EXPECT_EQ(d.element(d.size + 3), d.omega.pow(uint64_t(3 % d.size))) << k;
  }
  // The top root is 5^t, as ffjavascript (and so every snarkjs .zkey) defines it.
  EXPECT_EQ(Domain(kFrMaxLogDomain).omega, Fr::from_u64(5).pow(Fr::T));
}

TEST(Domain, SizesAndLimits) {
  EXPECT_EQ(Domain::for_size(0).log_size, 0u);
  EXPECT_EQ(Domain::for_size(1).log_size, 0u);
  EXPECT_EQ(Domain::for_size(2).log_size, 1u);
  EXPECT_EQ(Domain::for_size(5).log_size, 3u);
  EXPECT_EQ(Domain::for_size(size_t{1} << 28).log_size, 28u);
  EXPECT_THROW(Domain::for_size((size_t{1} << 28) + 1), std::invalid_argument);
  EXPECT_THROW(Domain(29), std::invalid_argument);
  EXPECT_THROW(fr_root_of_unity(29), std::invalid_argument);
  EXPECT_THROW(snarkjs_coset_shift(29), std::invalid_argument);
  EXPECT_THROW(NttPlan(29), std::invalid_argument);
  EXPECT_THROW(cpu::ntt_plan(29), std::invalid_argument);
  EXPECT_EQ(fr_coset_generator(), Fr::from_u64(5));
}

TEST(Domain, SnarkjsShiftIsThe2NRoot) {
  for (unsigned k = 0; k < kFrMaxLogDomain; ++k) {
    const Fr s = snarkjs_coset_shift(k);
    EXPECT_EQ(s, fr_root_of_unity(k + 1)) << k;
    EXPECT_EQ(s.sqr(), Domain(k).omega) << k;
    EXPECT_EQ(s.pow(uint64_t{1} << k), -Fr::one()) << "shift^N must be -1, k=" << k;
    EXPECT_EQ(Domain(k).snarkjs_shift(), s) << k;
  }
  EXPECT_EQ(snarkjs_coset_shift(kFrMaxLogDomain), Fr::from_u64(25));
}

// snarkjs's H evaluations: coset forward with the shift lands on the odd powers of the 2N root.
TEST(Ntt, SnarkjsOddCoset) {
  auto rng = testing::seeded_rng();
  for (unsigned k : {0u, 1u, 3u, 6u}) {
    const std::vector<Fr> coeffs = random_vector(rng, size_t{1} << k);
    std::vector<Fr> v = coeffs;
    NttPlan(k).coset_forward(v.data(), snarkjs_coset_shift(k));
    const Domain d2(k + 1);
    for (size_t i = 0; i < v.size(); ++i)
      EXPECT_EQ(v[i], horner(coeffs, d2.element(2 * i + 1))) << k << " " << i;
  }
}

TEST(Ntt, SizeOneAndTwo) {
  auto rng = testing::seeded_rng();
  const Fr a = field_random<Fr>(rng), b = field_random<Fr>(rng), g = field_random<Fr>(rng);
  for (bool simd : {true, false}) {
    NttConfig cfg;
    cfg.simd = simd;
    std::vector<Fr> one = {a};
    for (bool inverse : {false, true})
      for (bool coset : {false, true}) {
        cfg.inverse = inverse;
        cfg.coset = coset;
        cfg.coset_gen = g;
        cpu::ntt(one.data(), 1, cfg);
        EXPECT_EQ(one[0], a) << describe(cfg);
      }
    std::vector<Fr> two = {a, b};
    cfg.inverse = cfg.coset = false;
    cpu::ntt(two.data(), 2, cfg);
    EXPECT_EQ(two, (std::vector<Fr>{a + b, a - b}));
    cfg.coset = true;
    two = {a, b};
    cpu::ntt(two.data(), 2, cfg);
    EXPECT_EQ(two, (std::vector<Fr>{a + g * b, a - g * b}));
    cfg.inverse = true;
    cpu::ntt(two.data(), 2, cfg);
    EXPECT_EQ(two, (std::vector<Fr>{a, b}));
  }
}

TEST(Ntt, SmallSizesAgainstNaiveDft) {
  auto rng = testing::seeded_rng();
  const Fr g = field_random<Fr>(rng);
  for (bool simd : {true, false})
    for (unsigned k = 0; k <= 8; ++k) {
      NttConfig cfg;
      cfg.simd = simd;
      cfg.threads = 1;
      check_against_naive(rng, k, cfg, g);
      check_against_naive(rng, k, cfg, fr_coset_generator());
    }
}

// Tiny rows and columns send small sizes down every level of the recursion, through the
// threaded first level, and through the tiled bit reversal.
TEST(Ntt, RecursiveSplitAgainstNaiveDft) {
  auto rng = testing::seeded_rng();
  const Fr g = field_random<Fr>(rng);
  for (bool simd : {true, false})
    for (unsigned k : {2u, 5u, 7u, 10u})
      for (unsigned threads : {1u, 3u}) {
        NttConfig cfg;
        cfg.simd = simd;
        cfg.threads = threads;
        cfg.row_log = 1 + k % 3;
        cfg.column_log = 1 + k % 2;
        check_against_naive(rng, k, cfg, g);
      }
}

TEST(Ntt, ThreadsMatchSingleThread) {
  auto rng = testing::seeded_rng();
  const Fr g = field_random<Fr>(rng);
  for (unsigned k : {10u, 12u, 13u, 14u, 16u}) {
    const std::vector<Fr> x = random_vector(rng, size_t{1} << k);
    const NttPlan plan(k);
    for (bool inverse : {false, true})
      for (bool coset : {false, true}) {
        NttConfig cfg;
        cfg.inverse = inverse;
        cfg.coset = coset;
        cfg.coset_gen = g;
        cfg.threads = 1;
        std::vector<Fr> ref = x;
        plan.run(ref.data(), cfg);
        for (unsigned threads : {2u, 3u, 4u, 8u}) {
          cfg.threads = threads;
          std::vector<Fr> v = x;
          plan.run(v.data(), cfg);
          EXPECT_EQ(v, ref) << "n=2^" << k << " " << describe(cfg);
        }
      }
  }
}

// Both kernel paths over every size where the vector code has its own shapes: rows of 16 and
// more points, column batches of 8, several recursion levels.
TEST(Ntt, SimdMatchesScalar) {
  if (!cpu::ntt_has_simd()) GTEST_SKIP() << "no AVX-512 IFMA on this CPU";
  auto rng = testing::seeded_rng();
  const Fr g = field_random<Fr>(rng);
  for (unsigned k = 1; k <= 16; ++k) {
    const std::vector<Fr> x = random_vector(rng, size_t{1} << k);
    const NttPlan plan(k);
    for (unsigned row_log : {0u, 4u})
      for (bool inverse : {false, true})
        for (bool coset : {false, true}) {
          NttConfig cfg;
          cfg.inverse = inverse;
          cfg.coset = coset;
          cfg.coset_gen = g;
          cfg.row_log = row_log;
          cfg.column_log = row_log ? 3 : 0;
          std::vector<Fr> a = x, b = x;
          plan.run(a.data(), cfg);
          cfg.simd = false;
          plan.run(b.data(), cfg);
          EXPECT_EQ(a, b) << "n=2^" << k << " " << describe(cfg);
        }
  }
}

// Large sizes: spot checks against Horner and exact round trips; the first level, the rows and
// the tiled bit reversal all run at their production shapes here.
TEST(Ntt, LargeRoundTripsAndSpotChecks) {
  auto rng = testing::seeded_rng();
  const Fr g = field_random<Fr>(rng);
  for (unsigned k : {14u, 17u, 20u}) {
    const NttPlan plan(k);
    const Domain& d = plan.domain();
    const std::vector<Fr> coeffs = random_vector(rng, d.size);
    for (bool coset : {false, true}) {
      const Fr shift = coset ? g : Fr::one();
      std::vector<Fr> v = coeffs;
      if (coset)
        plan.coset_forward(v.data(), g);
      else
        plan.forward(v.data());
      for (size_t i : {size_t{0}, size_t{1}, d.size - 1, size_t(rng() % d.size)})
        EXPECT_EQ(v[i], horner(coeffs, shift * d.element(i)))
            << "n=2^" << k << " coset=" << coset << " i=" << i;
      if (coset)
        plan.coset_inverse(v.data(), g);
      else
        plan.inverse(v.data());
      EXPECT_EQ(v, coeffs) << "round trip n=2^" << k << " coset=" << coset;
    }
  }
}

TEST(Ntt, RejectsBadInput) {
  std::vector<Fr> v(8, Fr::one());
  EXPECT_THROW(cpu::ntt(v.data(), 0), std::invalid_argument);
  EXPECT_THROW(cpu::ntt(v.data(), 6), std::invalid_argument);
  NttConfig cfg;
  cfg.coset = true;
  cfg.coset_gen = Fr::zero();
  EXPECT_THROW(cpu::ntt(v.data(), 8, cfg), std::invalid_argument);
  EXPECT_EQ(&cpu::ntt_plan(3), &cpu::ntt_plan(3));
}

}  // namespace
}  // namespace zkinfer
