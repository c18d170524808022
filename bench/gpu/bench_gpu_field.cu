// Field throughput on the device: Fr and Fq multiplications per second when arithmetic is the
// limit (independent multiplication chains per thread, operands in registers), and the library's
// elementwise kernels, which move 96 bytes per Fr multiplication and are bound by memory; Fq2
// products with lazy reduction against three reduced products; the dedicated Fq square against
// the product x * x; Karatsuba products (Fr, Fq, Fq2) against the schoolbook ones; Fr
// products by a factor fixed per thread (Shoup) against Montgomery products. (Products on the
// FP64 pipe were measured here too and were slower, 1.18x on an H200 on 2026-11-28; that code
// is gone, its figures are in bench/results.)
// Every measurement checks a sample of its outputs against the host implementation.
//
//   bench_gpu_field [--out results.json] [--reps 21] [--warmup 3] [--quick]
// Exit status: 0 all checks passed, 1 a check failed or a CUDA call failed, 2 no usable GPU.
#include <cstdio>
#include <random>
#include <vector>

#include "bench_util.h"
#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/device.h"
#include "cuda/field_ops.h"

namespace zkinfer::bench {
namespace {

using gpu::DeviceBuffer;
using gpu::FieldOp;

constexpr const char* kUsage =
    "usage: bench_gpu_field [--out results.json] [--reps N] [--warmup N] [--quick]\n";

// Each thread applies Step to ILP independent accumulators, `iters` times (with one factor per
// thread where Step multiplies, in the form Step::prepare gives it, once per thread): the steps
// of one chain depend on each other, those of different chains do not, so the scheduler has ILP
// of them to overlap within a thread, plus all the other warps.
// The accumulators are in the form Step::load gives (the stored one for every step here) and go
// back through Step::store.
template <class F, int ILP, class Step>
__global__ void chain_kernel(F* out, const F* x0, const F* factor, size_t threads, int iters) {
  const size_t t = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= threads) return;
  decltype(Step::load(x0[0])) x[ILP];
#pragma unroll
  for (int k = 0; k < ILP; ++k) x[k] = Step::load(x0[k * threads + t]);
  const auto m = Step::prepare(factor[t]);
  for (int i = 0; i < iters; ++i) {
#pragma unroll
    for (int k = 0; k < ILP; ++k) x[k] = Step::apply(x[k], m);
  }
#pragma unroll
  for (int k = 0; k < ILP; ++k) Step::store(out[k * threads + t], x[k]);
}

// The chains' steps, with their host counterparts for the check.
// Values kept in their stored form between steps.
struct StoredForm {
  template <class F>
  static ZK_HDI F load(const F& x) {
    return x;
  }
  template <class F>
  static ZK_HDI void store(F& out, const F& x) {
    out = x;
  }
};
// The factor as it is too: for the steps below but MultiplyShoup and Fq2MulSubMul.
struct AsIs : StoredForm {
  template <class F>
  static ZK_HDI F prepare(const F& m) {
    return m;
  }
};

// Steps that compute the product x * m, however they do it on the device: the host check's
// reference is Fp's product.
struct ProductStep : AsIs {
  template <class F>
  static F host(const F& x, const F& m) {
    return x * m;
  }
};

struct Multiply : ProductStep {
  template <class F>
  static ZK_HDI F apply(const F& x, const F& m) {
    return x * m;
  }
};
// Fq squares: the dedicated device square (fp_device::sqr, mont32::sqr) or the product x * x,
// which Fp::sqr uses on the device (measured here 0.87 of it; whether the MSM kernels gain is
// bench_gpu_msm's g1_msm_square rows).
template <bool Dedicated>
struct Square : AsIs {
  static __device__ __forceinline__ Fq apply(const Fq& x, const Fq&) {
    if constexpr (Dedicated) {
      Fq r;
      fp_device::sqr<bn254::FqParams>(r.v, x.v);
      return r;
    } else {
      return x * x;
    }
  }
  static Fq host(const Fq& x, const Fq&) { return x * x; }
};

// Fr or Fq products through one level of Karatsuba and a separate reduction
// (fp_device::mul_karatsuba): fewer limb products, more additions than Fp's operator*.
struct MultiplyKaratsuba : ProductStep {
  template <class F>
  static __device__ __forceinline__ F apply(const F& x, const F& m) {
    F r;
    fp_device::mul_karatsuba<typename F::Params>(r.v, x.v, m.v);
    return r;
  }
};

// Products by a factor fixed per thread (Shoup, fp_device::mul_shoup), as an NTT twiddle would
// be: the factor canonical with w' = floor(w 2^256 / p) beside it, made once per thread.
struct MultiplyShoup : StoredForm {
  struct Factor {
    U256 w, wq;
  };
  template <class F>
  static __device__ __forceinline__ Factor prepare(const F& m) {
    Factor f{m.to_canonical(), {}};
    fp_device::shoup_quotient<typename F::Params>(f.wq.w, m.v);
    return f;
  }
  template <class F>
  static __device__ __forceinline__ F apply(const F& x, const Factor& f) {
    F r;
    fp_device::mul_shoup<typename F::Params>(r.v, x.v, f.w.w, f.wq.w);
    return r;
  }
  template <class F>
  static F host(const F& x, const F& m) {
    return x * m;
  }
};

// Fq2 a b - x y, the y coordinates of the G2 curve formulas, as x m - conj(m) x: with one pair
// of Montgomery reductions (Fq2::mul_sub_mul, mont32::fq2_mul_sub_mul) or as written, two lazy
// Fq2 products and a subtraction (what Fq2::mul_sub_mul computed before).
template <bool OneReduction>
struct Fq2MulSubMul : StoredForm {
  struct Factor {
    Fq2 m, mc;
  };
  static ZK_HDI Factor prepare(const Fq2& m) { return {m, m.conjugate()}; }
  static __device__ __forceinline__ Fq2 apply(const Fq2& x, const Factor& f) {
    if constexpr (OneReduction)
      return Fq2::mul_sub_mul(x, f.m, f.mc, x);
    else
      return x * f.m - f.mc * x;
  }
  static Fq2 host(const Fq2& x, const Fq2& m) { return x * m - m.conjugate() * x; }
};

// Uniform elements drawn directly as Montgomery words below p (as uniform as field_random, and
// without its conversion multiply: the arrays here have millions of elements).
template <class F>
F random_element(std::mt19937_64& rng) {
  constexpr U256 p = F::MOD;
  for (;;) {
    U256 w{{rng(), rng(), rng(), rng() & ((uint64_t{1} << (F::BITS - 192)) - 1)}};
    if (u256::less(w, p)) return F::from_mont(w);
  }
}
template <>
Fq2 random_element<Fq2>(std::mt19937_64& rng) {
  const Fq c0 = random_element<Fq>(rng);
  return {c0, random_element<Fq>(rng)};
}
// Fq2 multiplied the way it was before lazy reduction (three reduced Montgomery products,
// Karatsuba): the baseline for fq2_mul_chain_ilp4, which uses Fq2's operator*.
struct Fq2ThreeReductions {
  Fq2 v;
  ZK_HDI Fq2ThreeReductions operator*(const Fq2ThreeReductions& b) const {
    const Fq v0 = v.c0 * b.v.c0, v1 = v.c1 * b.v.c1;
    return {{v0 - v1, (v.c0 + v.c1) * (b.v.c0 + b.v.c1) - v0 - v1}};
  }
  bool operator==(const Fq2ThreeReductions& o) const { return v == o.v; }
};
template <>
Fq2ThreeReductions random_element<Fq2ThreeReductions>(std::mt19937_64& rng) {
  return {random_element<Fq2>(rng)};
}

// Fq2 with lazy reduction and Karatsuba 512-bit products (mont32::fq2_mul<P, true>).
struct Fq2Karatsuba {
  Fq2 v;
  ZK_HDI Fq2Karatsuba operator*(const Fq2Karatsuba& b) const {
#if defined(__CUDA_ARCH__)
    Fq2Karatsuba r;
    fp_device::fq2_mul<bn254::FqParams, true>(r.v.c0.v, r.v.c1.v, v.c0.v, v.c1.v, b.v.c0.v, b.v.c1.v);
    return r;
#else
    return {v * b.v};  // the host check's reference
#endif
  }
  bool operator==(const Fq2Karatsuba& o) const { return v == o.v; }
};
template <>
Fq2Karatsuba random_element<Fq2Karatsuba>(std::mt19937_64& rng) {
  return {random_element<Fq2>(rng)};
}

template <class F>
std::vector<F> random_array(std::mt19937_64& rng, size_t n) {
  std::vector<F> v(n);
  for (F& x : v) x = random_element<F>(rng);
  return v;
}

constexpr unsigned kBlock = 256;  // not tuned: the chains are bound by multiply throughput

template <class F, int ILP, class Step = Multiply>
Result chain(const char* name, const char* unit, const gpu::GpuInfo& g, const Options& o, std::mt19937_64& rng) {
  // Four blocks of 256 per SM (the SM holds 2048 threads) times four waves: enough warps to hide
  // the multiply latency, and a tail that is a small part of the run.
  const size_t threads = size_t(g.sm_count) * 2048 * (o.quick ? 1 : 4);
  const int iters = o.quick ? 64 : 256;
  const std::vector<F> x0 = random_array<F>(rng, threads * ILP), m = random_array<F>(rng, threads);
  DeviceBuffer<F> dx(x0), dm(m), out(threads * ILP);
  const unsigned grid = unsigned((threads + kBlock - 1) / kBlock);
  auto launch = [&] {
    chain_kernel<F, ILP, Step><<<grid, kBlock>>>(out.data(), dx.data(), dm.data(), threads, iters);
    ZK_CUDA_CHECK_LAUNCH();
  };
  Result r{name, unit, double(threads), double(threads) * ILP * iters, 0, {}, false};
  r.t = time_runs(launch, o.warmup, o.reps);

  out.fill_bytes(0xff);
  launch();
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<F> got = out.download();
  r.check_ok = true;
  for (size_t t = 0; t < threads; t += threads / 61 + 1) {  // a spread-out sample of threads
    for (int k = 0; k < ILP; ++k) {
      F want = x0[k * threads + t];
      for (int i = 0; i < iters; ++i) want = Step::host(want, m[t]);
      r.check_ok = r.check_ok && got[k * threads + t] == want;
    }
  }
  return r;
}

template <class F>
void apply(FieldOp op, F* out, const F* a, const F* b, size_t n) {
  gpu::field_apply(op, out, a, b, n);
}
void apply(FieldOp, Fq2* out, const Fq2* a, const Fq2* b, size_t n) { gpu::fq2_mul(out, a, b, n); }
Fq2 field_op_host(FieldOp, const Fq2& a, const Fq2& b) { return a * b; }

// The library kernel over arrays far larger than L2 (50 MB on an H100).
template <class F>
Result elementwise(const char* name, const char* unit, FieldOp op, size_t n, const Options& o,
                   std::mt19937_64& rng) {
  const std::vector<F> a = random_array<F>(rng, n), b = random_array<F>(rng, n);
  DeviceBuffer<F> da(a), db(b), out(n);
  auto launch = [&] { apply(op, out.data(), da.data(), db.data(), n); };
  const double bytes = double(n) * sizeof(F) * (gpu::field_op_reads_b(op) ? 3 : 2);
  Result r{name, unit, double(n), double(n), bytes, {}, false};
  r.t = time_runs(launch, o.warmup, o.reps);

  out.fill_bytes(0xff);
  launch();
  ZK_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<F> got = out.download();
  r.check_ok = true;
  for (size_t i = 0; i < n; i += n / 211 + 1)
    r.check_ok = r.check_ok && got[i] == field_op_host(op, a[i], b[i]);
  r.check_ok = r.check_ok && got[n - 1] == field_op_host(op, a[n - 1], b[n - 1]);
  return r;
}

int run(int argc, char** argv) {
  const Options o = parse_options(argc, argv, kUsage);
  const gpu::GpuInfo g = gpu::probe_gpu();
  if (!g.usable) {
    std::fprintf(stderr, "bench_gpu_field: %s\n", g.reason.c_str());
    return 2;
  }
  std::printf("device: %s\n", gpu::describe(g).c_str());
  std::mt19937_64 rng(20240601);  // fixed: the same inputs every run, so runs compare
  const size_t big = o.quick ? size_t{1} << 20 : size_t{1} << 24;

  std::vector<Result> rs;
  rs.push_back(chain<Fr, 1>("fr_mul_chain_ilp1", "Fr mul", g, o, rng));
  rs.push_back(chain<Fr, 4>("fr_mul_chain_ilp4", "Fr mul", g, o, rng));
  rs.push_back(chain<Fq, 4>("fq_mul_chain_ilp4", "Fq mul", g, o, rng));
  // Karatsuba products (48 limb products + the reduction's 64, against 128) beside the two above.
  rs.push_back(chain<Fr, 4, MultiplyKaratsuba>("fr_mul_karatsuba_chain_ilp4", "Fr mul", g, o, rng));
  rs.push_back(chain<Fq, 4, MultiplyKaratsuba>("fq_mul_karatsuba_chain_ilp4", "Fq mul", g, o, rng));
  // Products by a fixed factor (Shoup: 92 + 23 limb products), as the NTT's twiddles could be.
  rs.push_back(chain<Fr, 4, MultiplyShoup>("fr_mul_shoup_chain_ilp4", "Fr mul", g, o, rng));
  // Fq squares: the dedicated square against the product x * x (Fp::sqr's device path).
  rs.push_back(chain<Fq, 4, Square<true>>("fq_sqr_dedicated_chain_ilp4", "Fq sqr", g, o, rng));
  rs.push_back(chain<Fq, 4, Square<false>>("fq_sqr_as_product_chain_ilp4", "Fq sqr", g, o, rng));
  // Fq2: lazy reduction (two Montgomery reductions per product) against three reductions.
  rs.push_back(chain<Fq2, 4>("fq2_mul_chain_ilp4", "Fq2 mul", g, o, rng));
  rs.push_back(chain<Fq2ThreeReductions, 4>("fq2_mul_three_reductions_chain_ilp4", "Fq2 mul", g, o, rng));
  rs.push_back(chain<Fq2Karatsuba, 4>("fq2_mul_karatsuba_chain_ilp4", "Fq2 mul", g, o, rng));
  // Fq2 a b - x y: six wide products and two reductions against two products and a subtraction.
  rs.push_back(chain<Fq2, 4, Fq2MulSubMul<true>>("fq2_mul_sub_mul_chain_ilp4", "Fq2 a b - x y", g, o, rng));
  rs.push_back(chain<Fq2, 4, Fq2MulSubMul<false>>("fq2_mul_sub_mul_as_written_chain_ilp4", "Fq2 a b - x y", g, o, rng));
  rs.push_back(elementwise<Fr>("fr_mul_elementwise", "Fr mul", FieldOp::Mul, big, o, rng));
  rs.push_back(elementwise<Fr>("fr_add_elementwise", "Fr add", FieldOp::Add, big, o, rng));
  rs.push_back(elementwise<Fr>("fr_sqr_elementwise", "Fr sqr", FieldOp::Sqr, big, o, rng));
  rs.push_back(elementwise<Fq2>("fq2_mul_elementwise", "Fq2 mul", FieldOp::Mul, big / 4, o, rng));
  rs.push_back(
      elementwise<Fr>("fr_inverse_elementwise", "Fr inverse", FieldOp::Inverse, big / 16, o, rng));

  return report("bench_gpu_field", g, o, rs, "a device result differed from the host");
}

}  // namespace
}  // namespace zkinfer::bench

int main(int argc, char** argv) {
  return zkinfer::bench::bench_main("bench_gpu_field", zkinfer::bench::run, argc, argv);
}
