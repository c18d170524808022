// Fq2 = Fq[u] / (u^2 + 1), elements c0 + c1*u; storage is c0 then c1 (the iden3 layout).
#pragma once

#include "zkinfer/ff/fields.h"

namespace zkinfer {

struct Fq2 {
  Fq c0, c1;

  ZK_HDI static constexpr Fq2 zero() { return {Fq::zero(), Fq::zero()}; }
  ZK_HDI static constexpr Fq2 one() { return {Fq::one(), Fq::zero()}; }
  ZK_HDI constexpr bool is_zero() const { return c0.is_zero() && c1.is_zero(); }
  ZK_HDI constexpr bool is_one() const { return c0.is_one() && c1.is_zero(); }
  ZK_HDI constexpr bool operator==(const Fq2& o) const { return c0 == o.c0 && c1 == o.c1; }
  ZK_HDI constexpr bool operator!=(const Fq2& o) const { return !(*this == o); }

  ZK_HDI constexpr Fq2 operator+(const Fq2& b) const { return {c0 + b.c0, c1 + b.c1}; }
  ZK_HDI constexpr Fq2 operator-(const Fq2& b) const { return {c0 - b.c0, c1 - b.c1}; }
  ZK_HDI constexpr Fq2 operator-() const { return {-c0, -c1}; }
  ZK_HDI constexpr Fq2 dbl() const { return {c0.dbl(), c1.dbl()}; }
  // Karatsuba: three base multiplications. On the device the three products stay 512 bits wide
  // and only c0 and c1 are reduced (mont32::fq2_mul): two Montgomery reductions instead of three.
  ZK_HDI constexpr Fq2 operator*(const Fq2& b) const {
#if defined(__CUDA_ARCH__)
    if (!__builtin_is_constant_evaluated()) {
      Fq2 r;
      fp_device::fq2_mul<bn254::FqParams>(r.c0.v, r.c1.v, c0.v, c1.v, b.c0.v, b.c1.v);
      return r;
    }
#endif
    Fq v0 = c0 * b.c0, v1 = c1 * b.c1;
    return {v0 - v1, (c0 + c1) * (b.c0 + b.c1) - v0 - v1};
  }
  ZK_HDI constexpr Fq2 operator*(const Fq& b) const { return {c0 * b, c1 * b}; }
  // a * b - x * y (Fp::mul_sub_mul's counterpart). On the device the six base products stay 512
  // bits wide and only c0 and c1 are reduced (mont32::fq2_mul_sub_mul): two Montgomery reductions
  // instead of four, and no subtraction of reduced values.
  ZK_HDI static constexpr Fq2 mul_sub_mul(const Fq2& a, const Fq2& b, const Fq2& x, const Fq2& y) {
#if defined(__CUDA_ARCH__)
    if (!__builtin_is_constant_evaluated()) {
      Fq2 r;
      fp_device::fq2_mul_sub_mul<bn254::FqParams>(r.c0.v, r.c1.v, a.c0.v, a.c1.v, b.c0.v, b.c1.v, x.c0.v, x.c1.v,
                                                  y.c0.v, y.c1.v);
      return r;
    }
#endif
    return a * b - x * y;
  }
  // (a + bu)^2 = (a+b)(a-b) + 2ab u (on the device with lazy reduction, mont32::fq2_sqr)
  ZK_HDI constexpr Fq2 sqr() const {
#if defined(__CUDA_ARCH__)
    if (!__builtin_is_constant_evaluated()) {
      Fq2 r;
      fp_device::fq2_sqr<bn254::FqParams>(r.c0.v, r.c1.v, c0.v, c1.v);
      return r;
    }
#endif
    return {(c0 + c1) * (c0 - c1), (c0 * c1).dbl()};
  }
  ZK_HDI constexpr Fq2& operator+=(const Fq2& b) { return *this = *this + b; }
  ZK_HDI constexpr Fq2& operator-=(const Fq2& b) { return *this = *this - b; }
  ZK_HDI constexpr Fq2& operator*=(const Fq2& b) { return *this = *this * b; }

  ZK_HDI constexpr Fq2 conjugate() const { return {c0, -c1}; }
  ZK_HDI constexpr Fq norm() const { return c0.sqr() + c1.sqr(); }
  ZK_HD constexpr Fq2 inverse() const {
    Fq t = norm().inverse();
    return {c0 * t, -(c1 * t)};
  }
  // The same in variable time (the norm's inverse by Fq::inverse_vartime, fp.h): only for data
  // whose timing does not matter, never for secrets.
  ZK_HD constexpr Fq2 inverse_vartime() const {
    Fq t = norm().inverse_vartime();
    return {c0 * t, -(c1 * t)};
  }
  // Multiplication by the sextic non-residue xi = 9 + u (used by Fq6 and the twist).
  ZK_HDI constexpr Fq2 mul_by_xi() const {
    Fq2 t = dbl().dbl().dbl();  // 8a
    return {t.c0 + c0 - c1, t.c1 + c1 + c0};
  }
  ZK_HD constexpr Fq2 pow(const U256& e) const {
    Fq2 r = one();
    for (int i = (int)e.bit_length() - 1; i >= 0; --i) {
      r = r.sqr();
      if (e.bit(i)) r = r * *this;
    }
    return r;
  }
  // Frobenius (x -> x^p) on Fq2 is conjugation.
  ZK_HDI constexpr Fq2 frobenius() const { return conjugate(); }

  // Square root in Fq2 (p = 3 mod 4), by the complex method; false when none exists.
  ZK_HD constexpr bool sqrt(Fq2& out) const {
    if (c1.is_zero()) {
      Fq r;
      if (c0.sqrt(r)) {
        out = {r, Fq::zero()};
        return true;
      }
      // c0 is a non-square in Fq: then -c0 is a square and sqrt(c0) = sqrt(-c0) * u.
      if ((-c0).sqrt(r)) {
        out = {Fq::zero(), r};
        return true;
      }
      return false;
    }
    Fq alpha;
    if (!norm().sqrt(alpha)) return false;
    constexpr Fq half = Fq::from_u64(2).inverse();
    Fq delta = (c0 + alpha) * half;
    Fq x0;
    if (!delta.sqrt(x0)) {
      delta = (c0 - alpha) * half;
      if (!delta.sqrt(x0)) return false;
    }
    Fq x1 = c1 * (x0.dbl()).inverse();
    Fq2 cand{x0, x1};
    if (cand.sqr() != *this) return false;
    out = cand;
    return true;
  }
};

}  // namespace zkinfer
