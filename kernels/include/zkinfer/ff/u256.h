// 256-bit unsigned integers as four little-endian 64-bit words, with the constexpr
// helpers the field types use to derive their constants from the modulus at compile time.
#pragma once

#include <cstdint>

#include "zkinfer/ff/hd.h"

// Host x86-64 code paths (carry builtins below, inline asm in fp_x86.h): compiled wherever the
// compiler targets x86-64, never in nvcc's device pass. Constant evaluation always takes the
// portable C++ next to them, so compile-time constants come out the same everywhere.
// AddressSanitizer builds (fuzzers, sanitizer test runs) take the portable path: the asm
// products need every general register, which ASan's frame pointer takes away ("impossible
// constraints"), and ASan could not see inside the asm anyway.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZKINFER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ZKINFER_ASAN 1
#endif
#if defined(__x86_64__) && !defined(__CUDA_ARCH__) && !defined(ZKINFER_ASAN)
#define ZKINFER_X86_64_HOST 1
#else
#define ZKINFER_X86_64_HOST 0
#endif

namespace zkinfer {

using u128 = unsigned __int128;

struct U256 {
  uint64_t w[4];

  ZK_HD constexpr bool operator==(const U256& o) const {
    return w[0] == o.w[0] && w[1] == o.w[1] && w[2] == o.w[2] && w[3] == o.w[3];
  }
  ZK_HD constexpr bool is_zero() const { return (w[0] | w[1] | w[2] | w[3]) == 0; }
  ZK_HD constexpr bool bit(unsigned i) const { return (w[i / 64] >> (i % 64)) & 1; }
  ZK_HD constexpr unsigned bit_length() const {
    for (int i = 3; i >= 0; --i)
      if (w[i]) return 64 * i + 64 - __builtin_clzll(w[i]);
    return 0;
  }
};

// a + b + carry -> sum, carry out.
//
// On the x86-64 host these use the carry builtins behind _addcarry_u64/_subborrow_u64 (without
// the 0.4 s-per-file cost of <immintrin.h>): GCC 12 compiles the u128 form into setc/movzx
// round trips, while chains of the builtins become one adc/sbb per word: portable Fq add/sub
// latency 12.8/8.5 ns before, 3.2/3.6 ns after (bench_field, Zen 4).
ZK_HDI constexpr uint64_t adc(uint64_t a, uint64_t b, uint64_t& carry) {
#if ZKINFER_X86_64_HOST
  if (!__builtin_is_constant_evaluated()) {
    unsigned long long s;
    carry = __builtin_ia32_addcarryx_u64((unsigned char)carry, a, b, &s);
    return s;
  }
#endif
  u128 s = (u128)a + b + carry;
  carry = (uint64_t)(s >> 64);
  return (uint64_t)s;
}
// a - b - borrow -> difference, borrow out (0 or 1).
ZK_HDI constexpr uint64_t sbb(uint64_t a, uint64_t b, uint64_t& borrow) {
#if ZKINFER_X86_64_HOST
  if (!__builtin_is_constant_evaluated()) {
    unsigned long long d;
#if defined(__clang__)
    borrow = __builtin_ia32_subborrow_u64((unsigned char)borrow, a, b, &d);
#else
    borrow = __builtin_ia32_sbb_u64((unsigned char)borrow, a, b, &d);
#endif
    return d;
  }
#endif
  u128 d = (u128)a - b - borrow;
  borrow = (uint64_t)(d >> 64) & 1;
  return (uint64_t)d;
}

namespace u256 {

ZK_HD constexpr bool less(const U256& a, const U256& b) {
  for (int i = 3; i >= 0; --i) {
    if (a.w[i] != b.w[i]) return a.w[i] < b.w[i];
  }
  return false;
}

ZK_HD constexpr U256 add(const U256& a, const U256& b, uint64_t& carry) {
  U256 r{};
  carry = 0;
  for (int i = 0; i < 4; ++i) r.w[i] = adc(a.w[i], b.w[i], carry);
  return r;
}

ZK_HD constexpr U256 sub(const U256& a, const U256& b, uint64_t& borrow) {
  U256 r{};
  borrow = 0;
  for (int i = 0; i < 4; ++i) r.w[i] = sbb(a.w[i], b.w[i], borrow);
  return r;
}

ZK_HD constexpr U256 shr(const U256& a, unsigned s) {
  U256 r{};
  unsigned words = s / 64, bits = s % 64;
  for (unsigned i = 0; i < 4; ++i) {
    unsigned src = i + words;
    if (src < 4) {
      r.w[i] = a.w[src] >> bits;
      if (bits && src + 1 < 4) r.w[i] |= a.w[src + 1] << (64 - bits);
    }
  }
  return r;
}

ZK_HD constexpr U256 from_u64(uint64_t x) { return U256{{x, 0, 0, 0}}; }

// 2^k mod m by repeated doubling; only for compile-time constants.
constexpr U256 pow2_mod(unsigned k, const U256& m) {
  U256 r = from_u64(1);
  for (unsigned i = 0; i < k; ++i) {
    uint64_t carry = 0;
    U256 d = add(r, r, carry);
    uint64_t borrow = 0;
    U256 s = sub(d, m, borrow);
    r = (carry || !borrow) ? s : d;
  }
  return r;
}

// -m^-1 mod 2^64 for odd m (Newton iteration).
constexpr uint64_t neg_inv64(uint64_t m) {
  uint64_t x = 1;
  for (int i = 0; i < 7; ++i) x *= 2 - m * x;
  return ~x + 1;
}

// Largest s with 2^s | a (a != 0).
constexpr unsigned two_adicity(const U256& a) {
  unsigned s = 0;
  while (!a.bit(s)) ++s;
  return s;
}

}  // namespace u256
}  // namespace zkinfer

namespace zkinfer::u256 {

// Decimal literal -> U256, for writing published constants as they are printed.
constexpr U256 from_dec(const char* s) {
  U256 r{};
  for (; *s; ++s) {
    uint64_t carry = (uint64_t)(*s - '0');
    for (int i = 0; i < 4; ++i) {
      u128 t = (u128)r.w[i] * 10 + carry;
      r.w[i] = (uint64_t)t;
      carry = (uint64_t)(t >> 64);
    }
  }
  return r;
}

}  // namespace zkinfer::u256
