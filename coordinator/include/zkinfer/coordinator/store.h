// The coordinator's durable state: models, jobs and shards in SQLite (WAL mode, synchronous=FULL)
// under DATA/zkinfer.db; bulk bytes live in the artifact store (common/artifact_store.h) beside
// it and are referred to here by hash. DESIGN.md 3 and 6: a job is on disk before it is
// acknowledged, and a restarted coordinator resumes every accepted job from here.
//
// One Store is used from the coordinator's event loop thread only. Every write method commits
// before it returns; methods that change several rows do so in one transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zkinfer::coordinator {

// Mirrors zkinfer.proto's enums by value (ModelState, JobState, ShardKind, MsmKind), stored as
// integers.
struct ModelRow {
  std::string model_id;  // primary key
  std::string name;
  int state = 0;         // v1::ModelState
  std::string error;
  uint32_t constraints = 0, wires = 0, public_signals = 0, log_domain = 0;
  std::string onnx_sha256, r1cs_sha256, zkey_sha256;
  std::string verification_key_json, model_json;
  std::string owner;     // CURVE public key (Z85) of the client that added it; empty without CURVE
  uint64_t created_unix_ms = 0;
};

struct JobRow {
  std::string job_id;     // primary key
  uint64_t seq = 0;       // submission order, assigned by insert_job (1, 2, ...); paging and FIFO
  std::string model_id;
  std::string owner;      // CURVE public key (Z85) of the submitting client; empty without CURVE
  int state = 0;          // v1::JobState
  std::string error;
  int32_t priority = 0;
  uint64_t deadline_unix_ms = 0;
  uint32_t split_into = 0;
  std::string input_json, witness_sha256;
  uint64_t submitted_unix_ms = 0, started_unix_ms = 0, finished_unix_ms = 0;
  uint32_t shards_total = 0, shards_done = 0;
  // Filled when the job succeeds (output_json already when a witness shard reports it). A split
  // job's randomisers r and s are drawn when its proof is assembled and never stored.
  std::string output_json, proof_json, public_json;
};

struct ShardRow {
  std::string shard_id;   // primary key: "<job_id>/<kind>/<index>"
  std::string job_id;
  int kind = 0;           // v1::ShardKind
  int msm = 0;            // v1::MsmKind (MSM shards)
  uint64_t first = 0, count = 0;
  int state = 0;          // ShardState below
  uint32_t lost_retries = 0;    // times its worker was lost while holding it
  uint32_t failed_retries = 0;  // times a worker reported it failed
  std::string last_error;
  // Results, by kind: WHOLE: proof/public/output JSON; WITNESS: witness_sha256 (+ output_json);
  // H: h_sha256; MSM: the point bytes (wire encoding).
  std::string proof_json, public_json, output_json, witness_sha256, h_sha256, point;
  uint64_t finished_unix_ms = 0;
};

enum ShardState : int { kShardPending = 0, kShardLeased = 1, kShardDone = 2, kShardFailed = 3 };

class Store {
 public:
  // Opens (creating) DATA_DIR/zkinfer.db with WAL and synchronous=FULL, and creates the schema.
  // Throws std::runtime_error naming the file and SQLite's message.
  explicit Store(const std::string& data_dir);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  void put_model(const ModelRow& m);  // insert or replace
  std::optional<ModelRow> get_model(const std::string& model_id) const;
  // By created time then id; `after` pages (exclusive); limit 0 means all.
  std::vector<ModelRow> list_models(uint32_t limit, const std::string& after_model_id) const;

  // Assigns seq, writes the job, commits; returns the row as stored.
  JobRow insert_job(JobRow j);
  void update_job(const JobRow& j);  // every column, by job_id
  std::optional<JobRow> get_job(const std::string& job_id) const;
  // Jobs in submission order; state 0 means every state; owner empty means every owner;
  // after_job_id pages (jobs submitted after it); limit 0 means all.
  std::vector<JobRow> list_jobs(int state, const std::string& owner, uint32_t limit, const std::string& after_job_id) const;
  // Jobs in state QUEUED or RUNNING, in submission order: what a restarted coordinator resumes.
  std::vector<JobRow> unfinished_jobs() const;

  // The job row and its shards in one transaction (planning a job).
  void plan_job(const JobRow& j, const std::vector<ShardRow>& shards);
  void update_shard(const ShardRow& s);
  // A shard's new state together with its job's row, in one transaction (a result that settles a
  // job).
  void update_shard_and_job(const ShardRow& s, const JobRow& j);
  std::vector<ShardRow> shards_of(const std::string& job_id) const;  // ordered by shard_id

  // Counts by state, for metrics and /readyz.
  uint64_t count_jobs(int state) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zkinfer::coordinator
