// G1/G2 point encodings of the iden3 / snarkjs world, host only, with checked readers.
//
// Uncompressed (write_point / read_point): x || y, each coordinate as 32-byte little-endian
//   words, Fq2 as c0 then c1; in Montgomery form (.zkey and .ptau sections) or in standard form.
//   G1: 64 bytes, G2: 128 bytes. The point at infinity is all zero bytes.
// Compressed (write_point_compressed / read_point_compressed), as ffjavascript's
//   toRprCompressed / fromRprCompressed: x in standard form, big-endian over the whole
//   coordinate (for Fq2 that is the byte reversal of c0 || c1, so c1 comes first), with flags in
//   the two top bits of byte 0, which are free because p < 2^254:
//     0x40: the point at infinity (every other bit zero),
//     0x80: y is the "greater" root: for Fq, y > (p-1)/2; for Fq2, decided by c1, or by c0
//           when c1 = 0 (ffjavascript's sign()).
//   G1: 32 bytes, G2: 64 bytes. ffjavascript ignores bits beside 0x40 on infinity; we reject
//   them, so every point has one encoding.
// snarkjs JSON (point_to_json / point_from_json): projective decimal strings, z = 1 for a finite
//   point and [0, 1, 0] for infinity: G1 ["x","y","1"], G2 [["x0","x1"],["y0","y1"],["1","0"]].
//   JSON parsing itself belongs to the caller (kernels/ has no JSON dependency); these are the
//   string arrays that nlohmann::json converts to and from directly.
//
// Readers check, in this order: size, each coordinate < p, the curve equation, and membership of
// the prime-order subgroup, and throw std::invalid_argument naming the group and what failed.
// The subgroup test matters for G2 only (G1 has cofactor 1, see subgroup.h) and costs about one
// 63-bit scalar multiplication per point; PointCheck::kSkipSubgroup leaves it out for keys that
// were checked before (the curve equation is still checked: it costs a few multiplications).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "zkinfer/ec/curves.h"
#include "zkinfer/ec/subgroup.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer {

enum class FieldEncoding { kMontgomery, kStandard };
enum class PointCheck { kFull, kSkipSubgroup };

template <class C>
inline constexpr size_t kUncompressedBytes = 2 * sizeof(typename C::Field);
template <class C>
inline constexpr size_t kCompressedBytes = sizeof(typename C::Field);
static_assert(kUncompressedBytes<G1Curve> == 64 && kUncompressedBytes<G2Curve> == 128);
static_assert(kCompressedBytes<G1Curve> == 32 && kCompressedBytes<G2Curve> == 64);

inline constexpr uint8_t kCompressedInfinityFlag = 0x40;
inline constexpr uint8_t kCompressedGreaterFlag = 0x80;

using G1Json = std::array<std::string, 3>;
using G2Json = std::array<std::array<std::string, 2>, 3>;
template <class C>
using PointJson = std::conditional_t<std::is_same_v<C, G1Curve>, G1Json, G2Json>;

namespace serialize_detail {

// in_subgroup is asked only about points already known to be on the curve.
template <class C>
struct Group;
template <>
struct Group<G1Curve> {
  static constexpr const char* kName = "G1";
  static bool in_subgroup(const G1Affine&) { return true; }  // cofactor 1 (subgroup.h)
};
template <>
struct Group<G2Curve> {
  static constexpr const char* kName = "G2";
  static bool in_subgroup(const G2Affine& p) { return g2_in_subgroup(p); }
};

// Messages are built only on failure: readers run over millions of key points.
[[noreturn]] inline void fail(const char* group, const char* form, const std::string& what) {
  throw std::invalid_argument(std::string(group) + " " + form + what);
}

inline void check_size(size_t got, size_t want, const char* group, const char* form) {
  if (got != want)
    fail(group, form, " needs " + std::to_string(want) + " bytes, got " + std::to_string(got));
}

struct Where {
  const char* group;  // "G1"
  const char* form;   // "point", "compressed point"
  const char* coord;  // "x"
};

inline void put(uint8_t* out, const Fq& a, FieldEncoding enc) {
  u256_to_le_bytes(enc == FieldEncoding::kMontgomery ? a.mont() : a.to_canonical(), out);
}
inline void put(uint8_t* out, const Fq2& a, FieldEncoding enc) {
  put(out, a.c0, enc);
  put(out + 32, a.c1, enc);
}

inline Fq checked(const U256& v, FieldEncoding enc, const Where& w, const char* part) {
  constexpr U256 m = Fq::MOD;
  if (!u256::less(v, m))
    fail(w.group, w.form,
         std::string(" ") + w.coord + part + ": value " + u256_to_decimal(v) +
             " is not below the field modulus " + u256_to_decimal(m));
  return enc == FieldEncoding::kMontgomery ? Fq::from_mont(v) : Fq::from_canonical(v);
}

inline void get(Fq& out, const uint8_t* in, FieldEncoding enc, const Where& w) {
  out = checked(u256_from_le_bytes(in), enc, w, "");
}
inline void get(Fq2& out, const uint8_t* in, FieldEncoding enc, const Where& w) {
  out.c0 = checked(u256_from_le_bytes(in), enc, w, ".c0");
  out.c1 = checked(u256_from_le_bytes(in + 32), enc, w, ".c1");
}

// ffjavascript's sign: an Fq element is "greater" when its standard form exceeds (p-1)/2.
inline bool is_greater(const Fq& a) {
  constexpr U256 half = Fq::P_MINUS_1_HALF;
  return u256::less(half, a.to_canonical());
}
inline bool is_greater(const Fq2& a) {
  return a.c1.is_zero() ? is_greater(a.c0) : is_greater(a.c1);
}

// Checks a point that was written as finite. Affine::is_on_curve is not used because it
// accepts (0, 0), our in-memory infinity, which a finite encoding must not produce.
template <class C>
void check_point(const Affine<C>& p, PointCheck check, const char* form) {
  if (p.y.sqr() != p.x.sqr() * p.x + C::b()) fail(Group<C>::kName, form, " is not on the curve");
  if (check == PointCheck::kFull && !Group<C>::in_subgroup(p))
    fail(Group<C>::kName, form, " not in the prime-order subgroup");
}

inline std::string to_json(const Fq& a) { return field_to_decimal(a); }
inline std::array<std::string, 2> to_json(const Fq2& a) {
  return {field_to_decimal(a.c0), field_to_decimal(a.c1)};
}

inline Fq from_decimal(const std::string& s, const Where& w, const char* part) {
  U256 v{};
  try {
    v = u256_from_decimal(s);
  } catch (const std::invalid_argument& e) {
    fail(w.group, w.form, std::string(" ") + w.coord + part + ": " + e.what());
  }
  return checked(v, FieldEncoding::kStandard, w, part);
}
inline void from_json(Fq& out, const std::string& s, const Where& w) {
  out = from_decimal(s, w, "");
}
inline void from_json(Fq2& out, const std::array<std::string, 2>& s, const Where& w) {
  out.c0 = from_decimal(s[0], w, ".c0");
  out.c1 = from_decimal(s[1], w, ".c1");
}

}  // namespace serialize_detail

// ---- uncompressed ---------------------------------------------------------------------------

// out must hold exactly kUncompressedBytes<C> bytes.
template <class C>
void write_point(std::span<uint8_t> out, const Affine<C>& p, FieldEncoding enc) {
  namespace d = serialize_detail;
  using F = typename C::Field;
  d::check_size(out.size(), kUncompressedBytes<C>, d::Group<C>::kName, "point output buffer");
  // Infinity is (0, 0) in memory, and zero is all zero bytes in both encodings.
  d::put(out.data(), p.x, enc);
  d::put(out.data() + sizeof(F), p.y, enc);
}

template <class C>
Affine<C> read_point(std::span<const uint8_t> in, FieldEncoding enc,
                     PointCheck check = PointCheck::kFull) {
  namespace d = serialize_detail;
  using F = typename C::Field;
  const char* g = d::Group<C>::kName;
  d::check_size(in.size(), kUncompressedBytes<C>, g, "point");
  if (std::all_of(in.begin(), in.end(), [](uint8_t b) { return b == 0; }))
    return Affine<C>::infinity();
  Affine<C> p;
  d::get(p.x, in.data(), enc, {g, "point", "x"});
  d::get(p.y, in.data() + sizeof(F), enc, {g, "point", "y"});
  d::check_point(p, check, "point");
  return p;
}

// ---- compressed (ffjavascript) --------------------------------------------------------------

// out must hold exactly kCompressedBytes<C> bytes.
template <class C>
void write_point_compressed(std::span<uint8_t> out, const Affine<C>& p) {
  namespace d = serialize_detail;
  constexpr size_t n = kCompressedBytes<C>;
  d::check_size(out.size(), n, d::Group<C>::kName, "compressed point output buffer");
  if (p.is_infinity()) {
    std::fill(out.begin(), out.end(), uint8_t{0});
    out[0] = kCompressedInfinityFlag;
    return;
  }
  uint8_t le[n];
  d::put(le, p.x, FieldEncoding::kStandard);
  std::reverse_copy(le, le + n, out.begin());
  if (d::is_greater(p.y)) out[0] |= kCompressedGreaterFlag;
}

template <class C>
Affine<C> read_point_compressed(std::span<const uint8_t> in, PointCheck check = PointCheck::kFull) {
  namespace d = serialize_detail;
  using F = typename C::Field;
  constexpr size_t n = kCompressedBytes<C>;
  const char* g = d::Group<C>::kName;
  const char* form = "compressed point";
  d::check_size(in.size(), n, g, form);
  if (in[0] & kCompressedInfinityFlag) {
    bool rest_zero = std::all_of(in.begin() + 1, in.end(), [](uint8_t b) { return b == 0; });
    if (in[0] != kCompressedInfinityFlag || !rest_zero)
      d::fail(g, form, ": invalid flags, the infinity flag 0x40 is set together with other bits");
    return Affine<C>::infinity();
  }
  uint8_t le[n];
  std::reverse_copy(in.begin(), in.end(), le);
  le[n - 1] &= uint8_t(~(kCompressedInfinityFlag | kCompressedGreaterFlag));
  Affine<C> p;
  d::get(p.x, le, FieldEncoding::kStandard, {g, form, "x"});
  const F y2 = p.x.sqr() * p.x + C::b();
  if (!y2.sqrt(p.y)) d::fail(g, form, ": x is not the x-coordinate of a curve point");
  // y != 0 here: neither group has a point of order 2 (both orders are odd), so -y is the
  // other root and has the opposite sign.
  if (d::is_greater(p.y) != bool(in[0] & kCompressedGreaterFlag)) p.y = -p.y;
  if (check == PointCheck::kFull && !d::Group<C>::in_subgroup(p))
    d::fail(g, form, " not in the prime-order subgroup");
  return p;
}

// ---- snarkjs JSON ---------------------------------------------------------------------------

template <class C>
PointJson<C> point_to_json(const Affine<C>& p) {
  namespace d = serialize_detail;
  using F = typename C::Field;
  if (p.is_infinity()) return {d::to_json(F::zero()), d::to_json(F::one()), d::to_json(F::zero())};
  return {d::to_json(p.x), d::to_json(p.y), d::to_json(F::one())};
}

template <class C>
Affine<C> point_from_json(const PointJson<C>& j, PointCheck check = PointCheck::kFull) {
  namespace d = serialize_detail;
  using F = typename C::Field;
  const char* g = d::Group<C>::kName;
  Affine<C> p;
  F z;
  d::from_json(p.x, j[0], {g, "point", "x"});
  d::from_json(p.y, j[1], {g, "point", "y"});
  d::from_json(z, j[2], {g, "point", "z"});
  if (z.is_zero()) {
    if (!p.x.is_zero() || !p.y.is_one())
      d::fail(g, "point", " at infinity must be written as x = 0, y = 1, z = 0");
    return Affine<C>::infinity();
  }
  if (!z.is_one()) d::fail(g, "point", ": z must be 1 (affine) or 0 (infinity)");
  d::check_point(p, check, "point");
  return p;
}

}  // namespace zkinfer
