// Runs one shard (zkinfer.proto, "Shards") on a backend, from artifacts already in the worker's
// cache, and keeps what is worth keeping between shards: proving keys (memory-mapped, and made
// resident on the backend for whole proofs), key ranges resident for MSM shards, the last model
// and the last scalar vector. The worker's compute thread owns it; only resident_snapshot() may
// be called from another thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.h"
#include "zkinfer.pb.h"
#include "zkinfer/common/artifact_store.h"

namespace zkinfer::worker {

// A shard failure with its protocol code (other exceptions are classified by type).
class ShardError : public std::runtime_error {
 public:
  ShardError(v1::ErrorCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
  v1::ErrorCode code() const { return code_; }

 private:
  v1::ErrorCode code_;
};

// The protocol Error for an exception escaping a shard: INVALID_ARGUMENT for bad input (bad
// files, models, JSON, ranges), the ShardError's own code, INTERNAL for anything else.
v1::Error error_from_exception(const std::exception& e);

// The artifacts a shard reads, in the order they are fetched. Throws ShardError
// (INVALID_ARGUMENT) when the assignment lacks a field its kind needs or names a malformed hash.
std::vector<std::string> shard_inputs(const v1::ShardAssignment& a);

struct ShardOutcome {
  v1::ShardResult result;             // failure set when the shard failed
  std::vector<std::string> uploads;   // result artifacts in the cache, uploaded before the result
  uint64_t msm_points = 0;            // points the shard's MSMs went over (metrics)
};

// What the backend keeps between shards, for Hello and heartbeats.
struct ResidentSnapshot {
  std::vector<v1::KeyRange> ranges;
  uint64_t device_bytes = 0;
  uint64_t version = 0;  // changes whenever `ranges` does
};

struct ExecutorConfig {
  size_t max_keys = 2;     // proving keys kept open (LRU by zkey hash)
  size_t max_ranges = 16;  // MSM key ranges kept resident (LRU)
};

class ShardExecutor {
 public:
  // `cache` and `backend` must outlive the executor.
  ShardExecutor(common::ArtifactStore& cache, Backend& backend, ExecutorConfig cfg = {});
  ~ShardExecutor();
  ShardExecutor(const ShardExecutor&) = delete;
  ShardExecutor& operator=(const ShardExecutor&) = delete;

  // Runs the shard; never throws. Its result carries shard_id and phase_seconds ("load",
  // "witness", "h", "msm", "prove" as they apply), and failure when anything went wrong.
  ShardOutcome run(const v1::ShardAssignment& a);

  // Thread-safe.
  ResidentSnapshot resident_snapshot() const;

 private:
  struct Key;
  struct Range;
  struct Model;
  struct Phases;

  std::shared_ptr<Key> open_key(const std::string& sha);
  void evict_keys();
  void publish_resident();
  template <class F>
  auto with_device_room(Key& keep, F make);
  // The witness or h values of an artifact (the last one is kept for the next MSM shard).
  const std::vector<Fr>& scalars(const std::string& sha, bool h_vector);
  const Model& model(const v1::ShardAssignment& a);

  void run_whole(const v1::ShardAssignment& a, ShardOutcome& out, Phases& ph);
  void run_witness(const v1::ShardAssignment& a, ShardOutcome& out, Phases& ph);
  void run_h(const v1::ShardAssignment& a, ShardOutcome& out, Phases& ph);
  void run_msm(const v1::ShardAssignment& a, ShardOutcome& out, Phases& ph);

  common::ArtifactStore& cache_;
  Backend& backend_;
  ExecutorConfig cfg_;
  std::list<std::shared_ptr<Key>> keys_;  // most recently used first
  std::list<Range> ranges_;               // most recently used first
  std::unique_ptr<Model> model_;
  std::string scalars_sha_;
  std::vector<Fr> scalars_;

  mutable std::mutex snap_mu_;
  ResidentSnapshot snap_;
};

}  // namespace zkinfer::worker
