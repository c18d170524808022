#include "zkinfer/coordinator/planner.h"

#include <algorithm>

namespace zkinfer::coordinator {

namespace v1 = zkinfer::v1;

uint32_t plan_split(const JobRow& job, const PlanContext& ctx) {
  if (job.split_into > 1) return job.split_into;
  if (ctx.worker_memory_bytes.empty()) return 1;
  const uint64_t need = 2 * ctx.zkey_bytes;
  const uint64_t largest = *std::max_element(ctx.worker_memory_bytes.begin(), ctx.worker_memory_bytes.end());
  if (largest == 0 || need <= largest) return 1;
  const uint64_t smallest = std::max<uint64_t>(1, *std::min_element(ctx.worker_memory_bytes.begin(), ctx.worker_memory_bytes.end()));
  return uint32_t(std::max<uint64_t>(2, (need + smallest - 1) / smallest));
}

namespace {

ShardRow shard(const JobRow& job, const char* kind_name, int kind, uint32_t index) {
  ShardRow s;
  s.shard_id = job.job_id + "/" + kind_name + "/" + std::to_string(index);
  s.job_id = job.job_id;
  s.kind = kind;
  s.state = kShardPending;
  return s;
}

}  // namespace

std::vector<ShardRow> plan_shards(const JobRow& job, const ModelRow& model, const PlanContext& ctx) {
  const uint32_t n = plan_split(job, ctx);
  std::vector<ShardRow> out;
  if (n <= 1) {
    out.push_back(shard(job, "whole", v1::SHARD_KIND_WHOLE, 0));
    return out;
  }
  if (!model.onnx_sha256.empty() && job.witness_sha256.empty())
    out.push_back(shard(job, "witness", v1::SHARD_KIND_WITNESS, 0));
  out.push_back(shard(job, "h", v1::SHARD_KIND_H, 0));
  const uint64_t private_wires = uint64_t(ctx.n_vars) - ctx.n_public - 1;
  const struct {
    int msm;
    uint64_t points;
  } msms[] = {{v1::MSM_KIND_A, ctx.n_vars},
              {v1::MSM_KIND_B1, ctx.n_vars},
              {v1::MSM_KIND_B2, ctx.n_vars},
              {v1::MSM_KIND_C, private_wires},
              {v1::MSM_KIND_H, ctx.domain_size}};
  uint32_t k = 0;
  for (const auto& m : msms) {
    // Ranges as equal as possible; a range may be empty for tiny sections (an empty MSM is the
    // point at infinity), which keeps the shard ids regular.
    for (uint32_t r = 0; r < n; ++r, ++k) {
      ShardRow s = shard(job, "msm", v1::SHARD_KIND_MSM, k);
      s.msm = m.msm;
      s.first = m.points * r / n;
      s.count = m.points * (r + 1) / n - s.first;
      out.push_back(std::move(s));
    }
  }
  return out;
}

namespace {

const ShardRow* find_kind(std::span<const ShardRow> shards, int kind) {
  for (const auto& s : shards)
    if (s.kind == kind) return &s;
  return nullptr;
}

}  // namespace

std::string job_witness(const JobRow& job, std::span<const ShardRow> job_shards) {
  if (!job.witness_sha256.empty()) return job.witness_sha256;
  const ShardRow* w = find_kind(job_shards, v1::SHARD_KIND_WITNESS);
  return w && w->state == kShardDone ? w->witness_sha256 : std::string();
}

std::string msm_scalars(const ShardRow& s, const JobRow& job, std::span<const ShardRow> job_shards) {
  if (s.msm == v1::MSM_KIND_H) {
    const ShardRow* h = find_kind(job_shards, v1::SHARD_KIND_H);
    return h && h->state == kShardDone ? h->h_sha256 : std::string();
  }
  return job_witness(job, job_shards);
}

bool shard_ready(const ShardRow& s, std::span<const ShardRow> job_shards) {
  const auto done = [&](int kind) {
    const ShardRow* d = find_kind(job_shards, kind);
    return !d || d->state == kShardDone;
  };
  switch (s.kind) {
    case v1::SHARD_KIND_H:
      return done(v1::SHARD_KIND_WITNESS);
    case v1::SHARD_KIND_MSM:
      return s.msm == v1::MSM_KIND_H ? done(v1::SHARD_KIND_H) : done(v1::SHARD_KIND_WITNESS);
    default:
      return true;
  }
}

const char* shard_kind_name(int kind) {
  switch (kind) {
    case v1::SHARD_KIND_WHOLE: return "whole";
    case v1::SHARD_KIND_WITNESS: return "witness";
    case v1::SHARD_KIND_H: return "h";
    case v1::SHARD_KIND_MSM: return "msm";
    default: return "unknown";
  }
}

const char* msm_kind_name(int msm) {
  switch (msm) {
    case v1::MSM_KIND_A: return "a";
    case v1::MSM_KIND_B1: return "b1";
    case v1::MSM_KIND_B2: return "b2";
    case v1::MSM_KIND_C: return "c";
    case v1::MSM_KIND_H: return "h";
    default: return "unknown";
  }
}

}  // namespace zkinfer::coordinator
