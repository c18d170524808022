// Host emulation of the PTX carry-chain instructions (the instruction set mont32.h is written
// over), following the PTX ISA: .cc variants write the carry flag CC.CF, c-prefixed variants
// read it, subtraction keeps the borrow in the same flag. Running mont32.h over this checks the
// device algorithms on the host, limb by limb, without a GPU.
#pragma once

#include <cstdint>

namespace zkinfer::testing {

class CarryEmu {
 public:
  // The flag's value before the first instruction. The hardware flag holds whatever the last
  // chain left; tests run with both values so an algorithm that reads it before writing fails.
  explicit CarryEmu(uint32_t initial_flag) : cf_(initial_flag) {}

  uint32_t add_cc(uint32_t a, uint32_t b) { return set(uint64_t(a) + b); }
  uint32_t addc_cc(uint32_t a, uint32_t b) { return set(uint64_t(a) + b + cf_); }
  uint32_t addc(uint32_t a, uint32_t b) { return uint32_t(uint64_t(a) + b + cf_); }
  uint32_t sub_cc(uint32_t a, uint32_t b) { return set_borrow(uint64_t(a) - b); }
  uint32_t subc_cc(uint32_t a, uint32_t b) { return set_borrow(uint64_t(a) - b - cf_); }
  uint32_t subc(uint32_t a, uint32_t b) { return uint32_t(uint64_t(a) - b - cf_); }
  uint32_t mad_lo_cc(uint32_t a, uint32_t b, uint32_t c) { return set(lo(a, b) + c); }
  uint32_t madc_lo_cc(uint32_t a, uint32_t b, uint32_t c) { return set(lo(a, b) + c + cf_); }
  uint32_t mad_hi_cc(uint32_t a, uint32_t b, uint32_t c) { return set(hi(a, b) + c); }
  uint32_t madc_hi_cc(uint32_t a, uint32_t b, uint32_t c) { return set(hi(a, b) + c + cf_); }
  uint32_t madc_hi(uint32_t a, uint32_t b, uint32_t c) { return uint32_t(hi(a, b) + c + cf_); }

  uint32_t flag() const { return cf_; }

 private:
  static uint64_t lo(uint32_t a, uint32_t b) { return uint32_t(uint64_t(a) * b); }
  static uint64_t hi(uint32_t a, uint32_t b) { return (uint64_t(a) * b) >> 32; }
  uint32_t set(uint64_t s) {
    cf_ = uint32_t(s >> 32);
    return uint32_t(s);
  }
  // a - b - borrow computed in 64 bits wraps to a value with the top half all ones exactly
  // when it borrowed.
  uint32_t set_borrow(uint64_t d) {
    cf_ = uint32_t(d >> 63);
    return uint32_t(d);
  }

  uint32_t cf_;
};

}  // namespace zkinfer::testing
