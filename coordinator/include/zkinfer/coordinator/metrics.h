// The coordinator's Prometheus metrics (DESIGN.md 3: prefix zkinfer_, counters end in _total,
// durations in _seconds histograms, no job ids in labels), served on /metrics with /healthz and
// /readyz when an address is given. Updated from the event loop; rendered by the HTTP thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "zkinfer/common/metrics.h"
#include "zkinfer/common/metrics_server.h"

namespace zkinfer::coordinator {

class CoordinatorMetrics {
 public:
  // Empty address: metrics are kept but not served.
  explicit CoordinatorMetrics(const std::string& address);
  ~CoordinatorMetrics();
  int port() const;  // 0 when not served

  void job_submitted();
  void job_finished(const std::string& status, double seconds);
  void jobs_resumed(uint64_t n);
  void model_added();
  void shard_assigned(const std::string& kind);
  void shard_outcome(const std::string& kind, const std::string& outcome);  // done, failed, invalid
  void shard_duration(const std::string& kind, const std::string& phase, double seconds);
  void retry(const std::string& reason);  // worker_lost, shard_failed
  void eviction();
  void verification_failed();
  void result_dropped();
  void malformed();
  void msm_points(uint64_t n);
  void artifact_bytes_served(uint64_t n);

  // Gauges, from a scan of the loop's state once per heartbeat interval.
  struct Snapshot {
    uint64_t queued = 0, running = 0;
    double oldest_queued_seconds = 0;
    std::map<std::pair<std::string, int>, uint64_t> shards;  // (kind, ShardState) -> count
    std::map<std::string, uint64_t> workers;                  // idle, busy, draining -> count
    std::map<std::string, double> worker_device_memory;       // worker name -> bytes
  };
  void update(const Snapshot& s);

  const common::Registry& registry() const { return reg_; }

 private:
  common::Registry reg_;
  std::map<std::string, common::Gauge*> device_memory_;
  std::unique_ptr<common::MetricsServer> server_;
};

}  // namespace zkinfer::coordinator
