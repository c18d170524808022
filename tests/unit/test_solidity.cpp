// The Solidity verifier generator: every verification key constant lands in its named slot
// (G2 coordinates imaginary part first, as the EVM precompile reads them), the IC points in
// order, the public signal count in the call signature, and no placeholder is left over.
// (Compiling and running the contract on an EVM is tests/interop/solidity_test.mjs.)
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "../support/random_points.h"
#include "../support/seed.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/solidity.h"

namespace zkinfer::prover {
namespace {

G1Affine g1_times(uint64_t k) {
  return scalar_mul(G1Jacobian::from_affine(g1_generator()), U256{{k, 0, 0, 0}}).to_affine();
}
using zkinfer::testing::random_g1;
using zkinfer::testing::random_g2;

std::string dec(const Fq& v) { return u256_to_decimal(v.to_canonical()); }

std::string constant(const std::string& name, const std::string& value) {
  return "uint256 private constant " + name + " = " + value + ";";
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

VerificationKey random_vk(std::mt19937_64& rng, size_t n_public) {
  VerificationKey vk;
  vk.alpha1 = random_g1(rng);
  vk.beta2 = random_g2(rng);
  vk.gamma2 = random_g2(rng);
  vk.delta2 = random_g2(rng);
  for (size_t i = 0; i <= n_public; ++i) vk.ic.push_back(random_g1(rng));
  return vk;
}

TEST(Solidity, TemplateHasEveryPlaceholderTheGeneratorFills) {
  std::string t(solidity_verifier_template());
  std::set<std::string> found;
  std::regex ph(R"(\{\{([A-Z0-9_]+)\}\})");
  for (auto it = std::sregex_iterator(t.begin(), t.end(), ph); it != std::sregex_iterator(); ++it)
    found.insert((*it)[1]);
  std::set<std::string> want{"N_PUBLIC", "ALPHA1_X", "ALPHA1_Y", "IC_POINTS"};
  for (const char* p : {"BETA2", "GAMMA2", "DELTA2"})
    for (const char* c : {"_X0", "_X1", "_Y0", "_Y1"}) want.insert(std::string(p) + c);
  EXPECT_EQ(found, want);
  EXPECT_NE(t.find("function verifyProof("), std::string::npos);
}

// gamma2 = the G2 generator, whose coordinates EIP-197 publishes: written out here so the
// imaginary-part-first order is checked against an outside source, not against our own types.
TEST(Solidity, G2GeneratorCoordinatesImaginaryPartFirst) {
  VerificationKey vk;
  vk.alpha1 = g1_generator();  // (1, 2)
  vk.beta2 = g2_generator();
  vk.gamma2 = g2_generator();
  vk.delta2 = g2_generator();
  vk.ic = {g1_generator(), g1_times(2)};
  std::string sol = solidity_verifier(vk);
  EXPECT_NE(sol.find(constant("ALPHA1_X", "1")), std::string::npos);
  EXPECT_NE(sol.find(constant("ALPHA1_Y", "2")), std::string::npos);
  EXPECT_NE(sol.find(constant("GAMMA2_X1",
                              "11559732032986387107991004021392285783925812861821192530917403151452391805634")),
            std::string::npos);
  EXPECT_NE(sol.find(constant("GAMMA2_X0",
                              "10857046999023057135944570762232829481370756359578518086990519993285655852781")),
            std::string::npos);
  EXPECT_NE(sol.find(constant("GAMMA2_Y1",
                              "4082367875863433681332203403145435568316851327593401208105741076214120093531")),
            std::string::npos);
  EXPECT_NE(sol.find(constant("GAMMA2_Y0",
                              "8495653923123431417604973247489272438418190587263600148770280649306958101930")),
            std::string::npos);
  // 2 * G1, also a published value.
  EXPECT_NE(sol.find("ic[1] = [uint256(1368015179489954701390400359078579693043519447331113978918064868415326638035), "
                     "9918110051302171585080402603319702774565515993150576347155970296011118125764];"),
            std::string::npos);
  EXPECT_NE(sol.find("ic[0] = [uint256(1), 2];"), std::string::npos);
}

TEST(Solidity, EveryKeyConstantInItsSlot) {
  auto rng = testing::seeded_rng();
  for (size_t n_public : {1u, 3u, 18u}) {
    VerificationKey vk = random_vk(rng, n_public);
    std::string sol = solidity_verifier(vk);
    SCOPED_TRACE("n_public = " + std::to_string(n_public));

    EXPECT_EQ(sol.find("{{"), std::string::npos);
    EXPECT_EQ(sol.find("}}"), std::string::npos);
    EXPECT_NE(sol.find(constant("N_PUBLIC", std::to_string(n_public))), std::string::npos);
    EXPECT_NE(sol.find("uint256[N_PUBLIC] calldata pubSignals"), std::string::npos);
    EXPECT_NE(sol.find(constant("ALPHA1_X", dec(vk.alpha1.x))), std::string::npos);
    EXPECT_NE(sol.find(constant("ALPHA1_Y", dec(vk.alpha1.y))), std::string::npos);
    const std::pair<const char*, const G2Affine*> g2s[] = {
        {"BETA2", &vk.beta2}, {"GAMMA2", &vk.gamma2}, {"DELTA2", &vk.delta2}};
    for (auto [name, p] : g2s) {
      std::string n(name);
      EXPECT_NE(sol.find(constant(n + "_X1", dec(p->x.c1))), std::string::npos) << n;
      EXPECT_NE(sol.find(constant(n + "_X0", dec(p->x.c0))), std::string::npos) << n;
      EXPECT_NE(sol.find(constant(n + "_Y1", dec(p->y.c1))), std::string::npos) << n;
      EXPECT_NE(sol.find(constant(n + "_Y0", dec(p->y.c0))), std::string::npos) << n;
    }
    // IC points in order, each exactly once, and no more of them.
    size_t last = 0;
    for (size_t i = 0; i < vk.ic.size(); ++i) {
      std::string line = "ic[" + std::to_string(i) + "] = [uint256(" + dec(vk.ic[i].x) + "), " +
                         dec(vk.ic[i].y) + "];";
      size_t at = sol.find(line);
      ASSERT_NE(at, std::string::npos) << line;
      EXPECT_GT(at, last);
      last = at;
      EXPECT_EQ(count(sol, line), 1u);
    }
    EXPECT_EQ(count(sol, "ic[" + std::to_string(vk.ic.size()) + "] ="), 0u);
    EXPECT_EQ(count(sol, "        ic["), vk.ic.size());
  }
}

TEST(Solidity, IcPointAtInfinityIsZeroZero) {
  auto rng = testing::seeded_rng();
  VerificationKey vk = random_vk(rng, 2);
  vk.ic[1] = G1Affine::infinity();
  std::string sol = solidity_verifier(vk);
  EXPECT_NE(sol.find("ic[1] = [uint256(0), 0];"), std::string::npos);
}

TEST(Solidity, RejectsKeysTheContractCannotExpress) {
  auto rng = testing::seeded_rng();
  VerificationKey none = random_vk(rng, 0);
  EXPECT_THROW(solidity_verifier(none), std::invalid_argument);
  VerificationKey empty = random_vk(rng, 1);
  empty.ic.clear();
  EXPECT_THROW(solidity_verifier(empty), std::invalid_argument);
  VerificationKey inf = random_vk(rng, 1);
  inf.delta2 = G2Affine::infinity();
  EXPECT_THROW(solidity_verifier(inf), std::invalid_argument);
}

}  // namespace
}  // namespace zkinfer::prover
