// The CUDA NTT (cuda/ntt.h) against the CPU backend: every kind, sizes 2^1 .. 2^20 with the
// default shape and with small tiles (the multi-pass path at small sizes, with and without the
// scratch vector and the twiddle tables), batches, the host-pointer path, several streams sharing one driver, and 2^22
// and 2^24 once.
// ZKINFER_GPU_TEST_N caps the elements per vector (bench/gpu_check.sh runs a small size under
// compute-sanitizer). Without a usable GPU every test skips with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "../support/seed.h"
#include "backend.h"
#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/cuda_backend.h"
#include "cuda/ntt.h"
#include "gpu_test_support.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

using gpu::DeviceBuffer;
using gpu::NttDriver;
using gpu::NttDriverConfig;

constexpr NttKind kKinds[] = {NttKind::kForward, NttKind::kInverse, NttKind::kCosetForward,
                              NttKind::kCosetInverse};

// min(cap, log2 of ZKINFER_GPU_TEST_N rounded up) when that is set.
unsigned max_log(unsigned cap) {
  if (const char* s = std::getenv("ZKINFER_GPU_TEST_N")) {
    const unsigned long long n = std::strtoull(s, nullptr, 0);
    unsigned k = 1;
    while (k < cap && (1ull << k) < n) ++k;
    return k;
  }
  return cap;
}
bool small_run() { return std::getenv("ZKINFER_GPU_TEST_N") != nullptr; }

std::vector<Fr> random_vector(std::mt19937_64& rng, size_t n) {
  std::vector<Fr> v(n);
  for (auto& x : v) x = field_random<Fr>(rng);
  return v;
}

std::vector<Fr> cpu_reference(Backend& cpu, std::vector<Fr> x, unsigned log_n, size_t batch,
                              NttKind kind, const Fr& g) {
  const size_t n = size_t{1} << log_n;
  for (size_t v = 0; v < batch; ++v) cpu.ntt(x.data() + v * n, n, kind, g);
  return x;
}

// Counts and reports the first few differences.
void expect_same(const std::vector<Fr>& got, const std::vector<Fr>& want, const std::string& what,
                 size_t n) {
  ASSERT_EQ(got.size(), want.size()) << what;
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] == want[i]) continue;
    if (bad++ < 3)
      ADD_FAILURE() << what << ": vector " << i / n << " element " << i % n << " is "
                    << u256_to_hex(got[i].mont()) << ", want " << u256_to_hex(want[i].mont());
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << got.size() << " elements differ";
}

// Runs on device data through run() on the driver's stream.
std::vector<Fr> device_ntt(NttDriver& d, const std::vector<Fr>& x, unsigned log_n, size_t batch,
                           NttKind kind, const Fr& g) {
  DeviceBuffer<Fr> buf(x);
  d.run(buf.data(), log_n, kind, g, batch, d.stream());
  ZK_CUDA_CHECK(cudaStreamSynchronize(d.stream()));
  return buf.download();
}

class GpuNtt : public ::testing::Test {
 protected:
  void SetUp() override {
    ZK_SKIP_WITHOUT_GPU();
    cpu_ = make_cpu_backend();
  }

  // All kinds at 2^1 .. 2^max_log with a batch drawn per size (odd and even counts).
  void check_sizes(NttDriver& d, unsigned top, size_t max_batch, std::mt19937_64& rng) {
    for (unsigned log_n = 1; log_n <= max_log(top); ++log_n) {
      for (NttKind kind : kKinds) {
        const size_t n = size_t{1} << log_n;
        const size_t batch = log_n > 16 ? 1 : 1 + rng() % max_batch;
        const Fr g = field_random<Fr>(rng);
        const std::vector<Fr> x = random_vector(rng, n * batch);
        const std::string what = std::string(ntt_kind_name(kind)) + " 2^" + std::to_string(log_n) +
                                 " batch " + std::to_string(batch) + " tile_log " +
                                 std::to_string(d.tile_log());
        expect_same(device_ntt(d, x, log_n, batch, kind, g),
                    cpu_reference(*cpu_, x, log_n, batch, kind, g), what, n);
        if (HasFailure()) return;
      }
    }
  }

  std::unique_ptr<Backend> cpu_;
};

TEST_F(GpuNtt, DefaultShapeMatchesCpu) {
  auto rng = testing::seeded_rng();
  NttDriver d;
  check_sizes(d, 20, 5, rng);
}

// Small tiles push 2^3 .. 2^14 through several passes on the device, both ways back to natural
// order (the scratch vector and ordered last pass, the default, or the reordering pass), with the
// non-last passes' twiddles from tables (default) or computed.
TEST_F(GpuNtt, SmallTilesMatchCpu) {
  auto rng = testing::seeded_rng();
  for (bool reorder_pass : {false, true})
    for (bool tables : {true, false})
      for (unsigned tile_log : {2u, 3u, 5u, 8u}) {
        NttDriverConfig cfg;
        cfg.tile_log = tile_log;
        cfg.threads = tile_log == 5 ? 7 : 0;          // a block size that divides nothing
        cfg.min_columns_log = tile_log == 3 ? 0 : 1;  // 0: one column per row, the fewest passes
        cfg.reorder_pass = reorder_pass;
        cfg.pass_twiddle_tables = tables;
        NttDriver d(cfg);
        ASSERT_EQ(d.tile_log(), tile_log);
        check_sizes(d, 14, 4, rng);
        // Scratch and tables are used exactly when asked for.
        const std::string what = "tile_log " + std::to_string(tile_log) +
                                 (reorder_pass ? " reorder pass" : " scratch") +
                                 (tables ? " tables" : " computed twiddles");
        EXPECT_EQ(d.scratch_bytes() > 0, !reorder_pass && max_log(14) > tile_log) << what;
        EXPECT_EQ(d.has_pass_twiddle_tables(max_log(14)), tables && max_log(14) > tile_log) << what;
        EXPECT_FALSE(d.has_pass_twiddle_tables(tile_log)) << what << ": one tile needs no table";
        if (HasFailure()) return;
      }
}

// The pass kernel's shared-memory limit is a setting of the kernel, not of a driver: a driver with
// small tiles made after one with large tiles must leave 2^11 tiles launchable (64 KiB, past the
// 48 KiB a kernel gets without opting in; the default 2^10 tiles stay under it).
TEST_F(GpuNtt, DriversWithDifferentTilesSideBySide) {
  auto rng = testing::seeded_rng();
  NttDriverConfig big_cfg;
  big_cfg.tile_log = 11;
  NttDriver big(big_cfg);
  NttDriverConfig small_cfg;
  small_cfg.tile_log = 3;
  NttDriver small(small_cfg);
  check_sizes(big, 14, 2, rng);
  check_sizes(small, 8, 2, rng);
  check_sizes(big, 14, 2, rng);
}

// Stage twiddles in Shoup form (NttDriverConfig::shoup_twiddles): every kind, the default tile
// (2^1 .. 2^20: one tile and multi-pass) and small tiles through several passes.
TEST_F(GpuNtt, ShoupTwiddlesMatchCpu) {
  auto rng = testing::seeded_rng();
  for (unsigned tile_log : {0u, 3u, 5u}) {
    NttDriverConfig cfg;
    cfg.tile_log = tile_log;
    cfg.shoup_twiddles = true;
    NttDriver d(cfg);
    check_sizes(d, tile_log ? 14 : 20, 4, rng);
    if (HasFailure()) return;
  }
}

// Pass twiddle tables in Shoup form (NttDriverConfig::shoup_pass_twiddles): every kind, the
// default tile (2^1 .. 2^20: one tile and multi-pass) and small tiles through several passes,
// with the last pass in several rows beside it; the tables are there.
TEST_F(GpuNtt, ShoupPassTwiddlesMatchCpu) {
  auto rng = testing::seeded_rng();
  for (unsigned tile_log : {0u, 3u, 5u}) {
    NttDriverConfig cfg;
    cfg.tile_log = tile_log;
    cfg.shoup_pass_twiddles = true;
    cfg.last_rows_log = tile_log == 5 ? 2 : 0;
    NttDriver d(cfg);
    check_sizes(d, tile_log ? 14 : 20, 4, rng);
    const unsigned top = max_log(tile_log ? 14 : 20);  // less under compute-sanitizer
    if (top > d.tile_log()) EXPECT_TRUE(d.has_pass_twiddle_tables(top));
    if (HasFailure()) return;
  }
}

// Two stages per phase (NttDriverConfig::radix4): every kind, the default tile (one tile and
// multi-pass), small tiles with odd and even stage counts through several passes, with and
// without Shoup twiddles beside it.
TEST_F(GpuNtt, Radix4MatchesCpu) {
  auto rng = testing::seeded_rng();
  for (unsigned tile_log : {0u, 3u, 4u}) {
    for (const bool shoup : {false, true}) {
      NttDriverConfig cfg;
      cfg.tile_log = tile_log;
      cfg.threads = tile_log == 3 ? 3 : 0;  // a block size that divides nothing
      cfg.radix4 = true;
      cfg.shoup_twiddles = shoup;
      NttDriver d(cfg);
      check_sizes(d, tile_log ? 14 : 20, 4, rng);
      if (HasFailure()) return;
    }
  }
}

// Several rows per tile in the last pass (NttDriverConfig::last_rows_log): every kind, the default
// tile up to 2^20 (6 + 6 + 8 stages there) and small tiles through several passes,
// through the scratch vector (ordered stores) and with the reordering pass, with radix4 beside.
TEST_F(GpuNtt, LastRowsMatchesCpu) {
  auto rng = testing::seeded_rng();
  for (unsigned tile_log : {0u, 4u}) {
    for (unsigned rows : {1u, 2u}) {
      for (const bool reorder : {false, true}) {
        NttDriverConfig cfg;
        cfg.tile_log = tile_log;
        cfg.last_rows_log = rows;
        cfg.reorder_pass = reorder;
        cfg.radix4 = rows == 1 && !reorder;
        NttDriver d(cfg);
        check_sizes(d, tile_log ? 14 : 20, 4, rng);
        if (HasFailure()) return;
      }
    }
  }
}

// The scratch vector: sized for the largest transform so far, freed on request, allocated again
// by the next transform that needs it; transforms that fit one tile need none.
TEST_F(GpuNtt, ScratchIsReleasedAndRegrown) {
  auto rng = testing::seeded_rng();
  NttDriverConfig cfg;
  cfg.tile_log = 4;
  NttDriver d(cfg);
  const Fr g = field_random<Fr>(rng);
  const std::vector<Fr> small = random_vector(rng, 16 * 3);
  expect_same(device_ntt(d, small, 4, 3, NttKind::kForward, g),
              cpu_reference(*cpu_, small, 4, 3, NttKind::kForward, g), "one tile", 16);
  EXPECT_EQ(d.scratch_bytes(), 0u);
  const std::vector<Fr> x = random_vector(rng, 1024 * 2);
  const std::vector<Fr> want = cpu_reference(*cpu_, x, 10, 2, NttKind::kCosetInverse, g);
  expect_same(device_ntt(d, x, 10, 2, NttKind::kCosetInverse, g), want, "2^10 x2", 1024);
  EXPECT_EQ(d.scratch_bytes(), 2 * 1024 * sizeof(Fr));
  d.release_scratch();
  EXPECT_EQ(d.scratch_bytes(), 0u);
  expect_same(device_ntt(d, x, 10, 2, NttKind::kCosetInverse, g), want, "2^10 x2 after release",
              1024);
  EXPECT_EQ(d.scratch_bytes(), 2 * 1024 * sizeof(Fr));
}

TEST_F(GpuNtt, HostPointerPath) {
  auto rng = testing::seeded_rng();
  NttDriver d;
  for (unsigned log_n : {1u, 7u, 12u, 16u}) {
    if (log_n > max_log(16)) continue;
    for (NttKind kind : kKinds) {
      const size_t n = size_t{1} << log_n, batch = 3;
      const Fr g = field_random<Fr>(rng);
      std::vector<Fr> x = random_vector(rng, n * batch);
      const std::vector<Fr> want = cpu_reference(*cpu_, x, log_n, batch, kind, g);
      d.run_host(x.data(), log_n, kind, g, batch);
      expect_same(x, want,
                  std::string("run_host ") + ntt_kind_name(kind) + " 2^" + std::to_string(log_n), n);
    }
  }
}

// Groth16's quotient (Backend::coset_quotient) against the CPU backend: through the CUDA
// backend (host vectors, copied through page-locked chunks) and on device data.
TEST_F(GpuNtt, CosetQuotientMatchesCpu) {
  auto rng = testing::seeded_rng();
  std::string why;
  std::unique_ptr<Backend> cuda = gpu::make_cuda_backend({}, &why);
  ASSERT_TRUE(cuda) << why;
  NttDriver d;
  for (unsigned log_n : {0u, 1u, 5u, 11u, 12u, 17u, 20u}) {
    if (log_n > max_log(20)) continue;
    const size_t n = size_t{1} << log_n;
    const Fr g = log_n ? snarkjs_coset_shift(log_n) : Fr::from_u64(5);
    const std::vector<Fr> a = random_vector(rng, n), b = random_vector(rng, n), c = random_vector(rng, n);
    std::vector<Fr> want = a, wb = b, wc = c;
    cpu_->coset_quotient(want.data(), wb.data(), wc.data(), n, g);
    std::vector<Fr> got = a, gb = b, gc = c;
    cuda->coset_quotient(got.data(), gb.data(), gc.data(), n, g);
    expect_same(got, want, "cuda backend quotient 2^" + std::to_string(log_n), n);
    std::vector<Fr> abc = a;
    abc.insert(abc.end(), b.begin(), b.end());
    abc.insert(abc.end(), c.begin(), c.end());
    DeviceBuffer<Fr> buf(abc);
    d.coset_quotient(buf.data(), log_n, g, d.stream());
    ZK_CUDA_CHECK(cudaStreamSynchronize(d.stream()));
    std::vector<Fr> dev = buf.download();
    dev.resize(n);
    expect_same(dev, want, "device quotient 2^" + std::to_string(log_n), n);
    if (HasFailure()) return;
  }
}

// run_host with more data than one page-locked copy chunk (8 MiB).
TEST_F(GpuNtt, HostPathLargerThanACopyChunk) {
  auto rng = testing::seeded_rng();
  NttDriver d;
  const unsigned log_n = max_log(18);
  const size_t n = size_t{1} << log_n, batch = 3;
  const Fr g = snarkjs_coset_shift(log_n);
  std::vector<Fr> x = random_vector(rng, n * batch);
  const std::vector<Fr> want = cpu_reference(*cpu_, x, log_n, batch, NttKind::kCosetInverse, g);
  d.run_host(x.data(), log_n, NttKind::kCosetInverse, g, batch);
  expect_same(x, want, "run_host coset_inverse 2^" + std::to_string(log_n) + " x3", n);
}

// Large sizes once: 2^22 and 2^24 (three passes with the default shape).
TEST_F(GpuNtt, LargeSizes) {
  if (small_run()) GTEST_SKIP() << "ZKINFER_GPU_TEST_N is set: large sizes skipped";
  auto rng = testing::seeded_rng();
  NttDriver d;
  for (unsigned log_n : {22u, 24u}) {
    const size_t n = size_t{1} << log_n;
    const std::vector<Fr> x = random_vector(rng, n);
    for (NttKind kind : {NttKind::kForward, NttKind::kCosetInverse}) {
      const Fr g = snarkjs_coset_shift(log_n);
      expect_same(device_ntt(d, x, log_n, 1, kind, g), cpu_reference(*cpu_, x, log_n, 1, kind, g),
                  std::string(ntt_kind_name(kind)) + " 2^" + std::to_string(log_n), n);
    }
  }
}

// One driver, five streams, transforms in flight together; more coset shifts than the driver
// keeps tables for, so tables are replaced while other streams may still read the old ones, and
// more streams than scratch vectors, so streams take turns with one.
TEST_F(GpuNtt, StreamsShareOneDriver) {
  auto rng = testing::seeded_rng();
  NttDriver d;
  const unsigned log_n = std::min(14u, max_log(14));
  const size_t n = size_t{1} << log_n;
  constexpr int kStreams = 5, kRounds = 4;
  cudaStream_t streams[kStreams];
  for (auto& s : streams) ZK_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  std::vector<DeviceBuffer<Fr>> bufs;
  std::vector<std::vector<Fr>> want;
  for (int r = 0; r < kRounds; ++r) {
    for (int i = 0; i < kStreams; ++i) {
      const NttKind kind = kKinds[(r + i) % 4];
      const Fr g = field_random<Fr>(rng);
      const std::vector<Fr> x = random_vector(rng, 2 * n);
      want.push_back(cpu_reference(*cpu_, x, log_n, 2, kind, g));
      bufs.emplace_back(x);
      d.run(bufs.back().data(), log_n, kind, g, 2, streams[i]);
    }
  }
  for (auto& s : streams) ZK_CUDA_CHECK(cudaStreamSynchronize(s));
  for (size_t i = 0; i < bufs.size(); ++i)
    expect_same(bufs[i].download(), want[i], "stream job " + std::to_string(i), n);
  for (auto& s : streams) ZK_CUDA_CHECK(cudaStreamDestroy(s));
}

// The H-polynomial sequence of the prover: inverse, coset forward with snarkjs's shift.
TEST_F(GpuNtt, SnarkjsSequence) {
  auto rng = testing::seeded_rng();
  NttDriver d;
  const unsigned log_n = max_log(18);
  const size_t n = size_t{1} << log_n;
  const Fr g = snarkjs_coset_shift(log_n);
  const std::vector<Fr> evals = random_vector(rng, 3 * n);  // A, B, C
  std::vector<Fr> want = cpu_reference(*cpu_, evals, log_n, 3, NttKind::kInverse, g);
  want = cpu_reference(*cpu_, want, log_n, 3, NttKind::kCosetForward, g);
  DeviceBuffer<Fr> buf(evals);
  d.run(buf.data(), log_n, NttKind::kInverse, g, 3, d.stream());
  d.run(buf.data(), log_n, NttKind::kCosetForward, g, 3, d.stream());
  ZK_CUDA_CHECK(cudaStreamSynchronize(d.stream()));
  expect_same(buf.download(), want, "inverse then coset forward", n);
}

TEST_F(GpuNtt, EdgeCasesAndErrors) {
  NttDriver d;
  DeviceBuffer<Fr> buf(std::vector<Fr>{Fr::from_u64(7), Fr::from_u64(9)});
  // One point: every kind is the identity; a batch of zero does nothing.
  for (NttKind kind : kKinds) d.run(buf.data(), 0, kind, Fr::from_u64(3), 2, d.stream());
  d.run(buf.data(), 5, NttKind::kForward, Fr::one(), 0, d.stream());
  ZK_CUDA_CHECK(cudaStreamSynchronize(d.stream()));
  EXPECT_EQ(buf.download(), (std::vector<Fr>{Fr::from_u64(7), Fr::from_u64(9)}));
  EXPECT_THROW(d.run(buf.data(), 1, NttKind::kCosetForward, Fr::zero(), 1, d.stream()),
               std::invalid_argument);
  EXPECT_THROW(d.run(buf.data(), 29, NttKind::kForward, Fr::one(), 1, d.stream()),
               std::invalid_argument);
  EXPECT_THROW(d.run(nullptr, 1, NttKind::kForward, Fr::one(), 1, d.stream()),
               std::invalid_argument);
  EXPECT_THROW(d.run(reinterpret_cast<Fr*>(reinterpret_cast<char*>(buf.data()) + 8), 1,
                     NttKind::kForward, Fr::one(), 1, d.stream()),
               std::invalid_argument);
  EXPECT_THROW(d.run(buf.data(), 20, NttKind::kForward, Fr::one(), size_t{1} << 40, d.stream()),
               std::invalid_argument);
}

}  // namespace
}  // namespace zkinfer
