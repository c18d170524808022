// .zkey reader and writer: round trips of random keys, zero-copy views, snarkjs's misaligned
// section order, every truncation, targeted corruptions, and a real snarkjs key (tests/data).
#include "zkinfer/prover/zkey.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "../support/binfile_testing.h"
#include "../support/seed.h"
#include "zkinfer/ec/serialize.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/r1cs.h"

namespace zkinfer::prover {
namespace {

using ::testing::HasSubstr;
using zkinfer::testing::RawFile;

// Small multiples of the generators: valid points, cheap to make.
template <class C, class Rng>
Affine<C> random_point(Rng& rng) {
  Affine<C> g;
  if constexpr (std::is_same_v<C, G1Curve>)
    g = g1_generator();
  else
    g = g2_generator();
  return scalar_mul(Jacobian<C>::from_affine(g), U256{{rng() | 1, 0, 0, 0}}).to_affine();
}

struct KeyData {
  ZkeyHeader header;
  std::vector<ZkeyCoef> coefs;
  std::vector<G1Affine> ic, a, b1, c, h;
  std::vector<G2Affine> b2;
  std::vector<uint8_t> contributions;

  ZkeyParts parts() const { return {header, coefs, ic, a, b1, c, h, b2, contributions}; }
};

// One phase-2 contribution with a name parameter, as snarkjs writes them.
std::vector<uint8_t> contributions_section(std::mt19937_64& rng) {
  std::vector<uint8_t> s(64);
  for (auto& x : s) x = (uint8_t)rng();
  s.insert(s.end(), {1, 0, 0, 0});                  // n = 1
  s.resize(s.size() + 3 * 64 + 128 + 64, 0x5a);     // points and transcript: not read
  s.insert(s.end(), {1, 0, 0, 0});                  // type
  const std::string name = "test";
  s.insert(s.end(), {(uint8_t)(2 + name.size()), 0, 0, 0});
  s.push_back(1);
  s.push_back((uint8_t)name.size());
  s.insert(s.end(), name.begin(), name.end());
  return s;
}

KeyData random_key(std::mt19937_64& rng, uint32_t n_vars, uint32_t n_public, uint32_t domain_size, size_t n_coefs) {
  KeyData k;
  k.header.n_vars = n_vars;
  k.header.n_public = n_public;
  k.header.domain_size = domain_size;
  k.header.alpha1 = random_point<G1Curve>(rng);
  k.header.beta1 = random_point<G1Curve>(rng);
  k.header.delta1 = random_point<G1Curve>(rng);
  k.header.beta2 = random_point<G2Curve>(rng);
  k.header.gamma2 = random_point<G2Curve>(rng);
  k.header.delta2 = random_point<G2Curve>(rng);
  for (size_t i = 0; i < n_coefs; ++i)
    k.coefs.push_back({(uint32_t)(rng() % 2), (uint32_t)(rng() % domain_size), (uint32_t)(rng() % n_vars),
                       field_random<Fr>(rng)});
  auto g1s = [&](size_t n) {
    std::vector<G1Affine> v(n);
    for (auto& p : v) p = random_point<G1Curve>(rng);
    if (n > 1) v[1] = G1Affine::infinity();  // real keys hold infinity for unused signals
    return v;
  };
  k.ic = g1s(n_public + 1);
  k.a = g1s(n_vars);
  k.b1 = g1s(n_vars);
  k.c = g1s(n_vars - n_public - 1);
  k.h = g1s(domain_size);
  k.b2.resize(n_vars);
  for (auto& p : k.b2) p = random_point<G2Curve>(rng);
  k.b2[0] = G2Affine::infinity();
  k.contributions = contributions_section(rng);
  return k;
}

void expect_same(const ZkeyParts& x, const ZkeyParts& y) {
  EXPECT_EQ(x.header.n_vars, y.header.n_vars);
  EXPECT_EQ(x.header.n_public, y.header.n_public);
  EXPECT_EQ(x.header.domain_size, y.header.domain_size);
  EXPECT_TRUE(x.header.alpha1 == y.header.alpha1 && x.header.beta1 == y.header.beta1 &&
              x.header.delta1 == y.header.delta1);
  EXPECT_TRUE(x.header.beta2 == y.header.beta2 && x.header.gamma2 == y.header.gamma2 &&
              x.header.delta2 == y.header.delta2);
  ASSERT_EQ(x.coefs.size(), y.coefs.size());
  for (size_t i = 0; i < x.coefs.size(); ++i) {
    const auto &p = x.coefs[i], &q = y.coefs[i];
    ASSERT_TRUE(p.matrix == q.matrix && p.constraint == q.constraint && p.signal == q.signal && p.value == q.value)
        << "coefficient " << i;
  }
  auto same = [](auto s, auto t) { return std::equal(s.begin(), s.end(), t.begin(), t.end()); };
  EXPECT_TRUE(same(x.ic, y.ic));
  EXPECT_TRUE(same(x.a, y.a));
  EXPECT_TRUE(same(x.b1, y.b1));
  EXPECT_TRUE(same(x.b2, y.b2));
  EXPECT_TRUE(same(x.c, y.c));
  EXPECT_TRUE(same(x.h, y.h));
  EXPECT_TRUE(same(x.contributions, y.contributions));
}

template <class T>
bool inside(std::span<const T> view, const std::vector<uint8_t>& buf) {
  auto p = reinterpret_cast<const uint8_t*>(view.data());
  return p >= buf.data() && p + view.size_bytes() <= buf.data() + buf.size();
}

std::vector<uint8_t> write_to_bytes(const ZkeyParts& parts) {
  zkinfer::testing::TempPath path(".zkey");
  write_zkey(path.str(), parts);
  return zkinfer::testing::read_bytes(path.str());
}

void expect_format_error(const std::vector<uint8_t>& bytes, const std::string& part,
                         ZkeyCheck check = ZkeyCheck::kPoints) {
  try {
    Zkey::parse(bytes, "bad.zkey", check);
    ADD_FAILURE() << "accepted; expected an error containing \"" << part << "\"";
  } catch (const FormatError& e) {
    EXPECT_THAT(e.what(), HasSubstr(part));
    EXPECT_THAT(e.what(), HasSubstr("bad.zkey"));
  }
}

class ZkeyTest : public ::testing::Test {
 protected:
  std::mt19937_64 rng = zkinfer::testing::seeded_rng();
};

TEST_F(ZkeyTest, RoundTripThroughFile) {
  for (size_t n_coefs : {0, 1, 6, 7}) {
    KeyData k = random_key(rng, 5 + n_coefs, 2, 8, n_coefs);
    zkinfer::testing::TempPath path(".zkey");
    write_zkey(path.str(), k.parts());
    Zkey z = Zkey::open(path.str());
    expect_same(z.parts(), k.parts());
    Zkey moved = std::move(z);  // views survive a move
    expect_same(moved.parts(), k.parts());
  }
}

// The prover reads coefficients as records straight from the file and sorts them into
// constraint rows on all threads (ConstraintRows); the decoded array comes only from parts().
// Records in random order with repeated rows: every row holds exactly its terms.
TEST_F(ZkeyTest, RecordsAndConstraintRowsMatchTheCoefficients) {
  const uint32_t domain = 64;
  KeyData k = random_key(rng, 300, 3, domain, 20000);
  zkinfer::testing::TempPath path(".zkey");
  write_zkey(path.str(), k.parts());
  Zkey z = Zkey::open(path.str());
  Zkey key = std::move(z);  // records survive a move
  EXPECT_TRUE(key.point_parts().coefs.empty());
  const ZkeyCoefRecords& recs = key.coef_records();
  ASSERT_EQ(recs.size(), k.coefs.size());
  using Term = std::pair<uint32_t, U256>;  // signal, Montgomery words of the value
  std::vector<std::vector<Term>> want(2 * domain), got(2 * domain);
  for (size_t i = 0; i < recs.size(); ++i) {
    const ZkeyCoef& c = k.coefs[i];
    ASSERT_EQ(recs.matrix(i), c.matrix) << i;
    ASSERT_EQ(recs.constraint(i), c.constraint) << i;
    ASSERT_EQ(recs.signal(i), c.signal) << i;
    ASSERT_EQ((recs.stored_value(i) * ZkeyCoefRecords::stored_factor()).mont(), c.value.mont()) << i;
    ASSERT_EQ(key.parts().coefs[i].value.mont(), c.value.mont()) << i;
    want[size_t(c.matrix) * domain + c.constraint].emplace_back(c.signal, c.value.mont());
  }
  ConstraintRows rows(key);
  const SparseRows v = rows.view();
  ASSERT_EQ(v.rows(), 2u * domain);
  for (size_t r = 0; r < v.rows(); ++r)
    for (uint32_t t = v.row_start[r]; t < v.row_start[r + 1]; ++t) got[r].emplace_back(v.cols[t], v.values[t].mont());
  auto less = [](const Term& a, const Term& b) {
    const uint64_t *x = a.second.w, *y = b.second.w;
    return std::tie(a.first, x[3], x[2], x[1], x[0]) < std::tie(b.first, y[3], y[2], y[1], y[0]);
  };
  for (size_t r = 0; r < v.rows(); ++r) {
    std::sort(want[r].begin(), want[r].end(), less);
    std::sort(got[r].begin(), got[r].end(), less);
    EXPECT_TRUE(got[r] == want[r]) << "row " << r;
  }
}

// write_zkey pads so that every point array is 8-byte aligned: parsing views the buffer itself.
TEST_F(ZkeyTest, WrittenKeysAreAlignedAndViewedWithoutCopy) {
  for (size_t n_coefs : {2, 3}) {
    KeyData k = random_key(rng, 9, 3, 16, n_coefs);
    auto bytes = write_to_bytes(k.parts());
    RawFile raw = zkinfer::testing::split(bytes);
    for (uint32_t t : {3u, 5u, 6u, 7u, 8u, 9u}) EXPECT_EQ(zkinfer::testing::payload_offset(raw, t) % 8, 0u) << t;
    Zkey z = Zkey::parse(bytes, "k.zkey");
    expect_same(z.parts(), k.parts());
    EXPECT_TRUE(inside(z.parts().ic, bytes) && inside(z.parts().a, bytes) && inside(z.parts().b1, bytes) &&
                inside(z.parts().b2, bytes) && inside(z.parts().c, bytes) && inside(z.parts().h, bytes));
  }
}

// snarkjs's order 1,2,4,3,9,8,5,6,7,10 with an even coefficient count leaves A, B2 and H (among
// others) 4 bytes off alignment: those load through the copy, with the same contents.
TEST_F(ZkeyTest, SnarkjsOrderMisalignedStillLoads) {
  KeyData k = random_key(rng, 7, 2, 8, 4);
  RawFile raw = zkinfer::testing::split(write_to_bytes(k.parts()));
  raw.reorder({1, 2, 4, 3, 9, 8, 5, 6, 7, 10});
  auto bytes = zkinfer::testing::join(raw);
  size_t misaligned = 0;
  for (uint32_t t : {3u, 5u, 6u, 7u, 8u, 9u}) misaligned += zkinfer::testing::payload_offset(raw, t) % 8 != 0;
  ASSERT_GT(misaligned, 0u);
  ASSERT_NE(zkinfer::testing::payload_offset(raw, 9) % 8, 0u);
  Zkey z = Zkey::parse(bytes, "snarkjs-order.zkey");
  expect_same(z.parts(), k.parts());
  EXPECT_FALSE(inside(z.parts().h, bytes));  // copied
  EXPECT_TRUE(inside(z.parts().ic, bytes));  // aligned: viewed
}

// The coefficient words are v * R^2 mod r (snarkjs), independent of our decoder: for v = 1 the
// stored word is R^2 mod r itself, for v = 2 it is 2 R^2 mod r.
TEST_F(ZkeyTest, CoefficientStoredAsValueTimesR2) {
  KeyData k = random_key(rng, 4, 1, 4, 0);
  k.coefs = {{0, 1, 2, Fr::one()}, {1, 3, 3, Fr::from_u64(2)}};
  RawFile raw = zkinfer::testing::split(write_to_bytes(k.parts()));
  const auto& s = raw.section(4).payload;
  ASSERT_EQ(s.size(), 4 + 2 * 44u);
  EXPECT_EQ(zkinfer::testing::get_u32(&s[0]), 2u);
  EXPECT_EQ(zkinfer::testing::get_u32(&s[4 + 4]), 1u);  // constraint
  EXPECT_EQ(zkinfer::testing::get_u32(&s[4 + 8]), 2u);  // signal
  EXPECT_EQ(u256_from_le_bytes(&s[4 + 12]), Fr::R2);
  EXPECT_EQ(u256_from_le_bytes(&s[4 + 44 + 12]), (Fr::from_mont(Fr::R2) + Fr::from_mont(Fr::R2)).mont());
}

TEST_F(ZkeyTest, EveryTruncationRefused) {
  KeyData k = random_key(rng, 3, 1, 2, 3);
  auto bytes = write_to_bytes(k.parts());
  ASSERT_NO_THROW(Zkey::parse(bytes, "full.zkey"));
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
    EXPECT_THROW(Zkey::parse(cut, "cut.zkey"), FormatError) << n;
  }
}

class ZkeyCorruption : public ZkeyTest {
 protected:
  void SetUp() override {
    key = random_key(rng, 6, 2, 8, 5);
    raw = zkinfer::testing::split(write_to_bytes(key.parts()));
  }
  std::vector<uint8_t> bytes() const { return zkinfer::testing::join(raw); }
  std::vector<uint8_t>& sec(uint32_t t) { return raw.section(t).payload; }

  KeyData key;
  RawFile raw;
};

// Section 2 offsets: n8q 0, q 4, n8r 36, r 40, n_vars 72, n_public 76, domain_size 80,
// alpha1 84, beta1 148, beta2 212, gamma2 340, delta1 468, delta2 532.
TEST_F(ZkeyCorruption, Header) {
  auto b = bytes();
  b[0] = 'Z';
  expect_format_error(b, "magic");
  b = bytes();
  b[4] = 2;
  expect_format_error(b, "version 2");
  raw.section(1).payload[0] = 2;
  expect_format_error(bytes(), "protocol 2 is not Groth16");
}

TEST_F(ZkeyCorruption, Fields) {
  sec(2)[0] = 48;
  expect_format_error(bytes(), "n8q is 48");
  SetUp();
  sec(2)[4] ^= 1;
  expect_format_error(bytes(), "q is not BN254");
  SetUp();
  sec(2)[36] = 31;
  expect_format_error(bytes(), "n8r is 31");
  SetUp();
  sec(2)[40] ^= 1;
  expect_format_error(bytes(), "r is not BN254");
}

TEST_F(ZkeyCorruption, Counts) {
  zkinfer::testing::put_u32(&sec(2)[80], 6);
  expect_format_error(bytes(), "domain_size 6 is not a power of two");
  SetUp();
  zkinfer::testing::put_u32(&sec(2)[80], 1u << 29);
  expect_format_error(bytes(), "exceeds 2^28");
  SetUp();
  zkinfer::testing::put_u32(&sec(2)[76], 6);
  expect_format_error(bytes(), "n_public 6 + 1 exceeds n_vars 6");
  SetUp();
  zkinfer::testing::put_u32(&sec(2)[72], 7);  // sections no longer match the header
  expect_format_error(bytes(), "section 5 (A): size 384 bytes, expected 448");
  SetUp();
  zkinfer::testing::put_u32(&sec(2)[80], 16);
  expect_format_error(bytes(), "section 9 (H): size 512 bytes, expected 1024");
}

TEST_F(ZkeyCorruption, HeaderPoints) {
  // alpha1.y + 1: still reduced, off the curve
  Fq y;
  std::memcpy(&y, &sec(2)[84 + 32], 32);
  y += Fq::one();
  std::memcpy(&sec(2)[84 + 32], &y, 32);
  expect_format_error(bytes(), "alpha1: G1 point is not on the curve");
  SetUp();
  u256_to_le_bytes(Fq::MOD, &sec(2)[468]);
  expect_format_error(bytes(), "delta1: G1 point x: value");
  SetUp();
  std::fill(&sec(2)[148], &sec(2)[148 + 64], 0);
  expect_format_error(bytes(), "beta1 is the point at infinity");
  SetUp();
  // A point of the twist curve outside the prime-order subgroup.
  G2Affine p;
  for (uint64_t x = 1;; ++x) {
    p.x = Fq2{Fq::from_u64(x), Fq::one()};
    if ((p.x.sqr() * p.x + G2Curve::b()).sqrt(p.y)) break;
  }
  ASSERT_TRUE(p.is_on_curve());
  std::memcpy(&sec(2)[532], &p, sizeof p);
  expect_format_error(bytes(), "delta2: G2 point not in the prime-order subgroup");
}

TEST_F(ZkeyCorruption, SectionPoints) {
  // Section 5 (A): point 2's x set to p, then point 3's y changed (off the curve).
  u256_to_le_bytes(Fq::MOD, &sec(5)[2 * 64]);
  expect_format_error(bytes(), "section 5 (A): point 2 has a coordinate >= p");
  SetUp();
  sec(9)[3 * 64 + 40] ^= 4;
  expect_format_error(bytes(), "section 9 (H): point 3 is not on the curve");
  // ZkeyCheck::kHeader looks at sizes only; check_section_points() does the rest on demand.
  auto b = bytes();  // outlives the key, which views it
  Zkey z = Zkey::parse(b, "ok.zkey", ZkeyCheck::kHeader);
  EXPECT_EQ(z.header().n_vars, key.header.n_vars);
  try {
    z.check_section_points();
    FAIL() << "check_section_points accepted a point off the curve";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("section 9 (H): point 3 is not on the curve"), std::string::npos) << e.what();
  }
  SetUp();
  sec(7)[4 * 128 + 100] ^= 1;
  expect_format_error(bytes(), "section 7 (B2): point 4 is not on the curve");
}

TEST_F(ZkeyCorruption, Coefficients) {
  // Coefficient i starts at 4 + 44 i: matrix, constraint, signal, value.
  zkinfer::testing::put_u32(&sec(4)[4 + 44 * 1], 2);
  expect_format_error(bytes(), "coefficient 1: matrix 2 is neither 0 (A) nor 1 (B)");
  SetUp();
  zkinfer::testing::put_u32(&sec(4)[4 + 44 * 2 + 4], 8);
  expect_format_error(bytes(), "coefficient 2: constraint 8 is not below domain_size 8");
  SetUp();
  zkinfer::testing::put_u32(&sec(4)[4 + 44 * 3 + 8], 6);
  expect_format_error(bytes(), "coefficient 3: signal 6 is not below n_vars 6");
  SetUp();
  u256_to_le_bytes(Fr::MOD, &sec(4)[4 + 44 * 4 + 12]);
  expect_format_error(bytes(), "coefficient 4: value is not below r");
  SetUp();
  // The lowest failing index is reported, whichever thread finds it.
  zkinfer::testing::put_u32(&sec(4)[4 + 44 * 4], 9);
  zkinfer::testing::put_u32(&sec(4)[4 + 44 * 0], 9);
  expect_format_error(bytes(), "coefficient 0: matrix 9");
  SetUp();
  zkinfer::testing::put_u32(&sec(4)[0], 6);
  expect_format_error(bytes(), "does not hold 6 coefficients");
}

TEST_F(ZkeyCorruption, Sections) {
  sec(6).resize(sec(6).size() - 64);
  expect_format_error(bytes(), "section 6 (B1): size 320 bytes, expected 384");
  SetUp();
  raw.sections.push_back(raw.section(8));
  expect_format_error(bytes(), "section 8 appears more than once");
  SetUp();
  raw.sections.erase(raw.sections.begin() + 2);  // section 3, IC
  expect_format_error(bytes(), "section 3 (IC) is missing");
  SetUp();
  sec(10).push_back(0);
  expect_format_error(bytes(), "section 10 (contributions): 1 unexpected bytes");
  SetUp();
  zkinfer::testing::put_u32(&sec(10)[64], 2);
  expect_format_error(bytes(), "section 10 (contributions): truncated in contribution 1 of 2");
  SetUp();
  // Unknown sections are skipped, as snarkjs does.
  raw.sections.push_back({77, {1, 2, 3}});
  auto b = bytes();
  Zkey z = Zkey::parse(b, "extra.zkey");
  expect_same(z.parts(), key.parts());
}

TEST_F(ZkeyTest, WriterRefusesInconsistentParts) {
  KeyData k = random_key(rng, 6, 2, 8, 3);
  zkinfer::testing::TempPath path(".zkey");
  auto refuse = [&](const ZkeyParts& p, const std::string& part) {
    try {
      write_zkey(path.str(), p);
      ADD_FAILURE() << "written";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr(part));
    }
    EXPECT_FALSE(std::filesystem::exists(path.str()));
  };
  ZkeyParts p = k.parts();
  p.h = p.h.first(7);
  refuse(p, "H has 7 points, the header implies 8");
  p = k.parts();
  p.c = p.c.first(2);
  refuse(p, "C has 2 points, the header implies 3");
  p = k.parts();
  p.header.domain_size = 12;
  refuse(p, "not a power of two");
  auto coefs = k.coefs;
  coefs[2].signal = 6;
  p = k.parts();
  p.coefs = coefs;
  refuse(p, "coefficient 2: signal 6");
  p = k.parts();
  p.contributions = p.contributions.first(60);
  refuse(p, "contributions");
}


// tests/data (README.md there): small.circom compiled by circom 2.2.3, keys by snarkjs 0.7.6.
// small_0000.zkey is fresh from `groth16 setup` (sections in the order 1,2,4,3,9,8,5,6,7,10 with
// 35 coefficients: B1, C and B2 among others start 4 bytes off alignment in the mapping);
// small.zkey is after one `zkey contribute` (order 1..10). Cross-checked against snarkjs's own
// output: n_vars 17 (circom's wire count), n_public 3 and the points of small_vk.json (`snarkjs
// zkey export verificationkey small.zkey`), and the A/B coefficients against small.r1cs.
class ZkeyFixture : public ::testing::TestWithParam<const char*> {};

using CoefKey = std::tuple<uint32_t, uint32_t, uint32_t, U256>;

std::vector<CoefKey> sorted(std::vector<CoefKey> v) {
  std::sort(v.begin(), v.end(), [](const CoefKey& x, const CoefKey& y) {
    if (std::get<0>(x) != std::get<0>(y)) return std::get<0>(x) < std::get<0>(y);
    if (std::get<1>(x) != std::get<1>(y)) return std::get<1>(x) < std::get<1>(y);
    if (std::get<2>(x) != std::get<2>(y)) return std::get<2>(x) < std::get<2>(y);
    return u256::less(std::get<3>(x), std::get<3>(y));
  });
  return v;
}

TEST_P(ZkeyFixture, SnarkjsKeyParsesAndRoundTrips) {
  const auto dir = zkinfer::testing::test_data_dir();
  const std::string file = (dir / GetParam()).string();
  Zkey z = Zkey::open(file);
  const ZkeyHeader& h = z.header();
  EXPECT_EQ(h.n_vars, 17u);
  EXPECT_EQ(h.n_public, 3u);
  EXPECT_EQ(h.domain_size, 32u);  // 14 constraints + 3 public + 1, rounded up

  nlohmann::json vk;
  std::ifstream(dir / "small_vk.json") >> vk;
  ASSERT_EQ(vk["nPublic"], 3);
  EXPECT_EQ(point_to_json(h.alpha1), vk["vk_alpha_1"].get<G1Json>());
  EXPECT_EQ(point_to_json(h.beta2), vk["vk_beta_2"].get<G2Json>());
  EXPECT_EQ(point_to_json(h.gamma2), vk["vk_gamma_2"].get<G2Json>());
  if (std::string(GetParam()) == "small.zkey") {
    EXPECT_EQ(point_to_json(h.delta2), vk["vk_delta_2"].get<G2Json>());
  } else {  // before any contribution snarkjs's delta is 1: the generators
    EXPECT_TRUE(h.delta1 == g1_generator() && h.delta2 == g2_generator());
  }
  ASSERT_EQ(z.parts().ic.size(), vk["IC"].size());
  for (size_t i = 0; i < z.parts().ic.size(); ++i)
    EXPECT_EQ(point_to_json(z.parts().ic[i]), vk["IC"][i].get<G1Json>()) << i;

  // Coefficients: A and B of the r1cs, plus snarkjs's A row per public signal and wire 0.
  R1cs cs = read_r1cs((dir / "small.r1cs").string());
  std::vector<CoefKey> want, got;
  const SparseMatrix* m[2] = {&cs.a, &cs.b};
  for (uint32_t k = 0; k < 2; ++k)
    for (uint32_t i = 0; i < cs.header.n_constraints; ++i)
      for (uint64_t t = m[k]->row_start[i]; t < m[k]->row_start[i + 1]; ++t)
        want.emplace_back(k, i, m[k]->wire[t], m[k]->coeff[t].mont());
  for (uint32_t j = 0; j <= h.n_public; ++j) want.emplace_back(0, cs.header.n_constraints + j, j, Fr::one().mont());
  for (const ZkeyCoef& c : z.parts().coefs) got.emplace_back(c.matrix, c.constraint, c.signal, c.value.mont());
  EXPECT_EQ(got.size(), 35u);
  EXPECT_TRUE(sorted(got) == sorted(want));

  // Written back by write_zkey (zkinfer's aligned order) and read again: identical contents.
  zkinfer::testing::TempPath path(".zkey");
  write_zkey(path.str(), z.parts());
  Zkey back = Zkey::open(path.str());
  expect_same(back.parts(), z.parts());
}

INSTANTIATE_TEST_SUITE_P(Snarkjs, ZkeyFixture, ::testing::Values("small_0000.zkey", "small.zkey"),
                         [](const auto& info) {
                           std::string n = info.param;
                           return n.substr(0, n.find('.'));
                         });

TEST(ZkeyFixtureLayout, FreshSetupIsInSnarkjsOrderAndMisaligned) {
  RawFile raw = zkinfer::testing::split(
      zkinfer::testing::read_bytes((zkinfer::testing::test_data_dir() / "small_0000.zkey").string()));
  std::vector<uint32_t> order;
  for (const auto& s : raw.sections) order.push_back(s.type);
  EXPECT_EQ(order, (std::vector<uint32_t>{1, 2, 4, 3, 9, 8, 5, 6, 7, 10}));
  EXPECT_NE(zkinfer::testing::payload_offset(raw, 6) % 8, 0u);
}

}  // namespace
}  // namespace zkinfer::prover
