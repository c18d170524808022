// The device field algorithms (mont32.h), run on the host over an emulated carry flag, against
// the 4x64-bit host implementation. Needs no GPU: this is what keeps the PTX code honest on CI.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>
#include <vector>

#include <gmp.h>

#include "../support/seed.h"
#include "carry_emu.h"
#include "cuda/ntt_steps.h"
#include "field_samples.h"
#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/fq2.h"
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
  static constexpr size_t kMaxSteps = 2048;
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

// ---- Fq2 with lazy reduction: mul_wide, redc, fq2_mul, fq2_sqr -------------------------------

// GMP as the oracle for the 512-bit steps.
struct Mpz {
  mpz_t v;
  Mpz() { mpz_init(v); }
  ~Mpz() { mpz_clear(v); }
  Mpz(const Mpz&) = delete;
  Mpz& operator=(const Mpz&) = delete;
};
void mpz_from_limbs(mpz_t out, const uint32_t* x, int limbs) {
  mpz_import(out, size_t(limbs), -1, sizeof(uint32_t), 0, 0, x);
}
std::array<uint32_t, 16> limbs_from_mpz(const mpz_t x) {
  std::array<uint32_t, 16> out{};
  size_t count = 0;
  EXPECT_LE(mpz_sizeinbase(x, 2), 512u);
  mpz_export(out.data(), &count, -1, sizeof(uint32_t), 0, 0, x);
  return out;
}

// Values below 2^255 as mul_wide takes them: field elements and unreduced sums of two.
template <class F>
std::vector<std::array<uint32_t, 8>> wide_operands(std::mt19937_64& rng, size_t n) {
  std::vector<F> xs = limb_pattern_values<F>(rng, n / 2);
  const std::vector<F> edges = testing::edge_values<F>();
  xs.insert(xs.end(), edges.begin(), edges.end());
  std::vector<std::array<uint32_t, 8>> out;
  for (size_t i = 0; i < xs.size(); ++i) {
    std::array<uint32_t, 8> x, y;
    to_limbs(x.data(), xs[i].mont());
    out.push_back(x);
    to_limbs(y.data(), xs[(i * 31 + 7) % xs.size()].mont());
    std::array<uint32_t, 8> s;
    CarryEmu c(0);
    mont32::add_unreduced(c, s.data(), x.data(), y.data());
    out.push_back(s);
  }
  return out;
}

TYPED_TEST(Mont32Emu, MulWideEqualsGmp) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  const auto xs = wide_operands<F>(rng, 4000);
  Mpz a, b, want;
  int reported = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const auto& x = xs[i];
    const auto& y = xs[(i * 7919 + 13) % xs.size()];
    mpz_from_limbs(a.v, x.data(), 8);
    mpz_from_limbs(b.v, y.data(), 8);
    mpz_mul(want.v, a.v, b.v);
    for (uint32_t flag : {0u, 1u}) {
      std::array<uint32_t, 16> w;
      CarryEmu c(flag);
      mont32::mul_wide(c, w.data(), x.data(), y.data());
      if (w != limbs_from_mpz(want.v) && reported++ < 5) ADD_FAILURE() << "operand pair " << i << ", flag " << flag;
    }
  }
  EXPECT_EQ(reported, 0);
}

// redc(t) = t / 2^256 mod p, below p, for t < p 2^256: random t, products of carry-prone
// operands, and the edges 0, 1, p^2 - 1, p^2, 2 p^2 and p 2^256 - 1. (Not a carry-coverage test
// like MulCarriesAllTaken: with no product rows, some of redc's carries are ruled out by the
// moduli's limbs, e.g. a first-step pair m_0 p_3 + m_1 p_2 stays below 2^64 for both.)
TYPED_TEST(Mont32Emu, RedcEqualsGmp) {
  using F = TypeParam;
  using P = typename F::Params;
  auto rng = testing::seeded_rng();
  uint32_t pl[8];
  to_limbs(pl, F::MOD);
  Mpz p, bound, r_inv, t, want, two256;
  mpz_from_limbs(p.v, pl, 8);
  mpz_ui_pow_ui(two256.v, 2, 256);
  mpz_mul(bound.v, p.v, two256.v);  // p 2^256
  ASSERT_NE(mpz_invert(r_inv.v, two256.v, p.v), 0);
  std::vector<std::array<uint32_t, 16>> ts;
  auto add_mpz = [&](const mpz_t x) { ts.push_back(limbs_from_mpz(x)); };
  for (unsigned long k : {0ul, 1ul}) {
    mpz_set_ui(t.v, k);
    add_mpz(t.v);
  }
  mpz_mul(t.v, p.v, p.v);
  add_mpz(t.v);
  mpz_sub_ui(want.v, t.v, 1);
  add_mpz(want.v);
  mpz_mul_ui(t.v, t.v, 2);
  add_mpz(t.v);
  mpz_sub_ui(t.v, bound.v, 1);
  add_mpz(t.v);
  gmp_randstate_t st;
  gmp_randinit_mt(st);
  gmp_randseed_ui(st, (unsigned long)rng());
  for (int i = 0; i < 20000; ++i) {
    mpz_urandomm(t.v, st, bound.v);
    if (i % 4 == 1) mpz_fdiv_q_2exp(t.v, t.v, unsigned(rng() % 300));  // small values too
    add_mpz(t.v);
  }
  gmp_randclear(st);
  // Products of carry-prone operands, as fq2_mul reduces them.
  const auto xs = wide_operands<F>(rng, 20000);
  for (size_t i = 0; i < xs.size(); ++i) {
    std::array<uint32_t, 16> w;
    CarryEmu c(0);
    mont32::mul_wide(c, w.data(), xs[i].data(), xs[(i * 7919 + 13) % xs.size()].data());
    ts.push_back(w);
  }
  int reported = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    mpz_from_limbs(t.v, ts[i].data(), 16);
    mpz_mul(want.v, t.v, r_inv.v);
    mpz_mod(want.v, want.v, p.v);
    for (uint32_t flag : {0u, 1u}) {
      uint32_t r[8];
      CarryEmu c(flag);
      mont32::redc<P>(c, r, ts[i].data());
      const auto got = limbs_from_mpz(want.v);
      bool same = true;
      for (int j = 0; j < 8; ++j) same = same && r[j] == got[j];
      if (!same && reported++ < 5) ADD_FAILURE() << "t number " << i << ", flag " << flag;
    }
  }
  EXPECT_EQ(reported, 0);
}

void fq2_limbs(uint32_t x0[8], uint32_t x1[8], const Fq2& a) {
  to_limbs(x0, a.c0.mont());
  to_limbs(x1, a.c1.mont());
}
Fq2 fq2_from(const uint32_t x0[8], const uint32_t x1[8]) {
  return {Fq::from_mont(from_limbs(x0)), Fq::from_mont(from_limbs(x1))};
}

// Fq2 elements with coefficients from limb patterns (carries likely) and the edge values.
std::vector<Fq2> fq2_values(std::mt19937_64& rng, size_t n) {
  std::vector<Fq> xs = limb_pattern_values<Fq>(rng, n);
  const std::vector<Fq> edges = testing::edge_values<Fq>();
  xs.insert(xs.end(), edges.begin(), edges.end());
  std::vector<Fq2> out;
  for (size_t i = 0; i < xs.size(); ++i) out.push_back({xs[i], xs[(i * 104729 + 1) % xs.size()]});
  for (const Fq& e : edges)
    for (const Fq& f : edges) out.push_back({e, f});
  return out;
}

// Runs `op(chain)` over every case with a TracingEmu; op returns whether the case's result was
// right. Checks that the sequence is straight-line, every result right, and every
// carry-reading step saw a carry of 0 and of 1 for some case (as MulCarriesAllTaken does for
// mul): a step that dropped or misplaced its carry would change some result.
template <class Op>
void expect_all_carries_taken(size_t cases, Op op) {
  std::array<TracingEmu::Seen, TracingEmu::kMaxSteps> seen{};
  size_t steps = 0;
  int wrong = 0;
  for (size_t i = 0; i < cases; ++i) {
    TracingEmu c(seen);
    if (!op(c, i) && wrong++ < 5) ADD_FAILURE() << "case " << i << " gave a wrong result";
    if (i == 0) steps = c.steps();
    ASSERT_EQ(c.steps(), steps) << "not straight-line";
  }
  EXPECT_EQ(wrong, 0);
  int never = 0;
  for (size_t k = 0; k < steps; ++k) {
    if (!seen[k].reads) continue;
    if ((!seen[k].one || !seen[k].zero) && never++ < 10)
      ADD_FAILURE() << "chain step " << k << " of " << steps << " never saw a carry of " << (seen[k].one ? 0 : 1);
  }
}

TYPED_TEST(Mont32Emu, MulWideCarriesAllTaken) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  const auto xs = wide_operands<F>(rng, 40000);
  Mpz a, b, want;
  expect_all_carries_taken(xs.size(), [&](TracingEmu& c, size_t i) {
    const auto& x = xs[i];
    const auto& y = xs[(i * 7919 + 13) % xs.size()];
    std::array<uint32_t, 16> w;
    mont32::mul_wide(c, w.data(), x.data(), y.data());
    mpz_from_limbs(a.v, x.data(), 8);
    mpz_from_limbs(b.v, y.data(), 8);
    mpz_mul(want.v, a.v, b.v);
    return w == limbs_from_mpz(want.v);
  });
}

// sqr_wide(a) = a^2 for a < 2^255 (the same carry-prone operands as MulWideEqualsGmp), both
// initial flags; and every carry-reading step of it sees both carry values.
// Operands whose limbs 6 and 7 have a product of low half 2^32 - 1 (a_6 large, a_7 below p's
// top limb), limbs 4 and 5 all ones and the rest random: the last cross-product row then meets
// a carry from row 5's catch, which random operands almost never give.
template <class F>
std::vector<std::array<uint32_t, 8>> top_row_carry_operands(std::mt19937_64& rng, size_t n) {
  const uint32_t top = uint32_t(F::MOD.w[3] >> 32);
  std::vector<std::array<uint32_t, 8>> out;
  for (uint32_t u = 0xffffffffu; out.size() < n && u > 0x80000000u; u -= 2) {
    uint32_t inv = u;  // Newton's iteration for u^-1 mod 2^32 (u odd)
    for (int k = 0; k < 5; ++k) inv *= 2 - u * inv;
    const uint32_t v = 0u - inv;
    if (v >= top) continue;
    std::array<uint32_t, 8> x;
    for (int j = 0; j < 4; ++j) x[j] = uint32_t(rng());
    x[4] = x[5] = 0xffffffffu;
    x[6] = u;
    x[7] = v;
    out.push_back(x);
  }
  return out;
}

TYPED_TEST(Mont32Emu, SqrWideEqualsGmp) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  auto xs = wide_operands<F>(rng, 40000);
  const auto tops = top_row_carry_operands<F>(rng, 2000);
  xs.insert(xs.end(), tops.begin(), tops.end());
  Mpz a, want;
  int reported = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    mpz_from_limbs(a.v, xs[i].data(), 8);
    mpz_mul(want.v, a.v, a.v);
    for (uint32_t flag : {0u, 1u}) {
      std::array<uint32_t, 16> w;
      CarryEmu c(flag);
      mont32::sqr_wide(c, w.data(), xs[i].data());
      if (w != limbs_from_mpz(want.v) && reported++ < 5) ADD_FAILURE() << "operand " << i << ", flag " << flag;
    }
  }
  EXPECT_EQ(reported, 0);
  expect_all_carries_taken(xs.size(), [&](TracingEmu& c, size_t i) {
    std::array<uint32_t, 16> w;
    mont32::sqr_wide(c, w.data(), xs[i].data());
    mpz_from_limbs(a.v, xs[i].data(), 8);
    mpz_mul(want.v, a.v, a.v);
    return w == limbs_from_mpz(want.v);
  });
}

// The Montgomery square (sqr_wide, then redc) against the host's product a * a, both initial
// flags, over the operands of the elementwise tests.
TYPED_TEST(Mont32Emu, SqrEqualsHostProduct) {
  using F = TypeParam;
  using P = typename F::Params;
  auto rng = testing::seeded_rng();
  std::vector<F> a, b;
  testing::make_operands<F>(rng, 100003, a, b);
  a.insert(a.end(), b.begin(), b.end());
  int reported = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const F want = a[i] * a[i];
    uint32_t x[8], z[8];
    to_limbs(x, a[i].mont());
    for (uint32_t flag : {0u, 1u}) {
      CarryEmu c(flag);
      mont32::sqr<P>(c, z, x);
      if (F::from_mont(from_limbs(z)) != want && reported++ < 5)
        ADD_FAILURE() << "element " << i << " (initial carry " << flag << "): a=" << u256_to_hex(a[i].mont());
    }
  }
  EXPECT_EQ(reported, 0);
}

// mul_sub_mul(a, b, x, y) = a b - x y (one reduction of the two wide products), both initial
// flags, against the host's two products: carry-prone elements, edges (0, 1, p - 1, ...) and
// uniform ones, so the difference takes every sign and a b - x y = 0 occurs (a = x, b = y).
TYPED_TEST(Mont32Emu, MulSubMulEqualsHost) {
  using F = TypeParam;
  using P = typename F::Params;
  auto rng = testing::seeded_rng();
  std::vector<F> xs = limb_pattern_values<F>(rng, 20000);
  const std::vector<F> edges = testing::edge_values<F>();
  xs.insert(xs.end(), edges.begin(), edges.end());
  std::vector<F> a, b;
  testing::make_operands<F>(rng, 20000, a, b);
  xs.insert(xs.end(), a.begin(), a.end());
  int reported = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const F& u = xs[i];
    const F& v = xs[(i * 7919 + 13) % xs.size()];
    const bool same = i % 5 == 0;  // a b - a b = 0
    const F& w = same ? u : xs[(i * 104729 + 7) % xs.size()];
    const F& z = same ? v : xs[(i * 31 + 3) % xs.size()];
    const F want = u * v - w * z;
    uint32_t a32[8], b32[8], x32[8], y32[8], r[8];
    to_limbs(a32, u.mont());
    to_limbs(b32, v.mont());
    to_limbs(x32, w.mont());
    to_limbs(y32, z.mont());
    for (uint32_t flag : {0u, 1u}) {
      CarryEmu c(flag);
      mont32::mul_sub_mul<P>(c, r, a32, b32, x32, y32);
      if (F::from_mont(from_limbs(r)) != want && reported++ < 5) ADD_FAILURE() << "operands " << i << ", flag " << flag;
    }
  }
  EXPECT_EQ(reported, 0);
}

// ---- Karatsuba: mul_wide_karatsuba, mul_karatsuba ---------------------------------------------

// Operand pairs below 2^255 for the Karatsuba product: those of MulWideEqualsGmp and
// SqrWideEqualsGmp, values whose halves make each branch of it likely (equal halves, a high half
// a little above or below the low one, halves of all ones, high halves zero), and pairs whose
// product carries into limb 15 in the last step. That carry needs a1 b1 mod 2^224 within
// mid / 2^128 of 2^224 (96 bits of ones, which random operands never give): with
// a1 = m1 (2^112 + t), b1 = m2 (2^112 - t), a1 b1 = m1 m2 2^224 - m1 m2 t^2, and low halves near
// 2^128 make mid large enough.
template <class F>
std::vector<std::pair<std::array<uint32_t, 8>, std::array<uint32_t, 8>>> karatsuba_pairs(std::mt19937_64& rng,
                                                                                           size_t n) {
  auto xs = wide_operands<F>(rng, n);
  const auto tops = top_row_carry_operands<F>(rng, n / 20);
  xs.insert(xs.end(), tops.begin(), tops.end());
  const uint32_t pick[] = {0u, 1u, 0x7fffffffu, 0x80000000u, 0xffffffffu};
  for (size_t i = 0; i < n / 4; ++i) {
    std::array<uint32_t, 8> x;
    for (int j = 0; j < 4; ++j) x[j] = rng() % 3 ? pick[rng() % 5] : uint32_t(rng());
    for (int j = 0; j < 4; ++j) x[4 + j] = x[j];
    switch (i % 4) {
      case 0: break;                               // equal halves
      case 1: x[4] += uint32_t(rng() % 3); break;  // high half a little above (or equal)
      case 2: x[0] += uint32_t(rng() % 3); break;  // low half a little above
      default:
        for (int j = 0; j < 4; ++j) x[j] = 0xffffffffu;
        for (int j = 4; j < 8; ++j) x[j] = rng() % 2 ? 0xffffffffu : uint32_t(rng());
        break;
    }
    x[7] &= 0x7fffffffu;  // below 2^255
    xs.push_back(x);
  }
  std::vector<std::pair<std::array<uint32_t, 8>, std::array<uint32_t, 8>>> out;
  for (size_t i = 0; i < xs.size(); ++i) out.push_back({xs[i], xs[(i * 7919 + 13) % xs.size()]});
  // High halves zero: zm = z0, so the third product sees the carry-prone limbs the first does
  // (differences of random halves rarely give them).
  for (size_t i = 0; i < n / 8; ++i) {
    auto [a, b] = out[i];
    for (int j = 4; j < 8; ++j) a[j] = b[j] = 0;
    out.push_back({a, b});
  }
  // The carry into limb 15. High halves: m (2^112 +- t) = m 2^112 +- m t, limbs 4..7 of the
  // operand (m < 2^15, t < 2^40: m t < 2^55 fits limbs 4 and 5, m 2^112 is limb 7's m << 16).
  for (size_t i = 0; i < n / 40; ++i) {
    std::array<uint32_t, 8> a{}, b{};
    const uint64_t m1 = 1 + rng() % 0x7fff, m2 = 1 + rng() % 0x7fff, t = 1 + rng() % (uint64_t{1} << 40);
    const uint64_t at = m1 * t;
    for (int j = 0; j < 4; ++j) {
      a[j] = uint32_t(rng()) | 0x80000000u;
      b[j] = uint32_t(rng()) | 0x80000000u;
    }
    a[4] = uint32_t(at);
    a[5] = uint32_t(at >> 32);
    a[7] = uint32_t(m1 << 16);
    // b1 = (m2 2^112 - 2^112) + (2^112 - m2 t): limbs 4..6 of 2^112 - m2 t, then limb 7 of m2 - 1.
    const uint64_t lo = 0 - m2 * t;  // 2^64 - m2 t: limbs 4 and 5, with limb 6 all ones
    b[4] = uint32_t(lo);
    b[5] = uint32_t(lo >> 32);
    b[6] = 0xffffffffu;
    b[7] = uint32_t((m2 - 1) << 16) | 0xffffu;
    out.push_back({a, b});
  }
  return out;
}

TYPED_TEST(Mont32Emu, MulWideKaratsubaEqualsGmp) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  const auto pairs = karatsuba_pairs<F>(rng, 40000);
  Mpz a, b, want;
  auto product = [&](size_t i) {
    mpz_from_limbs(a.v, pairs[i].first.data(), 8);
    mpz_from_limbs(b.v, pairs[i].second.data(), 8);
    mpz_mul(want.v, a.v, b.v);
    return limbs_from_mpz(want.v);
  };
  int reported = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto expected = product(i);
    for (uint32_t flag : {0u, 1u}) {
      std::array<uint32_t, 16> w;
      CarryEmu c(flag);
      mont32::mul_wide_karatsuba(c, w.data(), pairs[i].first.data(), pairs[i].second.data());
      if (w != expected && reported++ < 5) ADD_FAILURE() << "operand pair " << i << ", flag " << flag;
    }
  }
  EXPECT_EQ(reported, 0);
  expect_all_carries_taken(pairs.size(), [&](TracingEmu& c, size_t i) {
    std::array<uint32_t, 16> w;
    mont32::mul_wide_karatsuba(c, w.data(), pairs[i].first.data(), pairs[i].second.data());
    return w == product(i);
  });
}

// The Montgomery product through Karatsuba (mul_karatsuba) against the host's, both initial
// flags, over the operands of the elementwise tests.
TYPED_TEST(Mont32Emu, MulKaratsubaEqualsHost) {
  using F = TypeParam;
  using P = typename F::Params;
  auto rng = testing::seeded_rng();
  std::vector<F> a, b;
  testing::make_operands<F>(rng, 100003, a, b);
  int reported = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const F want = a[i] * b[i];
    uint32_t x[8], y[8], z[8];
    to_limbs(x, a[i].mont());
    to_limbs(y, b[i].mont());
    for (uint32_t flag : {0u, 1u}) {
      CarryEmu c(flag);
      mont32::mul_karatsuba<P>(c, z, x, y);
      if (F::from_mont(from_limbs(z)) != want && reported++ < 5)
        ADD_FAILURE() << "element " << i << " (initial carry " << flag << "): a=" << u256_to_hex(a[i].mont())
                      << " b=" << u256_to_hex(b[i].mont());
    }
  }
  EXPECT_EQ(reported, 0);
}

// ---- Products by a fixed factor (Shoup): mul_low, mul_high_approx, shoup_quotient, mul_shoup ----

// Full-width 256-bit operands from carry-prone limbs (0, 1, 2^31, 2^32 - 1, the modulus' limbs,
// random), and field elements' Montgomery words.
template <class F>
std::vector<std::array<uint32_t, 8>> full_width_operands(std::mt19937_64& rng, size_t n) {
  uint32_t p[8];
  to_limbs(p, F::MOD);
  std::vector<std::array<uint32_t, 8>> out;
  for (size_t i = 0; i < n / 2; ++i) {
    std::array<uint32_t, 8> x;
    for (int j = 0; j < 8; ++j) {
      switch (rng() % 6) {
        case 0: x[j] = 0; break;
        case 1: x[j] = 1; break;
        case 2: x[j] = 0x80000000u; break;
        case 3: x[j] = 0xffffffffu; break;
        case 4: x[j] = p[j]; break;
        default: x[j] = uint32_t(rng()); break;
      }
    }
    out.push_back(x);
  }
  for (const F& v : limb_pattern_values<F>(rng, n / 2)) {
    std::array<uint32_t, 8> x;
    to_limbs(x.data(), v.mont());
    out.push_back(x);
  }
  return out;
}

TYPED_TEST(Mont32Emu, MulLowEqualsGmp) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  const auto xs = full_width_operands<F>(rng, 20000);
  auto other = [&](size_t i) -> const std::array<uint32_t, 8>& { return xs[(i * 7919 + 13) % xs.size()]; };
  Mpz a, b, want;
  expect_all_carries_taken(xs.size(), [&](TracingEmu& c, size_t i) {
    const auto& y = other(i);
    uint32_t r[8];
    mont32::mul_low(c, r, xs[i].data(), [&](int j) { return y[j]; });
    mpz_from_limbs(a.v, xs[i].data(), 8);
    mpz_from_limbs(b.v, y.data(), 8);
    mpz_mul(want.v, a.v, b.v);
    mpz_fdiv_r_2exp(want.v, want.v, 256);
    const auto w = limbs_from_mpz(want.v);
    return std::equal(r, r + 8, w.begin());
  });
}

// q' of mul_high_approx is floor(x y / 2^256) or one less, for any x, y < 2^256; both occur.
TYPED_TEST(Mont32Emu, MulHighApproxWithinOne) {
  using F = TypeParam;
  auto rng = testing::seeded_rng();
  const auto xs = full_width_operands<F>(rng, 20000);
  auto other = [&](size_t i) -> const std::array<uint32_t, 8>& { return xs[(i * 7919 + 13) % xs.size()]; };
  Mpz a, b, want, got;
  size_t short_by_one = 0;
  expect_all_carries_taken(xs.size(), [&](TracingEmu& c, size_t i) {
    uint32_t q[8];
    mont32::mul_high_approx(c, q, xs[i].data(), other(i).data());
    mpz_from_limbs(a.v, xs[i].data(), 8);
    mpz_from_limbs(b.v, other(i).data(), 8);
    mpz_mul(want.v, a.v, b.v);
    mpz_fdiv_q_2exp(want.v, want.v, 256);
    mpz_from_limbs(got.v, q, 8);
    if (mpz_cmp(got.v, want.v) == 0) return true;
    mpz_add_ui(got.v, got.v, 1);
    short_by_one += mpz_cmp(got.v, want.v) == 0;
    return mpz_cmp(got.v, want.v) == 0;
  });
  EXPECT_GT(short_by_one, 0u) << "the approximation never fell short: the operands do not reach it";
}

// shoup_quotient(m) (and its plain C++ twin) = floor(w 2^256 / p) for the element w whose
// Montgomery words are m; then mul_shoup(a, w, w') = a w mod p, both initial flags, against the
// host product of the elements (a in Montgomery form, w canonical: the result is the Montgomery
// form of a w).
// Carry coverage is the two tests above, over general operands: w' is pseudo-random whatever w
// is, so some carries of mul_high_approx are out of reach of field elements here.
TYPED_TEST(Mont32Emu, MulShoupEqualsHost) {
  using F = TypeParam;
  using P = typename F::Params;
  auto rng = testing::seeded_rng();
  std::vector<F> a, b;
  testing::make_operands<F>(rng, 50003, a, b);
  for (const F& e : testing::edge_values<F>()) {
    a.push_back(e);
    b.push_back(e);
  }
  const std::vector<F> pa = limb_pattern_values<F>(rng, 50000), pb = limb_pattern_values<F>(rng, 50000);
  a.insert(a.end(), pa.begin(), pa.end());
  b.insert(b.end(), pb.begin(), pb.end());
  uint32_t pl[8];
  to_limbs(pl, F::MOD);
  Mpz p, wv, want;
  mpz_from_limbs(p.v, pl, 8);
  int reported = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    uint32_t m[8], w[8], wq[8], x[8], r[8];
    to_limbs(m, b[i].mont());
    to_limbs(w, b[i].to_canonical());
    to_limbs(x, a[i].mont());
    CarryEmu c0(uint32_t(i & 1));
    mont32::shoup_quotient<P>(c0, wq, m);
    mpz_from_limbs(wv.v, w, 8);
    mpz_mul_2exp(want.v, wv.v, 256);
    mpz_fdiv_q(want.v, want.v, p.v);
    const auto wq_want = limbs_from_mpz(want.v);
    if (!std::equal(wq, wq + 8, wq_want.begin()) && reported++ < 5) ADD_FAILURE() << "w' of element " << i;
    uint32_t wq_plain[8];
    mont32::shoup_quotient_plain<P>(wq_plain, m);  // the host tables' version
    if (!std::equal(wq_plain, wq_plain + 8, wq_want.begin()) && reported++ < 5)
      ADD_FAILURE() << "plain w' of element " << i;
    for (uint32_t flag : {0u, 1u}) {
      CarryEmu c(flag);
      mont32::mul_shoup<P>(c, r, x, w, wq);
      if (F::from_mont(from_limbs(r)) != a[i] * b[i] && reported++ < 5)
        ADD_FAILURE() << "element " << i << " (initial carry " << flag << "): a=" << u256_to_hex(a[i].mont())
                      << " w=" << u256_to_hex(b[i].to_canonical());
    }
  }
  EXPECT_EQ(reported, 0);
}

// d t for the twiddle t in Shoup form, by mul_shoup on the emulator (initial carry flag `carry`).
Fr emu_mul_shoup(const Fr& d, const gpu::ntt::ShoupTwiddle& s, uint32_t carry) {
  uint32_t x[8], w[8], wq[8], r[8];
  to_limbs(x, d.mont());
  to_limbs(w, s.w.mont());
  to_limbs(wq, s.wq.mont());
  CarryEmu c(carry);
  mont32::mul_shoup<bn254::FrParams>(c, r, x, w, wq);
  return Fr::from_mont(from_limbs(r));
}

// The NTT's stage table in Shoup form as the CUDA driver makes it on the host
// (ntt::shoup_stage_table), applied with mul_shoup on the emulator: d t for every twiddle of
// tiles up to 2^12 in both directions, against the host's Montgomery product with the entry of
// the stage table the simulator uses, whose entries come from power_entry (square-and-multiply)
// rather than the running product shoup_stage_table keeps.
TEST(Mont32EmuShoup, NttStageTwiddles) {
  namespace ntt = gpu::ntt;
  auto rng = testing::seeded_rng();
  int reported = 0;
  for (const bool inverse : {false, true}) {
    const std::vector<ntt::ShoupTwiddle> table = ntt::shoup_stage_table(ntt::kMaxTileLog, inverse);
    ASSERT_EQ(table.size(), ntt::stage_entries(ntt::kMaxTileLog));
    for (uint32_t k = 1; k <= ntt::kMaxTileLog; ++k) {
      const ntt::PowerFill f = ntt::stage_fill(k, inverse);
      for (uint64_t i = 0; i < f.count; ++i) {
        const Fr t = ntt::power_entry(f.base, f.scale, i);
        const ntt::ShoupTwiddle& s = table[f.offset + i];
        const Fr d = testing::random_values<Fr>(rng, 1)[0];
        if (emu_mul_shoup(d, s, uint32_t(i & 1)) != d * t && reported++ < 5)
          ADD_FAILURE() << (inverse ? "inverse" : "forward") << " span 2^" << k - 1 << " entry " << i;
      }
    }
  }
  EXPECT_EQ(reported, 0);
}

// The non-last passes' twiddle tables in Shoup form as the CUDA driver fills them on the device
// (ntt::pass_twiddle_shoup_entry, NttDriverConfig::shoup_pass_twiddles), applied with mul_shoup
// on the emulator: d t against the host's Montgomery product with the entry of the Montgomery
// table (ntt::pass_twiddle_entry), for sampled entries of every non-last pass of the default
// shape at 2^20 and 2^24 and of small tiles, both directions.
TEST(Mont32EmuShoup, NttPassTwiddles) {
  namespace ntt = gpu::ntt;
  auto rng = testing::seeded_rng();
  int reported = 0, checked = 0;
  struct Case {
    uint32_t log_n, tile_log;
  };
  for (const Case k : {Case{20, ntt::kDefaultTileLog}, Case{24, ntt::kDefaultTileLog}, Case{14, 5}}) {
    ntt::Shape shape;
    shape.tile_log = k.tile_log;
    const ntt::PassTables pt = ntt::pass_tables(k.log_n, shape);
    ASSERT_GT(pt.count, 0u);
    for (const bool inverse : {false, true}) {
      const zkinfer::Domain dom(k.log_n);
      std::vector<Fr> level(ntt::powers_entries(k.log_n));
      for (const ntt::PowerFill& f : ntt::powers_fills(k.log_n, inverse ? dom.omega_inv : dom.omega, Fr::one()))
        for (uint64_t i = 0; i < f.count; ++i) level[f.offset + i] = ntt::power_entry(f.base, f.scale, i);
      const ntt::Powers powers = ntt::powers_at(level.data(), k.log_n);
      for (uint32_t p = 0; p < pt.count; ++p) {
        const uint64_t entries = uint64_t{1} << pt.passes[p].ls;
        for (int sample = 0; sample < 300; ++sample) {
          const uint64_t i = sample < 3 ? uint64_t(sample) : rng() % entries;
          const Fr t = ntt::pass_twiddle_entry(pt.passes[p], powers, i);
          const ntt::ShoupTwiddle s = ntt::pass_twiddle_shoup_entry(pt.passes[p], powers, i);
          const Fr d = testing::random_values<Fr>(rng, 1)[0];
          ++checked;
          if (emu_mul_shoup(d, s, uint32_t(i & 1)) != d * t && reported++ < 5)
            ADD_FAILURE() << "2^" << k.log_n << (inverse ? " inverse" : " forward") << ", pass " << p << " entry " << i;
        }
      }
    }
  }
  EXPECT_EQ(reported, 0);
  EXPECT_GT(checked, 3000);
}

// fq2_mul and fq2_sqr against the host's Fq2 (three reduced products), both initial carry
// flags, as one fixed instruction sequence, with schoolbook and with Karatsuba 512-bit products.
// Their products and reductions are the steps tested above; what they add are plain chains whose
// carries any operands exercise.
template <bool kKaratsuba>
void expect_fq2_equal_host() {
  using P = bn254::FqParams;
  auto rng = testing::seeded_rng();
  const std::vector<Fq2> xs = fq2_values(rng, 20000);
  for (bool square : {false, true}) {
    SCOPED_TRACE(square ? "fq2_sqr" : "fq2_mul");
    std::array<TracingEmu::Seen, TracingEmu::kMaxSteps> seen{};
    size_t steps = 0;
    int reported = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const Fq2& a = xs[i];
      const Fq2& b = square ? a : xs[(i * 7919 + 13) % xs.size()];
      const Fq2 want = square ? a.sqr() : a * b;
      uint32_t a0[8], a1[8], b0[8], b1[8], r0[8], r1[8];
      fq2_limbs(a0, a1, a);
      fq2_limbs(b0, b1, b);
      TracingEmu c(seen);
      if (square)
        mont32::fq2_sqr<P, kKaratsuba>(c, r0, r1, a0, a1);
      else
        mont32::fq2_mul<P, kKaratsuba>(c, r0, r1, a0, a1, b0, b1);
      if (i == 0) steps = c.steps();
      ASSERT_EQ(c.steps(), steps) << "not straight-line";
      if (fq2_from(r0, r1) != want && reported++ < 5) ADD_FAILURE() << "element " << i;
      CarryEmu one(1);  // the flag left set by an earlier chain must not matter
      if (square)
        mont32::fq2_sqr<P, kKaratsuba>(one, r0, r1, a0, a1);
      else
        mont32::fq2_mul<P, kKaratsuba>(one, r0, r1, a0, a1, b0, b1);
      if (fq2_from(r0, r1) != want && reported++ < 5) ADD_FAILURE() << "element " << i << ", initial carry 1";
    }
    EXPECT_EQ(reported, 0);
  }
}

TEST(Mont32EmuFq2, MulAndSqrEqualHost) { expect_fq2_equal_host<false>(); }
TEST(Mont32EmuFq2, KaratsubaMulAndSqrEqualHost) { expect_fq2_equal_host<true>(); }

// fq2_mul_sub_mul(a, b, x, y) = a b - x y against the host's Fq2 (two products and a
// subtraction), both initial flags: limb-pattern and edge elements, a b - a b = 0, and every
// combination of elements whose Montgomery words are 0 or p - 1, which put each coefficient's
// unreduced sum at the ends of its range (0, 4 p^2).
TEST(Mont32EmuFq2, MulSubMulEqualsHost) {
  using P = bn254::FqParams;
  auto rng = testing::seeded_rng();
  const std::vector<Fq2> xs = fq2_values(rng, 20000);
  U256 top = P::modulus;
  top.w[0] -= 1;
  const Fq lo = Fq::from_mont(U256{}), hi = Fq::from_mont(top);
  const std::vector<Fq2> ends = {{lo, lo}, {lo, hi}, {hi, lo}, {hi, hi}};
  std::vector<std::array<Fq2, 4>> cases;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Fq2& a = xs[i];
    const Fq2& b = xs[(i * 7919 + 13) % xs.size()];
    const bool same = i % 5 == 0;  // a b - a b = 0
    cases.push_back({a, b, same ? a : xs[(i * 104729 + 7) % xs.size()], same ? b : xs[(i * 31 + 3) % xs.size()]});
  }
  for (const Fq2& a : ends)
    for (const Fq2& b : ends)
      for (const Fq2& x : ends)
        for (const Fq2& y : ends) cases.push_back({a, b, x, y});
  int reported = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [a, b, x, y] = cases[i];
    const Fq2 want = a * b - x * y;
    uint32_t a0[8], a1[8], b0[8], b1[8], x0[8], x1[8], y0[8], y1[8], r0[8], r1[8];
    fq2_limbs(a0, a1, a);
    fq2_limbs(b0, b1, b);
    fq2_limbs(x0, x1, x);
    fq2_limbs(y0, y1, y);
    for (uint32_t flag : {0u, 1u}) {
      CarryEmu c(flag);
      mont32::fq2_mul_sub_mul<P>(c, r0, r1, a0, a1, b0, b1, x0, x1, y0, y1);
      if (fq2_from(r0, r1) != want && reported++ < 5) ADD_FAILURE() << "case " << i << ", flag " << flag;
    }
  }
  EXPECT_EQ(reported, 0);
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
