// The device field algorithms (mont32.h), run on the host over an emulated carry flag, against
// the 4x64-bit host implementation. Needs no GPU: this is what keeps the PTX code honest on CI.
#include <gtest/gtest.h>

#include <array>
#include <stdexcept>
#include <utility>
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

// Limbs u, v below the top limb of p with u * v = -1 mod 2^32, v as large as that allows: as
// top limbs of a and b, their product fills limb 7 with ones in the last step of mul, so that a
// carry from limb 6 (likely, v being large) runs through it.
template <class F>
std::pair<uint32_t, uint32_t> top_limb_pair() {
  const uint32_t top = uint32_t(F::MOD.w[3] >> 32);
  for (uint32_t v = (top - 1) | 1;; v -= 2) {
    uint32_t inv = v;  // Newton's iteration for v^-1 mod 2^32 (v odd)
    for (int k = 0; k < 5; ++k) inv *= 2 - v * inv;
    const uint32_t u = 0u - inv;
    if (u < top) return {u, v};
  }
}

// Operands built from limbs that make carries likely: 0, 1, 2^31, 2^32 - 1, the modulus' own
// limbs, the pair above and random limbs, taken below p.
template <class F>
std::vector<F> limb_pattern_values(std::mt19937_64& rng, size_t n) {
  uint32_t p[8];
  to_limbs(p, F::MOD);
  const auto [u, v] = top_limb_pair<F>();
  std::vector<F> out;
  while (out.size() < n) {
    uint32_t x[8];
    for (int j = 0; j < 8; ++j) {
      switch (rng() % 8) {
        case 0: x[j] = 0; break;
        case 1: x[j] = 1; break;
        case 2: x[j] = 0x80000000u; break;
        case 3: x[j] = 0xffffffffu; break;
        case 4: x[j] = p[j]; break;
        case 5: x[j] = u; break;
        case 6: x[j] = v; break;
        default: x[j] = uint32_t(rng()); break;
      }
    }
    const U256 w = from_limbs(x);
    if (u256::less(w, F::MOD)) out.push_back(F::from_mont(w));
  }
  return out;
}

// The emulator with a record of the carry each carry-reading step saw, by its position in the
// instruction sequence (mul runs the same straight-line sequence for every input).
class TracingEmu : public CarryEmu {
 public:
  static constexpr size_t kMaxSteps = 1024;
  struct Seen {
    bool reads = false;
    bool zero = false;
    bool one = false;
  };

  explicit TracingEmu(std::array<Seen, kMaxSteps>& seen) : CarryEmu(0), seen_(seen) {}

  uint32_t add_cc(uint32_t a, uint32_t b) { return step(false), CarryEmu::add_cc(a, b); }
  uint32_t addc_cc(uint32_t a, uint32_t b) { return step(true), CarryEmu::addc_cc(a, b); }
  uint32_t addc(uint32_t a, uint32_t b) { return step(true), CarryEmu::addc(a, b); }
  uint32_t sub_cc(uint32_t a, uint32_t b) { return step(false), CarryEmu::sub_cc(a, b); }
  uint32_t subc_cc(uint32_t a, uint32_t b) { return step(true), CarryEmu::subc_cc(a, b); }
  uint32_t subc(uint32_t a, uint32_t b) { return step(true), CarryEmu::subc(a, b); }
  uint32_t mad_lo_cc(uint32_t a, uint32_t b, uint32_t c) {
    return step(false), CarryEmu::mad_lo_cc(a, b, c);
  }
  uint32_t madc_lo_cc(uint32_t a, uint32_t b, uint32_t c) {
    return step(true), CarryEmu::madc_lo_cc(a, b, c);
  }
  uint32_t mad_hi_cc(uint32_t a, uint32_t b, uint32_t c) {
    return step(false), CarryEmu::mad_hi_cc(a, b, c);
  }
  uint32_t madc_hi_cc(uint32_t a, uint32_t b, uint32_t c) {
    return step(true), CarryEmu::madc_hi_cc(a, b, c);
  }
  uint32_t madc_hi(uint32_t a, uint32_t b, uint32_t c) {
    return step(true), CarryEmu::madc_hi(a, b, c);
  }

  size_t steps() const { return n_; }

 private:
  void step(bool reads) {
    if (n_ >= kMaxSteps) throw std::length_error("more chain steps than the trace holds");
    Seen& s = seen_[n_++];
    if (!reads) return;
    s.reads = true;
    (flag() ? s.one : s.zero) = true;
  }

  std::array<Seen, kMaxSteps>& seen_;
  size_t n_ = 0;
};

// Every carry-reading step of the product sees a carry of 1 for some operands here, and the
// results still match the host: a step that dropped or misplaced its carry (a missing catch, a
// chain split in the wrong place) changes results for those operands. Also checks that mul is
// one fixed instruction sequence, so positions identify steps.
TYPED_TEST(Mont32Emu, MulCarriesAllTaken) {
  using F = TypeParam;
  using P = typename F::Params;
  const auto [u, v] = top_limb_pair<F>();
  ASSERT_EQ(u * v, 0xffffffffu);
  auto rng = testing::seeded_rng();
  std::vector<F> xs = limb_pattern_values<F>(rng, 20000);
  const std::vector<F> edges = testing::edge_values<F>();
  xs.insert(xs.end(), edges.begin(), edges.end());
  std::array<TracingEmu::Seen, TracingEmu::kMaxSteps> seen{};
  size_t steps = 0;
  int reported = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const F& a = xs[i];
    const F& b = xs[(i * 7919 + 13) % xs.size()];
    uint32_t x[8], y[8], z[8];
    to_limbs(x, a.mont());
    to_limbs(y, b.mont());
    TracingEmu c(seen);
    mont32::mul<P>(c, z, x, y);
    if (i == 0) steps = c.steps();
    ASSERT_EQ(c.steps(), steps) << "mul is not straight-line";
    const F got = F::from_mont(from_limbs(z)), want = a * b;
    if (got != want && reported++ < 5)
      ADD_FAILURE() << "a=" << u256_to_hex(a.mont()) << " b=" << u256_to_hex(b.mont()) << " got "
                    << u256_to_hex(got.mont()) << " want " << u256_to_hex(want.mont());
  }
  EXPECT_EQ(reported, 0);
  for (size_t k = 0; k < steps; ++k) {
    if (!seen[k].reads) continue;
    EXPECT_TRUE(seen[k].one) << "chain step " << k << " never saw a carry of 1";
    EXPECT_TRUE(seen[k].zero) << "chain step " << k << " never saw a carry of 0";
  }
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
