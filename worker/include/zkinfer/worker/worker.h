// zkinfer's worker: one DEALER connection to the coordinator's worker socket, speaking the
// worker session of proto/zkinfer.proto (Hello/Welcome, heartbeats both ways, ReadyForWork,
// artifact fetches, shard results, Goodbye), with shards run on a compute thread so that nothing
// the backend does can delay a heartbeat.
//
//   Worker w(config, select_backend({"auto"}));
//   std::thread t([&] { w.run(); });   // until stop() and the drain are done
//   ...
//   w.stop();                           // finish the shard in hand, send Goodbye
//   t.join();
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "backend.h"
#include "zkinfer.pb.h"
#include "zkinfer/common/artifact_store.h"
#include "zkinfer/common/curve.h"
#include "zkinfer/proto/wire.h"

namespace zkinfer::worker {

// The backend a worker proves on, with what Hello reports about it.
struct BackendChoice {
  std::unique_ptr<Backend> backend;
  v1::BackendKind kind = v1::BACKEND_KIND_CPU;
  uint32_t gpu_count = 0;
  uint64_t gpu_memory_bytes = 0;  // per GPU
};

// `--backend cpu|cuda|auto`: cuda is an error (saying why) where no GPU is usable or this build
// has no CUDA; auto falls back to the CPU, logging why. `threads`: CPU threads, 0 for all.
// `msm_tables`: `--msm-tables`, MSM point tables per resident key array on the GPUs
// (gpu::CudaBackendConfig::msm_tables: 0 by memory, 1 none).
BackendChoice select_backend(const std::string& which, unsigned threads = 0, unsigned msm_tables = 0);

struct WorkerConfig {
  std::string coordinator = "tcp://127.0.0.1:7701";  // the coordinator's worker socket
  std::string name;                                  // empty: "<hostname>-<pid>"
  std::string cache_dir = "./zkinfer-worker-cache";  // artifact cache (content-addressed)
  std::string metrics_address;                       // HOST:PORT for /metrics etc.; empty: none
  unsigned cpu_threads = 0;                          // reported in Hello; 0: the hardware's
  // CURVE: this worker's key pair and the coordinator's public key (Z85); an empty
  // curve_server_key means plain TCP.
  common::Keypair curve_keys;
  std::string curve_server_key;

  // Until the first Welcome of a connection the worker knows no heartbeat interval: it waits
  // this long for one before it reconnects.
  std::chrono::milliseconds hello_timeout{3000};
  // Reconnect backoff (zkinfer.proto, worker session 2): initial, doubling up to max.
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  size_t max_resident_keys = 2;
  // Job data in the cache (witnesses, h vectors, fetched or made here) beyond this many bytes
  // goes, oldest first; the two most recent always stay (the next shard of a job usually needs
  // them). Keys and models stay: they are what makes the next proof cheap.
  uint64_t job_cache_bytes = uint64_t{4} << 30;
  int64_t max_message_bytes = wire::kDefaultMaxMessageBytes;
  uint64_t max_artifact_bytes = wire::kDefaultMaxArtifactBytes;
};

class Worker {
 public:
  // Opens the cache directory (throws naming it when that fails); an empty name becomes
  // "<hostname>-<pid>".
  Worker(WorkerConfig cfg, BackendChoice backend);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Serves the coordinator until stop() and the drain complete. Throws only for setup errors
  // (the metrics address cannot be bound, CURVE keys are malformed).
  void run();
  // Asks run() to drain: report DRAINING, finish the shard in hand, send its result and Goodbye,
  // then return. Async-signal-safe (a signal handler may call it) and callable from any thread.
  void stop() noexcept;

  // Connected and welcomed by the coordinator (/readyz).
  bool ready() const { return ready_.load(); }
  const std::string& name() const { return cfg_.name; }
  // The metrics endpoint's port once run() has bound it (0 before, and without one).
  int metrics_port() const { return metrics_port_.load(); }

 private:
  class Session;

  WorkerConfig cfg_;
  BackendChoice backend_;
  common::ArtifactStore cache_;
  std::atomic<int> metrics_port_{0};
  int stop_fd_ = -1;  // eventfd: stop() writes it, the I/O loop polls it
  std::atomic<bool> ready_{false};
};

}  // namespace zkinfer::worker
