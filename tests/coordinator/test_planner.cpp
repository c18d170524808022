// The planner: when a job is split, into which shards, with which ids and ranges, and in which
// order they may run.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "zkinfer/coordinator/planner.h"

namespace zkinfer::coordinator {
namespace {

namespace v1 = zkinfer::v1;

JobRow job(uint32_t split = 0, std::string witness = "") {
  JobRow j;
  j.job_id = "j1";
  j.split_into = split;
  j.witness_sha256 = std::move(witness);
  return j;
}

PlanContext ctx(uint64_t zkey_bytes, std::vector<uint64_t> memory) {
  PlanContext c;
  c.zkey_bytes = zkey_bytes;
  c.n_vars = 1003;
  c.n_public = 2;
  c.domain_size = 2048;
  c.worker_memory_bytes = std::move(memory);
  return c;
}

TEST(Planner, WholeByDefaultSplitWhenAskedOrTooBig) {
  EXPECT_EQ(plan_split(job(), ctx(1 << 20, {8 << 20, 8 << 20})), 1u);
  EXPECT_EQ(plan_split(job(), ctx(1 << 20, {})), 1u);  // nobody to ask: whole
  EXPECT_EQ(plan_split(job(4), ctx(1 << 20, {8 << 20})), 4u);
  EXPECT_EQ(plan_split(job(1), ctx(1 << 20, {8 << 20})), 1u);
  // A key needing 2 x 10 MiB: no worker holds it; the smallest (3 MiB) sets the count.
  EXPECT_EQ(plan_split(job(), ctx(10 << 20, {3 << 20, 6 << 20})), 7u);
  // Just fits the largest.
  EXPECT_EQ(plan_split(job(), ctx(3 << 20, {3 << 20, 6 << 20})), 1u);
}

TEST(Planner, SplitShardsCoverEverySectionExactlyOnce) {
  ModelRow onnx;
  onnx.onnx_sha256 = "aa";
  for (uint32_t n : {2u, 3u, 7u}) {
    const auto shards = plan_shards(job(n), onnx, ctx(0, {}));
    ASSERT_EQ(shards.size(), 2u + 5u * n);
    EXPECT_EQ(shards[0].shard_id, "j1/witness/0");
    EXPECT_EQ(shards[0].kind, v1::SHARD_KIND_WITNESS);
    EXPECT_EQ(shards[1].shard_id, "j1/h/0");
    std::map<int, uint64_t> next;  // per MSM, the next index a range must start at
    std::set<std::string> ids;
    for (const auto& s : shards) {
      EXPECT_TRUE(ids.insert(s.shard_id).second) << s.shard_id;
      EXPECT_EQ(s.state, kShardPending);
      EXPECT_EQ(s.job_id, "j1");
      if (s.kind != v1::SHARD_KIND_MSM) continue;
      EXPECT_EQ(s.first, next[s.msm]) << s.shard_id;
      next[s.msm] = s.first + s.count;
    }
    EXPECT_EQ(next[v1::MSM_KIND_A], 1003u);
    EXPECT_EQ(next[v1::MSM_KIND_B1], 1003u);
    EXPECT_EQ(next[v1::MSM_KIND_B2], 1003u);
    EXPECT_EQ(next[v1::MSM_KIND_C], 1000u);  // private wires only
    EXPECT_EQ(next[v1::MSM_KIND_H], 2048u);
    EXPECT_EQ(shards.back().shard_id, "j1/msm/" + std::to_string(5 * n - 1));
  }
  // A circuit model's job brings its witness: no witness shard.
  const auto circuit = plan_shards(job(2, "ww"), ModelRow{}, ctx(0, {}));
  EXPECT_EQ(circuit.size(), 1u + 10u);
  EXPECT_EQ(circuit[0].kind, v1::SHARD_KIND_H);
  const auto whole = plan_shards(job(), ModelRow{}, ctx(0, {1 << 30}));
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].shard_id, "j1/whole/0");
}

TEST(Planner, DependenciesAndScalars) {
  ModelRow onnx;
  onnx.onnx_sha256 = "aa";
  const JobRow j = job(2);
  auto shards = plan_shards(j, onnx, ctx(0, {}));
  auto find = [&](int msm) -> ShardRow& {
    for (auto& s : shards)
      if (s.kind == v1::SHARD_KIND_MSM && s.msm == msm) return s;
    throw std::logic_error("no such shard");
  };
  EXPECT_TRUE(shard_ready(shards[0], shards));
  EXPECT_FALSE(shard_ready(shards[1], shards));  // h waits for the witness
  EXPECT_FALSE(shard_ready(find(v1::MSM_KIND_A), shards));
  EXPECT_EQ(msm_scalars(find(v1::MSM_KIND_A), j, shards), "");
  shards[0].state = kShardDone;
  shards[0].witness_sha256 = "wit";
  EXPECT_TRUE(shard_ready(shards[1], shards));
  EXPECT_TRUE(shard_ready(find(v1::MSM_KIND_B2), shards));
  EXPECT_FALSE(shard_ready(find(v1::MSM_KIND_H), shards));  // waits for h
  EXPECT_EQ(msm_scalars(find(v1::MSM_KIND_C), j, shards), "wit");
  EXPECT_EQ(msm_scalars(find(v1::MSM_KIND_H), j, shards), "");
  shards[1].state = kShardDone;
  shards[1].h_sha256 = "hh";
  EXPECT_TRUE(shard_ready(find(v1::MSM_KIND_H), shards));
  EXPECT_EQ(msm_scalars(find(v1::MSM_KIND_H), j, shards), "hh");
  EXPECT_EQ(job_witness(j, shards), "wit");
  EXPECT_EQ(job_witness(job(2, "own"), shards), "own");
}

}  // namespace
}  // namespace zkinfer::coordinator
