// Prime field F_p over a 4x64-bit modulus below 2^254, in Montgomery form.
//
// One storage layout for host and device: four little-endian 64-bit words (32 bytes),
// holding a*R mod p with R = 2^256, exactly as the iden3 formats (.zkey, .ptau) store it.
// Every constant (R, R^2, -p^-1, roots of unity, square-root exponents) is derived at
// compile time from the modulus and a multiplicative generator given by the parameter type.
#pragma once

#include <cstddef>
#include <cstdint>

#include "zkinfer/ff/fp_device.h"
#include "zkinfer/ff/fp_inverse.h"
#include "zkinfer/ff/fp_x86.h"
#include "zkinfer/ff/hd.h"
#include "zkinfer/ff/u256.h"

namespace zkinfer {

// P provides: static constexpr U256 modulus; static constexpr uint64_t generator
// (a multiplicative generator, hence a quadratic non-residue).
template <class P>
struct FpConsts;

// Params with `static constexpr bool device_square = true` make Fp::sqr on the device the
// dedicated square (fp_device::sqr) instead of the product with itself: gpu::msm::G1CurveSquare,
// an experiment that a GPU run must measure in the MSM kernels before Fq's own params take it.
template <class P>
inline constexpr bool kDeviceSquare = requires {
  requires P::device_square;
};

template <class P>
struct Fp {
  uint64_t v[4];

  using Params = P;
  static constexpr U256 MOD = P::modulus;
  static constexpr uint64_t INV = u256::neg_inv64(P::modulus.w[0]);
  static constexpr U256 R1 = u256::pow2_mod(256, P::modulus);
  static constexpr U256 R2 = u256::pow2_mod(512, P::modulus);
  static constexpr unsigned BITS = P::modulus.bit_length();
  // The carry-free Montgomery loop below needs the top word to leave two spare bits.
  static_assert(P::modulus.w[3] < (~uint64_t{0} >> 2), "modulus must be below 2^254");
  static_assert(P::modulus.w[0] & 1, "modulus must be odd");

  // ---- construction -------------------------------------------------------------------
  ZK_HDI static constexpr Fp zero() { return Fp{{0, 0, 0, 0}}; }
  ZK_HDI static constexpr Fp one() {
    constexpr U256 r = R1;  // local copy: device code may not reference host statics
    return Fp{{r.w[0], r.w[1], r.w[2], r.w[3]}};
  }
  // From raw Montgomery words (no check).
  ZK_HDI static constexpr Fp from_mont(const U256& m) { return Fp{{m.w[0], m.w[1], m.w[2], m.w[3]}}; }
  // From a canonical integer < p (caller guarantees the bound; see fp_io.h for checked parsing).
  ZK_HDI static constexpr Fp from_canonical(const U256& a) {
    constexpr U256 r2 = R2;
    return Fp{{a.w[0], a.w[1], a.w[2], a.w[3]}} * from_mont(r2);
  }
  ZK_HDI static constexpr Fp from_u64(uint64_t x) { return from_canonical(u256::from_u64(x)); }
  ZK_HDI constexpr U256 to_canonical() const { return (*this * Fp{{1, 0, 0, 0}}).mont(); }
  ZK_HDI constexpr U256 mont() const { return U256{{v[0], v[1], v[2], v[3]}}; }

  // ---- comparison ---------------------------------------------------------------------
  ZK_HDI constexpr bool is_zero() const { return (v[0] | v[1] | v[2] | v[3]) == 0; }
  ZK_HDI constexpr bool is_one() const { return *this == one(); }
  ZK_HDI constexpr bool operator==(const Fp& o) const {
    return ((v[0] ^ o.v[0]) | (v[1] ^ o.v[1]) | (v[2] ^ o.v[2]) | (v[3] ^ o.v[3])) == 0;
  }
  ZK_HDI constexpr bool operator!=(const Fp& o) const { return !(*this == o); }

  // ---- arithmetic ---------------------------------------------------------------------
  ZK_HDI constexpr Fp operator+(const Fp& b) const {
#if defined(__CUDA_ARCH__)
    // Device: 8x32-bit PTX carry chains (fp_device.h); constant evaluation takes the host path.
    if (!__builtin_is_constant_evaluated()) {
      Fp r;
      fp_device::add<P>(r.v, v, b.v);
      return r;
    }
#elif ZKINFER_X86_64_HOST
    // Host x86-64: fp_x86.h, unless ZKINFER_CPU_ISA=portable asked for the C++ below.
    if (!__builtin_is_constant_evaluated() && x86::host_isa != HostIsa::portable)
      return from_mont(x86::add(v, b.v, x86::kMontConsts<P>));
#endif
    // a, b < p < 2^254: the sum fits in 256 bits, then one conditional subtraction.
    Fp r;
    uint64_t c = 0;
    r.v[0] = adc(v[0], b.v[0], c);
    r.v[1] = adc(v[1], b.v[1], c);
    r.v[2] = adc(v[2], b.v[2], c);
    r.v[3] = adc(v[3], b.v[3], c);
    return reduce_once(r);
  }
  ZK_HDI constexpr Fp operator-(const Fp& b) const {
#if defined(__CUDA_ARCH__)
    // Device: 8x32-bit PTX carry chains (fp_device.h); constant evaluation takes the host path.
    if (!__builtin_is_constant_evaluated()) {
      Fp r;
      fp_device::sub<P>(r.v, v, b.v);
      return r;
    }
#elif ZKINFER_X86_64_HOST
    if (!__builtin_is_constant_evaluated() && x86::host_isa != HostIsa::portable)
      return from_mont(x86::sub(v, b.v, x86::kMontConsts<P>));
#endif
    constexpr uint64_t m0 = MOD.w[0], m1 = MOD.w[1], m2 = MOD.w[2], m3 = MOD.w[3];
    Fp r;
    uint64_t br = 0;
    r.v[0] = sbb(v[0], b.v[0], br);
    r.v[1] = sbb(v[1], b.v[1], br);
    r.v[2] = sbb(v[2], b.v[2], br);
    r.v[3] = sbb(v[3], b.v[3], br);
    // On borrow add p back (mask instead of a branch).
    uint64_t mask = uint64_t{0} - br, c = 0;
    r.v[0] = adc(r.v[0], m0 & mask, c);
    r.v[1] = adc(r.v[1], m1 & mask, c);
    r.v[2] = adc(r.v[2], m2 & mask, c);
    r.v[3] = adc(r.v[3], m3 & mask, c);
    return r;
  }
  ZK_HDI constexpr Fp operator-() const { return zero() - *this; }
  ZK_HDI constexpr Fp dbl() const { return *this + *this; }

  // Montgomery multiplication, CIOS without the extra carry word: valid because the
  // modulus leaves two spare bits in its top word (static_assert above).
  ZK_HDI constexpr Fp operator*(const Fp& b) const {
#if defined(__CUDA_ARCH__)
    // Device: 8x32-bit PTX carry chains (fp_device.h); constant evaluation takes the host path.
    if (!__builtin_is_constant_evaluated()) {
      Fp r;
      fp_device::mul<P>(r.v, v, b.v);
      return r;
    }
#elif ZKINFER_X86_64_HOST
    // Host x86-64: MULX/ADX asm where the CPU has it (fp_x86.h), else mul_without_adx.
    if (!__builtin_is_constant_evaluated()) {
      if (x86::host_isa == HostIsa::adx) [[likely]]
        return from_mont(x86::mul_adx(v, b.v, x86::kMontConsts<P>));
      return mul_without_adx(*this, b);
    }
#endif
    return mul_portable(b);
  }
  // The portable product: constant evaluation, other hosts than x86-64, ZKINFER_CPU_ISA=portable.
  ZK_HDI constexpr Fp mul_portable(const Fp& b) const {
    constexpr uint64_t m0 = MOD.w[0], m1 = MOD.w[1], m2 = MOD.w[2], m3 = MOD.w[3];
    constexpr uint64_t mod[4] = {m0, m1, m2, m3};
    uint64_t t[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; ++i) {
      u128 c = (u128)v[0] * b.v[i] + t[0];
      uint64_t C = (uint64_t)(c >> 64);
      uint64_t t0 = (uint64_t)c;
      uint64_t m = t0 * INV;
      u128 d = (u128)m * mod[0] + t0;
      uint64_t D = (uint64_t)(d >> 64);
      for (int j = 1; j < 4; ++j) {
        c = (u128)v[j] * b.v[i] + t[j] + C;
        C = (uint64_t)(c >> 64);
        d = (u128)m * mod[j] + (uint64_t)c + D;
        D = (uint64_t)(d >> 64);
        t[j - 1] = (uint64_t)d;
      }
      t[3] = C + D;
    }
    return reduce_once(Fp{{t[0], t[1], t[2], t[3]}});
  }
#if ZKINFER_X86_64_HOST
  // MUL/ADC asm or the portable C++, out of line: CPUs with ADX (every x86-64 since 2014/2017)
  // never get here, and inlined next to the ADX asm they made a function holding one product
  // 2381 bytes of code instead of 889 (the portable product alone was 1492). Arguments by
  // value: by reference, the caller's operands would have to live in memory on the ADX path
  // too, and the store/reload made a chain of products 24% slower (22.1 against 17.8 ns).
  __attribute__((noinline)) static Fp mul_without_adx(Fp a, Fp b) {
    if (x86::host_isa == HostIsa::x86_64)
      return from_mont(x86::mul_mulq(a.v, b.v, x86::kMontConsts<P>));
    return a.mul_portable(b);
  }
#endif
  // The product's algorithm: a dedicated square (cross products once) measured no faster on the
  // host (fp_x86.h). The x86-64 ADX path reads the operand once, from registers. On the device a
  // dedicated square exists (fp_device::sqr: 36 products where the product has 64, but a
  // separate reduction and more additions; the same PTX instruction count). On an H200
  // (2026-11-28, bench_gpu_field) a chain of them took 0.87 of this product's time; it is used
  // only for params with device_square (kDeviceSquare) until a GPU run of the MSM kernels with it
  // (bench_gpu_msm's g1_msm_square rows) shows what it gives there.
  ZK_HDI constexpr Fp sqr() const {
#if defined(__CUDA_ARCH__)
    if constexpr (kDeviceSquare<P>) {
      if (!__builtin_is_constant_evaluated()) {
        Fp r;
        fp_device::sqr<P>(r.v, v);
        return r;
      }
    }
#elif ZKINFER_X86_64_HOST
    if (!__builtin_is_constant_evaluated() && x86::host_isa == HostIsa::adx)
      return from_mont(x86::sqr_adx(v, x86::kMontConsts<P>));
#endif
    return *this * *this;
  }

  // a * b - x * y. On the device both products stay 512 bits wide and are reduced once
  // (mont32::mul_sub_mul): 128 limb products and one reduction instead of two Montgomery
  // products. The host computes it as written.
  ZK_HDI static constexpr Fp mul_sub_mul(const Fp& a, const Fp& b, const Fp& x, const Fp& y) {
#if defined(__CUDA_ARCH__)
    if (!__builtin_is_constant_evaluated()) {
      Fp r;
      fp_device::mul_sub_mul<P>(r.v, a.v, b.v, x.v, y.v);
      return r;
    }
#endif
    return a * b - x * y;
  }

  ZK_HDI constexpr Fp& operator+=(const Fp& b) { return *this = *this + b; }
  ZK_HDI constexpr Fp& operator-=(const Fp& b) { return *this = *this - b; }
  ZK_HDI constexpr Fp& operator*=(const Fp& b) { return *this = *this * b; }

  // a^e for a 256-bit exponent (square-and-multiply, left to right).
  ZK_HD constexpr Fp pow(const U256& e) const {
    Fp r = one();
    for (int i = (int)e.bit_length() - 1; i >= 0; --i) {
      r = r.sqr();
      if (e.bit(i)) r = r * *this;
    }
    return r;
  }
  ZK_HD constexpr Fp pow(uint64_t e) const { return pow(u256::from_u64(e)); }

  // Multiplicative inverse by Fermat (a^(p-2)); the inverse of zero is zero.
  ZK_HD constexpr Fp inverse() const {
    constexpr U256 e = P_MINUS_2;
    return pow(e);
  }

  // The same result as inverse(), in variable time: on the host, Bernstein-Yang safegcd
  // (fp_inverse.h), 1.0 us against 7.1 us for Fermat at adx (bench_field, Zen 4); on the device
  // and in constant evaluation, inverse(). The running time depends on the value: only for data
  // whose timing does not matter (the MSM), never for secrets (setup toxic waste, r and s).
  ZK_HD constexpr Fp inverse_vartime() const {
#if !defined(__CUDA_ARCH__)
    if (!__builtin_is_constant_evaluated()) {
      // (aR)^-1 times R^2, folded into the algorithm's start: a^-1 R, the Montgomery form.
      constexpr safegcd::S62 r2 = safegcd::to_s62(R2);
      return from_mont(safegcd::inverse_vartime<P>(mont(), r2));
    }
#endif
    return inverse();
  }

  // Legendre symbol: 1 for a non-zero square, -1 for a non-square, 0 for zero.
  ZK_HD constexpr int legendre() const {
    if (is_zero()) return 0;
    constexpr U256 e = P_MINUS_1_HALF;
    return pow(e).is_one() ? 1 : -1;
  }

  // Square root by Tonelli-Shanks; returns false when none exists.
  ZK_HD constexpr bool sqrt(Fp& out) const {
    if (is_zero()) {
      out = zero();
      return true;
    }
    constexpr U256 e = SQRT_T_MINUS_1_HALF;
    constexpr U256 zt = FpConsts<P>::nonresidue_t;
    constexpr unsigned s = S;
    Fp w = pow(e);                    // a^((t-1)/2)
    Fp x = w * *this;                 // a^((t+1)/2)
    Fp b = x * w;                     // a^t
    Fp z = from_mont(zt);             // g^t, order 2^S
    unsigned m = s;
    while (!b.is_one()) {
      unsigned k = 0;
      Fp b2k = b;
      while (!b2k.is_one()) {
        b2k = b2k.sqr();
        if (++k == m) return false;  // a is not a square
      }
      Fp c = z;
      for (unsigned i = 0; i + k + 1 < m; ++i) c = c.sqr();
      z = c.sqr();
      x = x * c;
      b = b * z;
      m = k;
    }
    out = x;
    return true;
  }

  // ---- derived constants ---------------------------------------------------------------
  static constexpr U256 P_MINUS_1 = [] {
    uint64_t br = 0;
    return u256::sub(P::modulus, u256::from_u64(1), br);
  }();
  static constexpr U256 P_MINUS_2 = [] {
    uint64_t br = 0;
    return u256::sub(P::modulus, u256::from_u64(2), br);
  }();
  static constexpr U256 P_MINUS_1_HALF = u256::shr(P_MINUS_1, 1);
  // p - 1 = 2^S * T with T odd.
  static constexpr unsigned S = u256::two_adicity(P_MINUS_1);
  static constexpr U256 T = u256::shr(P_MINUS_1, S);
  static constexpr U256 SQRT_T_MINUS_1_HALF = u256::shr(T, 1);

 private:
  ZK_HDI static constexpr Fp reduce_once(const Fp& a) {
    constexpr uint64_t m0 = MOD.w[0], m1 = MOD.w[1], m2 = MOD.w[2], m3 = MOD.w[3];
    Fp s;
    uint64_t br = 0;
    s.v[0] = sbb(a.v[0], m0, br);
    s.v[1] = sbb(a.v[1], m1, br);
    s.v[2] = sbb(a.v[2], m2, br);
    s.v[3] = sbb(a.v[3], m3, br);
    // br == 1: a < p, keep a.
    uint64_t keep = uint64_t{0} - br;
    Fp r;
    for (int i = 0; i < 4; ++i) r.v[i] = (a.v[i] & keep) | (s.v[i] & ~keep);
    return r;
  }
};

// Constants that need the complete Fp type.
template <class P>
struct FpConsts {
  // g^T in Montgomery form: a primitive 2^S-th root of unity.
  static constexpr U256 nonresidue_t = Fp<P>::from_u64(P::generator).pow(Fp<P>::T).mont();
};

// Montgomery's trick: one inversion for the whole array; zeros stay zero.
// scratch must hold n elements.
template <class F>
void batch_inverse(F* a, size_t n, F* scratch) {
  F acc = F::one();
  for (size_t i = 0; i < n; ++i) {
    scratch[i] = acc;
    if (!a[i].is_zero()) acc *= a[i];
  }
  F inv = acc.inverse();
  for (size_t i = n; i-- > 0;) {
    if (a[i].is_zero()) continue;
    F t = inv * scratch[i];
    inv *= a[i];
    a[i] = t;
  }
}

}  // namespace zkinfer
