// A small RAII wrapper over GMP integers, the independent oracle of the arithmetic tests.
#pragma once

#include <gmp.h>
#include <gtest/gtest.h>

#include "zkinfer/ff/u256.h"

namespace zkinfer::testing {

struct Mpz {
  mpz_t v;
  Mpz() { mpz_init(v); }
  explicit Mpz(const U256& a) {
    mpz_init(v);
    mpz_import(v, 4, -1, sizeof(uint64_t), 0, 0, a.w);
  }
  explicit Mpz(const char* dec) { mpz_init_set_str(v, dec, 10); }
  ~Mpz() { mpz_clear(v); }
  Mpz(const Mpz&) = delete;
  Mpz& operator=(const Mpz&) = delete;
  // The value as 256 bits; a larger value fails the calling test.
  U256 to_u256() const {
    U256 r{};
    EXPECT_LE(mpz_sizeinbase(v, 2), 256u);
    if (mpz_sizeinbase(v, 2) <= 256) mpz_export(r.w, nullptr, -1, sizeof(uint64_t), 0, 0, v);
    return r;
  }
};

}  // namespace zkinfer::testing
