// Fq12 = Fq6[w] / (w^2 - v); elements c0 + c1*w, stored c0 then c1. The pairing target group
// GT is the order-r subgroup of Fq12^*.
//
// Over Fq2 the basis is w^0..w^5 with c0 = (a0, a2, a4) and c1 = (a1, a3, a5), so a_j is the
// coefficient of w^j; fq6.h holds the Frobenius coefficients gamma[k][j] for that basis.
#pragma once

#include "zkinfer/ff/fq6.h"

namespace zkinfer {

struct Fq12 {
  Fq6 c0, c1;

  ZK_HDI static constexpr Fq12 zero() { return {Fq6::zero(), Fq6::zero()}; }
  ZK_HDI static constexpr Fq12 one() { return {Fq6::one(), Fq6::zero()}; }
  ZK_HDI constexpr bool is_zero() const { return c0.is_zero() && c1.is_zero(); }
  ZK_HDI constexpr bool is_one() const { return c0.is_one() && c1.is_zero(); }
  ZK_HDI constexpr bool operator==(const Fq12& o) const { return c0 == o.c0 && c1 == o.c1; }
  ZK_HDI constexpr bool operator!=(const Fq12& o) const { return !(*this == o); }

  ZK_HDI constexpr Fq12 operator+(const Fq12& b) const { return {c0 + b.c0, c1 + b.c1}; }
  ZK_HDI constexpr Fq12 operator-(const Fq12& b) const { return {c0 - b.c0, c1 - b.c1}; }
  ZK_HDI constexpr Fq12 operator-() const { return {-c0, -c1}; }

  // Karatsuba: three Fq6 multiplications.
  ZK_HD constexpr Fq12 operator*(const Fq12& b) const {
    Fq6 v0 = c0 * b.c0, v1 = c1 * b.c1;
    return {v0 + v1.mul_by_v(), (c0 + c1) * (b.c0 + b.c1) - v0 - v1};
  }
  ZK_HDI constexpr Fq12& operator*=(const Fq12& b) { return *this = *this * b; }

  // Complex squaring: (a + b w)^2 = (a + b)(a + v b) - ab - v ab + 2ab w, two Fq6 products.
  ZK_HD constexpr Fq12 sqr() const {
    Fq6 ab = c0 * c1;
    return {(c0 + c1) * (c0 + c1.mul_by_v()) - ab - ab.mul_by_v(), ab.dbl()};
  }

  // x^(p^6): w^(p^6) = -w. On the cyclotomic subgroup (every value after the easy part of the
  // final exponentiation) this is the inverse.
  ZK_HDI constexpr Fq12 conjugate() const { return {c0, -c1}; }

  // (a + b w)^-1 = (a - b w) / (a^2 - v b^2). The inverse of zero is zero.
  ZK_HD constexpr Fq12 inverse() const {
    Fq6 t = (c0.sqr() - c1.sqr().mul_by_v()).inverse();
    return {c0 * t, -(c1 * t)};
  }

  // x -> x^(p^k) for k = 1, 2, 3 (fq6.h explains the coefficients).
  template <int k>
  ZK_HD constexpr Fq12 frobenius_map() const {
    return {c0.frobenius_map<k>(),
            {mul_frobenius_coeff<k, 1>(fq2_frobenius<k>(c1.c0)),
             mul_frobenius_coeff<k, 3>(fq2_frobenius<k>(c1.c1)),
             mul_frobenius_coeff<k, 5>(fq2_frobenius<k>(c1.c2))}};
  }

  // Product with a line value d0 + d3 w + d4 w^3 (Fq2 coefficients of w^0, w^1, w^3): the
  // sparse second factor is (d0, 0, 0) + (d3, d4, 0) w, so Karatsuba costs 13 Fq2
  // multiplications instead of 18.
  ZK_HD constexpr Fq12 mul_by_034(const Fq2& d0, const Fq2& d3, const Fq2& d4) const {
    Fq6 t0 = c0 * d0;
    Fq6 t1 = c1.mul_by_01(d3, d4);
    return {t0 + t1.mul_by_v(), (c0 + c1).mul_by_01(d0 + d3, d4) - t0 - t1};
  }

  // Granger-Scott squaring, valid only on the cyclotomic subgroup (x^(p^6+1) = 1, e.g. after
  // the easy part of the final exponentiation): with s = w^3 (s^2 = xi) write
  // x = A0 + A1 w + A2 w^2 over Fq4 = Fq2[s], A0 = a0 + a3 s, A1 = a1 + a4 s, A2 = a2 + a5 s.
  // Then x^2 = (3A0^2 - 2conj(A0)) + (3s A2^2 + 2conj(A1)) w + (3A1^2 - 2conj(A2)) w^2, with
  // conj(a + b s) = a - b s: three Fq4 squarings (nine Fq2 squarings) instead of a full sqr().
  ZK_HD constexpr Fq12 cyclotomic_sqr() const {
    Fq2 a00, a01, a10, a11, a20, a21;  // A_i^2 = a_i0 + a_i1 s
    fq4_sqr(c0.c0, c1.c1, a00, a01);
    fq4_sqr(c1.c0, c0.c2, a10, a11);
    fq4_sqr(c0.c1, c1.c2, a20, a21);
    Fq2 s0 = a21.mul_by_xi();  // s * A2^2 = xi a21 + a20 s: this is its constant part
    // 3t - 2a = 2(t - a) + t and 3t + 2a = 2(t + a) + t.
    return {{(a00 - c0.c0).dbl() + a00, (a10 - c0.c1).dbl() + a10, (a20 - c0.c2).dbl() + a20},
            {(s0 + c1.c0).dbl() + s0, (a01 + c1.c1).dbl() + a01, (a11 + c1.c2).dbl() + a11}};
  }

  // a^e for a 256-bit exponent (square-and-multiply; for tests and rare uses, not the pairing).
  ZK_HD constexpr Fq12 pow(const U256& e) const {
    Fq12 r = one();
    for (int i = (int)e.bit_length() - 1; i >= 0; --i) {
      r = r.sqr();
      if (e.bit(i)) r = r * *this;
    }
    return r;
  }

 private:
  // (a + b s)^2 = (a^2 + xi b^2) + 2ab s, with 2ab = (a + b)^2 - a^2 - b^2.
  ZK_HDI static constexpr void fq4_sqr(const Fq2& a, const Fq2& b, Fq2& r0, Fq2& r1) {
    Fq2 t0 = a.sqr(), t1 = b.sqr();
    r0 = t0 + t1.mul_by_xi();
    r1 = (a + b).sqr() - t0 - t1;
  }
};

}  // namespace zkinfer
