// CPU MSM against independent references: a naive sum of scalar multiplications for small sizes,
// a plain unsigned-window Pippenger on Jacobian buckets (written here, single-threaded) for large
// ones; plus the GLV constants and decomposition, edge-case scalars and points, and agreement
// across window sizes, thread counts and accumulation methods.
#include <gmp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "../support/seed.h"
#include "cpu/field_batch.h"
#include "cpu/msm.h"
#include "cpu/msm_glv.h"
#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

using cpu::MsmConfig;
using Acc = MsmConfig::Accumulation;

// n affine points from cheap successive additions start + i * step; every `inf_every`-th point
// (if non-zero) is replaced by the point at infinity.
template <class C>
std::vector<Affine<C>> random_points(std::mt19937_64& rng, const Affine<C>& gen, size_t n,
                                     size_t inf_every = 0) {
  Jacobian<C> g = Jacobian<C>::from_affine(gen);
  Jacobian<C> p = scalar_mul(g, field_random<Fr>(rng).to_canonical());
  Jacobian<C> step = scalar_mul(g, field_random<Fr>(rng).to_canonical());
  std::vector<Jacobian<C>> jac(n);
  for (size_t i = 0; i < n; ++i) {
    jac[i] = p;
    p += step;
  }
  std::vector<Affine<C>> out(n);
  std::vector<typename C::Field> scratch(n);
  batch_to_affine(jac.data(), out.data(), n, scratch.data());
  if (inf_every)
    for (size_t i = 0; i < n; i += inf_every) out[i] = Affine<C>::infinity();
  return out;
}

std::vector<Fr> random_scalars(std::mt19937_64& rng, size_t n) {
  std::vector<Fr> s(n);
  for (auto& x : s) x = field_random<Fr>(rng);
  return s;
}

template <class C>
Jacobian<C> naive_msm(const std::vector<Fr>& s, const std::vector<Affine<C>>& p) {
  Jacobian<C> acc = Jacobian<C>::infinity();
  for (size_t i = 0; i < s.size(); ++i)
    acc += scalar_mul(Jacobian<C>::from_affine(p[i]), s[i].to_canonical());
  return acc;
}

// Unsigned 10-bit windows, Jacobian buckets: shares nothing with the code under test but the
// point formulas (which have their own tests).
template <class C>
Jacobian<C> oracle_msm(const std::vector<Fr>& s, const std::vector<Affine<C>>& p) {
  constexpr unsigned c = 10, windows = (254 + c - 1) / c;
  std::vector<U256> k(s.size());
  for (size_t i = 0; i < s.size(); ++i) k[i] = s[i].to_canonical();
  Jacobian<C> acc = Jacobian<C>::infinity();
  std::vector<Jacobian<C>> buckets((1u << c) - 1);
  for (unsigned w = windows; w-- > 0;) {
    for (unsigned i = 0; i < c; ++i) acc = acc.dbl();
    std::fill(buckets.begin(), buckets.end(), Jacobian<C>::infinity());
    for (size_t i = 0; i < s.size(); ++i) {
      unsigned d = 0;
      for (unsigned b = 0; b < c; ++b)
        if (w * c + b < 256 && k[i].bit(w * c + b)) d |= 1u << b;
      if (d) buckets[d - 1] = buckets[d - 1].add_affine(p[i]);
    }
    Jacobian<C> running = Jacobian<C>::infinity(), total = Jacobian<C>::infinity();
    for (size_t b = buckets.size(); b-- > 0;) {
      running += buckets[b];
      total += running;
    }
    acc += total;
  }
  return acc;
}

G1Jacobian g1_msm(const std::vector<Fr>& s, const std::vector<G1Affine>& p,
                  const MsmConfig& cfg = {}) {
  G1Jacobian out;
  cpu::msm_g1(out, s.data(), p.data(), s.size(), cfg);
  return out;
}
G2Jacobian g2_msm(const std::vector<Fr>& s, const std::vector<G2Affine>& p,
                  const MsmConfig& cfg = {}) {
  G2Jacobian out;
  cpu::msm_g2(out, s.data(), p.data(), s.size(), cfg);
  return out;
}

// A spread of configurations that take different code paths: thread counts that split
// windows into point ranges (3, 4, 5, 12), window widths whose balanced layouts differ, both
// accumulation methods, with and without GLV.
std::vector<MsmConfig> configs() {
  std::vector<MsmConfig> cs;
  for (unsigned threads : {1u, 2u, 3u})
    for (Acc acc : {Acc::automatic, Acc::batch_affine, Acc::xyzz})
      cs.push_back({0, threads, true, acc});
  for (unsigned c : {2u, 3u, 7u, 9u, 13u, 15u, 16u}) cs.push_back({c, 4, true, Acc::batch_affine});
  cs.push_back({0, 2, false, Acc::automatic});
  cs.push_back({5, 5, false, Acc::batch_affine});
  cs.push_back({14, 3, false, Acc::batch_affine});
  cs.push_back({16, 12, true, Acc::automatic});  // fewer windows than threads
  return cs;
}

std::string describe(const MsmConfig& c) {
  return "window_bits=" + std::to_string(c.window_bits) + " threads=" + std::to_string(c.threads) +
         " glv=" + std::to_string(c.glv) + " accumulation=" + std::to_string((int)c.accumulation);
}

TEST(Glv, EndomorphismIsMultiplicationByLambda) {
  auto rng = testing::seeded_rng();
  constexpr Fq beta = Fq::from_canonical(bn254::kG1GlvBeta);
  constexpr Fr lambda = Fr::from_canonical(bn254::kG1GlvLambda);
  EXPECT_TRUE(beta.pow(3).is_one());
  EXPECT_FALSE(beta.is_one());
  EXPECT_TRUE((lambda.sqr() + lambda + Fr::one()).is_zero());
  for (const G1Affine& p : random_points(rng, g1_generator(), 8)) {
    G1Affine phi{p.x * beta, p.y};
    ASSERT_TRUE(phi.is_on_curve());
    ASSERT_EQ(G1Jacobian::from_affine(phi),
              scalar_mul(G1Jacobian::from_affine(p), bn254::kG1GlvLambda));
  }
}

// On G2 the cube root that acts as [lambda] is the other one (kG2GlvBeta = beta^2); beta itself
// acts as [lambda^2], which this also checks, so a swapped constant fails here.
TEST(Glv, G2EndomorphismIsMultiplicationByLambda) {
  auto rng = testing::seeded_rng();
  constexpr Fq beta1 = Fq::from_canonical(bn254::kG1GlvBeta);
  constexpr Fq beta2 = Fq::from_canonical(bn254::kG2GlvBeta);
  EXPECT_EQ(beta2, beta1.sqr());
  for (const G2Affine& p : random_points(rng, g2_generator(), 4)) {
    const G2Affine phi{p.x * beta2, p.y};
    ASSERT_TRUE(phi.is_on_curve());
    ASSERT_EQ(G2Jacobian::from_affine(phi), scalar_mul(G2Jacobian::from_affine(p), bn254::kG1GlvLambda));
    ASSERT_NE(G2Jacobian::from_affine(G2Affine{p.x * beta1, p.y}),
              scalar_mul(G2Jacobian::from_affine(p), bn254::kG1GlvLambda));
  }
}

TEST(Glv, DecompositionRecomposesWithinBound) {
  auto rng = testing::seeded_rng();
  constexpr Fr lambda = Fr::from_canonical(bn254::kG1GlvLambda);
  auto to_fr = [](const cpu::GlvHalf& h) {
    Fr m = Fr::from_canonical(U256{{(uint64_t)h.mag, (uint64_t)(h.mag >> 64), 0, 0}});
    return h.neg ? -m : m;
  };
  std::vector<U256> ks = {U256{}, u256::from_u64(1), u256::from_u64(2), Fr::P_MINUS_1,
                          Fr::P_MINUS_2, Fr::P_MINUS_1_HALF, bn254::kG1GlvLambda};
  // Around the rounding boundaries of the Babai step: k = floor(t r / b) + {-1, 0, 1} for the
  // basis entries b, where k b / r crosses an integer.
  mpz_t r, b, q;
  mpz_inits(r, b, q, nullptr);
  mpz_import(r, 4, -1, sizeof(uint64_t), 0, 0, Fr::MOD.w);
  for (const U256& basis : {bn254::kG1GlvB2, bn254::kG1GlvB1n}) {
    mpz_import(b, 4, -1, sizeof(uint64_t), 0, 0, basis.w);
    for (unsigned long t = 1; t < 300; ++t) {
      mpz_mul_ui(q, r, t);
      mpz_fdiv_q(q, q, b);
      mpz_sub_ui(q, q, 1);
      for (int delta = -1; delta <= 1; ++delta, mpz_add_ui(q, q, 1)) {
        if (mpz_sgn(q) < 0 || mpz_cmp(q, r) >= 0) continue;
        U256 v{};
        mpz_export(v.w, nullptr, -1, sizeof(uint64_t), 0, 0, q);
        ks.push_back(v);
      }
    }
  }
  mpz_clears(r, b, q, nullptr);
  for (int i = 0; i < 20000; ++i) ks.push_back(field_random<Fr>(rng).to_canonical());
  for (const U256& k : ks) {
    cpu::GlvSplit split = cpu::glv_decompose(k);
    ASSERT_LT(split.k1.mag, cpu::kGlvMagnitudeBound) << u256_to_decimal(k);
    ASSERT_LT(split.k2.mag, cpu::kGlvMagnitudeBound) << u256_to_decimal(k);
    ASSERT_EQ(to_fr(split.k1) + to_fr(split.k2) * lambda, Fr::from_canonical(k))
        << u256_to_decimal(k);
  }
  // Scalars below 2^64 are left whole.
  cpu::GlvSplit one = cpu::glv_decompose(u256::from_u64(1));
  EXPECT_EQ(one.k1.mag, 1u);
  EXPECT_EQ(one.k2.mag, 0u);
}

TEST(MsmG1, MatchesNaiveSumOnOddSizes) {
  auto rng = testing::seeded_rng();
  for (size_t n : {0, 1, 2, 3, 17, 100, 1000, 4099}) {
    auto pts = random_points(rng, g1_generator(), n, 37);
    auto sc = random_scalars(rng, n);
    G1Jacobian want = n <= 1000 ? naive_msm(sc, pts) : oracle_msm(sc, pts);
    for (const MsmConfig& cfg : configs())
      ASSERT_EQ(g1_msm(sc, pts, cfg), want) << "n=" << n << " " << describe(cfg);
  }
}

TEST(MsmG1, EdgeScalars) {
  auto rng = testing::seeded_rng();
  const size_t n = 3000;
  auto pts = random_points(rng, g1_generator(), n, 101);
  const Fr minus_one = -Fr::one();
  std::vector<std::vector<Fr>> cases;
  cases.push_back(std::vector<Fr>(n, Fr::zero()));
  cases.push_back(std::vector<Fr>(n, Fr::one()));
  cases.push_back(std::vector<Fr>(n, minus_one));
  std::vector<Fr> small(n), mixed(n);
  for (size_t i = 0; i < n; ++i) {
    small[i] = Fr::from_u64(rng() % 300);
    uint64_t sel = rng() % 10;
    mixed[i] = sel < 4 ? Fr::zero() : sel < 7 ? Fr::one() : sel < 8 ? minus_one
                                                          : field_random<Fr>(rng);
  }
  cases.push_back(small);
  cases.push_back(mixed);
  for (size_t c = 0; c < cases.size(); ++c) {
    G1Jacobian want = oracle_msm(cases[c], pts);
    for (const MsmConfig& cfg : configs())
      ASSERT_EQ(g1_msm(cases[c], pts, cfg), want) << "case " << c << " " << describe(cfg);
  }
  // The sums themselves: n * sum(P) and its negation.
  G1Jacobian sum = G1Jacobian::infinity();
  for (const auto& p : pts) sum = sum.add_affine(p);
  EXPECT_EQ(g1_msm(cases[1], pts), sum);
  EXPECT_EQ(g1_msm(cases[2], pts), -sum);
  EXPECT_TRUE(g1_msm(cases[0], pts).is_infinity());
}

// Scalars by signed magnitude min(k, r - k): small positive and negative ones (the plain method
// over only the bits they use), big ones (GLV), and both in one call (two classes summed), with
// the boundaries between them: 2^128 - 1 is small, 2^128 big; (r - 1) / 2 is positive,
// (r + 1) / 2 negative; and a few small ones among big ones, which go with them.
TEST(MsmG1, SignedMagnitudeClasses) {
  auto rng = testing::seeded_rng();
  const size_t n = 2500;
  auto pts = random_points(rng, g1_generator(), n, 97);
  const U256 half = Fr::P_MINUS_1_HALF;
  uint64_t carry = 0;
  const U256 half_plus_one = u256::add(half, u256::from_u64(1), carry);
  const Fr two128 = Fr::from_canonical(U256{{0, 0, 1, 0}});
  const Fr two128_minus_one = Fr::from_canonical(U256{{~0ull, ~0ull, 0, 0}});
  auto small_signed = [&](unsigned bits) {
    Fr v = Fr::from_canonical(U256{{rng() >> (64 - std::min(bits, 64u)), bits > 64 ? rng() >> (128 - bits) : 0, 0, 0}});
    return rng() % 2 ? -v : v;
  };
  std::vector<std::vector<Fr>> cases;
  std::vector<Fr> neg_small(n), wide_small(n), mostly_small(n), boundaries(n), few_small(n);
  for (size_t i = 0; i < n; ++i) {
    neg_small[i] = -Fr::from_u64(rng() % 1000 + 2);
    wide_small[i] = small_signed(i % 2 ? 128 : 40);
    uint64_t sel = rng() % 20;
    mostly_small[i] = sel == 0   ? field_random<Fr>(rng)
                      : sel < 4  ? Fr::zero()
                      : sel < 10 ? (sel % 2 ? Fr::one() : -Fr::one())
                                 : small_signed(1 + rng() % 32);
    const Fr edge[] = {two128, two128_minus_one, -two128, -two128_minus_one,
                       Fr::from_canonical(half), Fr::from_canonical(half_plus_one), Fr::from_u64(2)};
    boundaries[i] = edge[rng() % std::size(edge)];
    // Big scalars with a few small ones, too few for a class of their own.
    few_small[i] = i % 97 == 5 ? small_signed(20) : field_random<Fr>(rng);
  }
  cases = {neg_small, wide_small, mostly_small, boundaries, few_small};
  for (size_t c = 0; c < cases.size(); ++c) {
    G1Jacobian want = oracle_msm(cases[c], pts);
    for (const MsmConfig& cfg : configs())
      ASSERT_EQ(g1_msm(cases[c], pts, cfg), want) << "case " << c << " " << describe(cfg);
  }
}

// G1 and G2 batches run in IFMA vector code where the CPU has it (affine_add_in_place) and in
// array products elsewhere: both give the oracle's result. The second is forced here through the
// portable arithmetic, which makes affine_add_in_place decline.
template <class C>
void vector_and_scalar_batches_agree(const Affine<C>& gen, size_t n, size_t inf_every, size_t dup_step) {
  auto rng = testing::seeded_rng();
  auto pts = random_points(rng, gen, n, inf_every);
  auto sc = random_scalars(rng, n);
  for (size_t i = 0; i < n; i += 4) sc[i] = -Fr::from_u64(rng() % 50);
  for (size_t i = 0; i + 1 < n; i += dup_step) pts[i + 1] = rng() % 2 ? pts[i] : -pts[i];
  auto msm = [&] {
    Jacobian<C> out;
    const MsmConfig cfg{0, 2, true, Acc::batch_affine};
    if constexpr (std::is_same_v<C, G1Curve>)
      cpu::msm_g1(out, sc.data(), pts.data(), n, cfg);
    else
      cpu::msm_g2(out, sc.data(), pts.data(), n, cfg);
    return out;
  };
  const Jacobian<C> want = oracle_msm(sc, pts);
  EXPECT_EQ(msm(), want);
#if ZKINFER_X86_64_HOST
  const HostIsa saved = x86::host_isa;
  x86::host_isa = HostIsa::portable;
  const Jacobian<C> scalar = msm();
  x86::host_isa = saved;
  EXPECT_EQ(scalar, want);
#endif
}

TEST(MsmG1, VectorAndScalarBatchesAgree) { vector_and_scalar_batches_agree(g1_generator(), 6007, 53, 97); }

TEST(MsmG2, VectorAndScalarBatchesAgree) { vector_and_scalar_batches_agree(g2_generator(), 3001, 59, 89); }

TEST(MsmG2, SignedMagnitudeClasses) {
  auto rng = testing::seeded_rng();
  const size_t n = 700;
  auto pts = random_points(rng, g2_generator(), n, 31);
  std::vector<Fr> sc(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t sel = rng() % 6;
    sc[i] = sel == 0 ? field_random<Fr>(rng) : sel == 1 ? Fr::one() : -Fr::from_u64(rng() % 100000);
  }
  G2Jacobian want = naive_msm(sc, pts);
  for (const MsmConfig& cfg : configs())
    ASSERT_EQ(g2_msm(sc, pts, cfg), want) << describe(cfg);
}

// The vector batch step on its own: sums written over buckets reached through pointers in
// shuffled order, against Jacobian additions; then a batch with one op whose x matches its
// bucket's (P + P, then P + (-P)) must be declined with every bucket left as it was.
template <class C, class Batch>
void affine_add_in_place_agrees(const Affine<C>& gen) {
  auto rng = testing::seeded_rng();
  const size_t n = 48;
  auto buckets = random_points(rng, gen, n), points = random_points(rng, gen, n);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<Affine<C>*> bucket_at(n);
  std::vector<const Affine<C>*> point_at(n);
  for (size_t i = 0; i < n; ++i) bucket_at[i] = &buckets[order[i]], point_at[i] = &points[order[i]];
  std::vector<uint64_t> raw(cpu::affine_add_scratch_words(n) + 8);
  uint64_t* scratch = raw.data() + (8 - (reinterpret_cast<uintptr_t>(raw.data()) / 8) % 8) % 8;
  const Batch batch{bucket_at.data(), point_at.data(), n, scratch};
  const auto before = buckets;
  const cpu::BatchStatus status = cpu::affine_add_in_place(batch);
  if (status == cpu::BatchStatus::no_ifma) GTEST_SKIP() << "this CPU has no AVX-512 IFMA";
  ASSERT_EQ(status, cpu::BatchStatus::done);
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(Jacobian<C>::from_affine(buckets[i]),
              Jacobian<C>::from_affine(before[i]).add_affine(points[i]))
        << "bucket " << i;
  for (const bool opposite : {false, true}) {
    auto points2 = points;
    points2[order[29]] = opposite ? -buckets[order[29]] : buckets[order[29]];  // block 3, lane 5
    for (size_t i = 0; i < n; ++i) point_at[i] = &points2[order[i]];
    const auto kept = buckets;
    EXPECT_EQ(cpu::affine_add_in_place(batch), cpu::BatchStatus::equal_x) << "opposite " << opposite;
    EXPECT_EQ(buckets, kept) << "opposite " << opposite;
  }
}

TEST(MsmG1, AffineAddInPlace) { affine_add_in_place_agrees<G1Curve, cpu::AffineAddInPlace>(g1_generator()); }

TEST(MsmG2, AffineAddInPlace) { affine_add_in_place_agrees<G2Curve, cpu::AffineAddInPlace2>(g2_generator()); }

// Repeated points land in the same bucket of the same batch: P + P needs the doubling formula,
// P + (-P) gives the point at infinity inside the batch-affine step.
TEST(MsmG1, DuplicatedAndOppositePoints) {
  auto rng = testing::seeded_rng();
  const size_t n = 4000;
  G1Affine p = random_points(rng, g1_generator(), 1)[0];
  std::vector<G1Affine> same(n, p), pm(n);
  for (size_t i = 0; i < n; ++i) pm[i] = i % 2 ? -p : p;
  std::vector<Fr> ones(n, Fr::one()), rnd = random_scalars(rng, n), twos(n, Fr::from_u64(2));
  // Few distinct scalars, so equal digits meet in one batch with equal or opposite points.
  std::vector<Fr> few(n);
  for (size_t i = 0; i < n; ++i) few[i] = rnd[i % 5];
  G1Jacobian pj = G1Jacobian::from_affine(p);
  auto times = [&](uint64_t k) { return scalar_mul(pj, u256::from_u64(k)); };
  for (const MsmConfig& cfg : configs()) {
    ASSERT_EQ(g1_msm(ones, same, cfg), times(n)) << describe(cfg);
    ASSERT_EQ(g1_msm(twos, same, cfg), times(2 * n)) << describe(cfg);
    ASSERT_TRUE(g1_msm(ones, pm, cfg).is_infinity()) << describe(cfg);
    ASSERT_EQ(g1_msm(few, same, cfg), oracle_msm(few, same)) << describe(cfg);
    ASSERT_EQ(g1_msm(few, pm, cfg), oracle_msm(few, pm)) << describe(cfg);
  }
}

TEST(MsmG1, LargeOddSizeAgainstOracle) {
  auto rng = testing::seeded_rng();
  const size_t n = 70001;
  auto pts = random_points(rng, g1_generator(), n, 1009);
  auto sc = random_scalars(rng, n);
  for (size_t i = 0; i < n; i += 3) sc[i] = Fr::from_u64(i % 7 == 0 ? 1 : 0);
  G1Jacobian want = oracle_msm(sc, pts);
  EXPECT_EQ(g1_msm(sc, pts), want);
  EXPECT_EQ(g1_msm(sc, pts, {0, 1}), want);
  EXPECT_EQ(g1_msm(sc, pts, {12, 3}), want);
  EXPECT_EQ(g1_msm(sc, pts, {0, 2, false}), want);
}

TEST(MsmG1, RejectsBadWindow) {
  std::vector<Fr> s(4, Fr::one());
  std::vector<G1Affine> p(4, g1_generator());
  G1Jacobian out;
  EXPECT_THROW(cpu::msm_g1(out, s.data(), p.data(), 4, {1}), std::invalid_argument);
  EXPECT_THROW(cpu::msm_g1(out, s.data(), p.data(), 4, {17}), std::invalid_argument);
}

TEST(MsmG2, MatchesNaiveSum) {
  auto rng = testing::seeded_rng();
  for (size_t n : {0, 1, 3, 17, 300}) {
    auto pts = random_points(rng, g2_generator(), n, 29);
    auto sc = random_scalars(rng, n);
    if (n > 2) sc[1] = Fr::zero(), sc[2] = -Fr::one();
    G2Jacobian want = naive_msm(sc, pts);
    for (const MsmConfig& cfg : configs())
      ASSERT_EQ(g2_msm(sc, pts, cfg), want) << "n=" << n << " " << describe(cfg);
  }
}

TEST(MsmG2, DuplicatesAndLargerSize) {
  auto rng = testing::seeded_rng();
  const size_t n = 5003;
  auto pts = random_points(rng, g2_generator(), n, 211);
  auto sc = random_scalars(rng, n);
  for (size_t i = 0; i < n; i += 2) sc[i] = Fr::from_u64(i % 3);
  for (size_t i = 0; i + 1 < n; i += 50) pts[i + 1] = rng() % 2 ? pts[i] : -pts[i];
  G2Jacobian want = oracle_msm(sc, pts);
  EXPECT_EQ(g2_msm(sc, pts), want);
  EXPECT_EQ(g2_msm(sc, pts, {11, 3, true, Acc::batch_affine}), want);
  EXPECT_EQ(g2_msm(sc, pts, {0, 1, true, Acc::xyzz}), want);
}

}  // namespace
}  // namespace zkinfer
