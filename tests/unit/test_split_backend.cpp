// The split backend (kernels/split_backend.h) over CPU backends: MSMs split over 2 and 3 parts
// equal one backend's, over plain arrays, resident arrays (ranges inside one slice, across
// slices, empty, past the end) and resident scalars with offsets; each part holds only its slice
// of a resident array; arrays made by another backend work both ways; h stays with part 0 and
// is copied to the others (Backend::resident_copy); Groth16 through a ResidentKey on a split
// backend proves and verifies. tests/gpu/test_gpu_groth16.cpp splits over
// a CUDA and a CPU backend.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../support/binfile_testing.h"
#include "../support/random_points.h"
#include "../support/seed.h"
#include "backend.h"
#include "split_backend.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/prover/resident_key.h"
#include "zkinfer/prover/wtns.h"
#include "zkinfer/prover/zkey.h"

namespace zkinfer {
namespace {

// A CPU backend that records the sizes of the resident arrays it is asked for (in a vector of
// its own: the split backend calls its parts from several threads).
class RecordingBackend final : public Backend {
 public:
  explicit RecordingBackend(std::vector<size_t>* sizes) : sizes_(sizes) {}
  std::string name() const override { return "recording"; }
  void msm_g1(G1Jacobian& out, const Fr* s, const G1Affine* p, size_t n) override { cpu_->msm_g1(out, s, p, n); }
  void msm_g2(G2Jacobian& out, const Fr* s, const G2Affine* p, size_t n) override { cpu_->msm_g2(out, s, p, n); }
  std::shared_ptr<const ResidentG1> resident_g1(const G1Affine* p, size_t n) override {
    sizes_->push_back(n);
    return cpu_->resident_g1(p, n);
  }
  std::shared_ptr<const ResidentG2> resident_g2(const G2Affine* p, size_t n) override {
    sizes_->push_back(n);
    return cpu_->resident_g2(p, n);
  }
  void ntt(Fr* data, size_t n, NttKind kind, const Fr& shift) override { cpu_->ntt(data, n, kind, shift); }

 private:
  std::vector<size_t>* sizes_;
  std::unique_ptr<Backend> cpu_ = make_cpu_backend({1});
};

// Scalars that, like h on a GPU, have no host array: only read() gives their values.
class DeviceOnlyScalars final : public ResidentFr {
 public:
  explicit DeviceOnlyScalars(std::vector<Fr> v) : ResidentFr(DeviceOnly{}, v.size()), v_(std::move(v)) {}
  void read(Fr* out) const override { std::copy(v_.begin(), v_.end(), out); }
  const Fr* values() const { return v_.data(); }

 private:
  std::vector<Fr> v_;
};

// A CPU backend that keeps its h "on its device" (DeviceOnlyScalars), as the CUDA backend does,
// and counts the calls that move h.
class DeviceLikeBackend final : public Backend {
 public:
  std::string name() const override { return "device-like"; }
  void msm_g1(G1Jacobian& out, const Fr* s, const G1Affine* p, size_t n) override { cpu_->msm_g1(out, s, p, n); }
  void msm_g2(G2Jacobian& out, const Fr* s, const G2Affine* p, size_t n) override { cpu_->msm_g2(out, s, p, n); }
  void ntt(Fr* data, size_t n, NttKind kind, const Fr& shift) override { cpu_->ntt(data, n, kind, shift); }
  using Backend::msm_g1;
  void msm_g1(G1Jacobian& out, const ResidentFr& s, size_t s_first, const ResidentG1& p, size_t first,
              size_t n) override {
    const auto* own = dynamic_cast<const DeviceOnlyScalars*>(&s);
    if (!own) return Backend::msm_g1(out, s, s_first, p, first, n);
    s.check_range(s_first, n);
    p.check_range(first, n);
    cpu_->msm_g1(out, own->values() + s_first, p.host() + first, n);
  }
  std::shared_ptr<const ResidentFr> constraint_quotient_resident(const ResidentRows& rows, const ResidentFr& z,
                                                                 size_t n, const Fr& shift) override {
    ++quotients_resident;
    std::vector<Fr> h(n);
    constraint_quotient(h.data(), rows, z, n, shift);
    return std::make_shared<const DeviceOnlyScalars>(std::move(h));
  }
  std::shared_ptr<const ResidentFr> resident_copy(const ResidentFr& from) override {
    ++copies;
    return Backend::resident_copy(from);
  }
  int quotients_resident = 0, copies = 0;

 private:
  std::unique_ptr<Backend> cpu_ = make_cpu_backend({1});
};

std::unique_ptr<Backend> split_of_cpus(size_t parts) {
  std::vector<std::unique_ptr<Backend>> v;
  for (size_t j = 0; j < parts; ++j) v.push_back(make_cpu_backend({1}));
  return make_split_backend(std::move(v));
}

struct Inputs {
  std::vector<Fr> s;
  std::vector<G1Affine> p1;
  std::vector<G2Affine> p2;
};
Inputs random_inputs(std::mt19937_64& rng, size_t n) {
  Inputs in{std::vector<Fr>(n), std::vector<G1Affine>(n), std::vector<G2Affine>(n)};
  for (auto& x : in.s) x = field_random<Fr>(rng);
  for (auto& p : in.p1) p = testing::random_g1(rng);
  for (auto& p : in.p2) p = testing::random_g2(rng);
  return in;
}

TEST(SplitBackend, PlainMsmsEqualOneBackend) {
  auto rng = testing::seeded_rng();
  auto one = make_cpu_backend({1});
  const Inputs in = random_inputs(rng, 101);
  for (size_t parts : {2u, 3u}) {
    auto split = split_of_cpus(parts);
    EXPECT_NE(split->name().find("split("), std::string::npos);
    for (size_t n : {0u, 1u, 2u, 5u, 101u}) {
      G1Jacobian a, b;
      split->msm_g1(a, in.s.data(), in.p1.data(), n);
      one->msm_g1(b, in.s.data(), in.p1.data(), n);
      EXPECT_EQ(a, b) << parts << " parts, G1 n=" << n;
      G2Jacobian c, d;
      split->msm_g2(c, in.s.data(), in.p2.data(), n);
      one->msm_g2(d, in.s.data(), in.p2.data(), n);
      EXPECT_EQ(c, d) << parts << " parts, G2 n=" << n;
    }
  }
}

TEST(SplitBackend, ResidentArraysAreSlicedAndRangesEqualOneBackend) {
  auto rng = testing::seeded_rng();
  auto one = make_cpu_backend({1});
  const size_t n = 100;
  const Inputs in = random_inputs(rng, n + 7);
  std::vector<size_t> sizes[3];  // one per part: the parts are called from their own threads
  std::vector<std::unique_ptr<Backend>> parts;
  for (auto& v : sizes) parts.push_back(std::make_unique<RecordingBackend>(&v));
  auto split = make_split_backend(std::move(parts));
  auto r1 = split->resident_g1(in.p1.data(), n);
  auto r2 = split->resident_g2(in.p2.data(), n);
  // Each part holds its slice only (G1, then G2).
  EXPECT_EQ(sizes[0], (std::vector<size_t>{34, 34}));
  EXPECT_EQ(sizes[1], (std::vector<size_t>{33, 33}));
  EXPECT_EQ(sizes[2], (std::vector<size_t>{33, 33}));
  EXPECT_EQ(r1->host(), in.p1.data());
  EXPECT_EQ(r1->size(), n);
  auto z = split->resident_fr(in.s.data(), in.s.size());
  const std::pair<size_t, size_t> ranges[] = {{0, n}, {0, 0}, {n, 0}, {3, 20}, {30, 10}, {33, 1}, {34, 1}, {20, 70}, {99, 1}};
  for (auto [first, len] : ranges) {
    for (size_t off : {size_t{0}, size_t{7}}) {  // scalar offsets, as the C MSM takes
      G1Jacobian a, b, c;
      split->msm_g1(a, *z, off, *r1, first, len);
      split->msm_g1(c, in.s.data() + off, *r1, first, len);
      one->msm_g1(b, in.s.data() + off, in.p1.data() + first, len);
      EXPECT_EQ(a, b) << "G1 resident scalars [" << first << ", +" << len << ") offset " << off;
      EXPECT_EQ(c, b) << "G1 host scalars [" << first << ", +" << len << ") offset " << off;
      G2Jacobian d, e;
      split->msm_g2(d, *z, off, *r2, first, len);
      one->msm_g2(e, in.s.data() + off, in.p2.data() + first, len);
      EXPECT_EQ(d, e) << "G2 [" << first << ", +" << len << ") offset " << off;
    }
  }
  G1Jacobian o;
  EXPECT_THROW(split->msm_g1(o, *z, 0, *r1, 1, n), std::out_of_range);
  EXPECT_THROW(split->msm_g1(o, *z, 8, *r1, 0, n), std::out_of_range);  // 8 + 100 > 107 scalars
}

TEST(SplitBackend, ArraysMadeElsewhereWorkBothWays) {
  auto rng = testing::seeded_rng();
  auto one = make_cpu_backend({1});
  auto split = split_of_cpus(2);
  const Inputs in = random_inputs(rng, 40);
  auto foreign_p = one->resident_g1(in.p1.data(), 40);
  auto foreign_s = one->resident_fr(in.s.data(), 40);
  auto ours_p = split->resident_g1(in.p1.data(), 40);
  auto ours_s = split->resident_fr(in.s.data(), 40);
  G1Jacobian want, got;
  one->msm_g1(want, in.s.data() + 5, in.p1.data() + 5, 30);
  split->msm_g1(got, *foreign_s, 5, *foreign_p, 5, 30);
  EXPECT_EQ(got, want) << "the split backend with another backend's arrays";
  split->msm_g1(got, *foreign_s, 5, *ours_p, 5, 30);
  EXPECT_EQ(got, want) << "foreign scalars, our points";
  split->msm_g1(got, *ours_s, 5, *foreign_p, 5, 30);
  EXPECT_EQ(got, want) << "our scalars, foreign points";
  one->msm_g1(got, *ours_s, 5, *ours_p, 5, 30);
  EXPECT_EQ(got, want) << "another backend with the split backend's arrays (their host arrays)";
}

TEST(SplitBackend, OnePartIsThatPartAndBadPartsAreRefused) {
  std::vector<std::unique_ptr<Backend>> v;
  v.push_back(make_cpu_backend({1}));
  Backend* raw = v.front().get();
  EXPECT_EQ(make_split_backend(std::move(v)).get(), raw);
  EXPECT_THROW(make_split_backend({}), std::invalid_argument);
  std::vector<std::unique_ptr<Backend>> with_null;
  with_null.push_back(make_cpu_backend({1}));
  with_null.push_back(nullptr);
  EXPECT_THROW(make_split_backend(std::move(with_null)), std::invalid_argument);
}

// The small circuit of tests/data: key, witness, public signals and verification key.
struct SmallCircuit {
  static std::string data(const char* name) { return (testing::test_data_dir() / name).string(); }
  prover::VerificationKey vk = prover::vk_from_json(prover::read_json_file(data("small_vk.json")), "small_vk.json");
  std::vector<Fr> pub = prover::public_from_json(prover::read_json_file(data("small_public.json")));
  std::vector<Fr> w = prover::read_wtns(data("small.wtns"));
  prover::Zkey key = prover::Zkey::open(data("small.zkey"));
};

TEST(SplitBackend, ResidentKeyProofsVerify) {
  using namespace prover;
  const SmallCircuit c;
  auto split = split_of_cpus(3);
  auto one = make_cpu_backend({1});
  ResidentKey rk(c.key, *split);
  const std::vector<Fr> h = compute_h(c.key, c.w, *split);
  EXPECT_EQ(h, compute_h(c.key, c.w, *one));
  const ProofMsms a = compute_msms(rk, c.w, h, *split), b = compute_msms(c.key, c.w, h, *one);
  EXPECT_EQ(a.a, b.a);
  EXPECT_EQ(a.b1, b.b1);
  EXPECT_EQ(a.b2, b.b2);
  EXPECT_EQ(a.c, b.c);
  EXPECT_EQ(a.h, b.h);
  std::string why;
  EXPECT_TRUE(verify(c.vk, c.pub, prove(rk, c.w, *split), &why)) << why;
  EXPECT_TRUE(verify(c.vk, c.pub, prove(c.key, c.w, *split), &why)) << why;
}

// h for a resident key: computed where part 0 keeps it and copied from there to the other parts
// (Backend::resident_copy), not downloaded into a host vector and made resident again; with a
// part 0 that keeps h off the host (as a GPU does) the split result has no host array either,
// and read() still gives h. The proof verifies.
TEST(SplitBackend, QuotientStaysWithPartZeroAndIsCopiedToTheOthers) {
  using namespace prover;
  const SmallCircuit c;
  auto one = make_cpu_backend({1});
  const std::vector<Fr> want_h = compute_h(c.key, c.w, *one);

  std::vector<std::unique_ptr<Backend>> parts;
  parts.push_back(std::make_unique<DeviceLikeBackend>());
  parts.push_back(std::make_unique<DeviceLikeBackend>());
  parts.push_back(make_cpu_backend({1}));
  auto* first = static_cast<DeviceLikeBackend*>(parts[0].get());
  auto* second = static_cast<DeviceLikeBackend*>(parts[1].get());
  auto split = make_split_backend(std::move(parts));
  ResidentKey rk(c.key, *split);
  const size_t n = c.key.header().domain_size;
  const auto z = split->resident_fr(c.w.data(), c.w.size());
  const auto h = split->constraint_quotient_resident(rk.resident_rows(), *z, n,
                                                     snarkjs_coset_shift(unsigned(std::countr_zero(n))));
  EXPECT_EQ(first->quotients_resident, 1);
  EXPECT_EQ(first->copies, 0);
  EXPECT_EQ(second->quotients_resident, 0);
  EXPECT_EQ(second->copies, 1);
  EXPECT_FALSE(h->has_host());
  std::vector<Fr> got(h->size());
  h->read(got.data());
  EXPECT_EQ(got, want_h);
  G1Jacobian want, msm;
  one->msm_g1(want, want_h.data(), c.key.parts().h.data(), n);
  split->msm_g1(msm, *h, 0, rk.h(), 0, n);
  EXPECT_EQ(msm, want) << "the H MSM over every part's copy of h";
  std::string why;
  EXPECT_TRUE(verify(c.vk, c.pub, prove(rk, c.w, *split), &why)) << why;
  EXPECT_EQ(first->quotients_resident, 2);

  // Over CPU parts h has a host array, which the split result keeps.
  auto cpus = split_of_cpus(2);
  ResidentKey rk2(c.key, *cpus);
  const auto z2 = cpus->resident_fr(c.w.data(), c.w.size());
  const auto h2 = cpus->constraint_quotient_resident(rk2.resident_rows(), *z2, n,
                                                     snarkjs_coset_shift(unsigned(std::countr_zero(n))));
  ASSERT_TRUE(h2->has_host());
  EXPECT_EQ(std::vector<Fr>(h2->host(), h2->host() + n), want_h);
}

// Backend::resident_copy: an array with a host array is made resident from it (the same host
// array); one without is read back first.
TEST(Backend, ResidentCopyReadsArraysWithoutAHostArray) {
  auto rng = testing::seeded_rng();
  auto cpu = make_cpu_backend({1});
  std::vector<Fr> v(37);
  for (auto& x : v) x = field_random<Fr>(rng);
  const auto hosted = cpu->resident_fr(v.data(), v.size());
  const auto c1 = cpu->resident_copy(*hosted);
  EXPECT_EQ(c1->host(), v.data());
  const DeviceOnlyScalars device_only(v);
  EXPECT_THROW((void)device_only.host(), std::logic_error);
  const auto c2 = cpu->resident_copy(device_only);
  ASSERT_TRUE(c2->has_host());
  EXPECT_NE(c2->host(), device_only.values());
  EXPECT_EQ(std::vector<Fr>(c2->host(), c2->host() + v.size()), v);
  std::vector<Fr> back(v.size());
  c2->read(back.data());
  EXPECT_EQ(back, v);
}

}  // namespace
}  // namespace zkinfer
