// Fq6 = Fq2[v] / (v^3 - xi), xi = 9 + u; elements c0 + c1*v + c2*v^2, stored c0, c1, c2.
//
// Also the Frobenius coefficients of the whole tower. Seen from Fq2, Fq12 = Fq2[w]/(w^6 - xi)
// with v = w^2, so every Frobenius map x -> x^(p^k) acts on a coefficient a_j of w^j as
// a_j -> frob_k(a_j) * gamma[k][j], gamma[k][j] = xi^(j (p^k - 1) / 6). The table is derived at
// compile time from the modulus and xi (bn254.h), never typed in.
#pragma once

#include "zkinfer/bn254.h"
#include "zkinfer/ff/fq2.h"

namespace zkinfer {

// The sextic non-residue xi of Fq2, from the curve parameters.
ZK_HDI constexpr Fq2 fq2_xi() { return {Fq::from_u64(bn254::kXiC0), Fq::from_u64(bn254::kXiC1)}; }

namespace detail {

// a / d and a mod d for a small divisor d (compile-time exponent arithmetic).
constexpr U256 u256_div_small(const U256& a, uint64_t d, uint64_t& rem) {
  U256 q{};
  u128 r = 0;
  for (int i = 3; i >= 0; --i) {
    u128 cur = (r << 64) | a.w[i];
    q.w[i] = (uint64_t)(cur / d);
    r = cur % d;
  }
  rem = (uint64_t)r;
  return q;
}

struct FrobeniusTable {
  Fq2 gamma[3][6];  // gamma[k-1][j] for k = 1, 2, 3
};

constexpr FrobeniusTable make_frobenius_table() {
  uint64_t rem = 0;
  const U256 e = u256_div_small(Fq::P_MINUS_1, 6, rem);  // (p - 1) / 6
  FrobeniusTable t{};
  const Fq2 g = fq2_xi().pow(e);
  Fq2 gj = Fq2::one();
  for (int j = 0; j < 6; ++j, gj = gj * g) {
    // (w^j)^p = w^j * (w^6)^(j (p-1)/6) = g^j w^j; applying p twice and three times multiplies
    // in the conjugates of the previous coefficients, as conjugation is the Frobenius of Fq2.
    t.gamma[0][j] = gj;
    t.gamma[1][j] = gj.conjugate() * gj;
    t.gamma[2][j] = t.gamma[1][j].conjugate() * gj;
  }
  return t;
}

inline constexpr FrobeniusTable kFrobenius = make_frobenius_table();

// Compile-time checks of the tower: p = 1 mod 6 (so the exponents above are integers), the
// hard-coded xi of Fq2::mul_by_xi is the xi of bn254.h, and gamma[1][j] lies in Fq (a norm).
constexpr bool tower_is_consistent() {
  uint64_t rem = 1;
  u256_div_small(Fq::P_MINUS_1, 6, rem);
  const Fq2 a{Fq::from_u64(123456789), Fq::from_u64(987654321)};
  bool fq_coeffs = true;
  for (int j = 0; j < 6; ++j) fq_coeffs = fq_coeffs && kFrobenius.gamma[1][j].c1.is_zero();
  return rem == 0 && a.mul_by_xi() == a * fq2_xi() && fq_coeffs;
}
static_assert(tower_is_consistent(), "BN254 tower constants are inconsistent");

}  // namespace detail

// gamma[k][j] as a compile-time constant (a local copy, so device code never reads host data).
template <int k, int j>
ZK_HDI constexpr Fq2 frobenius_coeff() {
  static_assert(k >= 1 && k <= 3 && j >= 0 && j < 6);
  constexpr Fq2 c = detail::kFrobenius.gamma[k - 1][j];
  return c;
}

// c * gamma[k][j] where c was already mapped by frob_k; for k = 2 gamma lies in Fq, which
// saves a third of the multiplications.
template <int k, int j>
ZK_HDI constexpr Fq2 mul_frobenius_coeff(const Fq2& c) {
  if constexpr (k == 2) {
    constexpr Fq g = frobenius_coeff<2, j>().c0;
    return c * g;
  } else {
    return c * frobenius_coeff<k, j>();
  }
}

// x -> x^(p^k) on Fq2: conjugation for odd k, the identity for even k.
template <int k>
ZK_HDI constexpr Fq2 fq2_frobenius(const Fq2& a) {
  if constexpr (k % 2 == 1) {
    return a.conjugate();
  } else {
    return a;
  }
}

struct Fq6 {
  Fq2 c0, c1, c2;

  ZK_HDI static constexpr Fq6 zero() { return {Fq2::zero(), Fq2::zero(), Fq2::zero()}; }
  ZK_HDI static constexpr Fq6 one() { return {Fq2::one(), Fq2::zero(), Fq2::zero()}; }
  ZK_HDI constexpr bool is_zero() const { return c0.is_zero() && c1.is_zero() && c2.is_zero(); }
  ZK_HDI constexpr bool is_one() const { return c0.is_one() && c1.is_zero() && c2.is_zero(); }
  ZK_HDI constexpr bool operator==(const Fq6& o) const { return c0 == o.c0 && c1 == o.c1 && c2 == o.c2; }
  ZK_HDI constexpr bool operator!=(const Fq6& o) const { return !(*this == o); }

  ZK_HDI constexpr Fq6 operator+(const Fq6& b) const { return {c0 + b.c0, c1 + b.c1, c2 + b.c2}; }
  ZK_HDI constexpr Fq6 operator-(const Fq6& b) const { return {c0 - b.c0, c1 - b.c1, c2 - b.c2}; }
  ZK_HDI constexpr Fq6 operator-() const { return {-c0, -c1, -c2}; }
  ZK_HDI constexpr Fq6 dbl() const { return {c0.dbl(), c1.dbl(), c2.dbl()}; }
  ZK_HDI constexpr Fq6 operator*(const Fq2& b) const { return {c0 * b, c1 * b, c2 * b}; }
  ZK_HDI constexpr Fq6& operator+=(const Fq6& b) { return *this = *this + b; }
  ZK_HDI constexpr Fq6& operator-=(const Fq6& b) { return *this = *this - b; }

  // v * (c0 + c1 v + c2 v^2) = xi c2 + c0 v + c1 v^2: the reduction step of Fq12.
  ZK_HDI constexpr Fq6 mul_by_v() const { return {c2.mul_by_xi(), c0, c1}; }

  // Karatsuba over three coefficients: six Fq2 multiplications instead of nine.
  ZK_HD constexpr Fq6 operator*(const Fq6& b) const {
    Fq2 v0 = c0 * b.c0, v1 = c1 * b.c1, v2 = c2 * b.c2;
    return {v0 + ((c1 + c2) * (b.c1 + b.c2) - v1 - v2).mul_by_xi(),
            (c0 + c1) * (b.c0 + b.c1) - v0 - v1 + v2.mul_by_xi(),
            (c0 + c2) * (b.c0 + b.c2) - v0 - v2 + v1};
  }
  ZK_HDI constexpr Fq6& operator*=(const Fq6& b) { return *this = *this * b; }

  // Product with b0 + b1 v (b2 = 0), the shape a line function takes: five multiplications.
  ZK_HD constexpr Fq6 mul_by_01(const Fq2& b0, const Fq2& b1) const {
    Fq2 v0 = c0 * b0, v1 = c1 * b1;
    return {v0 + (c2 * b1).mul_by_xi(), (c0 + c1) * (b0 + b1) - v0 - v1, c2 * b0 + v1};
  }

  // Chung-Hasan SQR2: two multiplications and three squarings.
  ZK_HD constexpr Fq6 sqr() const {
    Fq2 s0 = c0.sqr(), s1 = (c0 * c1).dbl(), s2 = (c0 - c1 + c2).sqr();
    Fq2 s3 = (c1 * c2).dbl(), s4 = c2.sqr();
    return {s0 + s3.mul_by_xi(), s1 + s4.mul_by_xi(), s1 + s2 + s3 - s0 - s4};
  }

  // a^-1 = adj(a) / N(a): the adjugate t of the multiplication matrix, and the norm in Fq2
  // from one row of it, so only one Fq inversion is needed. The inverse of zero is zero.
  ZK_HD constexpr Fq6 inverse() const {
    Fq2 t0 = c0.sqr() - (c1 * c2).mul_by_xi();
    Fq2 t1 = c2.sqr().mul_by_xi() - c0 * c1;
    Fq2 t2 = c1.sqr() - c0 * c2;
    Fq2 n = c0 * t0 + (c2 * t1 + c1 * t2).mul_by_xi();
    Fq2 ni = n.inverse();
    return {t0 * ni, t1 * ni, t2 * ni};
  }

  // x -> x^(p^k) for k = 1, 2, 3: v^(p^k) = gamma[k][2] v as v = w^2.
  template <int k>
  ZK_HD constexpr Fq6 frobenius_map() const {
    return {fq2_frobenius<k>(c0), mul_frobenius_coeff<k, 2>(fq2_frobenius<k>(c1)),
            mul_frobenius_coeff<k, 4>(fq2_frobenius<k>(c2))};
  }
};

}  // namespace zkinfer
