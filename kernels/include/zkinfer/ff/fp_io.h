// Host-only conversions of field elements: bytes, decimal and hex strings, random values.
// Every parser checks the value against the modulus and says what was wrong.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "zkinfer/ff/fp.h"

namespace zkinfer {

// 32 little-endian bytes <-> U256.
inline U256 u256_from_le_bytes(const uint8_t* b) {
  U256 r{};
  if constexpr (std::endian::native == std::endian::little) {
    // One copy: the byte loop below compiles to byte loads and shifts (a sixth of decoding a
    // .zkey coefficient, measured).
    std::memcpy(r.w, b, sizeof r.w);
  } else {
    for (int i = 0; i < 4; ++i) {
      uint64_t w = 0;
      for (int j = 7; j >= 0; --j) w = (w << 8) | b[8 * i + j];
      r.w[i] = w;
    }
  }
  return r;
}
inline void u256_to_le_bytes(const U256& a, uint8_t* b) {
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 8; ++j) b[8 * i + j] = (uint8_t)(a.w[i] >> (8 * j));
}

// Decimal digits -> U256; throws on an empty string, a non-digit or a value >= 2^256.
inline U256 u256_from_decimal(std::string_view s) {
  if (s.empty()) throw std::invalid_argument("empty decimal number");
  U256 r{};
  for (char ch : s) {
    if (ch < '0' || ch > '9')
      throw std::invalid_argument("invalid decimal digit '" + std::string(1, ch) + "' in number");
    uint64_t carry = (uint64_t)(ch - '0');
    for (int i = 0; i < 4; ++i) {
      u128 t = (u128)r.w[i] * 10 + carry;
      r.w[i] = (uint64_t)t;
      carry = (uint64_t)(t >> 64);
    }
    if (carry) throw std::invalid_argument("decimal number does not fit in 256 bits");
  }
  return r;
}

inline std::string u256_to_decimal(U256 a) {
  if (a.is_zero()) return "0";
  std::string out;
  while (!a.is_zero()) {
    uint64_t rem = 0;
    for (int i = 3; i >= 0; --i) {
      u128 cur = ((u128)rem << 64) | a.w[i];
      a.w[i] = (uint64_t)(cur / 10);
      rem = (uint64_t)(cur % 10);
    }
    out.push_back((char)('0' + rem));
  }
  return std::string(out.rbegin(), out.rend());
}

inline std::string u256_to_hex(const U256& a) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x";
  for (int i = 63; i >= 0; --i) s.push_back(digits[(a.w[i / 16] >> (4 * (i % 16))) & 0xf]);
  return s;
}

template <class F>
void check_below_modulus(const U256& a, const char* what) {
  constexpr U256 m = F::MOD;
  if (!u256::less(a, m))
    throw std::invalid_argument(std::string(what) + ": value " + u256_to_decimal(a) +
                                " is not below the field modulus " + u256_to_decimal(m));
}

// Canonical (standard-form) little-endian bytes, as .wtns files store them.
template <class F>
F field_from_le_bytes(const uint8_t* b) {
  U256 a = u256_from_le_bytes(b);
  check_below_modulus<F>(a, "field element");
  return F::from_canonical(a);
}
template <class F>
void field_to_le_bytes(const F& x, uint8_t* b) {
  u256_to_le_bytes(x.to_canonical(), b);
}

// Montgomery-form little-endian bytes, as .zkey and .ptau files store them.
template <class F>
F field_from_mont_le_bytes(const uint8_t* b) {
  U256 a = u256_from_le_bytes(b);
  check_below_modulus<F>(a, "field element (Montgomery form)");
  return F::from_mont(a);
}
template <class F>
void field_to_mont_le_bytes(const F& x, uint8_t* b) {
  u256_to_le_bytes(x.mont(), b);
}

// Decimal strings, as snarkjs JSON writes them.
template <class F>
F field_from_decimal(std::string_view s) {
  U256 a = u256_from_decimal(s);
  check_below_modulus<F>(a, "field element");
  return F::from_canonical(a);
}
template <class F>
std::string field_to_decimal(const F& x) {
  return u256_to_decimal(x.to_canonical());
}

// Uniform random element by rejection sampling from any 64-bit generator.
template <class F, class Rng>
F field_random(Rng& rng) {
  constexpr U256 m = F::MOD;
  constexpr unsigned top_bits = F::BITS - 192;
  for (;;) {
    U256 a{{rng(), rng(), rng(), rng()}};
    a.w[3] &= (uint64_t{1} << top_bits) - 1;
    if (u256::less(a, m)) return F::from_canonical(a);
  }
}

}  // namespace zkinfer
