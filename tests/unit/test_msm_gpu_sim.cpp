// The GPU MSM's steps (kernels/cuda/msm_steps.h) run on the host: a simulator executes every
// (block, thread) of each launch, blocks in a shuffled order and threads backwards (a step that
// read another thread's output of the same launch would then go wrong), with std::stable_sort in
// place of the radix sort, over an arena poisoned before use. Results are compared with the CPU
// backend on random non-power-of-two sizes, skewed scalars (mostly 0, 1 and small), all-zero
// scalars, n = 0 and 1, repeated, opposite and infinite points, forced window widths, tiny
// segments and chunks (many carry and reduction levels), batches, and point tables (made by the
// precomputation step, read at an offset); plus the plan's choices and its out-of-memory error.
// No CUDA needed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <type_traits>
#include <vector>

#include "../support/msm_host_exec.h"
#include "../support/msm_inputs.h"
#include "../support/seed.h"
#include "backend.h"
#include "cuda/msm_steps.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

namespace msm = gpu::msm;
using gpu::MsmTables;
using testing::PoisonedArena;

// The accumulation's steps (level 0, joining carries, carry levels): what
// Tuning::cap_g1/g2_accumulate_registers launch as msm::MinBlocks.
template <class Step>
struct IsAccumulation : std::false_type {};
template <class C, class Src>
struct IsAccumulation<msm::AccumulateStep<C, Src>> : std::true_type {};
template <class C>
struct IsAccumulation<msm::JoinCarriesStep<C>> : std::true_type {};

// Launches seen by the simulator.
struct LaunchCounts {
  size_t all = 0;
  size_t accumulation = 0;  // of IsAccumulation steps, capped or not
  size_t capped = 0;        // as msm::MinBlocks
  size_t reduce_pairs = 0;  // reduction levels as msm::ReducePairStep
};

template <class Step>
struct IsReducePair : std::false_type {};
template <class C>
struct IsReducePair<msm::ReducePairStep<C>> : std::true_type {};

class SimExec {
 public:
  explicit SimExec(std::mt19937_64& rng) : rng_(rng) {}

  template <class Step>
  void launch(const Step& step, size_t threads) {
    const size_t block = Step::kBlock, grid = (threads + block - 1) / block;
    std::vector<size_t> order(grid);
    std::iota(order.begin(), order.end(), size_t{0});
    std::shuffle(order.begin(), order.end(), rng_);
    for (size_t b : order)
      for (size_t t = block; t-- > 0;)
        if (b * block + t < threads) step(b * block + t);
    ++counts.all;
    if constexpr (IsAccumulation<Step>::value) ++counts.accumulation;
    if constexpr (IsReducePair<Step>::value) ++counts.reduce_pairs;
  }
  // A capped step runs as the step it wraps (the cap matters only to the CUDA compiler).
  template <class Step, unsigned kBlocks>
  void launch(const msm::MinBlocks<Step, kBlocks>& step, size_t threads) {
    ++counts.capped;
    launch(static_cast<const Step&>(step), threads);
  }
  unsigned sort_pairs(uint32_t* const keys[2], uint32_t* const vals[2], size_t m, unsigned end_bit) {
    for (size_t i = 0; i < m; ++i)
      EXPECT_EQ(uint64_t(keys[0][i]) >> end_bit, 0u) << "key above the sort's end bit";
    return testing::stable_sort_pairs(keys, vals, m);  // buffer 1, as a double-buffered radix sort may
  }
  void zero(void* p, size_t bytes) { std::memset(p, 0, bytes); }
  uint32_t read_u32(const uint32_t* p) { return *p; }
  void first_level_queued() {}
  template <class T>
  void download(T* host, const T* p, size_t n) {
    std::copy(p, p + n, host);
  }

  LaunchCounts counts;

 private:
  std::mt19937_64& rng_;
};

struct SimOptions {
  unsigned sm_count = 4;
  unsigned window_bits = 0;
  size_t max_batch = 0;
  msm::Tuning tuning{};
};

// Tiny segments and chunks: many carry and reduction levels even for small n.
msm::Tuning tiny_tuning() {
  msm::Tuning t;
  t.segments_per_sm = 8;
  t.min_segment = 4;
  t.carry_segment = 4;
  t.reduce_threads_per_sm = 4;
  t.reduce_chunk = 2;
  return t;
}

// The defaults with the later reduction levels in chunks of 8 (the default until 2026-11-28),
// so the longer chains stay covered.
msm::Tuning long_chunk_tuning() {
  msm::Tuning t;
  t.reduce_chunk = 8;
  return t;
}

// The plan for n points; with point tables t (t.tables > 1), their width and layout.
template <class C>
msm::Plan plan_for(size_t n, const SimOptions& o, const MsmTables& t = {}) {
  msm::PlanRequest r;
  r.n = n;
  r.sm_count = o.sm_count;
  r.point_bytes = sizeof(Affine<C>);
  r.xyzz_bytes = sizeof(Xyzz<C>);
  r.window_bits = o.window_bits;
  if (t.tables > 1) {
    r.window_bits = t.window_bits;
    r.tables = t.tables;
    r.table_stride = t.stride;
  }
  r.max_batch = o.max_batch;
  r.tuning = o.tuning;
  return msm::make_plan(r);
}

// msm::run over a poisoned arena.
template <class C>
Jacobian<C> run_plan(const msm::Plan& plan, const std::vector<Fr>& s, const Affine<C>* points, std::mt19937_64& rng,
                     LaunchCounts* counts = nullptr) {
  const PoisonedArena<C> arena(plan);
  SimExec ex(rng);
  const Jacobian<C> r = msm::run(ex, plan, arena.b, s.data(), points, s.size());
  if (counts) *counts = ex.counts;
  return r;
}

template <class C>
Jacobian<C> simulate(const std::vector<Fr>& s, const std::vector<Affine<C>>& p, const SimOptions& o,
                     std::mt19937_64& rng, LaunchCounts* counts = nullptr) {
  return run_plan(plan_for<C>(s.size(), o), s, p.data(), rng, counts);
}

template <class C>
Jacobian<C> reference(const std::vector<Fr>& s, const std::vector<Affine<C>>& p) {
  static const std::unique_ptr<Backend> cpu = make_cpu_backend();
  Jacobian<C> r;
  if constexpr (std::is_same_v<C, G1Curve>)
    cpu->msm_g1(r, s.data(), p.data(), s.size());
  else
    cpu->msm_g2(r, s.data(), p.data(), s.size());
  return r;
}

using testing::progression_points;
using testing::skewed_scalars;
using testing::uniform_scalars;

template <class C>
void expect_matches(const std::vector<Fr>& s, const std::vector<Affine<C>>& p, const SimOptions& o,
                    std::mt19937_64& rng, const std::string& what) {
  SCOPED_TRACE(what + ", n=" + std::to_string(s.size()) +
               ", window_bits=" + std::to_string(plan_for<C>(s.size(), o).layout.c));
  const Jacobian<C> got = simulate(s, p, o, rng), want = reference(s, p);
  EXPECT_TRUE(got.is_on_curve());
  EXPECT_TRUE(got == want);
}

template <class C>
class MsmGpuSim : public ::testing::Test {};
using Curves = ::testing::Types<G1Curve, G2Curve>;
TYPED_TEST_SUITE(MsmGpuSim, Curves);

TYPED_TEST(MsmGpuSim, UniformScalarsAtNonPowerOfTwoSizes) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const auto points = progression_points<C>(rng, 3001);
  for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{17}, size_t{100}, size_t{1001}, size_t{3001}}) {
    const std::vector<Affine<C>> p(points.begin(), points.begin() + n);
    expect_matches(uniform_scalars(rng, n), p, SimOptions{}, rng, "default tuning");
    if (n >= 100) expect_matches(uniform_scalars(rng, n), p, SimOptions{2, 0, 0, tiny_tuning()}, rng, "tiny");
  }
}

TYPED_TEST(MsmGpuSim, SkewedScalarsShareBucketsAcrossSegments) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t n = std::is_same_v<C, G1Curve> ? 6007 : 2503;
  const auto p = progression_points<C>(rng, n);
  const auto s = skewed_scalars(rng, n);
  expect_matches(s, p, SimOptions{}, rng, "default tuning");
  expect_matches(s, p, SimOptions{132, 0, 0, {}}, rng, "the plan of an H100 (132 SMs)");
  expect_matches(s, p, SimOptions{3, 0, 0, tiny_tuning()}, rng, "tiny");
  expect_matches(s, p, SimOptions{3, 0, 611, tiny_tuning()}, rng, "tiny, batches of 611");
  // All ones: one bucket of window 0 holds every point.
  expect_matches(std::vector<Fr>(n, Fr::one()), p, SimOptions{2, 0, 0, tiny_tuning()}, rng, "all one");
  expect_matches(std::vector<Fr>(n, -Fr::one()), p, SimOptions{}, rng, "all minus one");
}

// Tuning::cap_g1/g2_accumulate_registers: every accumulation launch of that curve goes out as
// msm::MinBlocks (the CUDA executor's capped kernels), and nothing else does (the other curve's
// flag has no effect); the sums are the same. By default G1's are capped and G2's not.
TYPED_TEST(MsmGpuSim, CappedAccumulationLaunchesEveryAccumulationStep) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t n = 1201;
  const auto p = progression_points<C>(rng, n);
  const auto s = skewed_scalars(rng, n);
  const Jacobian<C> want = reference(s, p);
  constexpr bool kG1 = std::is_same_v<C, G1Curve>;
  EXPECT_EQ(msm::caps_accumulate_registers<C>(msm::Tuning{}), kG1);
  for (const bool cap : {false, true}) {
    SCOPED_TRACE(cap ? "capped" : "not capped");
    for (msm::Tuning t : {msm::Tuning{}, tiny_tuning(), long_chunk_tuning()}) {
      (kG1 ? t.cap_g1_accumulate_registers : t.cap_g2_accumulate_registers) = cap;
      (kG1 ? t.cap_g2_accumulate_registers : t.cap_g1_accumulate_registers) = !cap;
      for (size_t batch : {size_t{0}, size_t{401}}) {
        LaunchCounts counts;
        EXPECT_TRUE(simulate(s, p, SimOptions{3, 0, batch, t}, rng, &counts) == want);
        EXPECT_GT(counts.accumulation, 0u);
        EXPECT_EQ(counts.capped, cap ? counts.accumulation : 0u);
      }
    }
  }
}

// G1 with the device's dedicated square (msm::G1CurveSquare; on the host its square is the
// product, so this checks the steps instantiated over it): the steps over G1's arrays
// reinterpreted, as MsmDriver::msm_g1_square does, give the CPU's sums, over points with
// repeats, opposites and points at infinity (the special cases of the additions), uniform and
// skewed scalars, tiny tuning and batches. It is G1's form where the kernels choose by curve.
TEST(MsmGpuSimSquare, G1CurveSquareMatchesCpu) {
  using S = msm::G1CurveSquare;
  static_assert(msm::ReduceStep<S>::kFuseY && msm::kCappedBlocks<S> == msm::kCappedBlocks<G1Curve>);
  auto rng = testing::seeded_rng();
  const size_t n = 1501;
  auto p = progression_points<G1Curve>(rng, n);
  for (size_t i = 5; i < n; i += 9) p[i] = p[3];
  for (size_t i = 6; i < n; i += 13) p[i] = -p[3];
  for (size_t i = 7; i < n; i += 17) p[i] = G1Affine::infinity();
  const auto* ps = reinterpret_cast<const Affine<S>*>(p.data());
  const std::vector<Fr> uniform = uniform_scalars(rng, n), skewed = skewed_scalars(rng, n);
  for (const auto& [s, o] : {std::pair{uniform, SimOptions{}}, std::pair{skewed, SimOptions{3, 0, 0, tiny_tuning()}},
                             std::pair{uniform, SimOptions{2, 0, 500, tiny_tuning()}}}) {
    const Jacobian<S> got = run_plan(plan_for<S>(n, o), s, ps, rng);
    G1Jacobian g;
    std::memcpy(&g, &got, sizeof g);
    EXPECT_TRUE(g.is_on_curve());
    EXPECT_TRUE(g == reference(s, p));
  }
}

TYPED_TEST(MsmGpuSim, ZeroScalarsAndEmptyInputGiveInfinity) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const auto p = progression_points<C>(rng, 257);
  const std::vector<Fr> zeros(p.size(), Fr::zero());
  LaunchCounts launches;
  EXPECT_TRUE(simulate(zeros, p, SimOptions{}, rng).is_infinity());
  EXPECT_TRUE(simulate(zeros, p, SimOptions{1, 0, 100, tiny_tuning()}, rng).is_infinity());
  EXPECT_TRUE(simulate(std::vector<Fr>{}, std::vector<Affine<C>>{}, SimOptions{}, rng, &launches).is_infinity());
  EXPECT_EQ(launches.all, 0u);
  // One point, one scalar; and zero times a point.
  const std::vector<Affine<C>> one(p.begin(), p.begin() + 1);
  expect_matches(std::vector<Fr>{field_random<Fr>(rng)}, one, SimOptions{}, rng, "n=1");
  expect_matches(std::vector<Fr>{Fr::one()}, one, SimOptions{}, rng, "n=1, scalar 1");
  EXPECT_TRUE(simulate(std::vector<Fr>{Fr::zero()}, one, SimOptions{}, rng).is_infinity());
}

// Equal points in one bucket (the doubling case of the mixed addition), opposite points that
// cancel, and points at infinity.
TYPED_TEST(MsmGpuSim, RepeatedOppositeAndInfinitePoints) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t n = 1203;
  auto p = progression_points<C>(rng, n);
  for (size_t i = 0; i < n; i += 3) p[i] = p[1];
  for (size_t i = 2; i < n; i += 7) p[i] = -p[1];
  for (size_t i = 4; i < n; i += 11) p[i] = Affine<C>::infinity();
  auto s = skewed_scalars(rng, n);
  expect_matches(s, p, SimOptions{2, 0, 0, tiny_tuning()}, rng, "skewed");
  expect_matches(std::vector<Fr>(n, Fr::from_u64(5)), p, SimOptions{2, 0, 0, tiny_tuning()}, rng, "all five");
  expect_matches(uniform_scalars(rng, n), p, SimOptions{}, rng, "uniform");
}

// A bucket whose run spans several segments, with the part in its first segment summing to
// infinity (P, -P, P, -P): the owner of the run in step 3a holds a carry at infinity. Where the
// run is longer than the step's reach it must still flag the run, or the carry levels return at
// once and the bucket is never stored; within reach it sums the run and the levels have nothing.
TYPED_TEST(MsmGpuSim, ARunWhoseFirstPartCancelsReachesItsBucket) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t n = 64;
  auto p = progression_points<C>(rng, n);
  for (size_t i = 0; i < 4; ++i) p[i] = i % 2 ? -p[0] : p[0];
  const std::vector<Fr> ones(n, Fr::one());  // one bucket, the points in index order
  for (const uint32_t reach : {2u, 15u}) {
    SCOPED_TRACE("join_segments " + std::to_string(reach));
    SimOptions o{2, 0, 0, tiny_tuning()};
    o.tuning.join_segments = reach;
    const msm::Plan plan = plan_for<C>(n, o);
    ASSERT_EQ(plan.first_segment(n), 4u);  // 16 segments of 4: the run's last is 15 after its first
    const PoisonedArena<C> arena(plan);
    SimExec ex(rng);
    EXPECT_TRUE(msm::run(ex, plan, arena.b, ones.data(), p.data(), n) == reference(ones, p));
    EXPECT_EQ(arena.b.nnz[1], reach < 15 ? 1u : 0u);  // the flag step 3a leaves
  }
}

// Step 3a's reach: one bucket's run over k + 1 segments of 4 (scalars 5, after one pair each of
// 1..3, so the run starts inside a segment) is summed by step 3a when k <= join_segments and
// left to the carry levels when not; the MSM is right either way. Runs that follow one another
// over several segments each have one owner each, also a run that starts at a segment's first
// pair (its part there is in that segment's tail slot).
TYPED_TEST(MsmGpuSim, JoinReachesRunsOverUpToJoinSegments) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  for (const size_t k : {1u, 3u, 6u}) {
    // Keys 1, 2, 3 then 5 * (4k + 1): segments of 4 start at 0, so the run of 5 starts at index 3
    // (inside segment 0) and ends at 4k + 3, inside segment k.
    std::vector<Fr> s = {Fr::from_u64(1), Fr::from_u64(2), Fr::from_u64(3)};
    s.resize(3 + 4 * k + 1, Fr::from_u64(5));
    const size_t n = s.size();
    const auto p = progression_points<C>(rng, n);
    for (const uint32_t reach : {uint32_t(k - 1), uint32_t(k), uint32_t(k + 1)}) {
      if (reach == 0) continue;
      SCOPED_TRACE("run over " + std::to_string(k + 1) + " segments, join_segments " + std::to_string(reach));
      SimOptions o{2, 8, 0, tiny_tuning()};
      o.tuning.join_segments = reach;
      const msm::Plan plan = plan_for<C>(n, o);
      ASSERT_EQ(plan.first_segment(n), 4u);
      const PoisonedArena<C> arena(plan);
      SimExec ex(rng);
      EXPECT_TRUE(msm::run(ex, plan, arena.b, s.data(), p.data(), n) == reference(s, p));
      EXPECT_EQ(arena.b.nnz[1], k <= reach ? 0u : 1u);
    }
  }
  // 5 at pairs 0-7 (segments 0 and 1, exactly), 6 at 8-21 (from segment 2's first pair into
  // segment 5), 7 at 22-39 (from inside segment 5 to the end).
  std::vector<Fr> s(8, Fr::from_u64(5));
  s.resize(22, Fr::from_u64(6));
  s.resize(40, Fr::from_u64(7));
  const auto p = progression_points<C>(rng, s.size());
  SimOptions o{2, 8, 0, tiny_tuning()};
  const msm::Plan plan = plan_for<C>(s.size(), o);
  ASSERT_EQ(plan.first_segment(s.size()), 4u);
  const PoisonedArena<C> arena(plan);
  SimExec ex(rng);
  EXPECT_TRUE(msm::run(ex, plan, arena.b, s.data(), p.data(), s.size()) == reference(s, p));
  EXPECT_EQ(arena.b.nnz[1], 0u);
}

// A run that starts inside the second-to-last segment and fills the last, short one: the list
// ends there, so step 3a sums it and leaves nothing for the carry levels. Scalars 1..14 once and
// 15 four times (window 0 only, 8 bits): sorted keys 1..14, 15, 15 | 15, 15 in segments of 4,
// the last holding 2.
TYPED_TEST(MsmGpuSim, ARunEndingInTheLastShortSegmentIsJoined) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t n = 18;
  const auto p = progression_points<C>(rng, n);
  std::vector<Fr> s(n);
  for (size_t i = 0; i < n; ++i) s[i] = Fr::from_u64(std::min<uint64_t>(i + 1, 15));
  SimOptions o{2, 8, 0, tiny_tuning()};
  o.tuning.join_segments = 1;
  const msm::Plan plan = plan_for<C>(n, o);
  const PoisonedArena<C> arena(plan);
  SimExec ex(rng);
  const Jacobian<C> got = msm::run(ex, plan, arena.b, s.data(), p.data(), n);
  EXPECT_TRUE(got == reference(s, p));
  ASSERT_EQ(arena.b.nnz[0], n);
  ASSERT_EQ(plan.first_segment(n), 4u);
  EXPECT_EQ(arena.b.nnz[1], 0u);  // step 3a left no carry
}

// The carry levels' early return (method, step 3): with short runs step 3a leaves no carry, so
// no level writes anything (its output keys stay poisoned); with skewed scalars a run spans more
// segments than step 3a reaches and the levels do run. Both agree with the CPU backend. The
// short runs come from scalars below 2^47: four windows of 12 bits, 2048 buckets each, for
// 3001 points.
TYPED_TEST(MsmGpuSim, CarryLevelsReturnAtOnceWhenNothingIsCarried) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t n = 3001;
  const auto p = progression_points<C>(rng, n);
  for (const bool skewed : {false, true}) {
    SCOPED_TRACE(skewed ? "skewed" : "spread below 2^47");
    std::vector<Fr> s = skewed_scalars(rng, n);
    if (!skewed)
      for (Fr& x : s) x = Fr::from_u64(rng() >> 17);
    const msm::Plan plan = plan_for<C>(n, SimOptions{4, 12, 0, {}});
    const PoisonedArena<C> arena(plan);
    const msm::Buffers<C>& b = arena.b;
    SimExec ex(rng);
    const Jacobian<C> got = msm::run(ex, plan, b, s.data(), p.data(), n);
    EXPECT_TRUE(got == reference(s, p));
    const uint32_t nnz = b.nnz[0], seg = plan.first_segment(nnz);
    const size_t segs = (nnz + seg - 1) / seg;
    ASSERT_GT(segs, 1u);  // there are carry levels
    const size_t level1_segs = (2 * segs + plan.tuning.carry_segment - 1) / plan.tuning.carry_segment;
    const uint32_t* level1_keys = b.carry_keys[1];  // written by every thread of a level that runs
    const bool untouched = std::all_of(level1_keys, level1_keys + 2 * level1_segs,
                                       [](uint32_t k) { return k == 0xa5a5a5a5u; });
    EXPECT_EQ(b.nnz[1], skewed ? 1u : 0u);  // what step 3a left
    EXPECT_EQ(untouched, !skewed);
  }
}

TYPED_TEST(MsmGpuSim, ForcedWindowWidths) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t n = 333;
  const auto p = progression_points<C>(rng, n);
  for (unsigned c : {2u, 3u, 5u, 8u, 11u, 13u}) {
    expect_matches(uniform_scalars(rng, n), p, SimOptions{4, c, 0, {}}, rng, "uniform");
    expect_matches(skewed_scalars(rng, n), p, SimOptions{1, c, 50, tiny_tuning()}, rng, "skewed, tiny, batches of 50");
  }
  // Largest scalars: r - 1 and r - 2 everywhere exercise the top window's carry.
  expect_matches(std::vector<Fr>(n, -Fr::one()), p, SimOptions{4, 16, 0, {}}, rng, "r-1, 16 bits");
  expect_matches(std::vector<Fr>(n, -Fr::from_u64(2)), p, SimOptions{4, 7, 0, {}}, rng, "r-2, 7 bits");
}

// Point tables: tables made by PrecomputeStep over all N points, then MSMs over sub-ranges
// [first, first + n) of them (the resident-key case: table 0 at an offset, the others stride N
// after it).
template <class C>
std::vector<Affine<C>> make_tables(const std::vector<Affine<C>>& all, const MsmTables& t, std::mt19937_64& rng) {
  // Garbage past table 0: an entry the precomputation does not write shows.
  std::vector<Affine<C>> table(t.points(), Affine<C>{C::Field::one(), C::Field::one()});
  std::copy(all.begin(), all.end(), table.begin());
  SimExec ex(rng);
  msm::precompute_tables(ex, table.data(), all.size(), t.stride, msm::make_layout(t.window_bits, t.tables));
  return table;
}

template <class C>
Jacobian<C> simulate_with_tables(const std::vector<Fr>& s, const std::vector<Affine<C>>& table, size_t first,
                                 const MsmTables& t, const SimOptions& o, std::mt19937_64& rng) {
  const msm::Plan plan = plan_for<C>(s.size(), o, t);
  EXPECT_EQ(plan.layout.tables, t.tables);
  return run_plan(plan, s, table.data() + first, rng);
}

template <class C>
void expect_tables_match(const std::vector<Fr>& s, const std::vector<Affine<C>>& all,
                         const std::vector<Affine<C>>& table, size_t first, const MsmTables& t, const SimOptions& o,
                         std::mt19937_64& rng, const std::string& what) {
  SCOPED_TRACE(what + ", n=" + std::to_string(s.size()) + " from " + std::to_string(first) + ", window_bits=" +
               std::to_string(t.window_bits) + ", tables=" + std::to_string(t.tables) + ", bucket windows=" +
               std::to_string(msm::make_layout(t.window_bits, t.tables).windows));
  const std::vector<Affine<C>> p(all.begin() + first, all.begin() + first + s.size());
  const Jacobian<C> got = simulate_with_tables(s, table, first, t, o, rng), want = reference(s, p);
  EXPECT_TRUE(got.is_on_curve());
  EXPECT_TRUE(got == want);
}

TYPED_TEST(MsmGpuSim, PointTablesMatchCpu) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t total = 701;
  auto all = progression_points<C>(rng, total);
  all[5] = Affine<C>::infinity();
  all[9] = all[8];
  all[10] = -all[8];
  struct Case {
    unsigned c, max_tables;
  };
  // One bucket window (tables = digit windows), several, and table counts that leave the last
  // table's windows partly unused (c = 16, 10 tables: G = 2, 8 tables).
  for (Case k : {Case{8, 32}, Case{8, 5}, Case{11, 24}, Case{16, 10}, Case{13, 2}, Case{2, 9}}) {
    const MsmTables t{k.c, msm::make_layout(k.c, k.max_tables).tables, total};
    const auto table = make_tables(all, t, rng);
    for (size_t first : {size_t{0}, size_t{137}}) {
      const size_t n = total - first - 3;
      expect_tables_match(uniform_scalars(rng, n), all, table, first, t, SimOptions{}, rng, "uniform");
      expect_tables_match(skewed_scalars(rng, n), all, table, first, t, SimOptions{2, 0, 97, tiny_tuning()}, rng,
                          "skewed, tiny, batches of 97");
    }
    if (k.c == 16) {
      expect_tables_match(std::vector<Fr>(total, -Fr::one()), all, table, 0, t, SimOptions{}, rng, "r-1");
      expect_tables_match(std::vector<Fr>(total, Fr::one()), all, table, 0, t, SimOptions{3, 0, 0, tiny_tuning()}, rng,
                          "all one");
      EXPECT_TRUE(simulate_with_tables(std::vector<Fr>(total, Fr::zero()), table, 0, t, SimOptions{}, rng).is_infinity());
    }
    if (k.c == 13)
      expect_tables_match(std::vector<Fr>(total, -Fr::from_u64(2)), all, table, 0, t, SimOptions{}, rng, "r-2");
  }
}

// Tuning::reduce_split_pairs: every reduction level in chunks of 2 runs as msm::ReducePairStep
// (X' and Y' in separate warps; the first level too, from the buckets, where its chunk is 2), and
// the sums stay the CPU's: many windows (pairs must not straddle them), one bucket window over
// point tables, batches, skewed scalars, and a first chunk as long as the whole window (no pair
// level at all). Levels in longer chunks stay ReduceStep (the long-chunk tuning: chunks of 8,
// its last one 2 where 8 does not divide).
TYPED_TEST(MsmGpuSim, SplitReductionPairsMatchCpu) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t total = 1301;
  const auto all = progression_points<C>(rng, total);
  const std::vector<Fr> uniform = uniform_scalars(rng, total), skewed = skewed_scalars(rng, total);
  const Jacobian<C> want_uniform = reference(uniform, all), want_skewed = reference(skewed, all);
  struct Case {
    const char* what;
    msm::Tuning tuning;
    unsigned window_bits;
    size_t batch;
    bool pair_levels;
  };
  msm::Tuning whole = tiny_tuning();
  whole.reduce_max_first_chunk = 1u << 20;
  whole.reduce_threads_per_sm = 1;
  msm::Tuning first2 = tiny_tuning();
  first2.reduce_max_first_chunk = 2;
  std::vector<Case> cases = {{"default tuning", {}, 0, 0, true},
                             {"tiny", tiny_tuning(), 0, 0, true},
                             {"tiny, 9-bit windows, batches of 300", tiny_tuning(), 9, 300, true},
                             {"3-bit windows, first chunk 2: both levels pairs", first2, 3, 0, true},
                             {"first chunk 2: every level pairs", first2, 0, 0, true},
                             {"first chunk the whole window", whole, 6, 0, false},
                             {"chunks of 8", long_chunk_tuning(), 0, 0, true}};
  for (Case& k : cases) {
    SCOPED_TRACE(k.what);
    k.tuning.reduce_split_pairs = true;
    const SimOptions o{3, k.window_bits, k.batch, k.tuning};
    for (const auto& [s, want] : {std::pair{&uniform, &want_uniform}, std::pair{&skewed, &want_skewed}}) {
      LaunchCounts counts;
      const Jacobian<C> got = simulate(*s, all, o, rng, &counts);
      EXPECT_TRUE(got.is_on_curve());
      EXPECT_TRUE(got == *want);
      const std::vector<uint32_t> chunks = plan_for<C>(total, o).reduce_chunks();
      EXPECT_EQ(counts.reduce_pairs, size_t(std::count(chunks.begin(), chunks.end(), 2u)));
      EXPECT_EQ(counts.reduce_pairs > 0, k.pair_levels);
    }
  }
  // Point tables, one bucket window: the whole reduction is one window's levels.
  const MsmTables t{8, msm::make_layout(8, 32).tables, total};
  ASSERT_EQ(msm::make_layout(8, 32).windows, 1u);
  const auto table = make_tables(all, t, rng);
  for (msm::Tuning tuning : {msm::Tuning{}, tiny_tuning(), first2}) {
    tuning.reduce_split_pairs = true;
    expect_tables_match(uniform, all, table, 0, t, SimOptions{2, 0, 0, tuning}, rng, "tables, uniform");
    expect_tables_match(skewed, all, table, 0, t, SimOptions{2, 0, 0, tuning}, rng, "tables, skewed");
  }
}

// Step 2's two launches (CountCoarseStep, CountStep) find the number of keys below the sentinel
// in sorted keys for every kind of boundary: none below it, all below it, at the start, middle
// and end of a stride and of the last (short) stride, and with a stride of 1 (m <= 4096).
TEST(MsmGpuPlan, CountFindsWhereTheSentinelsBegin) {
  constexpr uint32_t kSentinel = 7u << 20;
  std::mt19937_64 rng(5);
  for (size_t m :
       {size_t{1}, size_t{2}, size_t{4095}, size_t{4096}, size_t{4097}, size_t{10007}, size_t{3 * 4096 * 3 + 5}}) {
    const size_t stride = msm::count_stride(m);
    EXPECT_LE((m + stride - 1) / stride, msm::kCountSamples);
    std::vector<size_t> counts = {
        0, 1, stride - 1, stride, stride + 1, m / 2, m - 1, m, (m / stride) * stride, (m / stride) * stride + 1};
    for (size_t nnz : counts) {
      if (nnz > m) continue;
      SCOPED_TRACE("m " + std::to_string(m) + ", " + std::to_string(nnz) + " below the sentinel");
      std::vector<uint32_t> keys(m, kSentinel);
      for (size_t i = 0; i < nnz; ++i) keys[i] = uint32_t(i / 3);
      std::vector<uint32_t> words(2, 0);  // nnz, the coarse step's stride number
      SimExec ex(rng);
      ex.launch(msm::CountCoarseStep{keys.data(), m, stride, kSentinel, &words[1]}, (m + stride - 1) / stride);
      ex.launch(msm::CountStep{keys.data(), m, stride, kSentinel, &words[1], &words[0]}, stride);
      EXPECT_EQ(words[0], nnz);
    }
  }
}

// msm::ReducePairStep's threads: warps of one role, each pair's two sums in two warps, and on
// the last level (no X') one thread per pair.
TEST(MsmGpuPlan, ReducePairThreadsComeInWarpsOfOneRole) {
  using X = Xyzz<G1Curve>;
  for (size_t pairs : {size_t{1}, size_t{31}, size_t{32}, size_t{33}, size_t{100}}) {
    SCOPED_TRACE("pairs " + std::to_string(pairs));
    std::vector<X> x(2 * pairs), y(2 * pairs);
    std::vector<X> xo(pairs), yo(pairs);
    std::mt19937_64 rng(pairs);
    const auto pts = progression_points<G1Curve>(rng, 4 * pairs);
    for (size_t i = 0; i < 2 * pairs; ++i) {
      x[i] = X::from_affine(pts[i]);
      y[i] = X::from_affine(pts[2 * pairs + i]);
    }
    const msm::ReducePairStep<G1Curve> step{x.data(), y.data(), pairs, xo.data(), yo.data()};
    EXPECT_EQ(step.threads() % 64, 0u);
    std::vector<int> x_threads(pairs), y_threads(pairs);
    for (size_t t = 0; t < step.threads(); ++t) {
      step(t);
      const size_t k = ((t >> 6) << 5) | (t & 31);
      if (k < pairs) ++(((t >> 5) & 1) ? x_threads : y_threads)[k];
    }
    for (size_t k = 0; k < pairs; ++k) {
      EXPECT_EQ(x_threads[k], 1);
      EXPECT_EQ(y_threads[k], 1);
      EXPECT_TRUE(xo[k].to_jacobian() == (x[2 * k] + x[2 * k + 1]).dbl().to_jacobian()) << k;
      EXPECT_TRUE(yo[k].to_jacobian() == (y[2 * k] + x[2 * k + 1] + y[2 * k + 1]).to_jacobian()) << k;
    }
    const msm::ReducePairStep<G1Curve> last{x.data(), y.data(), pairs, nullptr, yo.data()};
    EXPECT_EQ(last.threads(), pairs);
  }
}

// The plan's window width (its cost model counts the carry levels where uniform runs would
// reach past step 3a) and the balanced widths leave uniform scalars' runs to step 3a, so the
// carry levels have nothing to do: plain points and point tables, on an H100's plan (132 SMs).
// With equal widths the narrow top window's few buckets would hold runs over tens of segments.
// A fixed seed: the runs' lengths are random, and this checks one input, not a bound
// (tests/tools/msm_carry_census counts larger sizes).
TYPED_TEST(MsmGpuSim, UniformScalarsLeaveTheCarryLevelsIdle) {
  using C = TypeParam;
  std::mt19937_64 rng(7);
  auto check = [&](const msm::Plan& plan, const std::vector<Fr>& s, const Affine<C>* points,
                   const std::vector<Affine<C>>& p) {
    const PoisonedArena<C> arena(plan);
    SimExec ex(rng);
    EXPECT_TRUE(msm::run(ex, plan, arena.b, s.data(), points, s.size()) == reference(s, p));
    EXPECT_EQ(arena.b.nnz[1], 0u) << "the carry levels ran";
  };
  for (const size_t n : {size_t{3001}, size_t{1} << 13}) {
    SCOPED_TRACE("plain points, n=" + std::to_string(n));
    const auto p = progression_points<C>(rng, n);
    const std::vector<Fr> s = uniform_scalars(rng, n);
    check(plan_for<C>(n, SimOptions{132, 0, 0, {}}), s, p.data(), p);
  }
  const size_t n = 3001;
  SCOPED_TRACE("point tables, n=" + std::to_string(n));
  const auto p = progression_points<C>(rng, n);
  const MsmTables t = msm::plan_tables(n, sizeof(Affine<C>), SIZE_MAX, 132, size_t{1} << 30);
  ASSERT_EQ(msm::make_layout(t.window_bits, t.tables).windows, 1u);
  const auto table = make_tables(p, t, rng);
  const std::vector<Fr> s = uniform_scalars(rng, n);
  check(plan_for<C>(n, SimOptions{132, 0, 0, {}}, t), s, table.data(), p);
}

// Table j of point i is 2^(o_j) P_i, o_j the first bit of table j's digit windows, in affine
// form, infinity staying infinity: j c G with G > 1 bucket windows, balanced widths with G = 1.
TYPED_TEST(MsmGpuSim, PointTableEntriesAreShiftedPoints) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  auto pts = progression_points<C>(rng, 5);
  pts[3] = Affine<C>::infinity();
  const size_t stride = 7;  // more than the points: entries 5, 6 of each table are not written
  struct Case {
    unsigned c, max_tables, tables, windows;
    unsigned (*first_bit)(unsigned j);
  };
  const Case cases[] = {
      {12, 8, 8, 3, [](unsigned j) { return j * 12 * 3; }},
      // 14 windows of 255 bits: 3 of 19 bits, then 11 of 18 (not 13 of 19 and a top one of 8).
      {19, 14, 14, 1, [](unsigned j) { return 19 * std::min(j, 3u) + 18 * (std::max(j, 3u) - 3); }},
  };
  for (const Case& k : cases) {
    const msm::Layout l = msm::make_layout(k.c, k.max_tables);
    ASSERT_EQ(l.tables, k.tables);
    ASSERT_EQ(l.windows, k.windows);
    std::vector<Affine<C>> table(l.tables * stride, Affine<C>{C::Field::one(), C::Field::one()});
    std::copy(pts.begin(), pts.end(), table.begin());
    SimExec ex(rng);
    msm::precompute_tables(ex, table.data(), pts.size(), stride, l);
    for (size_t i = 0; i < pts.size(); ++i)
      for (unsigned j = 0; j < l.tables; ++j) {
        Jacobian<C> want = Jacobian<C>::from_affine(pts[i]);
        for (unsigned b = 0; b < k.first_bit(j); ++b) want = want.dbl();
        EXPECT_EQ(table[j * stride + i], want.to_affine()) << "c " << k.c << ", point " << i << ", table " << j;
      }
    for (unsigned j = 1; j < l.tables; ++j)
      for (size_t i = pts.size(); i < stride; ++i)
        EXPECT_EQ(table[j * stride + i], (Affine<C>{C::Field::one(), C::Field::one()})) << "entry written past n";
  }
}

// First bit of each digit window of l (and one past the last): c w where some tables share
// bucket windows (1 < G < W); else the balanced widths' sums, each width within one bit of
// 255 / W and none wider than c, 255 bits in all, with buckets for the widest window's digits.
void first_bits(const msm::Layout& l, std::vector<unsigned>& out) {
  const bool balanced = l.windows == 1 || l.windows == l.digit_windows;
  out.assign(l.digit_windows + 1, 0);
  for (unsigned w = 0; w < l.digit_windows; ++w) {
    const unsigned b = balanced ? l.width(w) : l.c;
    if (balanced) {
      ASSERT_LE(b, l.c);
      ASSERT_TRUE(b == 255 / l.digit_windows || b == 255 / l.digit_windows + 1) << "window " << w << ": " << b;
    }
    out[w + 1] = out[w] + b;
  }
  if (balanced) {
    ASSERT_EQ(out.back(), 255u) << "c=" << l.c;
    ASSERT_EQ(l.buckets, 1u << (out[1] - 1)) << "c=" << l.c << ": buckets for the widest window's digits";
  }
}

TEST(MsmGpuPlan, DigitsRecodeEveryScalar) {
  auto rng = testing::seeded_rng();
  // sum_w digit_w 2^(o_w) == k for every width, o_w window w's first bit: checked through the
  // pairs DigitsStep writes.
  std::vector<Fr> s = uniform_scalars(rng, 64);
  s.push_back(Fr::zero());
  s.push_back(Fr::one());
  s.push_back(-Fr::one());
  for (unsigned c = msm::kMinWindowBits; c <= msm::kMaxWindowBits; ++c) {
    const msm::Layout l = msm::make_layout(c);
    ASSERT_EQ(l.windows, l.digit_windows);
    std::vector<unsigned> first;
    ASSERT_NO_FATAL_FAILURE(first_bits(l, first));
    std::vector<uint32_t> keys(s.size() * l.windows), vals(keys.size());
    const msm::DigitsStep step{s.data(), s.size(), l, keys.data(), vals.data()};
    for (size_t i = 0; i < s.size(); ++i) step(i);
    for (size_t i = 0; i < s.size(); ++i) {
      Fr sum = Fr::zero();
      for (unsigned w = 0; w < l.windows; ++w) {
        const uint32_t key = keys[w * s.size() + i], val = vals[w * s.size() + i];
        ASSERT_EQ(val & ~msm::kSignBit, i);
        if (key != l.sentinel()) {
          ASSERT_EQ(key >> c, w);
          const uint32_t mag = key & ((1u << c) - 1);
          ASSERT_GE(mag, 1u);
          ASSERT_LE(mag, 1u << (first[w + 1] - first[w] - 1)) << "a digit wider than its window " << w;
          const Fr d = Fr::from_u64(mag) * Fr::from_u64(2).pow(first[w]);
          sum += (val & msm::kSignBit) ? -d : d;
        }
      }
      ASSERT_EQ(sum, s[i]) << "c=" << c << " scalar " << i;
    }
  }
}

// With tables, digit window w = j G + g goes to bucket window g with point j * stride + i, and
// sum_w digit 2^(c g) 2^(j c G) is the scalar again; with G = 1, sum_w digit 2^(o_w) over the
// balanced windows' first bits o_w.
TEST(MsmGpuPlan, DigitsWithTablesNameTheShiftedPoint) {
  auto rng = testing::seeded_rng();
  std::vector<Fr> s = uniform_scalars(rng, 40);
  s.push_back(-Fr::one());
  const size_t stride = 1000;
  for (unsigned c : {2u, 3u, 8u, 13u, 16u, 19u, 20u, 23u})
    for (unsigned max_tables : {2u, 3u, 7u, 100u, 128u}) {
      const msm::Layout l = msm::make_layout(c, max_tables);
      ASSERT_LE(l.tables, max_tables);
      ASSERT_GE(l.tables * l.windows, l.digit_windows);
      ASSERT_LT((l.tables - 1) * l.windows, l.digit_windows) << "a table with no digit window";
      std::vector<uint32_t> keys(s.size() * l.digit_windows), vals(keys.size());
      const msm::DigitsStep step{s.data(), s.size(), l, keys.data(), vals.data(), stride};
      for (size_t i = 0; i < s.size(); ++i) step(i);
      std::vector<unsigned> first_bit;
      ASSERT_NO_FATAL_FAILURE(first_bits(l, first_bit));
      for (size_t i = 0; i < s.size(); ++i) {
        Fr sum = Fr::zero();
        for (unsigned w = 0; w < l.digit_windows; ++w) {
          const uint32_t key = keys[w * s.size() + i], val = vals[w * s.size() + i];
          const unsigned j = w / l.windows, g = w % l.windows;
          ASSERT_EQ(val & ~msm::kSignBit, j * stride + i);
          if (key == l.sentinel()) continue;
          ASSERT_EQ(key >> c, g);
          ASSERT_LT(key, uint32_t{1} << l.key_bits);
          const uint32_t mag = key & ((1u << c) - 1);
          ASSERT_LE(mag, 1u << (first_bit[w + 1] - first_bit[w] - 1)) << "a digit wider than its window " << w;
          const Fr d = Fr::from_u64(mag) * Fr::from_u64(2).pow(first_bit[w]);
          sum += (val & msm::kSignBit) ? -d : d;
        }
        ASSERT_EQ(sum, s[i]) << "c=" << c << ", tables " << l.tables << ", scalar " << i;
      }
    }
}

TEST(MsmGpuPlan, TablesFollowMemoryAndIndexLimits) {
  const size_t n = size_t{1} << 20, pt = sizeof(G1Affine);
  // Memory for 3 tables: at most 3.
  MsmTables t = msm::plan_tables(n, pt, 3 * n * pt, 132, size_t{1} << 32);
  EXPECT_GE(t.tables, 2u);
  EXPECT_LE(t.tables, 3u);
  EXPECT_EQ(t.stride, n);
  EXPECT_EQ(msm::make_layout(t.window_bits, t.tables).tables, t.tables) << "not normalised";
  // Plenty of memory: one bucket window.
  t = msm::plan_tables(n, pt, SIZE_MAX, 132, size_t{1} << 32);
  EXPECT_EQ(msm::make_layout(t.window_bits, t.tables).windows, 1u);
  EXPECT_EQ(t.tables, msm::make_layout(t.window_bits).digit_windows);
  // Fewer than two tables fit, or index past 2^31: none.
  EXPECT_EQ(msm::plan_tables(n, pt, 2 * n * pt - 1, 132, size_t{1} << 32).tables, 1u);
  EXPECT_EQ(msm::plan_tables(size_t{3} << 29, pt, SIZE_MAX, 132, size_t{1} << 32).tables, 1u);
  EXPECT_LE(msm::plan_tables(size_t{1} << 29, pt, SIZE_MAX, 132, size_t{1} << 32).tables, 4u);
  EXPECT_EQ(msm::plan_tables(0, pt, SIZE_MAX, 132, size_t{1} << 32).tables, 1u);
  // The plan refuses tables it cannot index or that lack their width.
  msm::PlanRequest r;
  r.n = 1000;
  r.point_bytes = pt;
  r.xyzz_bytes = sizeof(G1Xyzz);
  r.tables = 4;
  EXPECT_THROW(msm::make_plan(r), std::invalid_argument);  // no window width
  r.window_bits = 16;
  r.table_stride = 999;
  EXPECT_THROW(msm::make_plan(r), std::invalid_argument);  // stride below n
  r.table_stride = size_t{1} << 30;
  EXPECT_THROW(msm::make_plan(r), std::invalid_argument);  // 4 tables of 2^30 index past 2^31
  r.table_stride = 1000;
  const msm::Plan p = msm::make_plan(r);
  EXPECT_EQ(p.layout.windows, 4u);
  EXPECT_EQ(p.pair_capacity(), p.batch * 16);  // every digit window has its pairs
  EXPECT_EQ(p.layout.total_buckets(), size_t{4} << 15);
  r.tables = 0;
  EXPECT_THROW(msm::make_plan(r), std::invalid_argument);
}

TEST(MsmGpuPlan, WindowWidthGrowsWithSizeAndFitsMemory) {
  unsigned prev = 0;
  for (unsigned logn = 0; logn <= 28; ++logn) {
    const unsigned c = msm::choose_window_bits(size_t{1} << logn, 132, SIZE_MAX);
    EXPECT_GE(c, prev) << "2^" << logn;
    EXPECT_GE(c, msm::kMinWindowBits);
    EXPECT_LE(c, msm::kMaxWindowBits);
    prev = c;
  }
  // A bucket cap forces narrower windows.
  const unsigned c = msm::choose_window_bits(size_t{1} << 24, 132, size_t{1} << 16);
  EXPECT_LE(msm::make_layout(c).total_buckets(), size_t{1} << 16);
  EXPECT_THROW(msm::make_layout(1), std::invalid_argument);
  EXPECT_THROW(msm::make_layout(25), std::invalid_argument);
}

TEST(MsmGpuPlan, BatchesShrinkToTheBudgetAndOutOfMemoryIsAnError) {
  msm::PlanRequest r;
  r.n = size_t{1} << 24;
  r.sm_count = 132;
  r.point_bytes = sizeof(G1Affine);
  r.xyzz_bytes = sizeof(G1Xyzz);
  const msm::Plan whole = msm::make_plan(r);
  EXPECT_EQ(whole.batch, r.n);
  r.budget_bytes = msm::arena_bytes(whole) / 3;
  const msm::Plan part = msm::make_plan(r);
  EXPECT_LT(part.batch, r.n);
  EXPECT_LE(msm::arena_bytes(part), r.budget_bytes);
  // A batched plan holds a second bucket array for the batches after the first; one batch none.
  EXPECT_FALSE(whole.batched());
  EXPECT_TRUE(part.batched());
  msm::Plan unbatched = part;
  unbatched.n = part.batch;
  EXPECT_EQ(msm::arena_bytes(part),
            msm::arena_bytes(unbatched) + msm::aligned(part.layout.total_buckets() * sizeof(G1Xyzz)));
  r.budget_bytes = size_t{1} << 20;
  EXPECT_THROW(msm::make_plan(r), gpu::MsmOutOfMemory);
  r.budget_bytes = SIZE_MAX;
  r.tuning.carry_segment = 3;
  EXPECT_THROW(msm::make_plan(r), std::invalid_argument);
  r.tuning = {};
  r.tuning.join_segments = 0;  // step 3a must reach at least the next segment
  EXPECT_THROW(msm::make_plan(r), std::invalid_argument);
}

// The first reduction level: 128 threads per SM, chunks of at most 16 buckets (msm::Tuning).
TEST(MsmGpuPlan, FirstReductionChunkIsCapped) {
  for (unsigned lg : {16u, 20u, 24u}) {
    msm::PlanRequest r;
    r.n = size_t{1} << lg;
    r.sm_count = 132;
    r.point_bytes = sizeof(G1Affine);
    r.xyzz_bytes = sizeof(G1Xyzz);
    const msm::Plan p = msm::make_plan(r);
    const std::vector<uint32_t> chunks = p.reduce_chunks();
    EXPECT_LE(chunks.front(), 16u) << "2^" << lg;
    if (lg >= 20) EXPECT_EQ(chunks.front(), 16u) << "2^" << lg;
    size_t product = 1;
    for (uint32_t c : chunks) product *= c;
    EXPECT_EQ(product, p.layout.buckets);
  }
  msm::PlanRequest r;
  r.n = 1000;
  r.point_bytes = sizeof(G1Affine);
  r.xyzz_bytes = sizeof(G1Xyzz);
  r.tuning.reduce_max_first_chunk = 12;
  EXPECT_THROW(msm::make_plan(r), std::invalid_argument);
}

// Carry capacity bounds every level's output, whatever the count of non-zero pairs.
TEST(MsmGpuPlan, CarryCapacityHoldsEveryLevel) {
  for (unsigned sm : {1u, 7u, 132u}) {
    for (msm::Tuning t : {msm::Tuning{}, tiny_tuning(), long_chunk_tuning()}) {
      msm::PlanRequest r;
      r.n = 100003;
      r.sm_count = sm;
      r.point_bytes = sizeof(G1Affine);
      r.xyzz_bytes = sizeof(G1Xyzz);
      r.tuning = t;
      const msm::Plan p = msm::make_plan(r);
      for (size_t nnz : {size_t{1}, size_t{5}, size_t{4097}, p.pair_capacity() / 3, p.pair_capacity()}) {
        const size_t seg = p.first_segment(nnz), segs = (nnz + seg - 1) / seg;
        EXPECT_LE(2 * segs, p.carry_capacity()) << "sm=" << sm << " nnz=" << nnz;
      }
      size_t product = 1;
      for (uint32_t c : p.reduce_chunks()) product *= c;
      EXPECT_EQ(product, p.layout.buckets);
    }
  }
}

}  // namespace
}  // namespace zkinfer
