// Resident points (backend.h) and ResidentKey (prover/resident_key.h) on the CPU backend: MSMs
// over ranges of resident arrays equal the plain MSMs, a ResidentKey gives the same five MSMs as
// the .zkey and proofs that verify, one key serves many proofs, and prove(ResidentKey) reaches the
// backend only through the resident overloads (no key points by host pointer).
// tests/gpu/test_gpu_groth16.cpp runs the same comparisons with the CUDA backend.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <vector>

#include "../support/binfile_testing.h"
#include "../support/chain_circuit.h"
#include "../support/chain_witness.h"
#include "../support/random_points.h"
#include "../support/seed.h"
#include "backend.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/prover/resident_key.h"
#include "zkinfer/prover/setup.h"
#include "zkinfer/prover/wtns.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/prover/zkey.h"

namespace zkinfer::prover {
namespace {

using zkinfer::testing::test_data_dir;

std::string data(const char* name) { return (test_data_dir() / name).string(); }

void expect_same_msms(const ProofMsms& x, const ProofMsms& y) {
  EXPECT_EQ(x.a, y.a);
  EXPECT_EQ(x.b1, y.b1);
  EXPECT_EQ(x.b2, y.b2);
  EXPECT_EQ(x.c, y.c);
  EXPECT_EQ(x.h, y.h);
}

// sum scalars[i] * points[i], one scalar multiplication at a time: the independent oracle.
template <class C>
Jacobian<C> naive_msm(const Fr* s, const Affine<C>* p, size_t n) {
  Jacobian<C> acc = Jacobian<C>::infinity();
  for (size_t i = 0; i < n; ++i) acc += scalar_mul(Jacobian<C>::from_affine(p[i]), s[i].to_canonical());
  return acc;
}

// ---- resident points ------------------------------------------------------------------------

TEST(ResidentPoints, CpuBackendViewsTheHostArray) {
  auto be = make_cpu_backend({1});
  std::vector<G1Affine> p1(5, g1_generator());
  std::vector<G2Affine> p2(3, g2_generator());
  auto r1 = be->resident_g1(p1.data(), p1.size());
  auto r2 = be->resident_g2(p2.data(), p2.size());
  EXPECT_EQ(r1->host(), p1.data());
  EXPECT_EQ(r1->size(), 5u);
  EXPECT_EQ(r1->device_bytes(), 0u);
  EXPECT_EQ(r2->host(), p2.data());
  EXPECT_EQ(r2->size(), 3u);
  auto empty = be->resident_g1(nullptr, 0);
  EXPECT_EQ(empty->size(), 0u);
  EXPECT_THROW(be->resident_g1(nullptr, 1), std::invalid_argument);
}

TEST(ResidentPoints, RangesEqualPlainMsms) {
  auto rng = zkinfer::testing::seeded_rng();
  auto be = make_cpu_backend({2});
  const size_t n = 1000;
  std::vector<G1Affine> p1(n);
  std::vector<G2Affine> p2(n / 4);
  for (auto& p : p1) p = zkinfer::testing::random_g1(rng);
  for (auto& p : p2) p = zkinfer::testing::random_g2(rng);
  std::vector<Fr> s(n);
  for (auto& x : s) x = field_random<Fr>(rng);
  auto r1 = be->resident_g1(p1.data(), p1.size());
  auto r2 = be->resident_g2(p2.data(), p2.size());

  struct Range {
    size_t first, n;
  };
  for (Range r : {Range{0, n}, Range{0, 0}, Range{n, 0}, Range{0, 1}, Range{n - 1, 1}, Range{17, 500},
                  Range{333, n - 333}}) {
    G1Jacobian got, want;
    be->msm_g1(got, s.data(), *r1, r.first, r.n);
    be->msm_g1(want, s.data(), p1.data() + r.first, r.n);
    EXPECT_EQ(got, want) << "G1 [" << r.first << ", +" << r.n << ")";
    if (r.n <= 8) EXPECT_EQ(got, naive_msm(s.data(), p1.data() + r.first, r.n));
  }
  for (Range r : {Range{0, n / 4}, Range{n / 4, 0}, Range{3, 7}, Range{100, n / 4 - 100}}) {
    G2Jacobian got, want;
    be->msm_g2(got, s.data(), *r2, r.first, r.n);
    be->msm_g2(want, s.data(), p2.data() + r.first, r.n);
    EXPECT_EQ(got, want) << "G2 [" << r.first << ", +" << r.n << ")";
    if (r.n <= 8) EXPECT_EQ(got, naive_msm(s.data(), p2.data() + r.first, r.n));
  }
}

TEST(ResidentPoints, RangesPastTheEndAreRefused) {
  auto be = make_cpu_backend({1});
  std::vector<G1Affine> p1(10, g1_generator());
  std::vector<G2Affine> p2(10, g2_generator());
  std::vector<Fr> s(12, Fr::one());
  auto r1 = be->resident_g1(p1.data(), p1.size());
  auto r2 = be->resident_g2(p2.data(), p2.size());
  G1Jacobian o1;
  G2Jacobian o2;
  EXPECT_THROW(be->msm_g1(o1, s.data(), *r1, 0, 11), std::out_of_range);
  EXPECT_THROW(be->msm_g1(o1, s.data(), *r1, 11, 0), std::out_of_range);
  EXPECT_THROW(be->msm_g1(o1, s.data(), *r1, 5, 6), std::out_of_range);
  EXPECT_THROW(be->msm_g1(o1, s.data(), *r1, SIZE_MAX, 2), std::out_of_range);  // first + n wraps
  EXPECT_THROW(be->msm_g1(o1, s.data(), *r1, 2, SIZE_MAX), std::out_of_range);
  EXPECT_THROW(be->msm_g2(o2, s.data(), *r2, 9, 2), std::out_of_range);
  try {
    be->msm_g1(o1, s.data(), *r1, 4, 7);
    FAIL() << "range past the end accepted";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("10 entries"), std::string::npos) << e.what();
  }
}

// ---- ResidentKey ----------------------------------------------------------------------------

struct SnarkjsFixture {
  VerificationKey vk = vk_from_json(read_json_file(data("small_vk.json")), "small_vk.json");
  std::vector<Fr> pub = public_from_json(read_json_file(data("small_public.json")));
  std::vector<Fr> witness = read_wtns(data("small.wtns"));
  Zkey key = Zkey::open(data("small.zkey"));
};

TEST(ResidentKey, ViewsTheZkeyOnTheCpu) {
  SnarkjsFixture f;
  auto be = make_cpu_backend({1});
  ResidentKey rk(f.key, *be);
  const ZkeyParts& p = f.key.parts();
  EXPECT_EQ(&rk.key(), &f.key);
  EXPECT_EQ(rk.a().host(), p.a.data());
  EXPECT_EQ(rk.b1().host(), p.b1.data());
  EXPECT_EQ(rk.b2().host(), p.b2.data());
  EXPECT_EQ(rk.c().host(), p.c.data());
  EXPECT_EQ(rk.h().host(), p.h.data());
  EXPECT_EQ(rk.a().size(), f.key.header().n_vars);
  EXPECT_EQ(rk.b2().size(), f.key.header().n_vars);
  EXPECT_EQ(rk.c().size(), f.key.header().n_vars - f.key.header().n_public - 1);
  EXPECT_EQ(rk.h().size(), f.key.header().domain_size);
  EXPECT_EQ(rk.device_bytes(), 0u);
}

TEST(ResidentKey, SnarkjsKeyMsmsEqualAndProofsVerify) {
  SnarkjsFixture f;
  auto be = make_cpu_backend();
  ResidentKey rk(f.key, *be);
  auto h = compute_h(f.key, f.witness, *be);
  expect_same_msms(compute_msms(rk, f.witness, h, *be), compute_msms(f.key, f.witness, h, *be));
  std::vector<Proof> proofs;
  for (int i = 0; i < 4; ++i) {  // one ResidentKey, many proofs
    proofs.push_back(prove(rk, f.witness, *be));
    std::string why;
    EXPECT_TRUE(verify(f.vk, f.pub, proofs.back(), &why)) << "proof " << i << ": " << why;
  }
  EXPECT_NE(proofs[0], proofs[1]);  // fresh r and s
  // The deterministic part (r = s = 0) equals prove(Zkey)'s.
  ProofMsms m = compute_msms(rk, f.witness, h, *be);
  EXPECT_EQ(assemble_proof(f.key.header(), m, Fr::zero(), Fr::zero()),
            assemble_proof(f.key.header(), compute_msms(f.key, f.witness, h, *be), Fr::zero(), Fr::zero()));
}

TEST(ResidentKey, WitnessChecksStillApply) {
  SnarkjsFixture f;
  auto be = make_cpu_backend({1});
  ResidentKey rk(f.key, *be);
  auto shorter = f.witness;
  shorter.pop_back();
  EXPECT_THROW(prove(rk, shorter, *be), std::invalid_argument);
  auto h = compute_h(f.key, f.witness, *be);
  EXPECT_THROW(compute_msms(rk, f.witness, std::span<const Fr>(h).first(h.size() - 1), *be), std::invalid_argument);
}

TEST(ResidentKey, DevKeyOfAChainManyWitnesses) {
  const uint32_t n = zkinfer::testing::chain_constraints_for_domain(10);  // domain 2^10
  zkinfer::testing::TempPath zk(".zkey");
  groth16_setup_dev(zkinfer::testing::chain_circuit(n), zk.str());
  Zkey key = Zkey::open(zk.str());
  ASSERT_EQ(key.header().domain_size, 1u << 10);
  const VerificationKey vk = verification_key(key);
  auto be = make_cpu_backend();
  ResidentKey rk(key, *be);
  auto rng = zkinfer::testing::seeded_rng();
  for (int i = 0; i < 3; ++i) {  // different witnesses through one ResidentKey
    const auto w = zkinfer::testing::chain_witness(n, i == 0 ? Fr::zero() : field_random<Fr>(rng));
    auto h = compute_h(key, w, *be);
    expect_same_msms(compute_msms(rk, w, h, *be), compute_msms(key, w, h, *be));
    Proof p = prove(rk, w, *be);
    std::string why;
    EXPECT_TRUE(verify(vk, public_signals(key, w), p, &why)) << "witness " << i << ": " << why;
  }
  auto bad = zkinfer::testing::chain_witness(n, Fr::from_u64(7));
  bad[n / 2] += Fr::one();
  EXPECT_FALSE(verify(vk, public_signals(key, bad), prove(rk, bad, *be)));
}

// Forwards to the CPU backend and counts how the key's points reach it.
class CountingBackend final : public Backend {
 public:
  std::string name() const override { return "counting"; }
  void msm_g1(G1Jacobian& out, const Fr* s, const G1Affine* p, size_t n) override {
    ++host_msms;
    cpu_->msm_g1(out, s, p, n);
  }
  void msm_g2(G2Jacobian& out, const Fr* s, const G2Affine* p, size_t n) override {
    ++host_msms;
    cpu_->msm_g2(out, s, p, n);
  }
  std::shared_ptr<const ResidentG1> resident_g1(const G1Affine* p, size_t n) override {
    ++residents;
    return cpu_->resident_g1(p, n);
  }
  std::shared_ptr<const ResidentG2> resident_g2(const G2Affine* p, size_t n) override {
    ++residents;
    return cpu_->resident_g2(p, n);
  }
  void msm_g1(G1Jacobian& out, const Fr* s, const ResidentG1& p, size_t first, size_t n) override {
    ++resident_msms;
    cpu_->msm_g1(out, s, p, first, n);
  }
  void msm_g2(G2Jacobian& out, const Fr* s, const ResidentG2& p, size_t first, size_t n) override {
    ++resident_msms;
    cpu_->msm_g2(out, s, p, first, n);
  }
  void ntt(Fr* data, size_t n, NttKind kind, const Fr& shift) override { cpu_->ntt(data, n, kind, shift); }

  int host_msms = 0, resident_msms = 0, residents = 0;

 private:
  std::unique_ptr<Backend> cpu_ = make_cpu_backend();
};

TEST(ResidentKey, ProveTakesTheKeysPointsOnlyFromTheResidentArrays) {
  SnarkjsFixture f;
  CountingBackend be;
  ResidentKey rk(f.key, be);
  EXPECT_EQ(be.residents, 5);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(verify(f.vk, f.pub, prove(rk, f.witness, be)));
  EXPECT_EQ(be.host_msms, 0);
  EXPECT_EQ(be.resident_msms, 10);
  EXPECT_EQ(be.residents, 5);  // made once, not per proof
  EXPECT_TRUE(verify(f.vk, f.pub, prove(f.key, f.witness, be)));
  EXPECT_EQ(be.host_msms, 5);
  EXPECT_EQ(be.resident_msms, 10);
}

// ---- resident scalars and constraint rows ---------------------------------------------------

TEST(ResidentFr, MsmsOverScalarRangesEqualTheNaiveSum) {
  auto rng = zkinfer::testing::seeded_rng();
  auto be = make_cpu_backend({1});
  std::vector<G1Affine> p1(9);
  std::vector<G2Affine> p2(9);
  for (auto& p : p1) p = zkinfer::testing::random_g1(rng);
  for (auto& p : p2) p = zkinfer::testing::random_g2(rng);
  std::vector<Fr> s(12);
  for (auto& x : s) x = field_random<Fr>(rng);
  auto rs = be->resident_fr(s.data(), s.size());
  auto r1 = be->resident_g1(p1.data(), p1.size());
  auto r2 = be->resident_g2(p2.data(), p2.size());
  EXPECT_EQ(rs->host(), s.data());
  EXPECT_EQ(rs->device_bytes(), 0u);
  G1Jacobian o1;
  G2Jacobian o2;
  be->msm_g1(o1, *rs, 3, *r1, 2, 7);
  EXPECT_EQ(o1, naive_msm<G1Curve>(s.data() + 3, p1.data() + 2, 7));
  be->msm_g2(o2, *rs, 0, *r2, 0, 9);
  EXPECT_EQ(o2, naive_msm<G2Curve>(s.data(), p2.data(), 9));
  EXPECT_THROW(be->msm_g1(o1, *rs, 4, *r1, 0, 9), std::out_of_range);  // 4 + 9 > 12 scalars
  EXPECT_THROW(be->msm_g2(o2, *rs, 0, *r2, 1, 9), std::out_of_range);  // 1 + 9 > 9 points
}

TEST(ResidentRows, BadShapesAreRefused) {
  const std::vector<uint32_t> starts{0, 2, 3}, cols{0, 4, 1}, decreasing{0, 3, 2};
  const std::vector<Fr> values(3, Fr::one()), two(2, Fr::one());
  const ResidentRows ok(SparseRows{starts, cols, values});
  EXPECT_EQ(ok.columns(), 5u);
  EXPECT_EQ(ok.host().rows(), 2u);
  EXPECT_THROW(ResidentRows(SparseRows{starts, cols, two}), std::invalid_argument);
  EXPECT_THROW(ResidentRows(SparseRows{decreasing, cols, values}), std::invalid_argument);
  EXPECT_THROW(ResidentRows(SparseRows{std::vector<uint32_t>{0, 2}, cols, values}), std::invalid_argument);
}

// compute_h (host evaluation, then Backend::coset_quotient), the CPU backend's
// constraint_quotient and Backend's default one give the same h, which proves and verifies.
TEST(ConstraintQuotient, EqualsComputeHOnEveryPath) {
  SnarkjsFixture f;
  auto be = make_cpu_backend();
  CountingBackend plain;  // Backend's defaults for constraint_quotient and coset_quotient
  ResidentKey rk(f.key, *be);
  const uint32_t n = f.key.header().domain_size;
  const Fr shift = snarkjs_coset_shift(unsigned(std::countr_zero(n)));
  const std::vector<Fr> want = compute_h(f.key, f.witness, *be);
  auto z = be->resident_fr(f.witness.data(), f.witness.size());
  std::vector<Fr> h(n), h_default(n);
  be->constraint_quotient(h.data(), rk.resident_rows(), *z, n, shift);
  plain.constraint_quotient(h_default.data(), rk.resident_rows(), *z, n, shift);
  EXPECT_EQ(h, want);
  EXPECT_EQ(h_default, want);
  EXPECT_EQ(compute_h(f.key, f.witness, *be, {}, &rk.rows()), want);
  // Shapes: rows of another domain, a witness shorter than the rows read.
  EXPECT_THROW(be->constraint_quotient(h.data(), rk.resident_rows(), *z, n / 2, shift), std::invalid_argument);
  auto short_z = be->resident_fr(f.witness.data(), 1);
  EXPECT_THROW(be->constraint_quotient(h.data(), rk.resident_rows(), *short_z, n, shift), std::invalid_argument);
}

// constraint_quotient_resident's default: h in a host array the result owns, made resident by
// the backend; it outlives everything it was computed from and reads as compute_h's h.
TEST(ConstraintQuotient, ResidentDefaultOwnsItsHostArray) {
  SnarkjsFixture f;
  auto be = make_cpu_backend();
  ResidentKey rk(f.key, *be);
  const uint32_t n = f.key.header().domain_size;
  const std::vector<Fr> want = compute_h(f.key, f.witness, *be);
  std::shared_ptr<const ResidentFr> h;
  {
    auto z = be->resident_fr(f.witness.data(), f.witness.size());
    h = be->constraint_quotient_resident(rk.resident_rows(), *z, n, snarkjs_coset_shift(unsigned(std::countr_zero(n))));
  }
  ASSERT_EQ(h->size(), n);
  EXPECT_EQ(std::vector<Fr>(h->host(), h->host() + n), want);
}

// An array held only on a device says so instead of handing out a null host pointer.
TEST(ResidentFr, DeviceOnlyArraysHaveNoHostArray) {
  struct OnDevice : ResidentFr {
    explicit OnDevice(size_t n) : ResidentFr(DeviceOnly{}, n) {}
  };
  const OnDevice d(4);
  EXPECT_EQ(d.size(), 4u);
  EXPECT_THROW(d.host(), std::logic_error);
  CountingBackend plain;
  G1Jacobian out;
  const std::vector<G1Affine> pts(4, g1_generator());
  const ResidentG1 p(pts.data(), pts.size());
  EXPECT_THROW(static_cast<Backend&>(plain).msm_g1(out, d, 0, p, 0, 4), std::logic_error);
  EXPECT_NO_THROW(OnDevice(0).host());
}

TEST(ResidentKey, UsableWithAnotherBackend) {
  // Made by one backend, used by another (which reads the host points): same MSMs.
  SnarkjsFixture f;
  auto maker = make_cpu_backend({1});
  CountingBackend user;
  ResidentKey rk(f.key, *maker);
  auto h = compute_h(f.key, f.witness, user);
  expect_same_msms(compute_msms(rk, f.witness, h, user), compute_msms(f.key, f.witness, h, *maker));
  EXPECT_EQ(user.residents, 0);
}

}  // namespace
}  // namespace zkinfer::prover
