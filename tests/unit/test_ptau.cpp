// .ptau reader and the development .ptau writer: a file from known secrets checked point by
// point against independent computations (tau powers by scalar_mul, Lagrange values by their
// defining sum), the Lagrange blocks of snarkjs's own file (tests/data/setup) checked against its
// tau powers without knowing tau, a random development file checked by pairings, and damaged
// files refused with errors that name the section.
#include "zkinfer/prover/ptau.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "../support/binfile_testing.h"
#include "../support/seed.h"
#include "cpu/msm.h"
#include "zkinfer/ec/pairing.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer::prover {
namespace {

using ::testing::HasSubstr;
using zkinfer::testing::RawFile;
using zkinfer::testing::TempPath;

const std::string kSnarkjsPtau = (zkinfer::testing::test_data_dir() / "setup" / "pot8.ptau").string();

template <class C>
Affine<C> gen() {
  if constexpr (std::is_same_v<C, G1Curve>) return g1_generator();
  else return g2_generator();
}

template <class C>
Affine<C> times_gen(const Fr& k) {
  return scalar_mul(Jacobian<C>::from_affine(gen<C>()), k.to_canonical()).to_affine();
}

// L_i(tau) for the 2^log_n domain straight from the inverse DFT of (tau^j):
// (1/n) sum_{j < n} (tau w^-i)^j, leaving out j = n - 1 when `drop_last`.
Fr lagrange_by_sum(unsigned log_n, const Fr& tau, size_t i, bool drop_last) {
  size_t n = size_t{1} << log_n;
  Fr x = tau * fr_root_of_unity(log_n).inverse().pow((uint64_t)i);
  Fr sum = Fr::zero(), p = Fr::one();
  for (size_t j = 0; j < n - (drop_last ? 1 : 0); ++j) {
    sum += p;
    p *= x;
  }
  return sum * Fr::from_u64(n).inverse();
}

struct Secrets {
  Fr tau, alpha, beta;
};

Secrets random_secrets(std::mt19937_64& rng) {
  return {field_random<Fr>(rng), field_random<Fr>(rng), field_random<Fr>(rng)};
}

TEST(Ptau, KnownSecretsEveryPointMatches) {
  auto rng = zkinfer::testing::seeded_rng();
  const unsigned power = 3;
  const size_t n = size_t{1} << power;
  Secrets s = random_secrets(rng);
  TempPath path(".ptau");
  write_ptau_with_known_secrets(path.str(), power, s.tau, s.alpha, s.beta);
  Ptau p = Ptau::open(path.str());
  EXPECT_EQ(p.power(), power);
  EXPECT_EQ(p.ceremony_power(), power);
  EXPECT_EQ(p.n_contributions(), 0u);
  EXPECT_EQ(p.contributions().size(), 4u);
  EXPECT_TRUE(p.prepared());

  ASSERT_EQ(p.tau_g1().size(), 2 * n - 1);
  ASSERT_EQ(p.tau_g2().size(), n);
  ASSERT_EQ(p.alpha_tau_g1().size(), n);
  ASSERT_EQ(p.beta_tau_g1().size(), n);
  Fr t = Fr::one();
  for (size_t i = 0; i < 2 * n - 1; ++i, t *= s.tau) {
    EXPECT_EQ(p.tau_g1()[i], times_gen<G1Curve>(t)) << i;
    if (i >= n) continue;
    EXPECT_EQ(p.tau_g2()[i], times_gen<G2Curve>(t)) << i;
    EXPECT_EQ(p.alpha_tau_g1()[i], times_gen<G1Curve>(s.alpha * t)) << i;
    EXPECT_EQ(p.beta_tau_g1()[i], times_gen<G1Curve>(s.beta * t)) << i;
  }
  EXPECT_EQ(p.beta_g2(), times_gen<G2Curve>(s.beta));

  for (unsigned k = 0; k <= power + 1; ++k) {
    auto l1 = p.lagrange_tau_g1(k);
    ASSERT_EQ(l1.size(), size_t{1} << k);
    for (size_t i = 0; i < l1.size(); ++i) {
      Fr l = lagrange_by_sum(k, s.tau, i, k == power + 1);
      EXPECT_EQ(l1[i], times_gen<G1Curve>(l)) << "k " << k << " i " << i;
      if (k > power) continue;
      EXPECT_EQ(p.lagrange_tau_g2(k)[i], times_gen<G2Curve>(l)) << "k " << k << " i " << i;
      EXPECT_EQ(p.lagrange_alpha_tau_g1(k)[i], times_gen<G1Curve>(s.alpha * l)) << "k " << k << " i " << i;
      EXPECT_EQ(p.lagrange_beta_tau_g1(k)[i], times_gen<G1Curve>(s.beta * l)) << "k " << k << " i " << i;
    }
  }
  EXPECT_THROW(p.lagrange_tau_g1(power + 2), std::out_of_range);
  EXPECT_THROW(p.lagrange_tau_g2(power + 1), std::out_of_range);
  EXPECT_THROW(p.lagrange_alpha_tau_g1(power + 1), std::out_of_range);

  // A second read of a slice is the same memory (cached or mapped), and equal.
  EXPECT_EQ(p.lagrange_tau_g2(2).data(), p.lagrange_tau_g2(2).data());
}

TEST(Ptau, KnownSecretsFileIsDeterministic) {
  auto rng = zkinfer::testing::seeded_rng();
  Secrets s = random_secrets(rng);
  TempPath a(".ptau"), b(".ptau");
  write_ptau_with_known_secrets(a.str(), 4, s.tau, s.alpha, s.beta);
  write_ptau_with_known_secrets(b.str(), 4, s.tau, s.alpha, s.beta);
  EXPECT_EQ(zkinfer::testing::read_bytes(a.str()), zkinfer::testing::read_bytes(b.str()));
}

TEST(Ptau, WriterRefusesBadArguments) {
  TempPath path(".ptau");
  Fr one = Fr::one();
  EXPECT_THROW(write_ptau_with_known_secrets(path.str(), 0, Fr::from_u64(2), one, one), std::invalid_argument);
  EXPECT_THROW(write_ptau_with_known_secrets(path.str(), 28, Fr::from_u64(2), one, one), std::invalid_argument);
  EXPECT_THROW(write_ptau_with_known_secrets(path.str(), 3, Fr::zero(), one, one), std::invalid_argument);
  EXPECT_THROW(write_ptau_with_known_secrets(path.str(), 3, Fr::from_u64(2), Fr::zero(), one), std::invalid_argument);
  // tau a 16th root of unity: the Lagrange forms would divide by zero.
  EXPECT_THROW(write_ptau_with_known_secrets(path.str(), 3, fr_root_of_unity(4), one, one), std::invalid_argument);
  EXPECT_THROW(write_dev_ptau(path.str(), 0), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(path.str()));
}

// sum_i L_i w^(ij) = tau^j P for j < n (the Lagrange block interpolates x^j): checks a block
// against the plain powers without knowing tau. For snarkjs's last tauG1 block, j = n - 1 gives
// the point at infinity (the power it leaves out).
template <class C>
Affine<C> interpolate_power(std::span<const Affine<C>> block, size_t j) {
  unsigned k = (unsigned)__builtin_ctzll(block.size());
  Fr w = fr_root_of_unity(k).pow((uint64_t)j);
  std::vector<Fr> sc(block.size());
  Fr x = Fr::one();
  for (auto& v : sc) {
    v = x;
    x *= w;
  }
  Jacobian<C> out;
  if constexpr (std::is_same_v<C, G1Curve>) cpu::msm_g1(out, sc.data(), block.data(), sc.size());
  else cpu::msm_g2(out, sc.data(), block.data(), sc.size());
  return out.to_affine();
}

void check_lagrange_against_powers(const Ptau& p, std::mt19937_64& rng) {
  const unsigned power = p.power();
  for (unsigned k = 0; k <= power + 1; ++k) {
    const size_t n = size_t{1} << k;
    std::vector<size_t> js = {0, n - 1, (size_t)(rng() % n)};
    for (size_t j : js) {
      SCOPED_TRACE("block 2^" + std::to_string(k) + ", power " + std::to_string(j));
      if (k == power + 1 && j == n - 1) {
        EXPECT_TRUE(interpolate_power<G1Curve>(p.lagrange_tau_g1(k), j).is_infinity());
      } else {
        EXPECT_EQ(interpolate_power<G1Curve>(p.lagrange_tau_g1(k), j), p.tau_g1()[j]);
      }
      if (k > power) continue;
      EXPECT_EQ(interpolate_power<G2Curve>(p.lagrange_tau_g2(k), j), p.tau_g2()[j]);
      EXPECT_EQ(interpolate_power<G1Curve>(p.lagrange_alpha_tau_g1(k), j), p.alpha_tau_g1()[j]);
      EXPECT_EQ(interpolate_power<G1Curve>(p.lagrange_beta_tau_g1(k), j), p.beta_tau_g1()[j]);
    }
  }
}

// tests/data/setup/pot8.ptau: snarkjs 0.7.6 `powersoftau new bn128 8`, one contribution,
// `prepare phase2` (README.md there).
TEST(Ptau, SnarkjsFileLagrangeBlocksInterpolateItsPowers) {
  auto rng = zkinfer::testing::seeded_rng();
  Ptau p = Ptau::open(kSnarkjsPtau);
  EXPECT_EQ(p.power(), 8u);
  EXPECT_EQ(p.ceremony_power(), 8u);
  EXPECT_EQ(p.n_contributions(), 1u);
  EXPECT_TRUE(p.prepared());
  check_lagrange_against_powers(p, rng);
}

// Consistency of a random development file by pairings: the ratios tau, alpha, beta agree
// between the sections, as a ceremony verifier would check them.
TEST(Ptau, DevFileIsConsistent) {
  auto rng = zkinfer::testing::seeded_rng();
  TempPath path(".ptau");
  std::vector<std::string> steps;
  write_dev_ptau(path.str(), 5, [&](std::string_view s, double secs) {
    steps.emplace_back(s);
    EXPECT_GE(secs, 0.0);
  });
  EXPECT_FALSE(steps.empty());
  Ptau p = Ptau::open(path.str());
  const G1Affine g1 = g1_generator();
  const G2Affine g2 = g2_generator();
  auto same_ratio = [](const G1Affine& a, const G2Affine& b, const G1Affine& c, const G2Affine& d) {
    // e(a, b) == e(c, d)
    G1Affine ps[2] = {a, -c};
    G2Affine qs[2] = {b, d};
    return pairing_product_is_one(ps, qs, 2);
  };
  auto t1 = p.tau_g1();
  auto t2 = p.tau_g2();
  EXPECT_EQ(t1[0], g1);
  EXPECT_EQ(t2[0], g2);
  EXPECT_FALSE(t1[1] == g1);
  for (size_t i = 1; i < t1.size(); i += 7) EXPECT_TRUE(same_ratio(t1[i], g2, t1[i - 1], t2[1])) << i;
  for (size_t i = 1; i < t2.size(); i += 5) EXPECT_TRUE(same_ratio(g1, t2[i], t1[i], g2)) << i;
  auto a1 = p.alpha_tau_g1();
  auto b1 = p.beta_tau_g1();
  for (size_t i = 1; i < a1.size(); i += 3) {
    EXPECT_TRUE(same_ratio(a1[i], g2, a1[0], t2[i])) << i;
    EXPECT_TRUE(same_ratio(b1[i], g2, b1[0], t2[i])) << i;
  }
  EXPECT_TRUE(same_ratio(b1[0], g2, g1, p.beta_g2()));
  check_lagrange_against_powers(p, rng);
}

// Two dev files never share secrets.
TEST(Ptau, DevFilesDiffer) {
  TempPath a(".ptau"), b(".ptau");
  write_dev_ptau(a.str(), 1);
  write_dev_ptau(b.str(), 1);
  EXPECT_NE(Ptau::open(a.str()).tau_g1()[1], Ptau::open(b.str()).tau_g1()[1]);
}

// ---- damaged files ---------------------------------------------------------------------------

class PtauDamage : public ::testing::Test {
 protected:
  void SetUp() override {
    Fr tau = Fr::from_u64(7), alpha = Fr::from_u64(11), beta = Fr::from_u64(13);
    write_ptau_with_known_secrets(good_.str(), 2, tau, alpha, beta);
    bytes_ = zkinfer::testing::read_bytes(good_.str());
  }
  // Parses modified bytes; returns the FormatError message ("" if it parsed).
  std::string error_of(const std::vector<uint8_t>& b, bool touch_points = false) {
    try {
      Ptau p = Ptau::parse(b, "bad.ptau");
      if (touch_points) {
        p.tau_g1();
        p.tau_g2();
        p.alpha_tau_g1();
        p.beta_tau_g1();
        for (unsigned k = 0; k <= p.power(); ++k) {
          p.lagrange_tau_g1(k);
          p.lagrange_tau_g2(k);
          p.lagrange_alpha_tau_g1(k);
          p.lagrange_beta_tau_g1(k);
        }
        p.lagrange_tau_g1(p.power() + 1);
      }
    } catch (const FormatError& e) {
      return e.what();
    }
    return "";
  }
  TempPath good_{".ptau"};
  std::vector<uint8_t> bytes_;
};

TEST_F(PtauDamage, GoodFileParses) { EXPECT_EQ(error_of(bytes_, true), ""); }

TEST_F(PtauDamage, EveryTruncationIsRefused) {
  for (size_t len = 0; len < bytes_.size(); len += (len < 200 ? 1 : 97)) {
    std::vector<uint8_t> b(bytes_.begin(), bytes_.begin() + len);
    EXPECT_THAT(error_of(b), HasSubstr("bad.ptau")) << "length " << len;
  }
}

TEST_F(PtauDamage, HeaderFields) {
  RawFile f = zkinfer::testing::split(bytes_);
  {
    RawFile g = f;
    g.section(1).payload[4] ^= 1;  // q
    EXPECT_THAT(error_of(zkinfer::testing::join(g)), HasSubstr("section 1 (header): prime q"));
  }
  {
    RawFile g = f;
    zkinfer::testing::put_u32(g.section(1).payload.data(), 48);
    EXPECT_THAT(error_of(zkinfer::testing::join(g)), HasSubstr("n8 is 48"));
  }
  {
    RawFile g = f;
    zkinfer::testing::put_u32(g.section(1).payload.data() + 36, 3);  // power 3: sizes are power 2's
    EXPECT_THAT(error_of(zkinfer::testing::join(g)), HasSubstr("section 2 (tauG1): size"));
  }
  {
    RawFile g = f;
    zkinfer::testing::put_u32(g.section(1).payload.data() + 36, 29);
    EXPECT_THAT(error_of(zkinfer::testing::join(g)), HasSubstr("power 29"));
  }
  {
    RawFile g = f;
    g.section(1).payload.push_back(0);
    EXPECT_THAT(error_of(zkinfer::testing::join(g)), HasSubstr("section 1 (header)"));
  }
  {
    RawFile g = f;
    g.magic = "zkey";
    EXPECT_THAT(error_of(zkinfer::testing::join(g)), HasSubstr("not a .ptau file"));
  }
}

TEST_F(PtauDamage, SectionSizesAreExact) {
  const RawFile f = zkinfer::testing::split(bytes_);
  for (uint32_t type : {2u, 3u, 4u, 5u, 6u, 12u, 13u, 14u, 15u}) {
    for (int delta : {-1, 1, -64, 64}) {
      RawFile g = f;
      auto& p = g.section(type).payload;
      if (delta < 0) p.resize(p.size() + delta);
      else p.insert(p.end(), (size_t)delta, 0);
      EXPECT_THAT(error_of(zkinfer::testing::join(g)),
                  HasSubstr("section " + std::to_string(type) + " ("))
          << "section " << type << " size change " << delta;
    }
  }
}

TEST_F(PtauDamage, MissingSections) {
  const RawFile f = zkinfer::testing::split(bytes_);
  for (uint32_t type : {1u, 2u, 3u, 4u, 5u, 6u, 7u}) {
    RawFile g = f;
    g.sections.erase(std::find_if(g.sections.begin(), g.sections.end(),
                                  [&](const auto& s) { return s.type == type; }));
    EXPECT_THAT(error_of(zkinfer::testing::join(g)),
                HasSubstr("section " + std::to_string(type) + " (")) << type;
  }
  // One prepared section without the others.
  RawFile g = f;
  g.sections.erase(std::find_if(g.sections.begin(), g.sections.end(), [](const auto& s) { return s.type == 14; }));
  EXPECT_THAT(error_of(zkinfer::testing::join(g)), HasSubstr("section 14 (Lagrange alphaTauG1) is missing"));
  // None of them: a valid, unprepared file.
  RawFile u = f;
  std::erase_if(u.sections, [](const auto& s) { return s.type >= 12; });
  auto ub = zkinfer::testing::join(u);
  Ptau p = Ptau::parse(ub, "unprepared.ptau");
  EXPECT_FALSE(p.prepared());
  EXPECT_EQ(p.tau_g1().size(), 7u);
  try {
    p.lagrange_tau_g1(1);
    ADD_FAILURE() << "no error";
  } catch (const FormatError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not prepared"));
  }
}

TEST_F(PtauDamage, BadPointsAreFoundWhenRead) {
  const RawFile f = zkinfer::testing::split(bytes_);
  for (uint32_t type : {2u, 3u, 4u, 5u, 12u, 13u, 14u, 15u}) {
    RawFile g = f;
    auto& p = g.section(type).payload;
    p[p.size() - 40] ^= 0x10;  // y of the last point: off the curve
    auto b = zkinfer::testing::join(g);
    std::string err = error_of(b, true);
    EXPECT_THAT(err, HasSubstr("section " + std::to_string(type) + " (")) << type;
    EXPECT_THAT(err, HasSubstr("not on the curve")) << type;
  }
  {
    RawFile g = f;
    g.section(6).payload[70] ^= 1;  // betaG2: checked on open
    EXPECT_THAT(error_of(zkinfer::testing::join(g)), HasSubstr("section 6 (betaG2)"));
  }
  {
    RawFile g = f;
    auto& p = g.section(2).payload;
    std::fill(p.begin() + 64 + 32, p.begin() + 128, 0xff);  // tauG1[1].y >= q: checked on open
    EXPECT_THAT(error_of(zkinfer::testing::join(g)), HasSubstr("section 2 (tauG1): point 1"));
  }
}

TEST_F(PtauDamage, FileBytesPastTauG1) {
  Ptau p = Ptau::parse(bytes_, "good.ptau");
  const RawFile f = zkinfer::testing::split(bytes_);
  size_t off = zkinfer::testing::payload_offset(f, 2);
  auto b = p.tau_g1_file_bytes(7, 1);  // one past the 7 points of section 2
  ASSERT_EQ(b.size(), 64u);
  EXPECT_TRUE(std::equal(b.begin(), b.end(), bytes_.begin() + off + 7 * 64));
  EXPECT_EQ(zkinfer::testing::get_u32(b.data()), 3u);  // section 3's header follows
  EXPECT_THROW(p.tau_g1_file_bytes(bytes_.size() / 64, 2), FormatError);
}

}  // namespace
}  // namespace zkinfer::prover
