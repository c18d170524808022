// Device field arithmetic (PTX carry chains) against the host 4x64-bit implementation, on random
// arrays of a non-power-of-two size with edge values (0, 1, p-1, limb boundaries) in front.
// ZKINFER_GPU_TEST_N overrides the array size (bench/gpu_check.sh uses a small one under
// compute-sanitizer). Without a usable GPU every device test skips with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "../support/seed.h"
#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/device.h"
#include "cuda/field_ops.h"
#include "field_samples.h"
#include "gpu_test_support.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {
namespace {

using gpu::DeviceBuffer;
using gpu::FieldOp;

size_t test_size() {
  if (const char* s = std::getenv("ZKINFER_GPU_TEST_N")) return std::strtoull(s, nullptr, 0);
  return 1000003;
}

// The host inverse costs about 380 multiplications; beyond this many elements the device
// inverse is checked by a * a^-1 == 1 instead of element equality.
constexpr size_t kExactInverses = 20000;


std::string hex(const Fq2& x) {
  return u256_to_hex(x.c0.mont()) + " + " + u256_to_hex(x.c1.mont()) + "*u";
}
template <class F>
std::string hex(const F& x) {
  return u256_to_hex(x.mont());
}

// Counts mismatches, reports the first few with their operands (raw Montgomery words).
class Mismatches {
 public:
  template <class F>
  void check(size_t i, const F& got, const F& want, const F& a, const F& b) {
    if (got == want) return;
    if (count_++ < 5)
      ADD_FAILURE() << "element " << i << ": a=" << hex(a) << " b=" << hex(b) << " got " << hex(got)
                    << " want " << hex(want);
  }
  size_t count() const { return count_; }

 private:
  size_t count_ = 0;
};

template <class F>
std::vector<F> run_on_device(FieldOp op, const std::vector<F>& a, const std::vector<F>& b) {
  DeviceBuffer<F> da(a), db(b), out(a.size());
  out.fill_bytes(0xff);  // all-ones words are >= p: an element the kernel skipped cannot pass
  gpu::field_apply(op, out.data(), da.data(), db.data(), a.size());
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  return out.download();
}

template <class F>
class GpuField : public ::testing::Test {
 protected:
  void SetUp() override { ZK_SKIP_WITHOUT_GPU(); }

  void check_op(FieldOp op, size_t n) {
    auto rng = testing::seeded_rng();
    check_op(op, n, rng);
  }
  void check_op(FieldOp op, size_t n, std::mt19937_64& rng) {
    std::vector<F> a, b;
    testing::make_operands<F>(rng, n, a, b);
    const std::vector<F> got = run_on_device(op, a, b);
    const size_t exact = op == FieldOp::Inverse ? std::min(n, kExactInverses) : n;
    Mismatches bad;
    for (size_t i = 0; i < exact; ++i) bad.check(i, got[i], field_op_host(op, a[i], b[i]), a[i], b[i]);
    for (size_t i = exact; i < n; ++i) {
      // got * a == 1, or both zero.
      const F want_product = a[i].is_zero() ? F::zero() : F::one();
      bad.check(i, got[i] * a[i], want_product, a[i], b[i]);
    }
    EXPECT_EQ(bad.count(), 0u) << gpu::field_op_name(op) << ": mismatches out of " << n;
  }
};

using FieldTypes = ::testing::Types<Fr, Fq>;
TYPED_TEST_SUITE(GpuField, FieldTypes);

TYPED_TEST(GpuField, Mul) { this->check_op(FieldOp::Mul, test_size()); }
TYPED_TEST(GpuField, Add) { this->check_op(FieldOp::Add, test_size()); }
TYPED_TEST(GpuField, Sub) { this->check_op(FieldOp::Sub, test_size()); }
TYPED_TEST(GpuField, Sqr) { this->check_op(FieldOp::Sqr, test_size()); }
TYPED_TEST(GpuField, Inverse) { this->check_op(FieldOp::Inverse, test_size()); }

// Sizes around the block size and the grid-stride loop's edges, every op.
TYPED_TEST(GpuField, SizesAroundBlockBoundaries) {
  auto rng = testing::seeded_rng();
  for (size_t n : {size_t{1}, size_t{2}, size_t{255}, size_t{256}, size_t{257}, size_t{4099}}) {
    for (FieldOp op : {FieldOp::Mul, FieldOp::Add, FieldOp::Sub, FieldOp::Sqr, FieldOp::Inverse}) {
      SCOPED_TRACE("n=" + std::to_string(n) + " op=" + gpu::field_op_name(op));
      this->check_op(op, n, rng);
    }
  }
}

TYPED_TEST(GpuField, OutputMayAliasInput) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  const size_t n = 10007;
  const std::vector<F> a = testing::random_values<F>(rng, n), b = testing::random_values<F>(rng, n);
  DeviceBuffer<F> da(a), db(b);
  gpu::field_apply(FieldOp::Mul, da.data(), da.data(), db.data(), n);  // a *= b
  gpu::field_apply(FieldOp::Sub, db.data(), da.data(), db.data(), n);  // b = a*b - b
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<F> ga = da.download(), gb = db.download();
  Mismatches bad;
  for (size_t i = 0; i < n; ++i) {
    bad.check(i, ga[i], a[i] * b[i], a[i], b[i]);
    bad.check(i, gb[i], a[i] * b[i] - b[i], a[i], b[i]);
  }
  EXPECT_EQ(bad.count(), 0u);
}

TYPED_TEST(GpuField, ZeroLengthLaunchesNothing) {
  using F = TypeParam;
  gpu::field_apply(FieldOp::Mul, static_cast<F*>(nullptr), nullptr, nullptr, 0);
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
}

TEST(GpuFq2, Mul) {
  ZK_SKIP_WITHOUT_GPU();
  auto rng = testing::seeded_rng();
  const size_t n = std::max<size_t>(test_size() / 4, 1);
  std::vector<Fq> a0, a1, b0, b1;
  testing::make_operands<Fq>(rng, n, a0, b0);
  testing::make_operands<Fq>(rng, n, b1, a1);  // edge pairs land in both coefficients
  std::vector<Fq2> a(n), b(n);
  for (size_t i = 0; i < n; ++i) {
    a[i] = {a0[i], a1[i]};
    b[i] = {b0[i], b1[i]};
  }
  DeviceBuffer<Fq2> da(a), db(b), out(n);
  out.fill_bytes(0xff);
  gpu::fq2_mul(out.data(), da.data(), db.data(), n);
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<Fq2> got = out.download();
  Mismatches bad;
  for (size_t i = 0; i < n; ++i) bad.check(i, got[i], a[i] * b[i], a[i], b[i]);
  EXPECT_EQ(bad.count(), 0u) << "mismatches out of " << n;
}

// Fq2 operands with the edge values in both coefficients.
std::vector<Fq2> fq2_operands(std::mt19937_64& rng, size_t n) {
  std::vector<Fq> c0, c1, d0, d1;
  testing::make_operands<Fq>(rng, n, c0, d0);
  testing::make_operands<Fq>(rng, n, d1, c1);
  std::vector<Fq2> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = {c0[i], c1[i]};
  return v;
}

// Fq2's square and the fused a b - x y of Fq and Fq2 have device paths of their own
// (mont32::fq2_sqr, mul_sub_mul, fq2_mul_sub_mul): checked one by one against the host, so a
// fault in one shows here and not only as a wrong G1 or G2 MSM.
TEST(GpuFq2, Sqr) {
  ZK_SKIP_WITHOUT_GPU();
  auto rng = testing::seeded_rng();
  const std::vector<Fq2> a = fq2_operands(rng, std::max<size_t>(test_size() / 4, 1));
  DeviceBuffer<Fq2> da(a), out(a.size());
  out.fill_bytes(0xff);
  gpu::fq2_sqr(out.data(), da.data(), a.size());
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<Fq2> got = out.download();
  Mismatches bad;
  for (size_t i = 0; i < a.size(); ++i) bad.check(i, got[i], a[i] * a[i], a[i], a[i]);
  EXPECT_EQ(bad.count(), 0u) << "mismatches out of " << a.size();
}

// Equal products (the result zero) and x y = 0 (the result a b) are planted in front.
template <class F>
void check_mul_sub_mul(const std::vector<F>& a, const std::vector<F>& b, std::vector<F> x, std::vector<F> y) {
  const size_t n = a.size();
  for (size_t i = 0; i + 1 < std::min<size_t>(n, 64); i += 2) {
    x[i] = b[i];
    y[i] = a[i];
    y[i + 1] = F::zero();
  }
  DeviceBuffer<F> da(a), db(b), dx(x), dy(y), out(n);
  out.fill_bytes(0xff);
  gpu::mul_sub_mul(out.data(), da.data(), db.data(), dx.data(), dy.data(), n);
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<F> got = out.download();
  Mismatches bad;
  for (size_t i = 0; i < n; ++i) bad.check(i, got[i], a[i] * b[i] - x[i] * y[i], a[i], x[i]);
  EXPECT_EQ(bad.count(), 0u) << "mismatches out of " << n;
}

TEST(GpuFq, MulSubMul) {
  ZK_SKIP_WITHOUT_GPU();
  auto rng = testing::seeded_rng();
  const size_t n = test_size();
  std::vector<Fq> a, b, x, y;
  testing::make_operands<Fq>(rng, n, a, b);
  testing::make_operands<Fq>(rng, n, y, x);
  check_mul_sub_mul(a, b, x, y);
}

TEST(GpuFq2, MulSubMul) {
  ZK_SKIP_WITHOUT_GPU();
  auto rng = testing::seeded_rng();
  const size_t n = std::max<size_t>(test_size() / 4, 1);
  check_mul_sub_mul(fq2_operands(rng, n), fq2_operands(rng, n), fq2_operands(rng, n), fq2_operands(rng, n));
}

// ---- what runs without a GPU too ------------------------------------------------------------

TEST(GpuProbe, UsableOrSaysWhy) {
  const gpu::GpuInfo& info = testing::gpu_info();
  std::cout << "[ gpu      ] " << gpu::describe(info) << "\n";
  if (info.usable) {
    EXPECT_TRUE(info.reason.empty());
    EXPECT_FALSE(info.name.empty());
    EXPECT_GT(info.sm_count, 0);
  } else {
    EXPECT_EQ(info.reason.rfind("no usable GPU: ", 0), 0u) << info.reason;
    EXPECT_GT(info.reason.size(), std::string("no usable GPU: ").size());
  }
}

TEST(GpuProbe, AbsentDeviceIsNotUsable) {
  const gpu::GpuInfo info = gpu::probe_gpu(4096);
  EXPECT_FALSE(info.usable);
  EXPECT_EQ(info.reason.rfind("no usable GPU: ", 0), 0u) << info.reason;
}

TEST(CudaCheck, MessageNamesCallFileLineAndError) {
  try {
    gpu::check(cudaErrorInvalidValue, "cudaMemcpy(dst, src, n, kind)", "kernels/cuda/x.cu", 42);
    FAIL() << "no exception";
  } catch (const gpu::CudaError& e) {
    EXPECT_EQ(e.code(), cudaErrorInvalidValue);
    const std::string msg = e.what();
    EXPECT_EQ(
        msg.rfind(
            "kernels/cuda/x.cu:42: cudaMemcpy(dst, src, n, kind) failed: cudaErrorInvalidValue: ",
            0),
        0u)
        << msg;
  }
  EXPECT_NO_THROW(gpu::check(cudaSuccess, "x", "f", 1));
}

TEST(FieldApply, RejectsBadPointersBeforeLaunching) {
  alignas(16) static Fr storage[4];
  Fr* misaligned = reinterpret_cast<Fr*>(reinterpret_cast<char*>(storage) + 8);
  EXPECT_THROW(gpu::field_apply(FieldOp::Mul, storage, storage, misaligned, 1),
               std::invalid_argument);
  EXPECT_THROW(gpu::field_apply(FieldOp::Add, storage, storage, nullptr, 1), std::invalid_argument);
  EXPECT_THROW(gpu::field_apply(FieldOp::Sqr, static_cast<Fr*>(nullptr), storage, nullptr, 1),
               std::invalid_argument);
  alignas(16) static Fq q[4];
  alignas(16) static Fq2 q2[4];
  Fq* q_misaligned = reinterpret_cast<Fq*>(reinterpret_cast<char*>(q) + 8);
  EXPECT_THROW(gpu::mul_sub_mul(q, q, q, q_misaligned, q, 1), std::invalid_argument);
  EXPECT_THROW(gpu::mul_sub_mul(q, q, q, q, static_cast<Fq*>(nullptr), 1), std::invalid_argument);
  EXPECT_THROW(gpu::mul_sub_mul(q2, static_cast<Fq2*>(nullptr), q2, q2, q2, 1), std::invalid_argument);
  EXPECT_THROW(gpu::fq2_sqr(static_cast<Fq2*>(nullptr), q2, 1), std::invalid_argument);
}

}  // namespace
}  // namespace zkinfer
