// Aggregation: partial MSM points of any range split add up to a proof that verifies; a wrong
// partial point or a bad whole proof is refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "backend.h"
#include "zkinfer/coordinator/aggregate.h"
#include "zkinfer/coordinator/models.h"
#include "zkinfer/coordinator/planner.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/json.h"
#include "zkinfer/prover/wtns.h"
#include "zkinfer/prover/zkey.h"
#include "zkinfer/proto/wire.h"

namespace zkinfer::coordinator {
namespace {

namespace fs = std::filesystem;
namespace v1 = zkinfer::v1;
const fs::path kData = ZKINFER_TEST_DATA_DIR;

struct Aggregate : ::testing::Test {
  fs::path dir = fs::temp_directory_path() / ("zkinfer-aggregate-" + std::to_string(::getpid()));
  common::ArtifactStore artifacts{dir.string()};
  ModelRow model;
  std::string witness_sha;
  void SetUp() override {
    model = prepare_circuit_model(artifacts, "small", artifacts.put_file((kData / "small.r1cs").string()),
                                  artifacts.put_file((kData / "small.zkey").string()));
    witness_sha = artifacts.put_file((kData / "small.wtns").string());
  }
  void TearDown() override { fs::remove_all(dir); }

  // The MSM shards of a split into n ranges, computed here as a worker would.
  std::vector<ShardRow> computed_shards(uint32_t n) {
    const prover::Zkey key = prover::Zkey::open(artifacts.path(model.zkey_sha256));
    const auto w = prover::read_wtns(artifacts.path(witness_sha));
    auto backend = make_cpu_backend();
    const auto h = prover::compute_h(key, w, *backend);
    JobRow j;
    j.job_id = "j";
    j.split_into = n;
    j.witness_sha256 = witness_sha;
    PlanContext ctx{0, key.header().n_vars, key.header().n_public, key.header().domain_size, {}};
    auto shards = plan_shards(j, model, ctx);
    const auto& p = key.parts();
    const uint32_t pub = key.header().n_public;
    for (auto& s : shards) {
      s.state = kShardDone;
      if (s.kind != v1::SHARD_KIND_MSM) continue;
      const std::span<const Fr> wires(w);
      auto g1 = [&](std::span<const G1Affine> pts, std::span<const Fr> sc) {
        G1Jacobian out;
        backend->msm_g1(out, sc.data() + s.first, pts.data() + s.first, s.count);
        return wire::encode_g1(out.to_affine());
      };
      switch (s.msm) {
        case v1::MSM_KIND_A: s.point = g1(p.a, wires); break;
        case v1::MSM_KIND_B1: s.point = g1(p.b1, wires); break;
        case v1::MSM_KIND_C: s.point = g1(p.c, wires.subspan(pub + 1)); break;
        case v1::MSM_KIND_H: s.point = g1(p.h, h); break;
        case v1::MSM_KIND_B2: {
          G2Jacobian out;
          backend->msm_g2(out, w.data() + s.first, p.b2.data() + s.first, s.count);
          s.point = wire::encode_g2(out.to_affine());
          break;
        }
      }
    }
    return shards;
  }
};

TEST_F(Aggregate, PartialPointsOfAnySplitAddUpToAValidProof) {
  for (uint32_t n : {2u, 3u, 5u}) {
    const auto shards = computed_shards(n);
    const CheckedProof p = aggregate_split(artifacts, model, witness_sha, shards);
    EXPECT_NO_THROW(check_proof(model, p.proof_json, p.public_json)) << n;
    EXPECT_EQ(nlohmann::ordered_json::parse(p.public_json), prover::read_json_file((kData / "small_public.json").string()));
  }
}

TEST_F(Aggregate, AWrongPartialPointIsRefused) {
  auto shards = computed_shards(2);
  for (auto& s : shards)
    if (s.kind == v1::SHARD_KIND_MSM && s.msm == v1::MSM_KIND_A) {
      s.point = wire::encode_g1(g1_generator());  // on the curve, but not the sum
      break;
    }
  EXPECT_THROW(aggregate_split(artifacts, model, witness_sha, shards), std::invalid_argument);
  shards = computed_shards(2);
  shards.back().point = std::string(64, '\x01');  // not on the curve
  EXPECT_THROW(aggregate_split(artifacts, model, witness_sha, shards), std::invalid_argument);
}

TEST_F(Aggregate, WholeProofsAreCheckedAgainstTheModelKey) {
  const std::string proof = prover::read_json_file((kData / "small_proof.json").string()).dump();
  const std::string pub = prover::read_json_file((kData / "small_public.json").string()).dump();
  EXPECT_NO_THROW(check_proof(model, proof, pub));
  auto other = nlohmann::json::parse(pub);
  other[0] = "12345";
  EXPECT_THROW(check_proof(model, proof, other.dump()), std::invalid_argument);
  EXPECT_THROW(check_proof(model, "{not json", pub), std::invalid_argument);
}

}  // namespace
}  // namespace zkinfer::coordinator
