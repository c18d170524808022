// How a proof job becomes shards (DESIGN.md 2, step 3), and which shards may run now.
//
// By default a whole proof goes to one worker: the best throughput, nothing to move. A job that
// asks for a split (split_into > 1), or a key larger than any connected worker's memory, is cut:
//   <job>/witness/0   ONNX models only: input -> witness (a circuit model's job brings it)
//   <job>/h/0         witness -> h (the NTTs)
//   <job>/msm/<k>     MSM k / n of A, B1, B2, C (after the witness) and H (after h), each cut
//                     into n contiguous index ranges, k = msm_index * n + range
// and the coordinator adds the partial points (aggregate.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "zkinfer.pb.h"
#include "zkinfer/coordinator/store.h"

namespace zkinfer::coordinator {

// What the planner knows of a model's key and the workers connected now.
struct PlanContext {
  uint64_t zkey_bytes = 0;
  uint32_t n_vars = 0, n_public = 0, domain_size = 0;
  std::vector<uint64_t> worker_memory_bytes;  // per connected worker (GPU memory, else host)
};

// The number of MSM ranges: job.split_into when above 1; else 1 while some worker holds the key
// with room to spare (a proof needs about twice its key), else enough ranges that each fits the
// smallest worker, at least 2.
uint32_t plan_split(const JobRow& job, const PlanContext& ctx);

// The job's shards, all pending, with deterministic ids.
std::vector<ShardRow> plan_shards(const JobRow& job, const ModelRow& model, const PlanContext& ctx);

// True when every shard `s` depends on is done (WITNESS before H and the A, B1, B2, C ranges;
// H before the H ranges).
bool shard_ready(const ShardRow& s, std::span<const ShardRow> job_shards);

// The scalars artifact an MSM shard reads: the witness (the job's, or its WITNESS shard's
// result) for A, B1, B2, C; the H shard's result for H. Empty while not yet known.
std::string msm_scalars(const ShardRow& s, const JobRow& job, std::span<const ShardRow> job_shards);
// The witness of a split job: the job's own, or its WITNESS shard's result (empty until done).
std::string job_witness(const JobRow& job, std::span<const ShardRow> job_shards);

const char* shard_kind_name(int kind);  // "whole", "witness", "h", "msm": metrics labels
const char* msm_kind_name(int msm);     // "a", "b1", "b2", "c", "h"

}  // namespace zkinfer::coordinator
