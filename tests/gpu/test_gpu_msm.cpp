// CUDA MSM (kernels/cuda/msm.h) against the CPU MSM, G1 and G2: many sizes (non-powers of two),
// uniform, skewed (mostly 0, 1 and small), all-zero, all-one and all-minus-one scalars, inputs
// in device memory, in host memory (batched copies) and mixed, forced window widths and tiny
// segments (many carry levels), a memory limit that forces batches, point tables made on the
// device, and out-of-memory as an exception the driver survives. ZKINFER_GPU_TEST_N caps the
// sizes (bench/gpu_check.sh uses a small one under compute-sanitizer). Without a usable GPU every test skips with the reason.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "../support/msm_inputs.h"
#include "../support/seed.h"
#include "cpu/msm.h"
#include "cuda/buffer.h"
#include "cuda/msm.h"
#include "gpu_test_support.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

using gpu::DeviceBuffer;
using gpu::MsmConfig;
using gpu::MsmDriver;

size_t size_cap() {
  if (const char* s = std::getenv("ZKINFER_GPU_TEST_N")) return std::strtoull(s, nullptr, 0);
  return SIZE_MAX;
}

// A progression (testing::progression_points) with a few points at infinity and repeats, so
// the special cases of the additions are met.
template <class C>
std::vector<Affine<C>> make_points(std::mt19937_64& rng, size_t n) {
  std::vector<Affine<C>> out = testing::progression_points<C>(rng, n);
  for (size_t i = 5; i < n; i += 1009) out[i] = Affine<C>::infinity();
  for (size_t i = 7; i < n; i += 997) out[i] = out[0];
  return out;
}

using testing::skewed_scalars;
using testing::uniform_scalars;

template <class C>
Jacobian<C> cpu_msm(const std::vector<Fr>& s, const std::vector<Affine<C>>& p) {
  Jacobian<C> r;
  if constexpr (std::is_same_v<C, G1Curve>)
    cpu::msm_g1(r, s.data(), p.data(), s.size());
  else
    cpu::msm_g2(r, s.data(), p.data(), s.size());
  return r;
}

template <class C>
Jacobian<C> gpu_msm(MsmDriver& d, const Fr* s, const Affine<C>* p, size_t n) {
  Jacobian<C> r;
  d.msm(r, s, p, n);
  return r;
}
// Over point tables t.
template <class C>
Jacobian<C> gpu_msm(MsmDriver& d, const Fr* s, const Affine<C>* table, size_t n, const gpu::MsmTables& t) {
  Jacobian<C> r;
  d.msm(r, s, table, n, t);
  return r;
}

enum class Where { device, host, scalars_on_host };

template <class C>
Jacobian<C> gpu_msm(MsmDriver& d, const std::vector<Fr>& s, const std::vector<Affine<C>>& p, Where where) {
  if (where == Where::host) return gpu_msm<C>(d, s.data(), p.data(), s.size());
  DeviceBuffer<Affine<C>> dp(p);
  if (where == Where::scalars_on_host) return gpu_msm<C>(d, s.data(), dp.data(), s.size());
  DeviceBuffer<Fr> ds(s);
  return gpu_msm<C>(d, ds.data(), dp.data(), s.size());
}

template <class C>
class GpuMsm : public ::testing::Test {
 protected:
  void SetUp() override { ZK_SKIP_WITHOUT_GPU(); }

  void check(MsmDriver& d, const std::vector<Fr>& s, const std::vector<Affine<C>>& p, Where where,
             const std::string& what) {
    SCOPED_TRACE(what + ", n=" + std::to_string(s.size()));
    const Jacobian<C> got = gpu_msm<C>(d, s, p, where), want = cpu_msm(s, p);
    const MsmDriver::RunInfo info = d.last_run();
    EXPECT_TRUE(got.is_on_curve());
    EXPECT_TRUE(got == want) << "window " << info.window_bits << " bits, " << info.batches << " batches of "
                             << info.batch_points;
  }
  std::vector<size_t> sizes(std::initializer_list<size_t> all) {
    std::vector<size_t> out;
    for (size_t n : all)
      if (n <= size_cap()) out.push_back(n);
    if (out.empty()) out.push_back(size_cap());
    return out;
  }
};

using Curves = ::testing::Types<G1Curve, G2Curve>;
TYPED_TEST_SUITE(GpuMsm, Curves);

TYPED_TEST(GpuMsm, UniformScalarsAtManySizes) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  MsmDriver d;
  const auto sizes = this->sizes({1, 2, 3, 31, 255, 1000, 4099, 65537, 262147});
  const auto points = make_points<C>(rng, sizes.back());
  for (size_t n : sizes) {
    const std::vector<Affine<C>> p(points.begin(), points.begin() + n);
    this->check(d, uniform_scalars(rng, n), p, Where::device, "device inputs");
  }
}

// MsmDriver::msm_g1_square (the device's dedicated Fq square in the XYZZ formulas): device and
// host inputs, uniform, skewed and all-one scalars (equal points in a bucket: the doubling
// case), against the CPU.
TEST(GpuMsmSquare, G1WithDedicatedSquareMatchesCpu) {
  ZK_SKIP_WITHOUT_GPU();
  auto rng = testing::seeded_rng();
  MsmDriver d;
  for (size_t n : {size_t{1}, size_t{31}, size_t{4099}, size_t{65537}}) {
    if (n > size_cap() && n > 1) continue;
    const auto p = make_points<G1Curve>(rng, n);
    for (const int kind : {0, 1, 2}) {
      const std::vector<Fr> s = kind == 0   ? uniform_scalars(rng, n)
                                : kind == 1 ? skewed_scalars(rng, n)
                                            : std::vector<Fr>(n, Fr::one());
      const char* what = kind == 0 ? "uniform" : kind == 1 ? "skewed" : "all one";
      const G1Jacobian want = cpu_msm(s, p);
      DeviceBuffer<G1Affine> dp(p);
      DeviceBuffer<Fr> ds(s);
      G1Jacobian got;
      d.msm_g1_square(got, ds.data(), dp.data(), n);
      EXPECT_TRUE(got == want) << "device inputs, n=" << n << ", " << what;
      d.msm_g1_square(got, s.data(), p.data(), n);
      EXPECT_TRUE(got == want) << "host inputs, n=" << n << ", " << what;
    }
  }
}

// MsmConfig::g1_dedicated_square sends every msm_g1 through msm_g1_square's kernels: plain
// points (host inputs) and point tables, against the CPU.
TEST(GpuMsmSquare, ConfigSendsEveryG1MsmToTheDedicatedSquare) {
  ZK_SKIP_WITHOUT_GPU();
  auto rng = testing::seeded_rng();
  const size_t n = std::min<size_t>(size_cap(), 20011);
  MsmConfig cfg;
  cfg.g1_dedicated_square = true;
  MsmDriver d(0, cfg);
  const auto p = make_points<G1Curve>(rng, n);
  const std::vector<Fr> s = skewed_scalars(rng, n);
  const G1Jacobian want = cpu_msm(s, p);
  G1Jacobian got;
  d.msm_g1(got, s.data(), p.data(), n);
  EXPECT_TRUE(got == want) << "host inputs";
  DeviceBuffer<Fr> ds(s);
  const gpu::MsmTables t{13, gpu::msm::make_layout(13, 3).tables, n};
  DeviceBuffer<G1Affine> table(t.points());
  ASSERT_EQ(cudaMemcpy(table.data(), p.data(), n * sizeof(G1Affine), cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  d.precompute_g1(table.data(), n, t);
  d.msm_g1(got, ds.data(), table.data(), n, t);
  EXPECT_EQ(d.last_run().tables, t.tables);
  EXPECT_TRUE(got == want) << "device scalars, " << t.tables << " point tables";
}

TYPED_TEST(GpuMsm, SkewedZeroOneAndMinusOneScalars) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  MsmDriver d;
  for (size_t n : this->sizes({3, 1001, 100003})) {
    const auto p = make_points<C>(rng, n);
    this->check(d, skewed_scalars(rng, n), p, Where::device, "skewed");
    this->check(d, std::vector<Fr>(n, Fr::one()), p, Where::device, "all one");
    this->check(d, std::vector<Fr>(n, -Fr::one()), p, Where::device, "all minus one");
    DeviceBuffer<Fr> zeros(std::vector<Fr>(n, Fr::zero()));
    DeviceBuffer<Affine<C>> dp(p);
    EXPECT_TRUE(gpu_msm<C>(d, zeros.data(), dp.data(), n).is_infinity()) << "all zero, n=" << n;
  }
}

TYPED_TEST(GpuMsm, HostAndMixedInputsInBatches) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  MsmConfig cfg;
  cfg.host_batch_points = 10007;  // several batches: copies overlap work, slots are reused
  MsmDriver d(0, cfg);
  const size_t n = std::min<size_t>(size_cap(), 65539);
  const auto p = make_points<C>(rng, n);
  this->check(d, uniform_scalars(rng, n), p, Where::host, "host inputs");
  this->check(d, skewed_scalars(rng, n), p, Where::scalars_on_host, "scalars on the host");
  this->check(d, uniform_scalars(rng, n), p, Where::device, "device inputs, same driver");
}

// Host inputs larger than the driver's page-locked copy chunks (8 MiB: cuda/pinned_copy.h), in
// one batch and in several.
TYPED_TEST(GpuMsm, HostInputsLargerThanACopyChunk) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t n = std::min<size_t>(size_cap(), 300007);
  const auto p = make_points<C>(rng, n);
  MsmDriver whole;
  this->check(whole, uniform_scalars(rng, n), p, Where::host, "host inputs");
  this->check(whole, uniform_scalars(rng, n), p, Where::scalars_on_host, "scalars on the host");
  MsmConfig cfg;
  cfg.host_batch_points = 100003;
  MsmDriver batched(0, cfg);
  this->check(batched, skewed_scalars(rng, n), p, Where::host, "host inputs, batches of 100003");
}

TYPED_TEST(GpuMsm, ForcedWindowsTinySegmentsAndSmallBatches) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t n = std::min<size_t>(size_cap(), 20011);
  const auto p = make_points<C>(rng, n);
  // Step 3a's reach varied too: runs over many segments of 4 go to the join (32), to the carry
  // levels (1), or partly to each (3).
  struct Case {
    unsigned c;
    uint32_t join;
  };
  for (const Case k : {Case{3, 32}, Case{9, 1}, Case{13, 3}, Case{17, 32}}) {
    if (k.c == 17 && n < 20011) continue;  // a small run (compute-sanitizer): skip the 2^16-bucket windows
    MsmConfig cfg;
    cfg.window_bits = k.c;
    cfg.max_batch_points = 7001;
    cfg.tuning.segments_per_sm = 4;
    cfg.tuning.min_segment = 4;
    cfg.tuning.carry_segment = 4;
    cfg.tuning.join_segments = k.join;
    cfg.tuning.reduce_threads_per_sm = 2;
    cfg.tuning.reduce_chunk = 2;
    MsmDriver d(0, cfg);
    const std::string what = "window " + std::to_string(k.c) + ", join_segments " + std::to_string(k.join);
    this->check(d, skewed_scalars(rng, n), p, Where::device, "skewed, " + what);
    this->check(d, uniform_scalars(rng, n), p, Where::device, "uniform, " + what);
  }
}

TYPED_TEST(GpuMsm, MemoryLimitBatchesAndOutOfMemoryIsAnError) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t n = std::min<size_t>(size_cap(), 200003);
  const auto p = make_points<C>(rng, n);
  const auto s = uniform_scalars(rng, n);
  MsmConfig cfg;
  cfg.memory_limit_bytes = size_t{96} << 20;
  MsmDriver limited(0, cfg);
  this->check(limited, s, p, Where::device, "96 MiB limit");
  EXPECT_LE(limited.scratch_bytes(), cfg.memory_limit_bytes);

  cfg.memory_limit_bytes = size_t{1} << 20;
  MsmDriver tiny(0, cfg);
  EXPECT_THROW(gpu_msm<C>(tiny, s, p, Where::device), gpu::MsmOutOfMemory);
  // The driver is still usable, and so is the device.
  MsmDriver d;
  this->check(d, s, p, Where::device, "after an out-of-memory error");
}

// Point tables (MsmTables): written on the device by precompute_g1/g2 from the points, each
// entry 2^(j c G) P (checked on the host for a few), then MSMs over sub-ranges of them with
// device and host scalars, in one batch and several, against the CPU MSM of the same points.
TYPED_TEST(GpuMsm, PointTablesMatchCpu) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t total = std::min<size_t>(size_cap(), 65537);
  const auto all = make_points<C>(rng, total);
  struct Case {
    unsigned c, max_tables;
    size_t max_batch;
  };
  for (Case k : {Case{16, 16, 0}, Case{13, 3, 0}, Case{9, 100, 10007}, Case{20, 13, 0}}) {
    if (k.c >= 16 && total < 65537) continue;  // a small run (compute-sanitizer): skip the wide windows
    const gpu::MsmTables t{k.c, gpu::msm::make_layout(k.c, k.max_tables).tables, total};
    SCOPED_TRACE("window " + std::to_string(k.c) + ", " + std::to_string(t.tables) + " tables");
    MsmConfig cfg;
    cfg.max_batch_points = k.max_batch;
    MsmDriver d(0, cfg);
    DeviceBuffer<Affine<C>> table(t.points());
    ASSERT_EQ(cudaMemcpy(table.data(), all.data(), total * sizeof(Affine<C>), cudaMemcpyHostToDevice), cudaSuccess);
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);  // the driver's streams do not wait for the default one
    d.precompute(table.data(), total, t);
    const std::vector<Affine<C>> host_table = table.download();
    // Table j holds 2^(o) times the points, o the first bit of its digit windows (the layout's,
    // whose widths test_msm_gpu_sim checks).
    const gpu::msm::Layout l = gpu::msm::make_layout(k.c, t.tables);
    for (size_t i : {size_t{0}, size_t{5}, total - 1}) {
      Jacobian<C> want = Jacobian<C>::from_affine(all[i]);
      for (unsigned j = 0; j < t.tables; ++j) {
        ASSERT_EQ(host_table[j * total + i], want.to_affine()) << "point " << i << ", table " << j;
        if (j + 1 < t.tables)
          for (unsigned b = l.table_shift(j + 1); b > 0; --b) want = want.dbl();
      }
    }
    for (size_t first : {size_t{0}, total / 3}) {
      const size_t n = total - first - 1;
      const std::vector<Affine<C>> p(all.begin() + first, all.begin() + first + n);
      for (bool skewed : {false, true}) {
        const std::vector<Fr> s = skewed ? skewed_scalars(rng, n) : uniform_scalars(rng, n);
        DeviceBuffer<Fr> ds(s);
        const Jacobian<C> got = gpu_msm<C>(d, skewed ? s.data() : ds.data(), table.data() + first, n, t);
        EXPECT_EQ(d.last_run().tables, t.tables);
        EXPECT_TRUE(got == cpu_msm(s, p)) << (skewed ? "skewed host scalars" : "uniform device scalars")
                                          << ", from " << first << ", " << d.last_run().batches << " batches";
      }
    }
  }
}

// Tuning::reduce_split_pairs (msm::ReducePairStep for the reduction's later levels): plain
// points at the plan's windows and at forced ones with tiny chunks, and point tables with one
// bucket window (the whole reduction is that window's levels), against the CPU.
TYPED_TEST(GpuMsm, SplitReductionPairsMatchCpu) {
  using C = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t n = std::min<size_t>(size_cap(), 65537);
  const auto p = make_points<C>(rng, n);
  MsmConfig cfg;
  cfg.tuning.reduce_split_pairs = true;
  MsmDriver d(0, cfg);
  this->check(d, uniform_scalars(rng, n), p, Where::device, "split pairs, uniform");
  this->check(d, skewed_scalars(rng, n), p, Where::device, "split pairs, skewed");
  cfg.window_bits = 7;
  cfg.tuning.reduce_threads_per_sm = 2;
  cfg.tuning.reduce_max_first_chunk = 2;
  MsmDriver tiny(0, cfg);
  this->check(tiny, uniform_scalars(rng, n), p, Where::device, "split pairs, window 7, first chunk 2");
  if (n < 65537) return;  // a small run (compute-sanitizer): skip the tables
  const gpu::MsmTables t{13, gpu::msm::make_layout(13, 32).tables, n};
  ASSERT_EQ(gpu::msm::make_layout(13, 32).windows, 1u);
  DeviceBuffer<Affine<C>> table(t.points());
  ASSERT_EQ(cudaMemcpy(table.data(), p.data(), n * sizeof(Affine<C>), cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  d.precompute(table.data(), n, t);
  const std::vector<Fr> s = uniform_scalars(rng, n);
  DeviceBuffer<Fr> ds(s);
  EXPECT_TRUE(gpu_msm<C>(d, ds.data(), table.data(), n, t) == cpu_msm(s, p)) << "split pairs, point tables";
}

TYPED_TEST(GpuMsm, PointTablesRefuseHostTablesAndMissingWidths) {
  using C = TypeParam;
  MsmDriver d;
  std::vector<Affine<C>> host(8, Affine<C>::infinity());
  DeviceBuffer<Fr> s(std::vector<Fr>(4, Fr::one()));
  const gpu::MsmTables t{8, 2, 4};
  EXPECT_THROW(d.precompute(host.data(), 4, t), std::invalid_argument);
  EXPECT_THROW(gpu_msm<C>(d, s.data(), host.data(), 4, t), std::invalid_argument);
  DeviceBuffer<Affine<C>> dev(host);
  EXPECT_THROW(d.precompute(dev.data(), 4, gpu::MsmTables{0, 2, 4}), std::invalid_argument);
  EXPECT_THROW(d.precompute(dev.data(), 5, t), std::invalid_argument);  // 5 points, stride 4
  const gpu::MsmTables planned = d.plan_tables(size_t{1} << 20, sizeof(Affine<C>), size_t{1} << 40);
  EXPECT_GT(planned.tables, 1u);
  EXPECT_EQ(d.plan_tables(size_t{1} << 20, sizeof(Affine<C>), size_t{1} << 20).tables, 1u);
}

TYPED_TEST(GpuMsm, EmptyAndBadInputs) {
  using C = TypeParam;
  MsmDriver d;
  EXPECT_TRUE(gpu_msm<C>(d, nullptr, nullptr, 0).is_infinity());
  EXPECT_THROW(gpu_msm<C>(d, nullptr, nullptr, 5), std::invalid_argument);
  DeviceBuffer<Fr> s(std::vector<Fr>(9, Fr::one()));
  DeviceBuffer<Affine<C>> p(std::vector<Affine<C>>(9, Affine<C>::infinity()));
  const Fr* misaligned = reinterpret_cast<const Fr*>(reinterpret_cast<const char*>(s.data()) + 8);
  EXPECT_THROW(gpu_msm<C>(d, misaligned, p.data(), 8), std::invalid_argument);
  EXPECT_TRUE(gpu_msm<C>(d, s.data(), p.data(), 9).is_infinity());
}

}  // namespace
}  // namespace zkinfer
