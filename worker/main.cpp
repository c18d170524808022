// zkinfer-worker: serves one coordinator's shards on a CPU or CUDA backend until SIGTERM/SIGINT,
// then drains (finishes the shard in hand, says Goodbye) and exits 0. A second signal exits at
// once.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "zkinfer/common/curve.h"
#include "zkinfer/common/log.h"
#include "zkinfer/worker/worker.h"

namespace {

std::atomic<zkinfer::worker::Worker*> g_worker{nullptr};
std::atomic<int> g_signals{0};

// Only async-signal-safe calls: an atomic, Worker::stop (an eventfd write) and _exit.
extern "C" void on_signal(int) {
  if (g_signals.fetch_add(1) > 0) _exit(130);
  if (auto* w = g_worker.load()) w->stop();
}

// --server-key: a Z85 key itself, or a file holding one (bare, or as the `public` line of a key
// file).
std::string server_key(const std::string& arg) {
  if (zkinfer::common::valid_z85_key(arg)) return arg;
  std::ifstream in(arg);
  if (!in) throw std::runtime_error("--server-key: '" + arg + "' is neither a Z85 key nor a readable file");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string a, b;
    words >> a >> b;
    if (a == "public" && zkinfer::common::valid_z85_key(b)) return b;
    if (b.empty() && zkinfer::common::valid_z85_key(a)) return a;
  }
  throw std::runtime_error("--server-key: " + arg + " holds no Z85 public key");
}

}  // namespace

int main(int argc, char** argv) {
  zkinfer::worker::WorkerConfig cfg;
  std::string backend = "auto", curve_key, server, log_level = "info";
  CLI::App app{"zkinfer-worker: proves shards for a zkinfer coordinator"};
  app.add_option("--coordinator", cfg.coordinator, "The coordinator's worker endpoint")->capture_default_str();
  app.add_option("--backend", backend, "Compute backend: cpu, cuda, or auto (cuda where a GPU is usable, else cpu)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
      ->capture_default_str();
  app.add_option("--cache", cfg.cache_dir, "Artifact cache directory (keys, models, witnesses)")->capture_default_str();
  app.add_option("--metrics", cfg.metrics_address, "HOST:PORT serving /metrics, /healthz, /readyz (empty: none)");
  app.add_option("--name", cfg.name, "Worker name reported to the coordinator (default: HOSTNAME-PID)");
  app.add_option("--threads", cfg.cpu_threads, "CPU threads (0: all, or ZKINFER_THREADS)")->capture_default_str();
  unsigned msm_tables = 0;
  app.add_option("--msm-tables", msm_tables,
                 "GPU: MSM point tables per resident key array (0: by device memory, 1: none, saving that "
                 "memory; N: at most N)")
      ->capture_default_str();
  uint64_t job_cache_mib = cfg.job_cache_bytes >> 20;
  app.add_option("--job-cache-mib", job_cache_mib,
                 "Job data (witnesses, h) kept in the cache beyond the last two, MiB; keys and models always stay")
      ->capture_default_str();
  auto* key_opt = app.add_option("--curve-key", curve_key, "CURVE key file of this worker (public/secret lines)")
                      ->check(CLI::ExistingFile);
  app.add_option("--server-key", server, "The coordinator's CURVE public key: Z85, or a file holding it")
      ->needs(key_opt);
  key_opt->needs("--server-key");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  cfg.job_cache_bytes = job_cache_mib << 20;

  try {
    zkinfer::common::init_logging("worker", log_level);
    if (!curve_key.empty()) {
      cfg.curve_keys = zkinfer::common::read_keypair(curve_key);
      cfg.curve_server_key = server_key(server);
    }
    zkinfer::worker::Worker w(cfg, zkinfer::worker::select_backend(backend, cfg.cpu_threads, msm_tables));
    g_worker = &w;
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    spdlog::info("worker {} for {}, cache {}", w.name(), cfg.coordinator, cfg.cache_dir);
    w.run();
    g_worker = nullptr;
    return 0;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
