// Poseidon (compiler/poseidon.h) against circomlib: the generated constants against circomlib's
// poseidon_constants.circom, the hash and the commitment against answers computed by circomlib's
// Poseidon template, and the gadget against the native hash and the constraint check.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "zkinfer/compiler/circuit.h"
#include "zkinfer/compiler/poseidon.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/r1cs.h"

namespace zkinfer::compiler {
namespace {

U256 hex_u256(std::string_view s) {
  if (s.substr(0, 2) == "0x") s.remove_prefix(2);
  if (s.empty() || s.size() > 64) throw std::invalid_argument("bad hex number");
  U256 r{};
  for (char ch : s) {
    int d;
    if (ch >= '0' && ch <= '9') d = ch - '0';
    else if (ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
    else throw std::invalid_argument("bad hex digit");
    for (int w = 3; w > 0; --w) r.w[w] = (r.w[w] << 4) | (r.w[w - 1] >> 60);
    r.w[0] = (r.w[0] << 4) | uint64_t(d);
  }
  return r;
}
Fr hex_fr(std::string_view s) {
  const U256 a = hex_u256(s);
  check_below_modulus<Fr>(a, "test vector");
  return Fr::from_canonical(a);
}
std::string hex(const Fr& x) { return u256_to_hex(x.to_canonical()); }

// circomlib's circuits folder from the npm package tests/interop installs (scripts/setup.sh);
// ZKINFER_CIRCOMLIB_CIRCUITS overrides it.
std::filesystem::path circomlib_dir() {
  if (const char* e = std::getenv("ZKINFER_CIRCOMLIB_CIRCUITS")) return e;
  return ZKINFER_CIRCOMLIB_CIRCUITS;
}

bool read_text(const std::filesystem::path& p, std::string& out) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

#define READ_CIRCOMLIB_OR_SKIP(file, text)                                                     \
  std::string text;                                                                            \
  if (!read_text(circomlib_dir() / (file), text))                                              \
  GTEST_SKIP() << "circomlib is not installed (" << (circomlib_dir() / (file)).string()        \
               << " missing): run scripts/setup.sh, which installs the npm packages of "       \
                  "tests/interop (CI does)"

// poseidon_constants.circom: functions POSEIDON_C/S/M/P(t), each an if/else-if chain on t
// returning (nested) arrays of hex numbers. Returns name -> t -> the numbers in order (matrices
// row by row).
std::map<std::string, std::map<unsigned, std::vector<U256>>> parse_constants(
    const std::string& text) {
  std::map<std::string, std::map<unsigned, std::vector<U256>>> out;
  static const std::regex token(R"(function\s+(POSEIDON_[A-Z])\s*\(|t\s*==\s*(\d+)|(0x[0-9a-fA-F]+))");
  std::string fn;
  unsigned t = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), token); it != std::sregex_iterator();
       ++it) {
    const std::smatch& m = *it;
    if (m[1].matched) {
      fn = m[1].str();
      t = 0;
    } else if (m[2].matched) {
      t = unsigned(std::stoul(m[2].str()));
    } else if (!fn.empty() && t != 0) {
      out[fn][t].push_back(hex_u256(m[3].str()));
    }
  }
  return out;
}

void expect_equal(const std::vector<Fr>& mine, const std::vector<U256>& theirs,
                  const std::string& what) {
  ASSERT_EQ(mine.size(), theirs.size()) << what << ": number of constants";
  for (size_t i = 0; i < mine.size(); ++i)
    ASSERT_EQ(hex(mine[i]), u256_to_hex(theirs[i])) << what << "[" << i << "]";
}

TEST(PoseidonParams, PartialRoundsMatchCircomlib) {
  READ_CIRCOMLIB_OR_SKIP("poseidon.circom", text);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(N_ROUNDS_P\[16\]\s*=\s*\[([^\]]*)\])")));
  std::vector<unsigned> theirs;
  std::stringstream ss(m[1].str());
  for (std::string item; std::getline(ss, item, ',');) theirs.push_back(unsigned(std::stoul(item)));
  ASSERT_EQ(theirs.size(), 16u);
  for (unsigned t = 2; t <= 17; ++t) EXPECT_EQ(poseidon_partial_rounds(t), theirs[t - 2]) << t;
}

// The independent oracle for the generation: every constant of circomlib's optimized circuit.
TEST(PoseidonParams, ConstantsMatchCircomlib) {
  READ_CIRCOMLIB_OR_SKIP("poseidon_constants.circom", text);
  const auto theirs = parse_constants(text);
  for (const char* fn : {"POSEIDON_C", "POSEIDON_S", "POSEIDON_M", "POSEIDON_P"}) {
    ASSERT_TRUE(theirs.count(fn)) << fn << " not found in poseidon_constants.circom";
    ASSERT_EQ(theirs.at(fn).size(), 16u) << fn;
  }
  for (unsigned t = 2; t <= 17; ++t) {
    SCOPED_TRACE("t = " + std::to_string(t));
    const PoseidonParams& p = poseidon_params(t);
    expect_equal(p.opt_c, theirs.at("POSEIDON_C").at(t), "C");
    expect_equal(p.opt_s, theirs.at("POSEIDON_S").at(t), "S");
    expect_equal(p.opt_m, theirs.at("POSEIDON_M").at(t), "M");
    expect_equal(p.opt_p, theirs.at("POSEIDON_P").at(t), "P");
  }
}

TEST(PoseidonParams, Shapes) {
  for (unsigned t = 2; t <= 17; ++t) {
    const PoseidonParams& p = poseidon_params(t);
    EXPECT_EQ(&p, &poseidon_params(t));  // cached
    EXPECT_EQ(p.t, t);
    EXPECT_EQ(p.rounds_f, 8u);
    EXPECT_EQ(p.round_constants.size(), size_t(8 + p.rounds_p) * t);
    EXPECT_EQ(p.mds.size(), size_t(t) * t);
    EXPECT_EQ(p.opt_c.size(), size_t(8) * t + p.rounds_p);
    EXPECT_EQ(p.opt_s.size(), size_t(p.rounds_p) * (2 * t - 1));
  }
  EXPECT_THROW(poseidon_params(1), std::invalid_argument);
  EXPECT_THROW(poseidon_params(18), std::invalid_argument);
}

// Known answers. Produced by tests/compiler/data/regen_poseidon_vectors.sh: circom 2.2.3 (npm
// circom2 0.2.23) compiled data/poseidon_vectors.circom, which applies circomlib 2.0.5's
// Poseidon(n) template, and snarkjs 0.7.6 `wtns calculate` computed its witness for
// data/poseidon_vectors.input.json; these are its outputs.
// kSmall[n-1] = Poseidon(1, 2, ..., n).
const char* const kSmall[16] = {
    "0x29176100eaa962bdc1fe6c654d6a3c130e96a4d1168b33848b897dc502820133",
    "0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a",
    "0x0e7732d89e6939c0ff03d5e58dab6302f3230e269dc5b968f725df34ab36d732",
    "0x299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465",
    "0x0dab9449e4a1398a15224c0b15a49d598b2174d305a316c918125f8feeb123c0",
    "0x2d1a03850084442813c8ebf094dea47538490a68b05f2239134a4cca2f6302e1",
    "0x1c2f3482dbb140c4ebb9ada49abdbc374a9a85fcfc6533ec2e9df45b4921c318",
    "0x2921ab9bd0140cbc98e40395c0fefb40337a4d54fbbecd9a4d43b3d8d0c4d8d1",
    "0x1e0b893aa2ad802275e749d260330b7675b22bb3aaa4461d204af32e60cd9078",
    "0x0816126a09c29ecfcc0628461dacfb9459816fc60d6738b78db9ad07206fdc21",
    "0x07e5b070aa2dba008f30a6b785b6c5ae2429e211f71cacdbdae0e07fc05b47a8",
    "0x058814945232937db248a01e7cc55b3d681cc08702c8168494e856c1ef7693b5",
    "0x0f918939632fadca6456a2fe6e65a124828d4c3920d379cc744e90a666887806",
    "0x1278779aaafc5ca58bf573151005830cdb4683fb26591c85a7464d4f0e527776",
    "0x094ae33b67a845998abb55e917642d4022d078d96f7c36ea11da4273ecf20f50",
    "0x16159a551cbb66108281a48099fff949ae08afd7f1f2ec06de2ffb96b919b765",
};
// kLarge[n-1] = Poseidon(p-1, p-2, ..., p-n).
const char* const kLarge[16] = {
    "0x0771743e7ade0f56f51d16544f60059ba3029ba556d63697612900fe5f020b16",
    "0x0d984fe36eaa48abd5d41748d04aec71f5a2ed436f5207fa8b13af37bd9bfba6",
    "0x2c82fc601c507fcd087634a3ff81675c33967e662565ec3ad6482de05d020f91",
    "0x0389b22dc74ea1215d472baf640521e4ec51d9750536db85692e52787841292e",
    "0x2eae29afc70a7662e87c67b8bd6c66590d9cc31cdeb513771df8b1bb47916fe7",
    "0x2417d0f73f3c81dca87fe44142c217deec8ddef8b78ad819cf2fd650c6dde466",
    "0x294c99910baffcdca5053875a6f17455621eddd9a8deb88a2ec8f75af70a9d59",
    "0x14a76a214483f798348d8461a27d73a7449478ba3b63aad8448d9c78ff2b0d2c",
    "0x2f43662a5c8c9c32cbb6d96154931e5e96920ab3a88b1f7cbdb9101509d6b4f2",
    "0x064eef3cd52d57dc94b0b01808327dd8f89ebb866e50da17ee2e54ec7b492246",
    "0x24ce084c5746d7009c0764139982992bc922ad6a06a6b293ea402355efa8e3b7",
    "0x09c66c618b616bf58741b60f7fdf438041c3a5f48510857486e7c299af9f5d27",
    "0x2c505db37c6402f3a3886cc262b0270f88de3025da745407d8e5bea58bbf2b33",
    "0x0a10d7d8002cd757a8fcd1e3b850975cdf605bd5770d0f453ef15a8ef7ddc190",
    "0x20e24de6259e4fe7ac3f03e34282df37ac5568bad289a336e2de41e8651cfb90",
    "0x003850966e7d5bfb48d949cecc61aa014d167f4193afbba94c09c0b279a750a6",
};
// poseidon_commit of c_0..c_16, c_i = 1000003 i^2 + 7 for i < 16, c_16 = p - 12345, written out
// with circomlib's Poseidon(16) in the circuit; and of the empty vector.
const char* const kCommit17 = "0x2cf8e27a668b602ed58ece08d2abc07e777f6e2a0fa8fc210a9c71ab013aeb60";
const char* const kCommit0 = "0x0f63cd0c9fbe679a562469831d8e810c9d33cc2409695b8e6a893e627ea952d1";

std::vector<Fr> small_inputs(unsigned n) {
  std::vector<Fr> v;
  for (unsigned i = 0; i < n; ++i) v.push_back(Fr::from_u64(i + 1));
  return v;
}
std::vector<Fr> large_inputs(unsigned n) {
  std::vector<Fr> v;
  for (unsigned i = 0; i < n; ++i) v.push_back(-Fr::from_u64(i + 1));
  return v;
}
std::vector<Fr> commit17_inputs() {
  std::vector<Fr> v;
  for (uint64_t i = 0; i < 16; ++i) v.push_back(Fr::from_u64(1000003 * i * i + 7));
  v.push_back(-Fr::from_u64(12345));
  return v;
}

TEST(PoseidonHash, CircomlibjsVector) {
  const Fr in[2] = {Fr::from_u64(1), Fr::from_u64(2)};
  EXPECT_EQ(hex(poseidon_hash(in)),
            "0x115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a");
}

TEST(PoseidonHash, KnownAnswersFromCircomlib) {
  for (unsigned n = 1; n <= 16; ++n) {
    SCOPED_TRACE("n = " + std::to_string(n));
    EXPECT_EQ(hex(poseidon_hash(small_inputs(n))), hex(hex_fr(kSmall[n - 1])));
    EXPECT_EQ(hex(poseidon_hash(large_inputs(n))), hex(hex_fr(kLarge[n - 1])));
    EXPECT_EQ(hex(poseidon_hash_reference(small_inputs(n))), hex(hex_fr(kSmall[n - 1])));
    EXPECT_EQ(hex(poseidon_hash_reference(large_inputs(n))), hex(hex_fr(kLarge[n - 1])));
  }
}

TEST(PoseidonHash, OptimizedEqualsReferenceOnRandomInputs) {
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (unsigned n = 1; n <= 16; ++n) {
    std::vector<Fr> in;
    for (unsigned i = 0; i < n; ++i) in.push_back(field_random<Fr>(rng));
    EXPECT_EQ(poseidon_hash(in), poseidon_hash_reference(in)) << "n = " << n;
  }
}

TEST(PoseidonHash, RejectsBadArity) {
  std::vector<Fr> none, many(17, Fr::one());
  EXPECT_THROW(poseidon_hash(none), std::invalid_argument);
  EXPECT_THROW(poseidon_hash(many), std::invalid_argument);
  EXPECT_THROW(poseidon_hash_reference(many), std::invalid_argument);
}

TEST(PoseidonCommit, KnownAnswersFromCircomlib) {
  EXPECT_EQ(hex(poseidon_commit(commit17_inputs())), hex(hex_fr(kCommit17)));
  EXPECT_EQ(hex(poseidon_commit({})), hex(hex_fr(kCommit0)));
}

TEST(PoseidonCommit, Definition) {
  // The chain spelled out with poseidon_hash, for 31 values (3 blocks).
  std::vector<Fr> v;
  for (uint64_t i = 0; i < 31; ++i) v.push_back(Fr::from_u64(i * 7 + 1));
  Fr h = Fr::from_u64(31);
  for (size_t j = 0; j < 3; ++j) {
    std::vector<Fr> in{h};
    for (size_t i = 0; i < 15; ++i) in.push_back(15 * j + i < 31 ? v[15 * j + i] : Fr::zero());
    h = poseidon_hash(in);
  }
  EXPECT_EQ(poseidon_commit(v), h);
  // The length is bound: appending a zero changes the commitment.
  std::vector<Fr> w = v;
  w.push_back(Fr::zero());
  EXPECT_NE(poseidon_commit(w), poseidon_commit(v));
}

// ---- gadget -------------------------------------------------------------------------------

// A circuit with one public output (the hash) and n private inputs; inputs[i] enters the hash
// as the linear combination make_input(b, i).
struct Built {
  prover::R1cs r1cs;
  std::vector<Fr> witness;
  uint32_t first_internal = 0;
  uint32_t constraints = 0;
};

template <class MakeInput, class Gadget>
Built build(const std::vector<Fr>& inputs, MakeInput make_input, Gadget gadget) {
  Built out;
  const uint32_t n = uint32_t(inputs.size());
  uint32_t emit_wires = 0, emit_constraints = 0;
  for (auto mode : {Builder::Mode::kEmit, Builder::Mode::kEval}) {
    Builder b(mode, 1, 0, n);
    if (b.evaluating())
      for (uint32_t i = 0; i < n; ++i) b.set(b.private_input_wire(i), inputs[i]);
    out.first_internal = b.wire_count();
    std::vector<Lc> lcs;
    for (uint32_t i = 0; i < n; ++i) lcs.push_back(make_input(b, i));
    const Lc h = gadget(b, lcs);
    if (b.evaluating()) b.set(b.output_wire(0), b.value(h));
    b.constrain_zero(h - Lc::of(b.output_wire(0)));
    if (b.emitting()) {
      emit_wires = b.wire_count();
      emit_constraints = b.constraint_count();
      out.r1cs = b.take_r1cs();
    } else {
      EXPECT_EQ(b.wire_count(), emit_wires) << "both modes allocate the same wires";
      EXPECT_EQ(b.constraint_count(), emit_constraints);
      out.witness = b.take_witness();
    }
  }
  out.constraints = emit_constraints;
  return out;
}

// Every row of every matrix names each wire once, in increasing order (no duplicate terms).
void expect_rows_canonical(const prover::R1cs& cs) {
  for (const prover::SparseMatrix* m : {&cs.a, &cs.b, &cs.c})
    for (size_t r = 0; r < m->rows(); ++r)
      for (uint64_t k = m->row_start[r] + 1; k < m->row_start[r + 1]; ++k)
        ASSERT_LT(m->wire[k - 1], m->wire[k]) << "constraint " << r;
}

Lc plain_input(Builder& b, uint32_t i) { return Lc::of(b.private_input_wire(i)); }
Lc hash_gadget(Builder& b, std::span<const Lc> in) { return poseidon_hash_gadget(b, in); }
Lc commit_gadget(Builder& b, std::span<const Lc> in) { return poseidon_commit_gadget(b, in); }

TEST(PoseidonGadget, SatisfiedAndEqualsNativeHash) {
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (unsigned n = 1; n <= 16; ++n) {
    SCOPED_TRACE("n = " + std::to_string(n));
    std::vector<Fr> in;
    for (unsigned i = 0; i < n; ++i) in.push_back(field_random<Fr>(rng));
    const Built c = build(in, plain_input, hash_gadget);
    std::string why;
    EXPECT_TRUE(prover::r1cs_satisfied(c.r1cs, c.witness, &why)) << why;
    EXPECT_EQ(c.witness[1], poseidon_hash(in));
    expect_rows_canonical(c.r1cs);
    // 3 per S-box, less element 0's first (a constant), plus the output's equality.
    const unsigned t = n + 1;
    EXPECT_EQ(c.constraints, 3 * (8 * t + poseidon_partial_rounds(t)) - 3 + 1);
  }
}

// circom --O2 compiles circomlib's Poseidon(16) to 609 constraints
// (tests/compiler/data/regen_poseidon_vectors.sh prints the count); the gadget needs the same.
TEST(PoseidonGadget, SixteenInputsCostsWhatCircomlibDoes) {
  const Built c = build(small_inputs(16), plain_input, hash_gadget);
  EXPECT_EQ(c.constraints - 1, 609u);
  EXPECT_EQ(c.witness[1], hex_fr(kSmall[15]));
}

// Inputs that are linear combinations (with constants), and constant inputs, which cost no
// first-round S-box.
TEST(PoseidonGadget, LinearCombinationAndConstantInputs) {
  std::vector<Fr> x{Fr::from_u64(5), -Fr::from_u64(9), Fr::from_u64(123456789)};
  auto make = [](Builder& b, uint32_t i) {
    if (i == 1) return Lc::constant(int64_t{-4});
    Lc lc = Lc::of(b.private_input_wire(i), fr_of(3)) + Lc::constant(int64_t{11});
    if (i == 2) lc += Lc::of(b.private_input_wire(0), fr_of(-2));
    return lc;
  };
  const Built c = build(x, make, hash_gadget);
  std::string why;
  EXPECT_TRUE(prover::r1cs_satisfied(c.r1cs, c.witness, &why)) << why;
  const std::vector<Fr> expect_in{Fr::from_u64(3 * 5 + 11), -Fr::from_u64(4),
                                  Fr::from_u64(3) * x[2] + Fr::from_u64(11) - Fr::from_u64(10)};
  EXPECT_EQ(c.witness[1], poseidon_hash(expect_in));
  EXPECT_EQ(c.constraints, 3 * (8 * 4 + poseidon_partial_rounds(4)) - 6 + 1);
}

TEST(PoseidonGadget, AllConstantInputsCostNothing) {
  Builder b(Builder::Mode::kEmit, 0, 0, 0);
  const Lc in[2] = {Lc::constant(int64_t{1}), Lc::constant(int64_t{2})};
  const Lc h = poseidon_hash_gadget(b, in);
  EXPECT_EQ(b.constraint_count(), 0u);
  EXPECT_EQ(h, Lc::constant(hex_fr(kSmall[1])));
}

// Every wire the gadget allocates is pinned down: changing any one breaks a constraint.
TEST(PoseidonGadget, EveryInternalWireIsConstrained) {
  const Built c = build(small_inputs(2), plain_input, hash_gadget);
  ASSERT_TRUE(prover::r1cs_satisfied(c.r1cs, c.witness));
  ASSERT_GT(c.witness.size(), c.first_internal);
  for (uint32_t w = 1; w < c.witness.size(); ++w) {
    if (w >= 2 && w < c.first_internal) continue;  // the private inputs are free
    std::vector<Fr> bad = c.witness;
    bad[w] += Fr::one();
    EXPECT_FALSE(prover::r1cs_satisfied(c.r1cs, bad)) << "wire " << w;
  }
}

TEST(PoseidonGadget, RejectsBadArity) {
  Builder b(Builder::Mode::kEmit, 0, 0, 0);
  std::vector<Lc> none, many(17);
  EXPECT_THROW(poseidon_hash_gadget(b, none), std::invalid_argument);
  EXPECT_THROW(poseidon_hash_gadget(b, many), std::invalid_argument);
}

TEST(PoseidonCommitGadget, EqualsNativeCommit) {
  const uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (size_t len : {0, 1, 15, 16, 17, 100}) {
    SCOPED_TRACE("length " + std::to_string(len));
    std::vector<Fr> v;
    for (size_t i = 0; i < len; ++i) v.push_back(field_random<Fr>(rng));
    const Built c = build(v, plain_input, commit_gadget);
    std::string why;
    EXPECT_TRUE(prover::r1cs_satisfied(c.r1cs, c.witness, &why)) << why;
    EXPECT_EQ(c.witness[1], poseidon_commit(v));
    expect_rows_canonical(c.r1cs);
    // Per Poseidon(16) call 3 * 204 = 612 constraints, less 3 per constant S-box input of the
    // first round: element 0, the chain value h_0 = n of the first call, the zero padding; the
    // empty vector's commitment is a constant (no constraints). Plus the output's equality.
    const size_t blocks = (len + 14) / 15;
    const size_t padding = blocks * 15 - len;
    EXPECT_EQ(c.constraints, len == 0 ? 1 : blocks * 609 - 3 - 3 * padding + 1);
  }
}

TEST(PoseidonCommitGadget, KnownAnswerFromCircomlib) {
  const Built c = build(commit17_inputs(), plain_input, commit_gadget);
  EXPECT_TRUE(prover::r1cs_satisfied(c.r1cs, c.witness));
  EXPECT_EQ(c.witness[1], hex_fr(kCommit17));
}

}  // namespace
}  // namespace zkinfer::compiler
