// The device field algorithms (mont32.h), run on the host over an emulated carry flag, against
// the 4x64-bit host implementation. Needs no GPU: this is what keeps the PTX code honest on CI.
#include <gtest/gtest.h>

#include <vector>

#include "../support/seed.h"
#include "carry_emu.h"
#include "field_samples.h"
#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/mont32.h"

namespace zkinfer {
namespace {

using testing::CarryEmu;

void to_limbs(uint32_t x[8], const U256& a) {
  for (int i = 0; i < 4; ++i) {
    x[2 * i] = uint32_t(a.w[i]);
    x[2 * i + 1] = uint32_t(a.w[i] >> 32);
  }
}
U256 from_limbs(const uint32_t x[8]) {
  U256 r{};
  for (int i = 0; i < 4; ++i) r.w[i] = uint64_t(x[2 * i]) | (uint64_t(x[2 * i + 1]) << 32);
  return r;
}

enum class Op { Add, Sub, Mul };

template <class F>
F emulated(Op op, const F& a, const F& b, uint32_t initial_flag) {
  using P = typename F::Params;
  uint32_t x[8], y[8], z[8];
  to_limbs(x, a.mont());
  to_limbs(y, b.mont());
  CarryEmu c(initial_flag);
  switch (op) {
    case Op::Add:
      mont32::add<P>(c, z, x, y);
      break;
    case Op::Sub:
      mont32::sub<P>(c, z, x, y);
      break;
    case Op::Mul:
      mont32::mul<P>(c, z, x, y);
      break;
  }
  return F::from_mont(from_limbs(z));
}

template <class F>
F host(Op op, const F& a, const F& b) {
  switch (op) {
    case Op::Add:
      return a + b;
    case Op::Sub:
      return a - b;
    case Op::Mul:
      return a * b;
  }
  return F::zero();
}

template <class F>
class Mont32Emu : public ::testing::Test {
 protected:
  // Compares every element, both initial carry-flag values, and reports the first mismatches.
  void check(Op op, size_t n) {
    auto rng = testing::seeded_rng();
    std::vector<F> a, b;
    testing::make_operands<F>(rng, n, a, b);
    int reported = 0;
    for (size_t i = 0; i < n; ++i) {
      const F want = host(op, a[i], b[i]);
      for (uint32_t flag : {0u, 1u}) {
        const F got = emulated(op, a[i], b[i], flag);
        if (got != want && reported++ < 5) {
          ADD_FAILURE() << "element " << i << " (initial carry " << flag
                        << "): a=" << u256_to_hex(a[i].mont()) << " b=" << u256_to_hex(b[i].mont())
                        << " got " << u256_to_hex(got.mont()) << " want "
                        << u256_to_hex(want.mont());
        }
      }
    }
    EXPECT_EQ(reported, 0) << "mismatches (raw Montgomery words shown)";
  }
};

using FieldTypes = ::testing::Types<Fr, Fq>;
TYPED_TEST_SUITE(Mont32Emu, FieldTypes);

TYPED_TEST(Mont32Emu, Add) { this->check(Op::Add, 100003); }
TYPED_TEST(Mont32Emu, Sub) { this->check(Op::Sub, 100003); }
TYPED_TEST(Mont32Emu, Mul) { this->check(Op::Mul, 100003); }

TYPED_TEST(Mont32Emu, ModulusLimbsAndInverse) {
  using F = TypeParam;
  using P = typename F::Params;
  uint32_t p[8];
  to_limbs(p, F::MOD);
  for (int j = 0; j < 8; ++j) EXPECT_EQ(mont32::modulus_limb<P>(j), p[j]) << "limb " << j;
  EXPECT_EQ(uint32_t(p[0] * mont32::NegInv32<P>::value), 0xffffffffu);  // p * (-p^-1) = -1
}

// The emulator itself, on the carry cases that matter: it stands in for the hardware above.
TEST(CarryEmu, FollowsPtxSemantics) {
  CarryEmu c(0);
  EXPECT_EQ(c.add_cc(0xffffffffu, 1), 0u);
  EXPECT_EQ(c.flag(), 1u);
  EXPECT_EQ(c.addc_cc(0xffffffffu, 0), 0u);  // carry in, carry out
  EXPECT_EQ(c.flag(), 1u);
  EXPECT_EQ(c.addc(5, 6), 12u);  // reads without writing
  EXPECT_EQ(c.flag(), 1u);
  EXPECT_EQ(c.sub_cc(0, 1), 0xffffffffu);  // borrow out
  EXPECT_EQ(c.flag(), 1u);
  EXPECT_EQ(c.subc_cc(1, 0), 0u);  // 1 - (0 + borrow)
  EXPECT_EQ(c.flag(), 0u);
  EXPECT_EQ(c.subc(0, 0), 0u);
  EXPECT_EQ(c.sub_cc(0, 0), 0u);
  EXPECT_EQ(c.flag(), 0u);
  EXPECT_EQ(c.mad_lo_cc(0xffffffffu, 0xffffffffu, 0xffffffffu), 0u);  // lo = 1, + 2^32 - 1
  EXPECT_EQ(c.flag(), 1u);
  EXPECT_EQ(c.madc_hi_cc(0xffffffffu, 0xffffffffu, 0xffffffffu), 0xfffffffeu);  // hi = 2^32 - 2
  EXPECT_EQ(c.flag(), 1u);
  EXPECT_EQ(c.madc_hi(0xffffffffu, 0xffffffffu, 0), 0xffffffffu);
  EXPECT_EQ(c.mad_hi_cc(2, 0x80000000u, 0xffffffffu), 0u);  // hi = 1
  EXPECT_EQ(c.flag(), 1u);
  EXPECT_EQ(c.madc_lo_cc(3, 5, 0xfffffff0u), 0u);  // 15 + (2^32 - 16) + 1
  EXPECT_EQ(c.flag(), 1u);
  EXPECT_EQ(c.subc(0, 0), 0xffffffffu);  // the all-ones borrow mask the algorithms use
}

}  // namespace
}  // namespace zkinfer
