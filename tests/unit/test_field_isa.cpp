// Every host implementation of the field arithmetic (fp_x86.h: portable C++, MUL/ADC asm,
// MULX/ADX asm; cpu/field_batch.h: AVX-512 IFMA batches) against GMP on the raw Montgomery
// words, and against each other. The ADX and IFMA tests skip on a CPU without them; on other
// hosts than x86-64 only the portable C++ exists.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "../support/mpz.h"
#include "../support/seed.h"
#include "cpu/field_batch.h"
#include "zkinfer/ff/fields.h"

namespace zkinfer {
namespace {

using testing::Mpz;

#if ZKINFER_X86_64_HOST
// Runs the body of a test with every Fp operation on one implementation.
class ScopedIsa {
 public:
  explicit ScopedIsa(HostIsa isa) : saved_(x86::host_isa) { x86::host_isa = isa; }
  ~ScopedIsa() { x86::host_isa = saved_; }
  ScopedIsa(const ScopedIsa&) = delete;
  ScopedIsa& operator=(const ScopedIsa&) = delete;

 private:
  HostIsa saved_;
};
#endif

template <class F>
class FieldIsa : public ::testing::Test {
 protected:
  Mpz p{F::MOD};
  Mpz r_inv;  // 2^-256 mod p: the Montgomery product of raw words a, b is a*b*r_inv mod p

  FieldIsa() {
    Mpz r;
    mpz_setbit(r.v, 256);
    mpz_invert(r_inv.v, r.v, p.v);
  }

  // Raw Montgomery words below p: random ones plus the edge cases 0, 1, 2, p-1, p-2, (p+-1)/2,
  // p-2^k, 2^253 +- 1 (p is just above 2^253.6, so these sit near the top), all-ones low limbs,
  // and R, R^2 mod p.
  std::vector<F> samples(std::mt19937_64& rng, int n) {
    std::vector<U256> raw = {u256::from_u64(0),
                             u256::from_u64(1),
                             u256::from_u64(2),
                             F::P_MINUS_1,
                             F::P_MINUS_2,
                             F::P_MINUS_1_HALF,
                             F::R1,
                             F::R2};
    U256 half_up = F::P_MINUS_1_HALF;
    half_up.w[0] += 1;  // (p+1)/2; p-1 is even, so no carry
    raw.push_back(half_up);
    for (unsigned k : {1u, 63u, 64u, 127u, 128u, 192u, 250u}) {
      U256 pow2{};
      pow2.w[k / 64] = uint64_t{1} << (k % 64);
      uint64_t br = 0;
      raw.push_back(u256::sub(F::MOD, pow2, br));
    }
    U256 two253{{0, 0, 0, uint64_t{1} << 61}};
    raw.push_back(two253);
    raw.push_back(U256{{1, 0, 0, uint64_t{1} << 61}});
    raw.push_back(U256{{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}, (uint64_t{1} << 61) - 1}});
    raw.push_back(U256{{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}, F::MOD.w[3] - 1}});
    raw.push_back(U256{{~uint64_t{0}, 0, ~uint64_t{0}, 0}});
    std::vector<F> xs;
    for (const U256& a : raw) {
      EXPECT_TRUE(u256::less(a, F::MOD));
      xs.push_back(F::from_mont(a));
    }
    while ((int)xs.size() < n) {
      U256 a{{rng(), rng(), rng(), rng() >> 2}};
      if (u256::less(a, F::MOD)) xs.push_back(F::from_mont(a));
    }
    return xs;
  }

  U256 gmp_mont_mul(const F& a, const F& b) {
    Mpz x(a.mont()), y(b.mont()), r;
    mpz_mul(r.v, x.v, y.v);
    mpz_mul(r.v, r.v, r_inv.v);
    mpz_mod(r.v, r.v, p.v);
    return r.to_u256();
  }
  U256 gmp_add(const F& a, const F& b) {
    Mpz x(a.mont()), y(b.mont()), r;
    mpz_add(r.v, x.v, y.v);
    mpz_mod(r.v, r.v, p.v);
    return r.to_u256();
  }
  U256 gmp_sub(const F& a, const F& b) {
    Mpz x(a.mont()), y(b.mont()), r;
    mpz_sub(r.v, x.v, y.v);
    mpz_mod(r.v, r.v, p.v);
    return r.to_u256();
  }

  // Every operation on every pair of samples (plus each sample with its own value) matches GMP.
  void check_against_gmp() {
    auto rng = testing::seeded_rng();
    auto xs = samples(rng, 400);
    for (size_t i = 0; i < xs.size(); ++i) {
      for (size_t j : {i, (i * 7 + 3) % xs.size(), (i + 1) % xs.size(), size_t{3}}) {
        const F& a = xs[i];
        const F& b = xs[j];
        ASSERT_EQ((a * b).mont(), gmp_mont_mul(a, b)) << "i=" << i << " j=" << j;
        ASSERT_EQ((a + b).mont(), gmp_add(a, b)) << "i=" << i << " j=" << j;
        ASSERT_EQ((a - b).mont(), gmp_sub(a, b)) << "i=" << i << " j=" << j;
      }
      ASSERT_EQ(xs[i].sqr().mont(), gmp_mont_mul(xs[i], xs[i])) << "i=" << i;
      ASSERT_EQ((-xs[i]).mont(), gmp_sub(F::zero(), xs[i])) << "i=" << i;
    }
  }
};

using FieldTypes = ::testing::Types<Fr, Fq>;
TYPED_TEST_SUITE(FieldIsa, FieldTypes);

// Values computed by the compiler (constant evaluation always runs the portable C++).
template <class F>
struct CompileTime {
  static constexpr F a = F::from_u64(0x1234567890abcdefull).pow(u256::from_u64(1000003));
  static constexpr F b = -F::from_u64(0xfedcba0987654321ull);
  static constexpr F prod = a * b;
  static constexpr F sum = a + b;
  static constexpr F diff = a - b;
  static constexpr F inv = a.inverse();
};

TYPED_TEST(FieldIsa, Portable) {
#if ZKINFER_X86_64_HOST
  ScopedIsa isa(HostIsa::portable);
#endif
  this->check_against_gmp();
}

#if ZKINFER_X86_64_HOST
TYPED_TEST(FieldIsa, X86_64MulAdc) {
  ScopedIsa isa(HostIsa::x86_64);
  this->check_against_gmp();
}

TYPED_TEST(FieldIsa, X86_64MulxAdx) {
  if (x86::best_host_isa() < HostIsa::adx) GTEST_SKIP() << "this CPU has no BMI2/ADX";
  ScopedIsa isa(HostIsa::adx);
  this->check_against_gmp();
}

// Longer computations (inverse is 250 squarings and products in a row) agree bit for bit
// across the variants and with the compiler's constant evaluation.
TYPED_TEST(FieldIsa, VariantsAgreeWithEachOtherAndCompileTime) {
  using F = TypeParam;
  using C = CompileTime<F>;
  auto rng = testing::seeded_rng();
  auto xs = this->samples(rng, 64);
  std::vector<std::vector<F>> results;
  for (HostIsa v : {HostIsa::portable, HostIsa::x86_64, HostIsa::adx}) {
    if (v > x86::best_host_isa()) continue;
    ScopedIsa isa(v);
    F a = C::a, b = C::b;  // runtime copies
    EXPECT_EQ(a * b, C::prod) << x86::host_isa_name(v);
    EXPECT_EQ(a + b, C::sum) << x86::host_isa_name(v);
    EXPECT_EQ(a - b, C::diff) << x86::host_isa_name(v);
    EXPECT_EQ(a.inverse(), C::inv) << x86::host_isa_name(v);
    std::vector<F> out;
    for (const F& x : xs) {
      F acc = x.inverse() * (x + F::one()).sqr() - x.dbl();
      out.push_back(acc.pow(u256::from_u64(65537)));
    }
    cpu::mul_batch(out.data(), out.data(), xs.data(), out.size());
    results.push_back(out);
  }
  for (size_t k = 1; k < results.size(); ++k) EXPECT_EQ(results[k], results[0]);
}

// mul_batch on every length up to 40 (full groups of eight and remainders) and one long run,
// in place on either operand too, against GMP.
TYPED_TEST(FieldIsa, BatchProductsAvx512Ifma) {
  using F = TypeParam;
  if (x86::best_host_isa() < HostIsa::adx || !x86::cpu_has_avx512ifma())
    GTEST_SKIP() << "this CPU has no AVX-512 IFMA";
  ScopedIsa isa(HostIsa::adx);
  auto rng = testing::seeded_rng();
  auto xs = this->samples(rng, 1000);
  std::vector<F> ys(xs.rbegin(), xs.rend());
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 40; ++n) lengths.push_back(n);
  lengths.push_back(xs.size());
  for (size_t n : lengths) {
    std::vector<F> out(n), in_a(xs.begin(), xs.begin() + n), in_b(ys.begin(), ys.begin() + n);
    cpu::mul_batch(out.data(), xs.data(), ys.data(), n);
    cpu::mul_batch(in_a.data(), in_a.data(), ys.data(), n);
    cpu::mul_batch(in_b.data(), xs.data(), in_b.data(), n);
    for (size_t i = 0; i < n; ++i) {
      U256 want = this->gmp_mont_mul(xs[i], ys[i]);
      ASSERT_EQ(out[i].mont(), want) << "n=" << n << " i=" << i;
      ASSERT_EQ(in_a[i].mont(), want) << "n=" << n << " i=" << i;
      ASSERT_EQ(in_b[i].mont(), want) << "n=" << n << " i=" << i;
    }
  }
}

TEST(HostIsa, EnvironmentOverrideOnlyLowers) {
  EXPECT_EQ(x86::parse_host_isa("portable", HostIsa::adx), HostIsa::portable);
  EXPECT_EQ(x86::parse_host_isa("x86_64", HostIsa::adx), HostIsa::x86_64);
  EXPECT_EQ(x86::parse_host_isa("adx", HostIsa::x86_64), HostIsa::adx);
  EXPECT_EQ(x86::parse_host_isa("avx9000", HostIsa::x86_64), HostIsa::x86_64);
  EXPECT_EQ(x86::parse_host_isa(nullptr, HostIsa::adx), HostIsa::adx);

  const char* saved = std::getenv("ZKINFER_CPU_ISA");
  std::string saved_value = saved ? saved : "";
  setenv("ZKINFER_CPU_ISA", "portable", 1);
  EXPECT_EQ(x86::detect_host_isa(), HostIsa::portable);
  setenv("ZKINFER_CPU_ISA", "x86_64", 1);
  EXPECT_EQ(x86::detect_host_isa(), HostIsa::x86_64);
  setenv("ZKINFER_CPU_ISA", "adx", 1);  // never above what the CPU runs
  EXPECT_EQ(x86::detect_host_isa(), x86::best_host_isa());
  unsetenv("ZKINFER_CPU_ISA");
  EXPECT_EQ(x86::detect_host_isa(), x86::best_host_isa());
  if (saved) setenv("ZKINFER_CPU_ISA", saved_value.c_str(), 1);
  std::cout << "[ isa      ] best " << x86::host_isa_name(x86::best_host_isa()) << ", in use "
            << x86::host_isa_name(x86::host_isa) << ", AVX-512 IFMA "
            << (x86::cpu_has_avx512ifma() ? "yes" : "no") << "\n";
}
#endif

}  // namespace
}  // namespace zkinfer
