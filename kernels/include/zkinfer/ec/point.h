// Short-Weierstrass points y^2 = x^3 + b (a = 0), written once over the coordinate field.
//
// Storage is affine (x, y), the iden3 layout; the point at infinity is stored as (0, 0),
// which is never on the curve since b != 0. Accumulation uses Jacobian coordinates
// (x = X/Z^2, y = Y/Z^3) or XYZZ (x = X/ZZ, y = Y/ZZZ, ZZ^3 = ZZZ^2), whose mixed addition
// is cheapest for bucket sums. Formulas: the Explicit-Formulas Database entries named at
// each function, specialised to a = 0.
#pragma once

#include "zkinfer/ff/fp.h"
#include "zkinfer/ff/hd.h"

namespace zkinfer {

// C provides: using Field = ...; static constexpr Field b();
template <class C>
struct Affine {
  using F = typename C::Field;
  F x, y;

  ZK_HDI static constexpr Affine infinity() { return {F::zero(), F::zero()}; }
  ZK_HDI constexpr bool is_infinity() const { return x.is_zero() && y.is_zero(); }
  ZK_HDI constexpr bool operator==(const Affine& o) const { return x == o.x && y == o.y; }
  ZK_HDI constexpr bool operator!=(const Affine& o) const { return !(*this == o); }
  ZK_HDI constexpr Affine operator-() const { return is_infinity() ? *this : Affine{x, -y}; }
  // y^2 == x^3 + b; infinity counts as on the curve.
  ZK_HDI constexpr bool is_on_curve() const {
    if (is_infinity()) return true;
    return y.sqr() == x.sqr() * x + C::b();
  }
};

template <class C>
struct Jacobian {
  using F = typename C::Field;
  F x, y, z;

  ZK_HDI static constexpr Jacobian infinity() { return {F::one(), F::one(), F::zero()}; }
  ZK_HDI constexpr bool is_infinity() const { return z.is_zero(); }
  ZK_HDI static constexpr Jacobian from_affine(const Affine<C>& a) {
    return a.is_infinity() ? infinity() : Jacobian{a.x, a.y, F::one()};
  }
  ZK_HDI constexpr Jacobian operator-() const { return {x, -y, z}; }

  // Same point in projective terms: X1 Z2^2 == X2 Z1^2 and Y1 Z2^3 == Y2 Z1^3.
  ZK_HD constexpr bool operator==(const Jacobian& o) const {
    if (is_infinity() || o.is_infinity()) return is_infinity() == o.is_infinity();
    F z1z1 = z.sqr(), z2z2 = o.z.sqr();
    return x * z2z2 == o.x * z1z1 && y * z2z2 * o.z == o.y * z1z1 * z;
  }
  ZK_HD constexpr bool operator!=(const Jacobian& o) const { return !(*this == o); }

  // dbl-2009-l
  ZK_HD constexpr Jacobian dbl() const {
    if (is_infinity()) return *this;
    F a = x.sqr(), b = y.sqr(), c = b.sqr();
    F d = ((x + b).sqr() - a - c).dbl();
    F e = a.dbl() + a;
    F f = e.sqr();
    Jacobian r;
    r.x = f - d.dbl();
    r.y = e * (d - r.x) - c.dbl().dbl().dbl();
    r.z = (y * z).dbl();
    return r;
  }

  // add-2007-bl, with the doubling and inverse cases handled.
  ZK_HD constexpr Jacobian operator+(const Jacobian& o) const {
    if (is_infinity()) return o;
    if (o.is_infinity()) return *this;
    F z1z1 = z.sqr(), z2z2 = o.z.sqr();
    F u1 = x * z2z2, u2 = o.x * z1z1;
    F s1 = y * o.z * z2z2, s2 = o.y * z * z1z1;
    F h = u2 - u1, rr = (s2 - s1).dbl();
    if (h.is_zero()) return rr.is_zero() ? dbl() : infinity();
    F i = h.dbl().sqr(), j = h * i, v = u1 * i;
    Jacobian r;
    r.x = rr.sqr() - j - v.dbl();
    r.y = rr * (v - r.x) - (s1 * j).dbl();
    r.z = ((z + o.z).sqr() - z1z1 - z2z2) * h;
    return r;
  }

  // madd-2007-bl: this + affine point.
  ZK_HD constexpr Jacobian add_affine(const Affine<C>& o) const {
    if (o.is_infinity()) return *this;
    if (is_infinity()) return from_affine(o);
    F z1z1 = z.sqr();
    F u2 = o.x * z1z1, s2 = o.y * z * z1z1;
    F h = u2 - x, rr = (s2 - y).dbl();
    if (h.is_zero()) return rr.is_zero() ? dbl() : infinity();
    F hh = h.sqr(), i = hh.dbl().dbl(), j = h * i, v = x * i;
    Jacobian r;
    r.x = rr.sqr() - j - v.dbl();
    r.y = rr * (v - r.x) - (y * j).dbl();
    r.z = (z + h).sqr() - z1z1 - hh;
    return r;
  }

  ZK_HD constexpr Jacobian& operator+=(const Jacobian& o) { return *this = *this + o; }
  ZK_HD constexpr Jacobian operator-(const Jacobian& o) const { return *this + (-o); }

  // One inversion; use batch_to_affine for many points.
  ZK_HD constexpr Affine<C> to_affine() const {
    if (is_infinity()) return Affine<C>::infinity();
    F zi = z.inverse(), zi2 = zi.sqr();
    return {x * zi2, y * zi2 * zi};
  }

  ZK_HD constexpr bool is_on_curve() const {
    if (is_infinity()) return true;
    F z2 = z.sqr(), z6 = z2.sqr() * z2;
    return y.sqr() == x.sqr() * x + C::b() * z6;
  }
};

template <class C>
struct Xyzz {
  using F = typename C::Field;
  F x, y, zz, zzz;

  ZK_HDI static constexpr Xyzz infinity() { return {F::one(), F::one(), F::zero(), F::zero()}; }
  ZK_HDI constexpr bool is_infinity() const { return zz.is_zero(); }
  ZK_HDI static constexpr Xyzz from_affine(const Affine<C>& a) {
    return a.is_infinity() ? infinity() : Xyzz{a.x, a.y, F::one(), F::one()};
  }
  ZK_HDI constexpr Xyzz operator-() const { return {x, -y, zz, zzz}; }

  // dbl-2008-s-1
  ZK_HD constexpr Xyzz dbl() const {
    if (is_infinity()) return *this;
    F u = y.dbl(), v = u.sqr(), w = u * v, s = x * v;
    F xx = x.sqr(), m = xx.dbl() + xx;
    Xyzz r;
    r.x = m.sqr() - s.dbl();
    r.y = F::mul_sub_mul(m, s - r.x, w, y);
    r.zz = v * zz;
    r.zzz = w * zzz;
    return r;
  }

  // mdbl-2008-s-1: doubling of an affine point.
  ZK_HD static constexpr Xyzz dbl_affine(const Affine<C>& a) {
    if (a.is_infinity()) return infinity();
    F u = a.y.dbl(), v = u.sqr(), w = u * v, s = a.x * v;
    F xx = a.x.sqr(), m = xx.dbl() + xx;
    Xyzz r;
    r.x = m.sqr() - s.dbl();
    r.y = F::mul_sub_mul(m, s - r.x, w, a.y);
    r.zz = v;
    r.zzz = w;
    return r;
  }

  // madd-2008-s: this + affine point, the bucket-accumulation step.
  ZK_HD constexpr Xyzz add_affine(const Affine<C>& o) const {
    if (o.is_infinity()) return *this;
    if (is_infinity()) return from_affine(o);
    F u2 = o.x * zz, s2 = o.y * zzz;
    F p = u2 - x, r = s2 - y;
    if (p.is_zero()) return r.is_zero() ? dbl_affine(o) : infinity();
    F pp = p.sqr(), ppp = p * pp;
    F q = x * pp;
    Xyzz out;
    out.x = r.sqr() - ppp - q.dbl();
    out.y = F::mul_sub_mul(r, q - out.x, y, ppp);
    out.zz = zz * pp;
    out.zzz = zzz * ppp;
    return out;
  }

  // add-2008-s
  ZK_HD constexpr Xyzz operator+(const Xyzz& o) const {
    if (is_infinity()) return o;
    if (o.is_infinity()) return *this;
    F u1 = x * o.zz, u2 = o.x * zz;
    F s1 = y * o.zzz, s2 = o.y * zzz;
    F p = u2 - u1, r = s2 - s1;
    if (p.is_zero()) return r.is_zero() ? dbl() : infinity();
    F pp = p.sqr(), ppp = p * pp;
    F q = u1 * pp;
    Xyzz out;
    out.x = r.sqr() - ppp - q.dbl();
    out.y = F::mul_sub_mul(r, q - out.x, s1, ppp);
    out.zz = zz * o.zz * pp;
    out.zzz = zzz * o.zzz * ppp;
    return out;
  }
  ZK_HD constexpr Xyzz& operator+=(const Xyzz& o) { return *this = *this + o; }

  // Jacobian with Z = ZZZ: X' = x Z^2 = X ZZ^2 (as ZZZ^2 = ZZ^3), Y' = y Z^3 = Y ZZZ^2.
  ZK_HD constexpr Jacobian<C> to_jacobian() const {
    if (is_infinity()) return Jacobian<C>::infinity();
    F zzz2 = zzz.sqr();
    return {x * zz.sqr(), y * zzz2, zzz};
  }
  ZK_HD constexpr Affine<C> to_affine() const {
    if (is_infinity()) return Affine<C>::infinity();
    F izzz = zzz.inverse();
    F izz = (izzz * zz).sqr();  // (ZZ/ZZZ)^2 = 1/ZZ
    return {x * izz, y * izzz};
  }
};

// k * P for a 256-bit scalar k (left-to-right double-and-add; not constant time).
template <class C>
ZK_HD constexpr Jacobian<C> scalar_mul(const Jacobian<C>& p, const U256& k) {
  Jacobian<C> r = Jacobian<C>::infinity();
  for (int i = (int)k.bit_length() - 1; i >= 0; --i) {
    r = r.dbl();
    if (k.bit(i)) r += p;
  }
  return r;
}

// Converts n Jacobian points to affine with one field inversion (Montgomery's trick).
// scratch must hold n field elements.
template <class C>
void batch_to_affine(const Jacobian<C>* in, Affine<C>* out, size_t n, typename C::Field* scratch) {
  using F = typename C::Field;
  F acc = F::one();
  for (size_t i = 0; i < n; ++i) {
    scratch[i] = acc;
    if (!in[i].is_infinity()) acc *= in[i].z;
  }
  F inv = acc.inverse();
  for (size_t i = n; i-- > 0;) {
    if (in[i].is_infinity()) {
      out[i] = Affine<C>::infinity();
      continue;
    }
    F zi = inv * scratch[i];
    inv *= in[i].z;
    F zi2 = zi.sqr();
    out[i] = {in[i].x * zi2, in[i].y * zi2 * zi};
  }
}

}  // namespace zkinfer
