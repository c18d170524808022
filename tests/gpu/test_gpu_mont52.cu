// Montgomery products on the FP64 pipe (mont52.h) on the device against the same code on the
// host, bit for bit, and through the conversions and as Fp's drop-in (mul_r256) against Fp's
// products. The host side is checked
// against GMP by tests/unit/test_mont52.cpp; this checks that the device's fused multiply-adds
// (rounded down and to nearest) and bit reinterpretations do what the host's do.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "../support/seed.h"
#include "cuda/buffer.h"
#include "cuda/check.h"
#include "gpu_test_support.h"
#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/ff/mont52.h"

namespace zkinfer {
namespace {

using gpu::DeviceBuffer;
constexpr int kL = mont52::kLimbs;

size_t test_size() {
  if (const char* s = std::getenv("ZKINFER_GPU_TEST_N")) return std::strtoull(s, nullptr, 0);
  return 200003;
}

template <class P>
__global__ void mul_kernel(double* r, const double* a, const double* b, size_t n) {
  const size_t t = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= n) return;
  double x[kL], y[kL], z[kL];
  for (int i = 0; i < kL; ++i) {
    x[i] = a[kL * t + i];
    y[i] = b[kL * t + i];
  }
  mont52::mul<P>(z, x, y);
  for (int i = 0; i < kL; ++i) r[kL * t + i] = z[i];
}

// Fp's product on the FP64 pipe, in Fp's words (mont52::mul_r256).
template <class P>
__global__ void mul_r256_kernel(Fp<P>* r, const Fp<P>* a, const Fp<P>* b, size_t n) {
  const size_t t = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= n) return;
  mont52::mul_r256<P>(r[t].v, a[t].v, b[t].v);
}

// Fp's words in, the product by way of R = 2^260, Fp's words out.
template <class F>
__global__ void converted_mul_kernel(F* r, const F* a, const F* b, size_t n) {
  const size_t t = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= n) return;
  using P = typename F::Params;
  double x[kL], y[kL];
  mont52::to_limbs<P>(x, a[t].v);
  mont52::to_limbs<P>(y, b[t].v);
  mont52::mul<P>(x, x, y);
  mont52::from_limbs<P>(r[t].v, x);
}

unsigned blocks(size_t n) { return unsigned((n + 127) / 128); }

// Limb vectors of values below 2^256: every limb all ones or zero (the 32 patterns in the order
// t * stride mod 32, so two calls with strides 1 and 7 pair each pattern with another), then limbs
// at the ends of their range, then uniform words.
std::vector<double> operands(std::mt19937_64& rng, size_t n, size_t stride) {
  std::vector<double> v(kL * n);
  const uint64_t top[kL] = {mont52::kLimbMask, mont52::kLimbMask, mont52::kLimbMask, mont52::kLimbMask,
                            (uint64_t{1} << 48) - 1};
  for (size_t t = 0; t < n; ++t) {
    for (int i = 0; i < kL; ++i) {
      uint64_t l;
      if (t < 32)
        l = ((t * stride % 32) >> i & 1) ? top[i] : 0;
      else if (t % 3 == 0)
        l = (rng() & 1) ? top[i] - (rng() & 0xff) : (rng() & 0xff);
      else
        l = rng() & top[i];
      v[kL * t + i] = double(l);
    }
  }
  return v;
}

template <class F>
void products_equal_host() {
  ZK_SKIP_WITHOUT_GPU();
  using P = typename F::Params;
  auto rng = testing::seeded_rng();
  const size_t n = test_size();
  const std::vector<double> a = operands(rng, n, 1), b = operands(rng, n, 7);
  DeviceBuffer<double> da(a), db(b), dr(a.size());
  mul_kernel<P><<<blocks(n), 128>>>(dr.data(), da.data(), db.data(), n);
  ZK_CUDA_CHECK_LAUNCH();
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<double> got = dr.download();
  size_t bad = 0;
  for (size_t t = 0; t < n; ++t) {
    double want[kL];
    mont52::mul<P>(want, &a[kL * t], &b[kL * t]);
    for (int i = 0; i < kL; ++i) {
      if (mont52::bits(want[i]) != mont52::bits(got[kL * t + i])) {
        if (++bad <= 5) ADD_FAILURE() << "product " << t << " limb " << i << ": device " << got[kL * t + i] << ", host " << want[i];
        break;
      }
    }
  }
  EXPECT_EQ(bad, 0u);
}

TEST(GpuMont52, FrProductsEqualHost) { products_equal_host<Fr>(); }
TEST(GpuMont52, FqProductsEqualHost) { products_equal_host<Fq>(); }

// Through the conversions (R256 = false) or with mul_r256 (true), against Fp's products.
template <class F, bool R256>
void converted_products_equal_fp() {
  ZK_SKIP_WITHOUT_GPU();
  auto rng = testing::seeded_rng();
  const size_t n = std::max<size_t>(test_size(), 2);
  std::vector<F> a(n), b(n);
  for (size_t t = 0; t < n; ++t) {
    a[t] = field_random<F>(rng);
    b[t] = field_random<F>(rng);
  }
  a[0] = F::zero();
  a[1] = -F::one();
  b[1] = -F::one();
  DeviceBuffer<F> da(a), db(b), dr(n);
  if constexpr (R256)
    mul_r256_kernel<typename F::Params><<<blocks(n), 128>>>(dr.data(), da.data(), db.data(), n);
  else
    converted_mul_kernel<F><<<blocks(n), 128>>>(dr.data(), da.data(), db.data(), n);
  ZK_CUDA_CHECK_LAUNCH();
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<F> got = dr.download();
  size_t bad = 0;
  for (size_t t = 0; t < n; ++t) {
    if (!(got[t] == a[t] * b[t]) && ++bad <= 5) ADD_FAILURE() << "element " << t;
  }
  EXPECT_EQ(bad, 0u);
}

TEST(GpuMont52, FrConvertedProductsEqualFp) { converted_products_equal_fp<Fr, false>(); }
TEST(GpuMont52, FqConvertedProductsEqualFp) { converted_products_equal_fp<Fq, false>(); }
TEST(GpuMont52, FrMulR256EqualsFp) { converted_products_equal_fp<Fr, true>(); }
TEST(GpuMont52, FqMulR256EqualsFp) { converted_products_equal_fp<Fq, true>(); }

}  // namespace
}  // namespace zkinfer
