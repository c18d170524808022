// Groth16 setup: byte-for-byte equality with a key snarkjs 0.7.6 made from the same .r1cs and
// .ptau (tests/data/setup), equality of the two code paths (.ptau sums against field values
// from the same secrets), and keys that prove and verify, on random satisfied circuits.
#include "zkinfer/prover/setup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "../support/binfile_testing.h"
#include "../support/chain_circuit.h"
#include "../support/seed.h"
#include "backend.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/wtns.h"
#include "zkinfer/prover/zkey.h"

namespace zkinfer::prover {
namespace {

using ::testing::HasSubstr;
using zkinfer::testing::TempPath;
using zkinfer::testing::chain_circuit;

const auto kDir = zkinfer::testing::test_data_dir() / "setup";

// ---- random satisfied circuits ---------------------------------------------------------------

struct Built {
  R1cs cs;
  std::vector<Fr> witness;
};

// A coefficient of the kinds circuits have: 1, -1, small, small negative, full size, sometimes 0.
Fr random_coef(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0: return Fr::one();
    case 1: return -Fr::one();
    case 2: return Fr::from_u64(rng() % 1000 + 2);
    case 3: return -Fr::from_u64(rng() % 100000 + 2);
    case 4: return rng() % 8 == 0 ? Fr::zero() : field_random<Fr>(rng);
    default: return field_random<Fr>(rng);
  }
}

// Wires: 0 = 1, outputs, public inputs, private inputs, internal. Every internal wire and output
// is defined by one constraint from wires defined before it; wire 0 appears with a full-size
// coefficient in the A and B rows of every non-linear constraint (one signal with many terms, so
// the setup's MSM paths run in G1 and G2). One constraint in five is linear (A and B empty).
Built random_circuit(std::mt19937_64& rng, uint32_t n_out, uint32_t n_pub_in, uint32_t n_prv_in,
                     uint32_t n_internal) {
  Built b;
  R1csHeader& h = b.cs.header;
  h.n_pub_out = n_out;
  h.n_pub_in = n_pub_in;
  h.n_prv_in = n_prv_in;
  h.n_wires = 1 + n_out + n_pub_in + n_prv_in + n_internal;
  h.n_labels = h.n_wires;
  b.witness.assign(h.n_wires, Fr::zero());
  b.witness[0] = Fr::one();
  std::vector<uint32_t> defined = {0};
  for (uint32_t w = 1 + n_out; w < 1 + n_out + n_pub_in + n_prv_in; ++w) {
    b.witness[w] = field_random<Fr>(rng);
    defined.push_back(w);
  }
  std::vector<uint32_t> targets;
  for (uint32_t w = 1 + n_out + n_pub_in + n_prv_in; w < h.n_wires; ++w) targets.push_back(w);
  for (uint32_t w = 1; w <= n_out; ++w) targets.push_back(w);

  auto lc = [&](std::vector<uint32_t>& ws, std::vector<Fr>& cs, Fr& value) {
    int terms = 1 + (int)(rng() % 3);
    for (int i = 0; i < terms; ++i) {
      uint32_t w = defined[rng() % defined.size()];
      Fr c = random_coef(rng);
      ws.push_back(w);
      cs.push_back(c);
      value += c * b.witness[w];
    }
  };
  for (uint32_t t : targets) {
    std::vector<uint32_t> aw, bw, cw;
    std::vector<Fr> ac, bc, cc;
    Fr av = Fr::zero(), bv = Fr::zero(), rest = Fr::zero();
    bool linear = rng() % 5 == 0;
    if (!linear) {
      Fr k = field_random<Fr>(rng), k2 = field_random<Fr>(rng);
      aw.push_back(0);
      ac.push_back(k);
      av += k;
      bw.push_back(0);
      bc.push_back(k2);
      bv += k2;
      lc(aw, ac, av);
      lc(bw, bc, bv);
    }
    lc(cw, cc, rest);
    Fr c;
    do c = random_coef(rng);
    while (c.is_zero());
    // C = c * t + rest = A * B.
    b.witness[t] = (av * bv - rest) * c.inverse();
    cw.push_back(t);
    cc.push_back(c);
    b.cs.a.add_row(aw, ac);
    b.cs.b.add_row(bw, bc);
    b.cs.c.add_row(cw, cc);
    defined.push_back(t);
  }
  h.n_constraints = (uint32_t)targets.size();
  std::string why;
  EXPECT_TRUE(r1cs_satisfied(b.cs, b.witness, &why)) << why;
  return b;
}

std::map<uint32_t, std::vector<uint8_t>> sections_of(const std::string& path) {
  std::map<uint32_t, std::vector<uint8_t>> m;
  for (auto& s : zkinfer::testing::split(zkinfer::testing::read_bytes(path)).sections) m[s.type] = s.payload;
  return m;
}

bool proves_and_verifies(const std::string& zkey, std::span<const Fr> witness) {
  Zkey key = Zkey::open(zkey);
  auto be = make_cpu_backend();
  Proof proof = prove(key, witness, *be);
  VerificationKey vk = verification_key(key);
  std::vector<Fr> pub = public_signals(key, witness);
  std::string why;
  bool ok = verify(vk, pub, proof, &why);
  EXPECT_TRUE(ok) << why;
  if (!pub.empty()) {
    pub[0] += Fr::one();
    EXPECT_FALSE(verify(vk, pub, proof)) << "a wrong public signal verified";
  }
  return ok;
}

// ---- the snarkjs fixture ---------------------------------------------------------------------

// tests/data/setup (README.md there): setup_small.r1cs by circom 2.2.3, pot8.ptau and
// setup_small_snarkjs.zkey by snarkjs 0.7.6 (`groth16 setup`).
TEST(Setup, SameSectionsAsSnarkjs) {
  R1cs cs = read_r1cs((kDir / "setup_small.r1cs").string());
  Ptau ptau = Ptau::open((kDir / "pot8.ptau").string());
  TempPath out(".zkey");
  std::vector<std::string> steps;
  SetupResult r = groth16_setup(cs, ptau, out.str(), [&](std::string_view s, double) { steps.emplace_back(s); });
  EXPECT_FALSE(steps.empty());
  EXPECT_EQ(r.domain_size, 32u);
  EXPECT_EQ(r.n_public, 9u);
  EXPECT_EQ(r.warning, kPhase2Warning);

  auto theirs = sections_of((kDir / "setup_small_snarkjs.zkey").string());
  auto ours = sections_of(out.str());
  ASSERT_EQ(theirs.size(), 10u);
  for (const auto& [type, payload] : theirs) {
    ASSERT_TRUE(ours.count(type)) << "section " << type;
    EXPECT_TRUE(ours[type] == payload) << "section " << type << " differs";
  }
  for (const auto& [type, payload] : ours)
    if (!theirs.count(type)) {
      EXPECT_GE(type, kZkeyPadSection) << "extra section " << type;
      EXPECT_TRUE(payload.empty());
    }
  ASSERT_GE(theirs[10].size(), 64u);
  EXPECT_TRUE(std::equal(r.circuit_hash.begin(), r.circuit_hash.end(), theirs[10].begin()));
}

TEST(Setup, FixtureKeyProves) {
  R1cs cs = read_r1cs((kDir / "setup_small.r1cs").string());
  Ptau ptau = Ptau::open((kDir / "pot8.ptau").string());
  TempPath out(".zkey");
  groth16_setup(cs, ptau, out.str());
  std::vector<Fr> w = read_wtns((kDir / "setup_small.wtns").string());
  EXPECT_TRUE(proves_and_verifies(out.str(), w));
}

// ---- the two paths agree ---------------------------------------------------------------------

// groth16_setup on a .ptau made from tau, alpha, beta equals groth16_setup_with_known_secrets
// with the same secrets and gamma = delta = 1, byte for byte (the .ptau must be bigger than the
// domain: its last tauG1 block leaves out one power, see ptau.h).
TEST(Setup, PtauPathEqualsFieldPath) {
  auto rng = zkinfer::testing::seeded_rng();
  for (auto [out, pub_in, prv_in, internal] : {std::array<uint32_t, 4>{2, 3, 2, 100},
                                               std::array<uint32_t, 4>{0, 0, 1, 5},
                                               std::array<uint32_t, 4>{1, 0, 0, 1}}) {
    Built b = random_circuit(rng, out, pub_in, prv_in, internal);
    uint32_t n = groth16_domain_size(b.cs.header);
    unsigned log_n = (unsigned)__builtin_ctz(n);
    Groth16Secrets s{field_random<Fr>(rng), field_random<Fr>(rng), field_random<Fr>(rng), Fr::one(), Fr::one()};
    TempPath ptau_path(".ptau"), a(".zkey"), c(".zkey");
    write_ptau_with_known_secrets(ptau_path.str(), log_n + 1, s.tau, s.alpha, s.beta);
    Ptau ptau = Ptau::open(ptau_path.str());
    SetupResult ra = groth16_setup(b.cs, ptau, a.str());
    SetupResult rc = groth16_setup_with_known_secrets(b.cs, c.str(), s);
    EXPECT_EQ(ra.circuit_hash, rc.circuit_hash);
    EXPECT_TRUE(zkinfer::testing::read_bytes(a.str()) == zkinfer::testing::read_bytes(c.str()))
        << "circuit with " << b.cs.header.n_wires << " wires";
    EXPECT_TRUE(proves_and_verifies(a.str(), b.witness));
  }
}

// A .ptau of exactly the domain's power: H comes from snarkjs's last tauG1 block; still proves.
TEST(Setup, PtauOfTheDomainsPowerProves) {
  auto rng = zkinfer::testing::seeded_rng();
  Built b = random_circuit(rng, 1, 2, 1, 40);
  unsigned log_n = (unsigned)__builtin_ctz(groth16_domain_size(b.cs.header));
  TempPath ptau_path(".ptau"), out(".zkey");
  write_dev_ptau(ptau_path.str(), log_n);
  Ptau ptau = Ptau::open(ptau_path.str());
  groth16_setup(b.cs, ptau, out.str());
  EXPECT_TRUE(proves_and_verifies(out.str(), b.witness));
}

// ---- development setup -----------------------------------------------------------------------

TEST(Setup, DevKeyProvesAndVerifies) {
  auto rng = zkinfer::testing::seeded_rng();
  Built b = random_circuit(rng, 2, 3, 2, 90);
  TempPath out(".zkey"), again(".zkey");
  SetupResult r = groth16_setup_dev(b.cs, out.str());
  EXPECT_EQ(r.warning, kDevSetupWarning);
  EXPECT_THAT(r.warning, HasSubstr("NOT FOR PRODUCTION"));
  EXPECT_TRUE(proves_and_verifies(out.str(), b.witness));
  Zkey key = Zkey::open(out.str());
  EXPECT_NE(key.header().delta2, g2_generator());
  EXPECT_NE(key.header().gamma2, g2_generator());
  EXPECT_NE(key.header().gamma2, key.header().delta2);
  // Fresh secrets each time.
  groth16_setup_dev(b.cs, again.str());
  EXPECT_NE(Zkey::open(again.str()).header().alpha1, key.header().alpha1);
}

// A key from one circuit's setup does not verify a proof made with another key's secrets for
// the same circuit: the keys really differ (and a wrong key is caught).
TEST(Setup, DevKeysAreNotInterchangeable) {
  auto rng = zkinfer::testing::seeded_rng();
  Built b = random_circuit(rng, 1, 1, 1, 20);
  TempPath k1(".zkey"), k2(".zkey");
  groth16_setup_dev(b.cs, k1.str());
  groth16_setup_dev(b.cs, k2.str());
  Zkey a = Zkey::open(k1.str()), c = Zkey::open(k2.str());
  auto be = make_cpu_backend();
  Proof p = prove(a, b.witness, *be);
  EXPECT_TRUE(verify(verification_key(a), public_signals(a, b.witness), p));
  EXPECT_FALSE(verify(verification_key(c), public_signals(c, b.witness), p));
}

// ---- domains of 2^15 points and more: snarkjs's circuit hash quirk ---------------------------


std::string hex(const std::array<uint8_t, 64>& h) {
  std::string s;
  for (uint8_t b : h) {
    s += "0123456789abcdef"[b >> 4];
    s += "0123456789abcdef"[b & 15];
  }
  return s;
}

// Circuit hashes snarkjs 0.7.6 printed for `groth16 setup` of `setup_tool chain-r1cs c.r1cs
// 16382` (domain 2^15) with `setup_tool known-ptau p.ptau POWER 1234567890123456789 987654321
// 555555555` (the .ptau write_ptau_with_known_secrets makes from these secrets); zkinfer's keys
// had every section equal to snarkjs's. For 2^15 points snarkjs hashes one "H" point more than
// its count says: tauG1[2^16 - 1] - tauG1[2^15 - 1], which for POWER 16 is a real point, and for
// POWER 15 lies past tauG1, where snarkjs reads section 3's header as a point (setup.h).
const Groth16Secrets kChainSecrets{Fr::from_u64(1234567890123456789ull), Fr::from_u64(987654321),
                                   Fr::from_u64(555555555), Fr::one(), Fr::one()};

TEST(SetupLarge, SnarkjsHashWithPtauOfTheDomainsPower) {
  TempPath ptau_path(".ptau"), out(".zkey");
  write_ptau_with_known_secrets(ptau_path.str(), 15, kChainSecrets.tau, kChainSecrets.alpha, kChainSecrets.beta);
  Ptau ptau = Ptau::open(ptau_path.str());
  SetupResult r = groth16_setup(chain_circuit(16382), ptau, out.str());
  EXPECT_EQ(r.domain_size, 1u << 15);
  EXPECT_EQ(hex(r.circuit_hash),
            "599ba1a0d334fa8ac9c31a1f6fe5c2369618439d6d7974347756e23eed75c933"
            "0e527de2241dac5468e2c9b7de62268a57c2d46103d1a031c33a20214987ef62");
}

// POWER 16. Writing that .ptau takes twice the time of the test above, so this takes the field
// path with the same secrets and gamma = delta = 1, which PtauPathEqualsFieldPath shows equal to
// the .ptau path on every larger .ptau (and tests/interop/setup_vs_snarkjs.sh checks the .ptau
// path itself against snarkjs).
TEST(SetupLarge, SnarkjsHashWithLargerPtau) {
  TempPath out(".zkey");
  SetupResult r = groth16_setup_with_known_secrets(chain_circuit(16382), out.str(), kChainSecrets);
  EXPECT_EQ(r.domain_size, 1u << 15);
  EXPECT_EQ(hex(r.circuit_hash),
            "79b6f15454989d6e6868247fdc494f18120ba268d6ed39227536e76c5c0215e4"
            "d910b0dc2b265dd3a8d4c9e12d0415363caf6735b9f050d50ac6fa13482c3b9f");
}

// ---- sizes and errors ------------------------------------------------------------------------

TEST(Setup, DomainSizeFollowsSnarkjs) {
  auto domain = [](uint32_t constraints, uint32_t pub_out, uint32_t pub_in) {
    R1csHeader h;
    h.n_constraints = constraints;
    h.n_pub_out = pub_out;
    h.n_pub_in = pub_in;
    return groth16_domain_size(h);
  };
  EXPECT_EQ(domain(0, 0, 0), 2u);  // snarkjs: log2(0) + 1 = 1
  EXPECT_EQ(domain(1, 0, 0), 2u);
  EXPECT_EQ(domain(1, 1, 0), 4u);
  EXPECT_EQ(domain(3, 0, 0), 4u);
  EXPECT_EQ(domain(3, 0, 1), 8u);  // 3 constraints + 1 public + wire 0's row = 5 rows
  EXPECT_EQ(domain(7, 0, 0), 8u);
  EXPECT_EQ(domain(8, 0, 0), 16u);
  EXPECT_EQ(domain(65535, 0, 0), 65536u);
  EXPECT_EQ(domain(65536, 0, 0), 131072u);
  EXPECT_EQ(domain((1u << 28) - 1, 0, 0), 1u << 28);
  EXPECT_THROW(domain(1u << 28, 0, 0), std::invalid_argument);
}

TEST(Setup, RefusesCircuitTooBigForThePtau) {
  R1cs cs = read_r1cs((kDir / "setup_small.r1cs").string());  // domain 32
  TempPath ptau_path(".ptau"), out(".zkey");
  write_dev_ptau(ptau_path.str(), 4);
  Ptau ptau = Ptau::open(ptau_path.str());
  try {
    groth16_setup(cs, ptau, out.str());
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("circuit too big"));
    EXPECT_THAT(e.what(), HasSubstr("power 4"));
  }
  EXPECT_FALSE(std::filesystem::exists(out.str()));
}

TEST(Setup, RefusesUnpreparedPtau) {
  R1cs cs = read_r1cs((kDir / "setup_small.r1cs").string());
  auto raw = zkinfer::testing::split(zkinfer::testing::read_bytes((kDir / "pot8.ptau").string()));
  std::erase_if(raw.sections, [](const auto& s) { return s.type >= 12; });
  TempPath ptau_path(".ptau"), out(".zkey");
  zkinfer::testing::write_bytes(ptau_path.str(), zkinfer::testing::join(raw));
  Ptau ptau = Ptau::open(ptau_path.str());
  try {
    groth16_setup(cs, ptau, out.str());
    ADD_FAILURE() << "no error";
  } catch (const FormatError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not prepared"));
  }
}

}  // namespace
}  // namespace zkinfer::prover
