// .wtns reader and writer: random round trips, the snarkjs fixture, every truncation, corruptions.
#include "zkinfer/prover/wtns.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/binfile_testing.h"
#include "../support/seed.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/binfile.h"

namespace zkinfer::prover {
namespace {

using ::testing::HasSubstr;
using zkinfer::testing::RawFile;

const std::string kFixture = (zkinfer::testing::test_data_dir() / "small.wtns").string();

void expect_format_error(const std::vector<uint8_t>& bytes, const std::string& part) {
  try {
    parse_wtns(bytes, "bad.wtns");
    ADD_FAILURE() << "accepted; expected an error containing \"" << part << "\"";
  } catch (const FormatError& e) {
    EXPECT_THAT(e.what(), HasSubstr(part));
    EXPECT_THAT(e.what(), HasSubstr("bad.wtns"));
  }
}

TEST(Wtns, RandomRoundTrip) {
  auto rng = zkinfer::testing::seeded_rng();
  for (size_t n : {0, 1, 2, 1000, 20000}) {  // 20000 spans several write blocks
    std::vector<Fr> w(n);
    for (auto& x : w) x = field_random<Fr>(rng);
    if (n > 1) w[1] = -Fr::one();  // r - 1, the largest value
    zkinfer::testing::TempPath path(".wtns");
    write_wtns(path.str(), w);
    std::vector<Fr> back = read_wtns(path.str());
    ASSERT_EQ(back.size(), n);
    EXPECT_TRUE(std::equal(back.begin(), back.end(), w.begin()));
  }
}

// Values are stored in standard form, not Montgomery form: 5 is the byte 5.
TEST(Wtns, StandardFormOnDisk) {
  zkinfer::testing::TempPath path(".wtns");
  std::vector<Fr> w = {Fr::one(), Fr::from_u64(5)};
  write_wtns(path.str(), w);
  RawFile raw = zkinfer::testing::split(zkinfer::testing::read_bytes(path.str()));
  EXPECT_EQ(raw.magic, "wtns");
  EXPECT_EQ(raw.version, 2u);
  const auto& v = raw.section(2).payload;
  ASSERT_EQ(v.size(), 64u);
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[32], 5);
  EXPECT_TRUE(std::all_of(v.begin() + 33, v.end(), [](uint8_t b) { return b == 0; }));
}

// snarkjs 0.7.6 `wtns calculate` for small.circom with a = 7, b = 12, c = 5
// (tests/data/small_input.json): wire order is the constant 1, outputs prod = 7 * 12 * 5 + 3
// and lt = (7 < 12), public input a, private inputs b, c; `snarkjs wtns check` accepts it.
TEST(Wtns, SnarkjsFixture) {
  std::vector<Fr> w = read_wtns(kFixture);
  ASSERT_EQ(w.size(), 17u);
  const uint64_t expect[] = {1, 423, 1, 7, 12, 5};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(w[i], Fr::from_u64(expect[i])) << i;
}

TEST(Wtns, EveryTruncationOfFixtureRefused) {
  auto bytes = zkinfer::testing::read_bytes(kFixture);
  ASSERT_NO_THROW(parse_wtns(bytes, "full.wtns"));
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
    EXPECT_THROW(parse_wtns(cut, "cut.wtns"), FormatError) << n;
  }
}

TEST(Wtns, Corruptions) {
  const RawFile good = zkinfer::testing::split(zkinfer::testing::read_bytes(kFixture));
  RawFile raw = good;
  auto bytes = [&] { return zkinfer::testing::join(raw); };
  auto b = bytes();
  b[0] = 'x';
  expect_format_error(b, "not a .wtns file");
  raw.version = 1;
  expect_format_error(bytes(), "unsupported .wtns version 1");
  raw.version = 3;
  expect_format_error(bytes(), "unsupported .wtns version 3");
  raw = good;
  raw.section(1).payload[0] = 8;
  expect_format_error(bytes(), "section 1 (header): field element size n8 is 8");
  raw = good;
  raw.section(1).payload[35] ^= 0x01;
  expect_format_error(bytes(), "prime is not BN254's scalar field");
  raw = good;
  raw.section(1).payload.push_back(0);
  expect_format_error(bytes(), "section 1 (header): 1 unexpected bytes");
  raw = good;
  u256_to_le_bytes(Fr::MOD, &raw.section(2).payload[32 * 9]);
  expect_format_error(bytes(), "section 2 (values): value 9 (" + u256_to_decimal(Fr::MOD) + ") is not below r");
  raw = good;
  raw.section(2).payload.resize(32 * 16);
  expect_format_error(bytes(), "section 2 (values): size 512 bytes, expected 544 for 17 values");
  raw = good;
  zkinfer::testing::put_u32(&raw.section(1).payload[36], 18);
  expect_format_error(bytes(), "expected 576 for 18 values");
  raw = good;
  raw.sections.push_back(raw.sections[1]);
  expect_format_error(bytes(), "section 2 appears more than once");
  raw = good;
  raw.sections.pop_back();
  expect_format_error(bytes(), "section 2 (values) is missing");
}

}  // namespace
}  // namespace zkinfer::prover
