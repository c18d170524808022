// The coordinator (DESIGN.md 2-3): the broker between clients and workers, written as one event
// loop over two ROUTER sockets (the Majordomo / Titanic patterns of the ZeroMQ guide):
// clients add models and submit jobs, which are on disk (store.h) before they are acknowledged;
// workers say Hello, heartbeat, ask for work and return shard results; the planner (planner.h)
// cuts jobs into shards; results are checked and aggregated (aggregate.h) before a job succeeds.
// Compile and setup of new models run on a background thread so the loop never blocks on them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "zkinfer/proto/wire.h"

namespace zkinfer::coordinator {

struct CoordinatorConfig {
  std::string data_dir = "zkinfer-data";                      // zkinfer.db and artifacts/
  std::string clients_endpoint = "tcp://127.0.0.1:7700";      // ROUTER for clients
  std::string workers_endpoint = "tcp://127.0.0.1:7701";      // ROUTER for workers
  std::string metrics_address;                                // HOST:PORT; empty: no HTTP endpoint
  uint32_t heartbeat_interval_ms = 1000;
  uint32_t heartbeat_liveness = 3;     // missed intervals before a worker is declared dead
  uint32_t lease_ms = 60000;           // a shard whose worker does not name it for this long is re-queued
  uint32_t max_lost_retries = 3;       // per shard: its worker died or its lease ran out
  uint32_t max_failed_retries = 2;     // per shard: a worker reported it failed (not for bad input)
  uint32_t max_chunk_bytes = wire::kDefaultChunkBytes;
  int64_t max_message_bytes = wire::kDefaultMaxMessageBytes;
  uint64_t max_artifact_bytes = wire::kDefaultMaxArtifactBytes;
  uint32_t max_queued_jobs = 100000;   // submissions beyond are refused RESOURCE_EXHAUSTED
  uint32_t max_split = 64;             // largest split_into a job may ask for
  // Uploads (witnesses, calibration samples, .ptau) that no unfinished job or model needs are
  // removed once unused this long; what jobs make on the way (h, witnesses of witness shards)
  // goes when the job ends.
  std::chrono::hours keep_uploads{24};
  // CURVE (all three, or none): the coordinator's key pair file (zkinfer keygen), and the
  // allowlists of client and worker public keys (one Z85 key per line).
  std::string curve_key_file, client_keys_file, worker_keys_file;
};

class Coordinator {
 public:
  // Opens the store, binds both sockets (and the metrics endpoint), and loads every unfinished
  // job to resume it. Throws std::runtime_error naming what could not be opened or bound.
  explicit Coordinator(CoordinatorConfig config);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Serves until stop(); then tells the workers Goodbye and returns.
  void run();
  // May be called from any thread (or a signal handler's thread): run() returns soon after.
  void stop();

  // The bound endpoints (with the real port where 0 was asked for) and metrics port (0: none).
  std::string clients_endpoint() const;
  std::string workers_endpoint() const;
  int metrics_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zkinfer::coordinator
