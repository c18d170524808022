// The split backend (kernels/split_backend.h) over CPU backends: MSMs split over 2 and 3 parts
// equal one backend's, over plain arrays, resident arrays (ranges inside one slice, across
// slices, empty, past the end) and resident scalars with offsets; each part holds only its slice
// of a resident array; arrays made by another backend work both ways; Groth16 through a
// ResidentKey on a split backend proves and verifies. tests/gpu/test_gpu_groth16.cpp splits over
// a CUDA and a CPU backend.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../support/binfile_testing.h"
#include "../support/random_points.h"
#include "../support/seed.h"
#include "backend.h"
#include "split_backend.h"
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

TEST(SplitBackend, ResidentKeyProofsVerify) {
  using namespace prover;
  const auto data = [](const char* name) { return (testing::test_data_dir() / name).string(); };
  const VerificationKey vk = vk_from_json(read_json_file(data("small_vk.json")), "small_vk.json");
  const std::vector<Fr> pub = public_from_json(read_json_file(data("small_public.json")));
  const std::vector<Fr> w = read_wtns(data("small.wtns"));
  const Zkey key = Zkey::open(data("small.zkey"));
  auto split = split_of_cpus(3);
  auto one = make_cpu_backend({1});
  ResidentKey rk(key, *split);
  const std::vector<Fr> h = compute_h(key, w, *split);
  EXPECT_EQ(h, compute_h(key, w, *one));
  const ProofMsms a = compute_msms(rk, w, h, *split), b = compute_msms(key, w, h, *one);
  EXPECT_EQ(a.a, b.a);
  EXPECT_EQ(a.b1, b.b1);
  EXPECT_EQ(a.b2, b.b2);
  EXPECT_EQ(a.c, b.c);
  EXPECT_EQ(a.h, b.h);
  std::string why;
  EXPECT_TRUE(verify(vk, pub, prove(rk, w, *split), &why)) << why;
  EXPECT_TRUE(verify(vk, pub, prove(key, w, *split), &why)) << why;
}

}  // namespace
}  // namespace zkinfer
