// snarkjs JSON: proof.json, public.json, verification_key.json round trips and the errors a
// user sees for malformed or hostile input.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "../support/random_points.h"
#include "../support/seed.h"
#include "zkinfer/ec/pairing.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/json.h"

namespace zkinfer::prover {
namespace {

using json = nlohmann::ordered_json;

using zkinfer::testing::random_g1;
using zkinfer::testing::random_g2;

std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(Json, ProofRoundTripInSnarkjsLayout) {
  auto rng = testing::seeded_rng();
  Proof p{random_g1(rng), random_g2(rng), random_g1(rng)};
  json j = proof_to_json(p);
  EXPECT_EQ(j["protocol"], "groth16");
  EXPECT_EQ(j["curve"], "bn128");
  EXPECT_EQ(j["pi_a"][2], "1");
  EXPECT_EQ(j["pi_b"][2], json::array({"1", "0"}));
  EXPECT_EQ(j["pi_a"][0], field_to_decimal(p.a.x));
  EXPECT_EQ(j["pi_b"][0][1], field_to_decimal(p.b.x.c1));  // c0 then c1, as ffjavascript's toObject
  EXPECT_EQ(proof_from_json(json::parse(j.dump())), p);
}

TEST(Json, ProofErrorsNameTheField) {
  auto rng = testing::seeded_rng();
  json j = proof_to_json({random_g1(rng), random_g2(rng), random_g1(rng)});
  json missing = j;
  missing.erase("pi_c");
  EXPECT_NE(error_of([&] { proof_from_json(missing, "p.json"); }).find("p.json: missing \"pi_c\""), std::string::npos);

  json off = j;
  off["pi_a"][1] = "5";  // (x, 5) is not on y^2 = x^3 + 3 for this x
  EXPECT_NE(error_of([&] { proof_from_json(off, "p.json"); }).find("pi_a"), std::string::npos);
  EXPECT_NE(error_of([&] { proof_from_json(off, "p.json"); }).find("not on the curve"), std::string::npos);

  json big = j;
  big["pi_c"][0] = u256_to_decimal(Fq::MOD);  // a coordinate equal to p
  EXPECT_NE(error_of([&] { proof_from_json(big); }), "");

  json wrong_type = j;
  wrong_type["pi_b"][0][0] = 7;
  EXPECT_NE(error_of([&] { proof_from_json(wrong_type); }).find("expected a decimal string"), std::string::npos);

  json protocol = j;
  protocol["protocol"] = "plonk";
  EXPECT_NE(error_of([&] { proof_from_json(protocol); }).find("\"protocol\" must be \"groth16\""), std::string::npos);
}

TEST(Json, PublicSignalsMustBeBelowR) {
  std::vector<Fr> v = {Fr::zero(), Fr::one(), -Fr::one()};
  json j = public_to_json(v);
  uint64_t borrow = 0;
  EXPECT_EQ(j[2], u256_to_decimal(u256::sub(Fr::MOD, u256::from_u64(1), borrow)));
  EXPECT_EQ(public_from_json(j), v);
  EXPECT_EQ(public_from_json(json::array({42}))[0], Fr::from_u64(42));  // numbers accepted too

  std::string e = error_of([&] { public_from_json(json::array({"1", u256_to_decimal(Fr::MOD)}), "pub.json"); });
  EXPECT_NE(e.find("pub.json[1]"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { public_from_json(json::array({"-1"})); }), "");
  EXPECT_NE(error_of([&] { public_from_json(json::array({"12a"})); }), "");
  EXPECT_NE(error_of([&] { public_from_json(json::object()); }), "");
}

TEST(Json, VerificationKeyRoundTripWithAlphaBeta) {
  auto rng = testing::seeded_rng();
  VerificationKey vk{random_g1(rng), random_g2(rng), random_g2(rng), random_g2(rng), {}};
  for (int i = 0; i < 3; ++i) vk.ic.push_back(random_g1(rng));
  json j = vk_to_json(vk);
  EXPECT_EQ(j["nPublic"], 2);
  const Fr x = Fr::from_u64(bn254::kBnX);  // ffjavascript's pairing is ours ^ 2x(6x^2+3x+1)
  Fq12 ab = pairing(vk.alpha1, vk.beta2).pow(((x + x) * (Fr::from_u64(6) * x * x + Fr::from_u64(3) * x + Fr::one())).to_canonical());
  EXPECT_EQ(j["vk_alphabeta_12"][1][2][0], field_to_decimal(ab.c1.c2.c0));
  EXPECT_EQ(j["vk_alphabeta_12"][0][0][1], field_to_decimal(ab.c0.c0.c1));

  VerificationKey back = vk_from_json(json::parse(j.dump()));
  EXPECT_EQ(back.alpha1, vk.alpha1);
  EXPECT_EQ(back.delta2, vk.delta2);
  EXPECT_EQ(back.ic.size(), 3u);
  EXPECT_EQ(back.ic[2], vk.ic[2]);

  json bad_n = j;
  bad_n["nPublic"] = 5;
  EXPECT_NE(error_of([&] { vk_from_json(bad_n, "vk.json"); }).find("nPublic"), std::string::npos);
  json no_ic = j;
  no_ic["IC"] = json::array();
  EXPECT_NE(error_of([&] { vk_from_json(no_ic); }), "");
}

TEST(Json, VerifyRejectsWrongNumberOfPublicSignals) {
  auto rng = testing::seeded_rng();
  VerificationKey vk{random_g1(rng), random_g2(rng), random_g2(rng), random_g2(rng), {random_g1(rng), random_g1(rng)}};
  Proof p{random_g1(rng), random_g2(rng), random_g1(rng)};
  std::string why;
  std::vector<Fr> two = {Fr::one(), Fr::one()};
  EXPECT_FALSE(verify(vk, two, p, &why));
  EXPECT_NE(why.find("1 public signals, 2 were given"), std::string::npos) << why;
  std::vector<Fr> one = {Fr::one()};
  EXPECT_FALSE(verify(vk, one, p, &why));  // random points: the pairing equation fails
  EXPECT_EQ(why, "the pairing check failed");
}

TEST(Json, FilesReportPathAndParseErrors) {
  std::string path = ::testing::TempDir() + "zkinfer_json_test.json";
  write_json_file(path, public_to_json(std::vector<Fr>{Fr::from_u64(7)}));
  EXPECT_EQ(public_from_json(read_json_file(path))[0], Fr::from_u64(7));
  {
    std::ofstream(path) << "[\"7\",";
  }
  EXPECT_NE(error_of([&] { read_json_file(path); }).find(path + ": not valid JSON"), std::string::npos);
  EXPECT_NE(error_of([&] { read_json_file(path + ".missing"); }).find("cannot open"), std::string::npos);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace zkinfer::prover
