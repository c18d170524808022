#include "zkinfer/coordinator/metrics.h"

#include "zkinfer/coordinator/store.h"

namespace zkinfer::coordinator {

namespace {
const char* const kShardKinds[] = {"whole", "witness", "h", "msm"};
const std::pair<int, const char*> kShardStates[] = {
    {kShardPending, "pending"}, {kShardLeased, "leased"}, {kShardDone, "done"}, {kShardFailed, "failed"}};
const char* const kWorkerStates[] = {"idle", "busy", "draining"};
}  // namespace

CoordinatorMetrics::CoordinatorMetrics(const std::string& address) {
  // Series that exist from the start, so dashboards and alerts see zeros rather than gaps.
  reg_.counter("zkinfer_jobs_submitted_total", "Proof jobs accepted (written to the store)");
  for (const char* st : {"succeeded", "failed", "cancelled"})
    reg_.counter("zkinfer_jobs_completed_total", "Proof jobs finished, by final status", {{"status", st}});
  reg_.histogram("zkinfer_job_duration_seconds", "Time from submission to the end of a job", common::duration_buckets());
  for (const char* k : kShardKinds)
    for (const auto& [st, name] : kShardStates)
      reg_.gauge("zkinfer_shards", "Shards of unfinished jobs, by kind and state", {{"kind", k}, {"state", name}});
  for (const char* reason : {"worker_lost", "shard_failed"})
    reg_.counter("zkinfer_retries_total", "Shards queued again, by reason", {{"reason", reason}});
  for (const char* w : kWorkerStates) reg_.gauge("zkinfer_workers", "Connected workers, by state", {{"state", w}});
  reg_.counter("zkinfer_worker_evictions_total", "Workers declared dead after missed heartbeats");
  reg_.counter("zkinfer_proof_verification_failures_total", "Proofs (whole or aggregated) that failed verification");
  reg_.counter("zkinfer_msm_points_total", "Points of MSM range shards accepted");
  reg_.gauge("zkinfer_queue_depth", "Jobs queued and not yet started");
  reg_.gauge("zkinfer_queue_oldest_age_seconds", "Age of the oldest queued job");
  reg_.gauge("zkinfer_jobs_running", "Jobs with shards planned and not finished");
  if (!address.empty()) server_ = std::make_unique<common::MetricsServer>(address, reg_);
}

CoordinatorMetrics::~CoordinatorMetrics() = default;
int CoordinatorMetrics::port() const { return server_ ? server_->port() : 0; }

void CoordinatorMetrics::job_submitted() { reg_.counter("zkinfer_jobs_submitted_total", "").inc(); }
void CoordinatorMetrics::job_finished(const std::string& status, double seconds) {
  reg_.counter("zkinfer_jobs_completed_total", "", {{"status", status}}).inc();
  reg_.histogram("zkinfer_job_duration_seconds", "", common::duration_buckets()).observe(seconds);
}
void CoordinatorMetrics::jobs_resumed(uint64_t n) {
  reg_.counter("zkinfer_jobs_resumed_total", "Unfinished jobs loaded from the store at start").inc(double(n));
}
void CoordinatorMetrics::model_added() { reg_.counter("zkinfer_models_added_total", "Models registered").inc(); }
void CoordinatorMetrics::shard_assigned(const std::string& kind) {
  reg_.counter("zkinfer_shards_assigned_total", "Shards given to workers, by kind", {{"kind", kind}}).inc();
}
void CoordinatorMetrics::shard_outcome(const std::string& kind, const std::string& outcome) {
  reg_.counter("zkinfer_shard_results_total", "Shard results received, by kind and outcome", {{"kind", kind}, {"outcome", outcome}}).inc();
}
void CoordinatorMetrics::shard_duration(const std::string& kind, const std::string& phase, double seconds) {
  reg_.histogram("zkinfer_shard_duration_seconds", "Shard time by kind and phase (total: assignment to result)",
                 common::duration_buckets(), {{"kind", kind}, {"phase", phase}})
      .observe(seconds);
}
void CoordinatorMetrics::retry(const std::string& reason) { reg_.counter("zkinfer_retries_total", "", {{"reason", reason}}).inc(); }
void CoordinatorMetrics::eviction() { reg_.counter("zkinfer_worker_evictions_total", "").inc(); }
void CoordinatorMetrics::verification_failed() { reg_.counter("zkinfer_proof_verification_failures_total", "").inc(); }
void CoordinatorMetrics::result_dropped() {
  reg_.counter("zkinfer_results_dropped_total", "Late or duplicate shard results dropped").inc();
}
void CoordinatorMetrics::malformed() {
  reg_.counter("zkinfer_messages_malformed_total", "Messages that did not parse, refused").inc();
}
void CoordinatorMetrics::msm_points(uint64_t n) { reg_.counter("zkinfer_msm_points_total", "").inc(double(n)); }
void CoordinatorMetrics::artifact_bytes_served(uint64_t n) {
  reg_.counter("zkinfer_artifact_bytes_served_total", "Artifact bytes sent to workers").inc(double(n));
}

void CoordinatorMetrics::update(const Snapshot& s) {
  reg_.gauge("zkinfer_queue_depth", "").set(double(s.queued));
  reg_.gauge("zkinfer_queue_oldest_age_seconds", "").set(s.oldest_queued_seconds);
  reg_.gauge("zkinfer_jobs_running", "").set(double(s.running));
  for (const char* k : kShardKinds)
    for (const auto& [st, name] : kShardStates) {
      auto it = s.shards.find({k, st});
      reg_.gauge("zkinfer_shards", "", {{"kind", k}, {"state", name}}).set(it == s.shards.end() ? 0.0 : double(it->second));
    }
  for (const char* w : kWorkerStates) {
    auto it = s.workers.find(w);
    reg_.gauge("zkinfer_workers", "", {{"state", w}}).set(it == s.workers.end() ? 0.0 : double(it->second));
  }
  for (auto& [name, g] : device_memory_) g->set(0);  // workers that left
  for (const auto& [name, bytes] : s.worker_device_memory) {
    auto& g = device_memory_[name];
    if (!g) g = &reg_.gauge("zkinfer_worker_device_memory_bytes", "GPU memory in use, as each worker reports it", {{"worker", name}});
    g->set(bytes);
  }
}

}  // namespace zkinfer::coordinator
