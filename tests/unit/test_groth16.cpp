// Groth16 prove and verify against snarkjs: keys, witnesses, verification keys and a proof made
// by circom 2.2.3 and snarkjs 0.7.6 (tests/data/README.md). snarkjs's verification key is the
// independent judge of our proofs, and our verifier must accept snarkjs's proof and reject every
// tampered variant.
#include <gtest/gtest.h>

#include "../support/binfile_testing.h"
#include "../support/seed.h"
#include "backend.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/prover/r1cs.h"
#include "zkinfer/prover/setup.h"
#include "zkinfer/prover/wtns.h"
#include "zkinfer/prover/zkey.h"

namespace zkinfer::prover {
namespace {

using zkinfer::testing::test_data_dir;

std::string data(const char* name) { return (test_data_dir() / name).string(); }

struct Fixture {
  VerificationKey vk = vk_from_json(read_json_file(data("small_vk.json")), "small_vk.json");
  std::vector<Fr> pub = public_from_json(read_json_file(data("small_public.json")));
  std::vector<Fr> witness = read_wtns(data("small.wtns"));
};

TEST(Groth16, ProofFromSnarkjsKeyVerifiesWithSnarkjsVerificationKey) {
  Fixture f;
  Zkey key = Zkey::open(data("small.zkey"));
  auto be = make_cpu_backend();
  EXPECT_EQ(public_signals(key, f.witness), f.pub);
  for (int i = 0; i < 3; ++i) {  // fresh r and s each time: different proofs, all valid
    Proof p = prove(key, f.witness, *be);
    std::string why;
    EXPECT_TRUE(verify(f.vk, f.pub, p, &why)) << why;
  }
  Proof p1 = prove(key, f.witness, *be), p2 = prove(key, f.witness, *be);
  EXPECT_NE(p1, p2);
}

TEST(Groth16, MisalignedSnarkjsKeyProvesToo) {
  // small_0000.zkey has snarkjs's section order, which leaves the point arrays misaligned (the
  // copy path of section_view.h); its verification key differs from small.zkey's (no phase 2).
  Fixture f;
  Zkey key = Zkey::open(data("small_0000.zkey"));
  auto be = make_cpu_backend({1});
  Proof p = prove(key, f.witness, *be);
  EXPECT_TRUE(verify(verification_key(key), f.pub, p));
  EXPECT_FALSE(verify(f.vk, f.pub, p));  // a different key's delta
}

TEST(Groth16, VerificationKeyMatchesSnarkjsExport) {
  Fixture f;
  Zkey key = Zkey::open(data("small.zkey"));
  VerificationKey vk = verification_key(key);
  EXPECT_EQ(vk_to_json(vk).dump(), vk_to_json(f.vk).dump());
  // snarkjs's vk_alphabeta_12 is e(alpha1, beta2); ours must be the same Fq12 element.
  EXPECT_EQ(vk_to_json(vk)["vk_alphabeta_12"], read_json_file(data("small_vk.json"))["vk_alphabeta_12"]);
}

TEST(Groth16, AcceptsSnarkjsProofAndRejectsTampering) {
  Fixture f;
  Proof p = proof_from_json(read_json_file(data("small_proof.json")), "small_proof.json");
  std::string why;
  ASSERT_TRUE(verify(f.vk, f.pub, p, &why)) << why;

  const G1Affine g1 = g1_generator();
  const G2Affine g2 = g2_generator();
  Proof t = p;
  t.a = (G1Jacobian::from_affine(p.a) + G1Jacobian::from_affine(g1)).to_affine();
  EXPECT_FALSE(verify(f.vk, f.pub, t));
  t = p;
  t.b = (G2Jacobian::from_affine(p.b) + G2Jacobian::from_affine(g2)).to_affine();
  EXPECT_FALSE(verify(f.vk, f.pub, t));
  t = p;
  t.c = -p.c;
  EXPECT_FALSE(verify(f.vk, f.pub, t));
  t = p;
  std::swap(t.a, t.c);
  EXPECT_FALSE(verify(f.vk, f.pub, t));

  for (size_t i = 0; i < f.pub.size(); ++i) {
    auto pub = f.pub;
    pub[i] += Fr::one();
    EXPECT_FALSE(verify(f.vk, pub, p)) << "public signal " << i;
  }
  VerificationKey vk = f.vk;
  vk.ic[1] = vk.ic[2];
  EXPECT_FALSE(verify(vk, f.pub, p));
  vk = f.vk;
  vk.delta2 = vk.gamma2;
  EXPECT_FALSE(verify(vk, f.pub, p));
}

TEST(Groth16, UnsatisfiedWitnessGivesInvalidProof) {
  Fixture f;
  Zkey key = Zkey::open(data("small.zkey"));
  auto be = make_cpu_backend();
  auto bad = f.witness;
  bad[bad.size() - 1] += Fr::one();  // an internal wire
  Proof p = prove(key, bad, *be);
  EXPECT_FALSE(verify(f.vk, f.pub, p));
}

TEST(Groth16, WitnessChecks) {
  Fixture f;
  Zkey key = Zkey::open(data("small.zkey"));
  auto be = make_cpu_backend();
  auto shorter = f.witness;
  shorter.pop_back();
  try {
    prove(key, shorter, *be);
    FAIL() << "short witness accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("expects 17"), std::string::npos) << e.what();
  }
  auto no_one = f.witness;
  no_one[0] = Fr::from_u64(2);
  EXPECT_THROW(prove(key, no_one, *be), std::invalid_argument);
}

TEST(Groth16, StepsComposeWithKnownRandomisers) {
  // assemble_proof with r = s = 0 is deterministic: pi_a = alpha1 + A, pi_b = beta2 + B2 and
  // pi_c = C + H. The same MSMs with r, s != 0 must still verify; this checks the r/s algebra.
  Fixture f;
  Zkey key = Zkey::open(data("small.zkey"));
  auto be = make_cpu_backend();
  auto h = compute_h(key, f.witness, *be);
  ProofMsms m = compute_msms(key, f.witness, h, *be);
  Proof p0 = assemble_proof(key.header(), m, Fr::zero(), Fr::zero());
  EXPECT_EQ(p0.a, m.a.add_affine(key.header().alpha1).to_affine());
  EXPECT_EQ(p0.c, (m.c + m.h).to_affine());
  EXPECT_TRUE(verify(f.vk, f.pub, p0));
  auto rng = zkinfer::testing::seeded_rng();
  Proof p1 = assemble_proof(key.header(), m, field_random<Fr>(rng), field_random<Fr>(rng));
  EXPECT_TRUE(verify(f.vk, f.pub, p1));
  EXPECT_NE(p0, p1);
}

TEST(Groth16, DevSetupKeyProvesAndVerifies) {
  R1cs cs = read_r1cs(data("small.r1cs"));
  Fixture f;
  zkinfer::testing::TempPath zk(".zkey");
  groth16_setup_dev(cs, zk.str());
  Zkey key = Zkey::open(zk.str());
  auto be = make_cpu_backend();
  Proof p = prove(key, f.witness, *be);
  VerificationKey vk = verification_key(key);
  EXPECT_TRUE(verify(vk, f.pub, p));
  EXPECT_FALSE(verify(f.vk, f.pub, p));  // another key
}

}  // namespace
}  // namespace zkinfer::prover
