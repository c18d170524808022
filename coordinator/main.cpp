// zkinfer-coordinator: the broker of a zkinfer prover cluster (DESIGN.md 2-3).
#include <csignal>
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include "zkinfer/common/log.h"
#include "zkinfer/coordinator/coordinator.h"

namespace {
zkinfer::coordinator::Coordinator* g_coordinator = nullptr;
// stop() only stores an atomic flag, which is safe in a signal handler.
void on_signal(int) {
  if (g_coordinator) g_coordinator->stop();
}
}  // namespace

int main(int argc, char** argv) {
  zkinfer::coordinator::CoordinatorConfig cfg;
  std::string log_level = "info";
  double lease_s = cfg.lease_ms / 1000.0;
  unsigned keep_uploads_h = unsigned(cfg.keep_uploads.count());
  CLI::App app{"zkinfer-coordinator: accepts proof jobs from clients, shards them over workers, checks and keeps the proofs"};
  app.add_option("--data", cfg.data_dir, "Directory of the job store (zkinfer.db) and the artifacts")->capture_default_str();
  app.add_option("--clients", cfg.clients_endpoint, "ZeroMQ endpoint clients connect to")->capture_default_str();
  app.add_option("--workers", cfg.workers_endpoint, "ZeroMQ endpoint workers connect to")->capture_default_str();
  app.add_option("--metrics", cfg.metrics_address, "HOST:PORT for /metrics, /healthz and /readyz (empty: off)");
  app.add_option("--heartbeat-ms", cfg.heartbeat_interval_ms, "Heartbeat interval to and from workers")
      ->capture_default_str()
      ->check(CLI::Range(50, 60000));
  app.add_option("--liveness", cfg.heartbeat_liveness, "Missed heartbeats after which a worker is dead")
      ->capture_default_str()
      ->check(CLI::Range(2, 100));
  app.add_option("--lease-seconds", lease_s, "A shard its worker does not name for this long is queued again")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  app.add_option("--max-lost-retries", cfg.max_lost_retries, "Per shard: times its worker may be lost")->capture_default_str();
  app.add_option("--max-failed-retries", cfg.max_failed_retries, "Per shard: times a worker may report it failed")
      ->capture_default_str();
  app.add_option("--max-message-bytes", cfg.max_message_bytes, "Largest message accepted; a peer sending more is disconnected (at least 8 MiB: artifacts move in 4 MiB chunks)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{8} << 20, int64_t{1} << 31));
  app.add_option("--max-queued-jobs", cfg.max_queued_jobs, "Unfinished jobs beyond which submissions are refused")
      ->capture_default_str();
  app.add_option("--keep-uploads-hours", keep_uploads_h,
                 "Uploads no job or model needs are removed after this long unused (witnesses, samples)")
      ->capture_default_str();
  app.add_option("--curve-key", cfg.curve_key_file, "CURVE: this coordinator's key pair file (zkinfer keygen)")->check(CLI::ExistingFile);
  app.add_option("--client-keys", cfg.client_keys_file, "CURVE: allowlist of client public keys, one per line")
      ->check(CLI::ExistingFile);
  app.add_option("--worker-keys", cfg.worker_keys_file, "CURVE: allowlist of worker public keys, one per line")
      ->check(CLI::ExistingFile);
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  cfg.lease_ms = uint32_t(lease_s * 1000.0);
  cfg.keep_uploads = std::chrono::hours(keep_uploads_h);
  try {
    zkinfer::common::init_logging("coordinator", log_level);
    // Protobuf logs an error for every string field that is not UTF-8 before refusing the
    // message; from the network that is a peer's malformed message (counted and answered), not
    // ours, so it goes to the debug level rather than flooding the log.
    google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char* file, int line, const std::string& msg) {
      spdlog::debug("protobuf ({}:{}): {}", file, line, msg);
    });
    zkinfer::coordinator::Coordinator c(cfg);
    g_coordinator = &c;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    if (c.metrics_port()) spdlog::info("metrics on port {}", c.metrics_port());
    c.run();
    g_coordinator = nullptr;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zkinfer-coordinator: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
