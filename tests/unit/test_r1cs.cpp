// .r1cs reader and writer, and r1cs_satisfied: random round trips, every truncation of the
// circom fixture, targeted corruptions, and the real circuit of tests/data with its witness.
#include "zkinfer/prover/r1cs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "../support/binfile_testing.h"
#include "../support/seed.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/wtns.h"

namespace zkinfer::prover {
namespace {

using ::testing::HasSubstr;
using zkinfer::testing::RawFile;

const std::string kFixture = (zkinfer::testing::test_data_dir() / "small.r1cs").string();
const std::string kWitness = (zkinfer::testing::test_data_dir() / "small.wtns").string();

bool same_matrix(const SparseMatrix& x, const SparseMatrix& y) {
  return x.row_start == y.row_start && x.wire == y.wire && x.coeff.size() == y.coeff.size() &&
         std::equal(x.coeff.begin(), x.coeff.end(), y.coeff.begin());
}

void expect_same(const R1cs& x, const R1cs& y) {
  EXPECT_EQ(x.header.n_wires, y.header.n_wires);
  EXPECT_EQ(x.header.n_pub_out, y.header.n_pub_out);
  EXPECT_EQ(x.header.n_pub_in, y.header.n_pub_in);
  EXPECT_EQ(x.header.n_prv_in, y.header.n_prv_in);
  EXPECT_EQ(x.header.n_labels, y.header.n_labels);
  EXPECT_EQ(x.header.n_constraints, y.header.n_constraints);
  EXPECT_TRUE(same_matrix(x.a, y.a));
  EXPECT_TRUE(same_matrix(x.b, y.b));
  EXPECT_TRUE(same_matrix(x.c, y.c));
  EXPECT_EQ(x.wire_to_label, y.wire_to_label);
}

// A random system that `witness` satisfies: A and B rows random (0 to 3 terms, repeated wires
// possible), and C's row puts A.w * B.w on the constant wire 0 and a random wire together.
R1cs random_system(std::mt19937_64& rng, uint32_t n_wires, uint32_t n_constraints, std::vector<Fr>& witness) {
  R1cs cs;
  cs.header.n_wires = n_wires;
  cs.header.n_pub_out = 1;
  cs.header.n_pub_in = 1;
  cs.header.n_prv_in = 1;
  cs.header.n_labels = n_wires + 3;
  cs.header.n_constraints = n_constraints;
  witness.assign(n_wires, Fr::one());
  for (uint32_t i = 1; i < n_wires; ++i) witness[i] = field_random<Fr>(rng);
  auto random_row = [&](SparseMatrix& m) {
    std::vector<uint32_t> wires(rng() % 4);
    std::vector<Fr> coeffs(wires.size());
    Fr value = Fr::zero();
    for (size_t t = 0; t < wires.size(); ++t) {
      wires[t] = (uint32_t)(rng() % n_wires);
      coeffs[t] = (rng() % 3 == 0) ? -Fr::one() : field_random<Fr>(rng);
      value += coeffs[t] * witness[wires[t]];
    }
    m.add_row(wires, coeffs);
    return value;
  };
  for (uint32_t i = 0; i < n_constraints; ++i) {
    Fr c = random_row(cs.a) * random_row(cs.b);
    uint32_t other = 1 + (uint32_t)(rng() % (n_wires - 1));
    Fr part = field_random<Fr>(rng);
    std::vector<uint32_t> wires = {0, other};
    std::vector<Fr> coeffs = {c - part * witness[other], part};
    cs.c.add_row(wires, coeffs);
  }
  for (uint32_t i = 0; i < n_wires; ++i) cs.wire_to_label.push_back(i + (rng() % 3));
  return cs;
}

std::vector<uint8_t> to_bytes(const R1cs& cs) {
  zkinfer::testing::TempPath path(".r1cs");
  write_r1cs(path.str(), cs);
  return zkinfer::testing::read_bytes(path.str());
}

void expect_format_error(const std::vector<uint8_t>& bytes, const std::string& part) {
  try {
    parse_r1cs(bytes, "bad.r1cs");
    ADD_FAILURE() << "accepted; expected an error containing \"" << part << "\"";
  } catch (const FormatError& e) {
    EXPECT_THAT(e.what(), HasSubstr(part));
    EXPECT_THAT(e.what(), HasSubstr("bad.r1cs"));
  }
}

class R1csTest : public ::testing::Test {
 protected:
  std::mt19937_64 rng = zkinfer::testing::seeded_rng();
};

TEST_F(R1csTest, RandomRoundTripAndSatisfied) {
  for (uint32_t nc : {0u, 1u, 7u, 300u}) {
    std::vector<Fr> w;
    R1cs cs = random_system(rng, 12, nc, w);
    zkinfer::testing::TempPath path(".r1cs");
    write_r1cs(path.str(), cs);
    R1cs back = read_r1cs(path.str());
    expect_same(back, cs);
    std::string why;
    EXPECT_TRUE(r1cs_satisfied(back, w, &why)) << why;
  }
}

TEST_F(R1csTest, UnsatisfiedNamesFirstFailingConstraint) {
  std::vector<Fr> w;
  R1cs cs = random_system(rng, 10, 50, w);
  // Constraint 17 off by one on its C side: exactly it fails.
  cs.c.coeff[cs.c.row_start[17]] += Fr::one();
  std::string why;
  EXPECT_FALSE(r1cs_satisfied(cs, w, &why));
  EXPECT_THAT(why, HasSubstr("constraint 17 is not satisfied"));
  cs.c.coeff[cs.c.row_start[40]] += Fr::one();  // a later failure does not change the report
  EXPECT_FALSE(r1cs_satisfied(cs, w, &why));
  EXPECT_THAT(why, HasSubstr("constraint 17 "));
  w.pop_back();
  EXPECT_FALSE(r1cs_satisfied(cs, w, &why));
  EXPECT_THAT(why, HasSubstr("witness has 9 values, the circuit 10 wires"));
  w.push_back(Fr::one());
  w[0] = Fr::from_u64(2);
  EXPECT_FALSE(r1cs_satisfied(cs, w, &why));
  EXPECT_THAT(why, HasSubstr("witness[0]"));
}

TEST_F(R1csTest, MissingLabelSectionAndIdentityLabels) {
  std::vector<Fr> w;
  R1cs cs = random_system(rng, 6, 4, w);
  RawFile raw = zkinfer::testing::split(to_bytes(cs));
  raw.sections.pop_back();  // section 3 is optional
  R1cs back = parse_r1cs(zkinfer::testing::join(raw), "nolabels.r1cs");
  EXPECT_TRUE(back.wire_to_label.empty());
  // Written back without labels: wire i gets label i.
  back.header.n_labels = 6;
  R1cs again = parse_r1cs(to_bytes(back), "identity.r1cs");
  EXPECT_EQ(again.wire_to_label, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
}

TEST_F(R1csTest, AddRowAndWriterChecks) {
  SparseMatrix m;
  std::vector<uint32_t> wires = {1, 2};
  std::vector<Fr> coeffs = {Fr::one()};
  EXPECT_THROW(m.add_row(wires, coeffs), std::invalid_argument);
  EXPECT_EQ(m.rows(), 0u);

  std::vector<Fr> w;
  R1cs cs = random_system(rng, 6, 4, w);
  zkinfer::testing::TempPath path(".r1cs");
  auto refuse = [&](const R1cs& bad, const std::string& part) {
    try {
      write_r1cs(path.str(), bad);
      ADD_FAILURE() << "written";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr(part));
    }
    EXPECT_FALSE(std::filesystem::exists(path.str()));
  };
  R1cs bad = cs;
  bad.c.wire[1] = 6;  // every C row has two terms
  refuse(bad, "wire 6 is not below n_wires");
  bad = cs;
  bad.header.n_constraints = 5;
  refuse(bad, "has 4 rows, the header says 5 constraints");
  bad = cs;
  bad.header.n_labels = 2;
  refuse(bad, "is not below n_labels 2");
  bad = cs;
  bad.wire_to_label.pop_back();
  refuse(bad, "wire_to_label has 5 entries for 6 wires");
}

TEST_F(R1csTest, EveryTruncationOfFixtureRefused) {
  auto bytes = zkinfer::testing::read_bytes(kFixture);
  ASSERT_NO_THROW(parse_r1cs(bytes, "full.r1cs"));
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
    EXPECT_THROW(parse_r1cs(cut, "cut.r1cs"), FormatError) << n;
  }
}

class R1csCorruption : public R1csTest {
 protected:
  void SetUp() override { raw = zkinfer::testing::split(zkinfer::testing::read_bytes(kFixture)); }
  std::vector<uint8_t> bytes() const { return zkinfer::testing::join(raw); }
  std::vector<uint8_t>& sec(uint32_t t) { return raw.section(t).payload; }
  // Offset of constraint 0's first A term (count 4 bytes, then wire, then coefficient).
  static constexpr size_t kFirstWire = 4, kFirstCoeff = 8;
  RawFile raw;
};

// Header offsets: n8 0, prime 4, n_wires 36, n_pub_out 40, n_pub_in 44, n_prv_in 48,
// n_labels 52, n_constraints 60.
TEST_F(R1csCorruption, Header) {
  auto b = bytes();
  b[1] = 'X';
  expect_format_error(b, "magic is \"rXcs\"");
  b = bytes();
  b[4] = 2;
  expect_format_error(b, "version 2");
  SetUp();
  sec(1)[0] = 48;
  expect_format_error(bytes(), "n8 is 48, expected 32");
  SetUp();
  sec(1)[4] ^= 0x10;
  expect_format_error(bytes(), "prime is not BN254's scalar field");
  SetUp();
  zkinfer::testing::put_u32(&sec(1)[36], 5);  // fewer wires than 1 + 2 + 1 + 2 inputs/outputs
  expect_format_error(bytes(), "n_wires 5 is less than the constant wire plus 5 outputs and inputs");
  SetUp();
  sec(1).push_back(0);
  expect_format_error(bytes(), "section 1 (header): size 65 bytes, expected 64");
  SetUp();
  zkinfer::testing::put_u32(&sec(1)[60], 15);  // one constraint more than section 2 holds
  expect_format_error(bytes(), "constraint 14 A: truncated before the term count");
  SetUp();
  zkinfer::testing::put_u32(&sec(1)[60], 0xffffffff);
  expect_format_error(bytes(), "too small for 4294967295 constraints");
}

TEST_F(R1csCorruption, Terms) {
  ASSERT_GT(zkinfer::testing::get_u32(&sec(2)[0]), 0u);  // constraint 0's A has terms
  zkinfer::testing::put_u32(&sec(2)[kFirstWire], 17);
  expect_format_error(bytes(), "constraint 0 A term 0: wire 17 is not below n_wires 17");
  SetUp();
  u256_to_le_bytes(Fr::MOD, &sec(2)[kFirstCoeff]);
  expect_format_error(bytes(), "constraint 0 A term 0: coefficient " + u256_to_decimal(Fr::MOD) + " is not below r");
  SetUp();
  zkinfer::testing::put_u32(&sec(2)[0], 1000);
  expect_format_error(bytes(), "constraint 0 A: 1000 terms need 36000 bytes");
  SetUp();
  sec(2).insert(sec(2).end(), {0, 0, 0, 0});
  expect_format_error(bytes(), "4 unexpected bytes after constraint 14");
}

TEST_F(R1csCorruption, Sections) {
  raw.sections.push_back(raw.sections[0]);
  expect_format_error(bytes(), "appears more than once");
  SetUp();
  raw.sections.push_back({4, {0, 0, 0, 0}});
  expect_format_error(bytes(), "section 4 (custom gates): circuits with custom gates (PLONK only)");
  SetUp();
  raw.sections.push_back({5, {}});
  expect_format_error(bytes(), "section 5 (custom gates)");
  SetUp();
  sec(3).resize(sec(3).size() - 8);
  expect_format_error(bytes(), "section 3 (wire to label map): size 128 bytes, expected 136");
  SetUp();
  sec(3)[8 * 16] = 20;  // n_labels is 20
  expect_format_error(bytes(), "wire 16 has label 20, not below n_labels 20");
  SetUp();
  raw.sections.erase(raw.sections.begin());  // section 2, first in circom's order
  expect_format_error(bytes(), "section 2 (constraints) is missing");
}

// tests/data/small.circom compiled by circom 2.2.3; the counts below are those printed by
// `snarkjs r1cs info small.r1cs` (14 constraints, 2 private inputs, 1 public input, 20 labels,
// 2 outputs) and by circom (17 wires). circom writes the sections in the order 2, 1, 3.
TEST(R1csFixture, CircomFileParsesAndWitnessSatisfies) {
  RawFile raw = zkinfer::testing::split(zkinfer::testing::read_bytes(kFixture));
  ASSERT_EQ(raw.sections.size(), 3u);
  EXPECT_EQ(raw.sections[0].type, 2u);

  R1cs cs = read_r1cs(kFixture);
  EXPECT_EQ(cs.header.n_constraints, 14u);
  EXPECT_EQ(cs.header.n_prv_in, 2u);
  EXPECT_EQ(cs.header.n_pub_in, 1u);
  EXPECT_EQ(cs.header.n_labels, 20u);
  EXPECT_EQ(cs.header.n_pub_out, 2u);
  EXPECT_EQ(cs.header.n_wires, 17u);
  EXPECT_EQ(cs.wire_to_label.size(), 17u);
  EXPECT_EQ(cs.wire_to_label[0], 0u);
  // LessThan(8) puts -1 = r - 1 on b's wire (wire 4): the reader must return r - 1, not a
  // sign or a Montgomery word.
  bool minus_one = false;
  for (const SparseMatrix* m : {&cs.a, &cs.b, &cs.c})
    for (size_t t = 0; t < m->wire.size(); ++t) minus_one |= m->wire[t] == 4 && m->coeff[t] == -Fr::one();
  EXPECT_TRUE(minus_one);

  std::vector<Fr> w = read_wtns(kWitness);
  std::string why;
  EXPECT_TRUE(r1cs_satisfied(cs, w, &why)) << why;
  w[1] += Fr::one();  // prod, the first output
  EXPECT_FALSE(r1cs_satisfied(cs, w, &why));
  EXPECT_THAT(why, HasSubstr("is not satisfied"));

  // Written back by write_r1cs (order 1, 2, 3) it reads identically.
  zkinfer::testing::TempPath path(".r1cs");
  write_r1cs(path.str(), cs);
  expect_same(read_r1cs(path.str()), cs);
}

}  // namespace
}  // namespace zkinfer::prover
