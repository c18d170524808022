// Helpers shared by the .r1cs, .wtns and .zkey readers and writers (private to prover/src).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <span>
#include <string>
#include <utility>

#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/binfile.h"

namespace zkinfer::prover::fmt {

inline uint32_t le32(const uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

inline void put_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = (uint8_t)(v >> (8 * i));
}

inline bool below_r(const U256& a) { return u256::less(a, Fr::MOD); }

// The failure with the lowest index among chunks checked in parallel, so that the error a
// malformed file gets does not depend on thread timing. Each chunk scans in order and stops at
// its first failure, which is then its lowest.
class FirstFailure {
 public:
  void record(size_t index, std::string what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (index < index_) {
      index_ = index;
      what_ = std::move(what);
    }
  }
  void throw_if_any() const {
    if (index_ != kNone) throw FormatError(what_);
  }

 private:
  static constexpr size_t kNone = std::numeric_limits<size_t>::max();
  std::mutex mu_;
  size_t index_ = kNone;
  std::string what_;
};

// Reads the n8 | prime prefix that .r1cs and .wtns headers share and checks it is BN254's r.
inline void expect_bn254_r(ByteReader& r) {
  uint32_t n8 = r.u32();
  if (n8 != 32)
    r.fail("field element size n8 is " + std::to_string(n8) + ", expected 32 (BN254's scalar field)");
  U256 prime = r.u256();
  if (!(prime == Fr::MOD))
    r.fail("prime is not BN254's scalar field: got " + u256_to_decimal(prime) + ", expected " +
           u256_to_decimal(Fr::MOD));
}

template <class T>
std::span<const uint8_t> as_bytes(std::span<const T> s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size_bytes()};
}

}  // namespace zkinfer::prover::fmt
