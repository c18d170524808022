// The CUDA backend (kernels/cuda/cuda_backend.h) against the CPU backend on Groth16 with a real
// key: a development key of the chain circuit (tests/support/chain_circuit.h), its H vector and
// five MSMs with the key's points from host memory and resident on the device, several witnesses
// through one ResidentKey, full proofs that verify, resident point ranges, resident arrays used
// across backends, H from resident constraint rows and witness (constraint_quotient) and MSMs
// over resident scalar ranges, overlapped MSM jobs (G2 beside G1), the split backend over a CUDA
// and a CPU backend and over two CUDA backends (h copied device to device between them), and a
// resident array too large for the device as a clear error.
// The key's domain is 2^14, or the largest power of two within ZKINFER_GPU_TEST_N
// (bench/gpu_check.sh's sanitizer run). Without a usable GPU every test skips with the reason.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../support/binfile_testing.h"
#include "../support/chain_circuit.h"
#include "../support/chain_witness.h"
#include "../support/random_points.h"
#include "../support/seed.h"
#include "backend.h"
#include "cuda/cuda_backend.h"
#include "gpu_test_support.h"
#include "split_backend.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/resident_key.h"
#include "zkinfer/prover/setup.h"
#include "zkinfer/prover/zkey.h"

namespace zkinfer::prover {
namespace {

unsigned key_log_domain() {
  unsigned lg = 14;
  if (const char* s = std::getenv("ZKINFER_GPU_TEST_N")) {
    const unsigned long long cap = std::strtoull(s, nullptr, 0);
    while (lg > 4 && (1ull << lg) > cap) --lg;
  }
  return lg;
}

void expect_same_msms(const ProofMsms& got, const ProofMsms& want, const std::string& what) {
  EXPECT_EQ(got.a, want.a) << what << ": A";
  EXPECT_EQ(got.b1, want.b1) << what << ": B1";
  EXPECT_EQ(got.b2, want.b2) << what << ": B2";
  EXPECT_EQ(got.c, want.c) << what << ": C";
  EXPECT_EQ(got.h, want.h) << what << ": H";
}

// One key, one CUDA and one CPU backend for the whole suite (setup takes a while), made only
// where a GPU is usable and released before the program's static destructors run.
class GpuGroth16 : public ::testing::Test {
 protected:
  struct Shared {
    uint32_t constraints = 0;
    zkinfer::testing::TempPath path{".zkey"};
    std::unique_ptr<Zkey> key;
    VerificationKey vk;
    std::unique_ptr<Backend> cuda, cpu;
  };
  static std::unique_ptr<Shared>& shared_ptr() {
    static std::unique_ptr<Shared> s;
    return s;
  }
  static Shared& shared() { return *shared_ptr(); }

  static void SetUpTestSuite() {
    if (!zkinfer::testing::gpu_info().usable) return;
    auto s = std::make_unique<Shared>();
    s->constraints = zkinfer::testing::chain_constraints_for_domain(key_log_domain());
    groth16_setup_dev(zkinfer::testing::chain_circuit(s->constraints), s->path.str());
    s->key = std::make_unique<Zkey>(Zkey::open(s->path.str()));
    s->vk = verification_key(*s->key);
    std::string why;
    s->cuda = gpu::make_cuda_backend({}, &why);
    if (!s->cuda) throw std::runtime_error(why);
    s->cpu = make_cpu_backend();
    shared_ptr() = std::move(s);
  }
  static void TearDownTestSuite() { shared_ptr().reset(); }

  void SetUp() override {
    ZK_SKIP_WITHOUT_GPU();
    ASSERT_TRUE(shared_ptr()) << "the suite's key or CUDA backend could not be made";
    std::cout << "[ key      ] chain of " << shared().constraints << " constraints, domain "
              << shared().key->header().domain_size << ", " << shared().cuda->name() << "\n";
  }
  const Zkey& key() { return *shared().key; }
  Backend& cuda() { return *shared().cuda; }
  Backend& cpu() { return *shared().cpu; }
  uint32_t constraints() { return shared().constraints; }

  // x_0 = 0 gives an all-zero witness but for wire 0 (the skewed case); others full-width values.
  std::vector<std::vector<Fr>> witnesses() {
    auto rng = zkinfer::testing::seeded_rng();
    return {zkinfer::testing::chain_witness(constraints(), Fr::zero()),
            zkinfer::testing::chain_witness(constraints(), Fr::one()),
            zkinfer::testing::chain_witness(constraints(), field_random<Fr>(rng))};
  }
};

TEST_F(GpuGroth16, HEqualsCpu) {
  for (const auto& w : witnesses()) EXPECT_EQ(compute_h(key(), w, cuda()), compute_h(key(), w, cpu()));
}

TEST_F(GpuGroth16, MsmsWithKeyFromHostEqualCpu) {
  for (const auto& w : witnesses()) {
    const auto h = compute_h(key(), w, cpu());
    expect_same_msms(compute_msms(key(), w, h, cuda()), compute_msms(key(), w, h, cpu()), "host key");
  }
}

// The default backend keeps MSM point tables beside a resident key's points (where memory
// allows); one without them keeps exactly the key's points and rows.
TEST_F(GpuGroth16, MsmsWithResidentKeyEqualCpu) {
  std::string why;
  gpu::CudaBackendConfig cfg;
  cfg.msm_tables = 1;
  const auto plain = gpu::make_cuda_backend(cfg, &why);
  ASSERT_TRUE(plain) << why;
  ResidentKey rk(key(), cuda()), rk_plain(key(), *plain);
  const ZkeyHeader& hd = key().header();
  const size_t n_c = hd.n_vars - hd.n_public - 1;
  const SparseRows rows = rk_plain.rows().view();
  const size_t key_bytes = (2 * size_t{hd.n_vars} + n_c + hd.domain_size) * sizeof(G1Affine) +
                           size_t{hd.n_vars} * sizeof(G2Affine) +
                           (rows.row_start.size() + rows.cols.size()) * sizeof(uint32_t) +
                           rows.values.size() * sizeof(Fr);
  EXPECT_EQ(rk_plain.device_bytes(), key_bytes);
  EXPECT_GE(rk.device_bytes(), key_bytes);
  for (const auto& w : witnesses()) {  // one upload, several witnesses
    const auto h = compute_h(key(), w, cpu());
    const auto want = compute_msms(key(), w, h, cpu());
    expect_same_msms(compute_msms(rk, w, h, cuda()), want, "resident key");
    expect_same_msms(compute_msms(rk_plain, w, h, *plain), want, "resident key, no point tables");
  }
}

TEST_F(GpuGroth16, ProofsVerify) {
  ResidentKey rk(key(), cuda());
  for (const auto& w : witnesses()) {
    const auto pub = public_signals(key(), w);
    std::string why;
    EXPECT_TRUE(verify(shared().vk, pub, prove(rk, w, cuda()), &why)) << "resident: " << why;
    EXPECT_TRUE(verify(shared().vk, pub, prove(rk, w, cuda()), &why)) << "resident, again: " << why;
    EXPECT_TRUE(verify(shared().vk, pub, prove(key(), w, cuda()), &why)) << "host key: " << why;
  }
  auto bad = zkinfer::testing::chain_witness(constraints(), Fr::from_u64(5));
  bad[constraints() / 2] += Fr::one();
  EXPECT_FALSE(verify(shared().vk, public_signals(key(), bad), prove(rk, bad, cuda())));
}

// CudaBackendConfig::g1_dedicated_square (G1 MSMs with the device's dedicated Fq square): the
// MSMs of a resident key (point tables included) equal the CPU's, and proofs verify.
TEST_F(GpuGroth16, DedicatedSquareEqualsCpu) {
  gpu::CudaBackendConfig cfg;
  cfg.g1_dedicated_square = true;
  std::string why;
  const auto sq = gpu::make_cuda_backend(cfg, &why);
  ASSERT_TRUE(sq) << why;
  EXPECT_NE(sq->name().find("dedicated square"), std::string::npos) << sq->name();
  ResidentKey rk(key(), *sq);
  for (const auto& w : witnesses()) {
    const auto h = compute_h(key(), w, cpu());
    EXPECT_EQ(compute_h(key(), w, *sq), h);
    expect_same_msms(compute_msms(rk, w, h, *sq), compute_msms(key(), w, h, cpu()), "resident key, dedicated square");
    std::string bad;
    EXPECT_TRUE(verify(shared().vk, public_signals(key(), w), prove(rk, w, *sq), &bad)) << bad;
  }
}

TEST_F(GpuGroth16, ResidentKeysAcrossBackends) {
  // Made by the CPU backend (host views) and used by CUDA, and the other way round.
  const auto w = witnesses()[2];
  const auto h = compute_h(key(), w, cpu());
  const ProofMsms want = compute_msms(key(), w, h, cpu());
  ResidentKey on_cpu(key(), cpu()), on_gpu(key(), cuda());
  EXPECT_EQ(on_cpu.device_bytes(), 0u);
  expect_same_msms(compute_msms(on_cpu, w, h, cuda()), want, "CPU-made key on CUDA");
  expect_same_msms(compute_msms(on_gpu, w, h, cpu()), want, "CUDA-made key on the CPU");
}

// Resident points with MSM point tables (the default: CudaBackendConfig::msm_tables), with at
// most three, and without: MSMs over ranges of them against the CPU.
TEST_F(GpuGroth16, ResidentRangesEqualCpu) {
  auto rng = zkinfer::testing::seeded_rng();
  const size_t n = std::min<size_t>(3001, key().header().n_vars);
  const auto& p = key().parts();
  std::vector<Fr> s(n);
  for (auto& x : s) x = field_random<Fr>(rng);
  std::string why;
  gpu::CudaBackendConfig cfg;
  cfg.msm_tables = 1;
  const auto plain = gpu::make_cuda_backend(cfg, &why);
  ASSERT_TRUE(plain) << why;
  cfg.msm_tables = 3;
  const auto three = gpu::make_cuda_backend(cfg, &why);
  ASSERT_TRUE(three) << why;
  for (Backend* be : {&cuda(), plain.get(), three.get()}) {
    const bool tables = be != plain.get();
    SCOPED_TRACE(be == plain.get() ? "no point tables" : be == three.get() ? "at most 3 point tables" : "point tables");
    auto g1 = be->resident_g1(p.a.data(), n);
    auto g2 = be->resident_g2(p.b2.data(), n);
    if (tables) {
      EXPECT_GE(g1->device_bytes(), 2 * n * sizeof(G1Affine));
      EXPECT_GE(g2->device_bytes(), 2 * n * sizeof(G2Affine));
      EXPECT_EQ(g1->device_bytes() % (n * sizeof(G1Affine)), 0u);
    } else {
      EXPECT_EQ(g1->device_bytes(), n * sizeof(G1Affine));
      EXPECT_EQ(g2->device_bytes(), n * sizeof(G2Affine));
    }
    if (be == three.get()) EXPECT_LE(g1->device_bytes(), 3 * n * sizeof(G1Affine));
    EXPECT_EQ(g1->size(), n);
    const std::pair<size_t, size_t> ranges[] = {{0, n}, {0, 0}, {n, 0}, {1, n - 1}, {n / 3, n / 2}, {n - 1, 1}};
    for (auto [first, len] : ranges) {
      G1Jacobian a, b;
      be->msm_g1(a, s.data(), *g1, first, len);
      cpu().msm_g1(b, s.data(), p.a.data() + first, len);
      EXPECT_EQ(a, b) << "G1 [" << first << ", +" << len << ")";
      G2Jacobian c, d;
      be->msm_g2(c, s.data(), *g2, first, len);
      cpu().msm_g2(d, s.data(), p.b2.data() + first, len);
      EXPECT_EQ(c, d) << "G2 [" << first << ", +" << len << ")";
    }
    G1Jacobian o;
    EXPECT_THROW(be->msm_g1(o, s.data(), *g1, 1, n), std::out_of_range);
  }
}

// Backend::msm_jobs: on CUDA the G2 jobs run on a second driver and stream beside the G1 jobs;
// several of each, over ranges of resident scalars and points, and a job out of range throws.
TEST_F(GpuGroth16, OverlappedMsmJobsEqualCpu) {
  auto rng = zkinfer::testing::seeded_rng();
  const size_t n = std::min<size_t>(3001, key().header().n_vars);
  const auto& p = key().parts();
  std::vector<Fr> s(n);
  for (auto& x : s) x = field_random<Fr>(rng);
  for (Backend* be : {&cuda(), &cpu()}) {
    SCOPED_TRACE(be->name());
    auto sr = be->resident_fr(s.data(), n);
    auto g1a = be->resident_g1(p.a.data(), n), g1b = be->resident_g1(p.b1.data(), n);
    auto g2 = be->resident_g2(p.b2.data(), n);
    G1Jacobian r1[3];
    G2Jacobian r2[2];
    const MsmG1Job j1[] = {{&r1[0], sr.get(), 0, g1a.get(), 0, n},
                           {&r1[1], sr.get(), 5, g1b.get(), 0, n - 5},
                           {&r1[2], sr.get(), 0, g1a.get(), n / 2, n / 3}};
    const MsmG2Job j2[] = {{&r2[0], sr.get(), 0, g2.get(), 0, n}, {&r2[1], sr.get(), 1, g2.get(), 2, n - 2}};
    be->msm_jobs(j1, j2);
    G1Jacobian w1;
    cpu().msm_g1(w1, s.data(), p.a.data(), n);
    EXPECT_EQ(r1[0], w1);
    cpu().msm_g1(w1, s.data() + 5, p.b1.data(), n - 5);
    EXPECT_EQ(r1[1], w1);
    cpu().msm_g1(w1, s.data(), p.a.data() + n / 2, n / 3);
    EXPECT_EQ(r1[2], w1);
    G2Jacobian w2;
    cpu().msm_g2(w2, s.data(), p.b2.data(), n);
    EXPECT_EQ(r2[0], w2);
    cpu().msm_g2(w2, s.data() + 1, p.b2.data() + 2, n - 2);
    EXPECT_EQ(r2[1], w2);
    const MsmG2Job bad[] = {{&r2[0], sr.get(), 1, g2.get(), 0, n}};
    EXPECT_THROW(be->msm_jobs(j1, bad), std::out_of_range);
  }
}

// H on the device from resident rows and witness (prove(ResidentKey)'s path), from rows and a
// witness made resident by the CPU backend (copied in for the call), against compute_h on the
// CPU; and MSMs over resident scalar ranges.
TEST_F(GpuGroth16, ConstraintQuotientAndResidentScalarsEqualCpu) {
  ResidentKey on_gpu(key(), cuda()), on_cpu(key(), cpu());
  const uint32_t n = key().header().domain_size;
  const Fr shift = snarkjs_coset_shift(unsigned(std::countr_zero(n)));
  for (const auto& w : witnesses()) {
    const std::vector<Fr> want = compute_h(key(), w, cpu());
    auto z_gpu = cuda().resident_fr(w.data(), w.size());
    auto z_cpu = cpu().resident_fr(w.data(), w.size());
    EXPECT_EQ(z_gpu->device_bytes(), w.size() * sizeof(Fr));
    std::vector<Fr> h(n);
    cuda().constraint_quotient(h.data(), on_gpu.resident_rows(), *z_gpu, n, shift);
    EXPECT_EQ(h, want) << "rows and witness resident on the GPU";
    std::fill(h.begin(), h.end(), Fr::zero());
    cuda().constraint_quotient(h.data(), on_cpu.resident_rows(), *z_cpu, n, shift);
    EXPECT_EQ(h, want) << "rows and witness made by the CPU backend";
  }
  const auto w = witnesses()[2];
  auto z = cuda().resident_fr(w.data(), w.size());
  const auto& p = key().parts();
  const size_t m = std::min<size_t>(key().header().n_vars, 5000);
  const std::pair<size_t, size_t> ranges[] = {{0, m}, {1, m - 1}, {m / 3, m / 2}, {m, 0}};
  for (auto [first, len] : ranges) {
    G1Jacobian a, b;
    cuda().msm_g1(a, *z, first, on_gpu.a(), first, len);
    cpu().msm_g1(b, w.data() + first, p.a.data() + first, len);
    EXPECT_EQ(a, b) << "G1 [" << first << ", +" << len << ")";
    G2Jacobian c, d;
    cuda().msm_g2(c, *z, first, on_gpu.b2(), first, len);
    cpu().msm_g2(d, w.data() + first, p.b2.data() + first, len);
    EXPECT_EQ(c, d) << "G2 [" << first << ", +" << len << ")";
  }
  G1Jacobian o;
  EXPECT_THROW(cuda().msm_g1(o, *z, w.size(), on_gpu.a(), 0, 1), std::out_of_range);
}

// h left on the device (constraint_quotient_resident): no host array, and the H MSM over it
// equals the CPU's over compute_h; the proofs that use it verify.
TEST_F(GpuGroth16, ResidentQuotientStaysOnTheDevice) {
  ResidentKey rk(key(), cuda());
  const uint32_t n = key().header().domain_size;
  const Fr shift = snarkjs_coset_shift(unsigned(std::countr_zero(n)));
  for (const auto& w : witnesses()) {
    const std::vector<Fr> want = compute_h(key(), w, cpu());
    auto z = cuda().resident_fr(w.data(), w.size());
    const auto h = cuda().constraint_quotient_resident(rk.resident_rows(), *z, n, shift);
    ASSERT_EQ(h->size(), n);
    EXPECT_EQ(h->device_bytes(), size_t{n} * sizeof(Fr));
    EXPECT_THROW(h->host(), std::logic_error);
    G1Jacobian got, expect;
    cuda().msm_g1(got, *h, 0, rk.h(), 0, n);
    cpu().msm_g1(expect, want.data(), key().parts().h.data(), n);
    EXPECT_EQ(got, expect);
    std::string why;
    EXPECT_TRUE(verify(shared().vk, public_signals(key(), w), prove(rk, w, cuda()), &why)) << why;
  }
}

// The split backend (split_backend.h) over a CUDA and a CPU backend, as over two GPUs: each
// holds half of every key array; the MSMs and proofs equal the CPU backend's.
TEST_F(GpuGroth16, SplitOverCudaAndCpuEqualsCpu) {
  std::vector<std::unique_ptr<Backend>> parts;
  std::string why;
  parts.push_back(gpu::make_cuda_backend({}, &why));
  ASSERT_TRUE(parts.back()) << why;
  parts.push_back(make_cpu_backend());
  auto split = make_split_backend(std::move(parts));
  ResidentKey rk(key(), *split);
  const ZkeyHeader& hd = key().header();
  EXPECT_GT(rk.device_bytes(), size_t{hd.n_vars} / 2 * sizeof(G2Affine));  // the GPU's halves
  for (const auto& w : witnesses()) {
    const auto h = compute_h(key(), w, cpu());
    EXPECT_EQ(compute_h(key(), w, *split), h);
    expect_same_msms(compute_msms(rk, w, h, *split), compute_msms(key(), w, h, cpu()), "split");
    std::string why_bad;
    EXPECT_TRUE(verify(shared().vk, public_signals(key(), w), prove(rk, w, *split), &why_bad)) << why_bad;
  }
}

// The split backend over two CUDA backends (on one device here; on two GPUs where there are):
// h stays on the first part's device and reaches the second device to device (resident_copy),
// a CPU part gets it read back; both equal the CPU backend's h, and the proofs verify.
TEST_F(GpuGroth16, SplitQuotientIsCopiedDeviceToDevice) {
  std::string why;
  for (const bool third_is_cpu : {false, true}) {
    std::vector<std::unique_ptr<Backend>> parts;
    for (int j = 0; j < 2; ++j) {
      parts.push_back(gpu::make_cuda_backend({}, &why));
      ASSERT_TRUE(parts.back()) << why;
    }
    if (third_is_cpu) parts.push_back(make_cpu_backend());
    auto split = make_split_backend(std::move(parts));
    ResidentKey rk(key(), *split);
    const ZkeyHeader& hd = key().header();
    const size_t n = hd.domain_size;
    for (const auto& w : witnesses()) {
      const auto want = compute_h(key(), w, cpu());
      const auto z = split->resident_fr(w.data(), w.size());
      const auto h = split->constraint_quotient_resident(rk.resident_rows(), *z, n,
                                                         snarkjs_coset_shift(unsigned(std::countr_zero(n))));
      EXPECT_FALSE(h->has_host()) << "h went through the host";
      std::vector<Fr> got(n);
      h->read(got.data());
      EXPECT_EQ(got, want) << (third_is_cpu ? "cuda, cuda, cpu" : "cuda, cuda");
      G1Jacobian msm, expect;
      split->msm_g1(msm, *h, 0, rk.h(), 0, n);
      cpu().msm_g1(expect, want.data(), key().parts().h.data(), n);
      EXPECT_EQ(msm, expect) << "the H MSM over every part's copy of h";
      std::string why_bad;
      EXPECT_TRUE(verify(shared().vk, public_signals(key(), w), prove(rk, w, *split), &why_bad)) << why_bad;
    }
  }
}

#if ZKINFER_HAVE_NCCL
// Every GPU of the machine through make_cuda_backend (a split backend whose CUDA parts share an
// NCCL group): h reaches the other GPUs as NCCL sends, and the proofs verify. Needs two GPUs.
TEST_F(GpuGroth16, AllGpusExchangeHThroughNccl) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count < 2) GTEST_SKIP() << "needs two GPUs";
  gpu::CudaBackendConfig cfg;
  cfg.all_devices = true;
  std::string why, notes;
  auto all = gpu::make_cuda_backend(cfg, &why, &notes);
  ASSERT_TRUE(all) << why;
  if (!notes.empty()) GTEST_SKIP() << notes;  // no usable NCCL library: peer copies (tested above)
  EXPECT_NE(all->name().find("NCCL"), std::string::npos) << all->name();
  ResidentKey rk(key(), *all);
  for (const auto& w : witnesses()) {
    const auto h = compute_h(key(), w, cpu());
    EXPECT_EQ(compute_h(key(), w, *all), h);
    std::string why_bad;
    EXPECT_TRUE(verify(shared().vk, public_signals(key(), w), prove(rk, w, *all), &why_bad)) << why_bad;
  }
}
#endif

TEST_F(GpuGroth16, ResidentArrayLargerThanTheDeviceIsAClearError) {
  // compute-sanitizer (bench/gpu_check.sh sets ZKINFER_GPU_TEST_N for it) reports the failing
  // cudaMalloc as an API error; the plain run covers this.
  if (std::getenv("ZKINFER_GPU_TEST_N")) GTEST_SKIP() << "a real out-of-memory error, not run at a capped size";
  // More bytes than the device has in all: the allocation fails before any host point is read.
  const size_t n = zkinfer::testing::gpu_info().global_mem_bytes / sizeof(G1Affine) + (size_t{1} << 20);
  std::vector<G1Affine> few(4, g1_generator());
  try {
    [[maybe_unused]] auto r = cuda().resident_g1(few.data(), n);
    FAIL() << "a resident array of " << n << " points was allocated";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("GPU out of memory"), std::string::npos) << e.what();
  }
  // The backend still works afterwards (the failed allocation left no error behind).
  const auto w = witnesses()[1];
  const auto h = compute_h(key(), w, cuda());
  ResidentKey rk(key(), cuda());
  expect_same_msms(compute_msms(rk, w, h, cuda()), compute_msms(key(), w, h, cpu()), "after OOM");
}

}  // namespace
}  // namespace zkinfer::prover
