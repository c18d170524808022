#include "backend_select.h"

#include <cstdio>
#include <stdexcept>

#ifdef ZKINFER_HAVE_CUDA
#include "cuda/cuda_backend.h"
#endif

namespace zkinfer::cli {

void add_backend_options(CLI::App* cmd, BackendOptions& o) {
  cmd->add_option("--backend", o.backend, "Compute backend: cpu, cuda, or auto (cuda where a GPU is usable, else cpu)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "CPU threads (0: all, or ZKINFER_THREADS)")->capture_default_str();
  cmd->add_option("--msm-tables", o.msm_tables,
                  "GPU: MSM point tables per resident key array (0: by device memory, 1: none, N: at most N)")
      ->capture_default_str();
}

std::unique_ptr<Backend> select_backend(const BackendOptions& o) {
  if (o.backend != "cpu" && o.backend != "cuda" && o.backend != "auto")
    throw std::invalid_argument("unknown backend '" + o.backend + "' (expected cpu, cuda or auto)");
  if (o.backend == "cpu") return make_cpu_backend({o.threads});
#ifdef ZKINFER_HAVE_CUDA
  std::string why_not, notes;
  gpu::CudaBackendConfig cfg;
  cfg.all_devices = true;  // several GPUs: each MSM spread over them
  cfg.msm_tables = o.msm_tables;
  if (auto be = gpu::make_cuda_backend(cfg, &why_not, &notes)) {
    if (!notes.empty()) std::fprintf(stderr, "zkinfer: %s\n", notes.c_str());
    return be;
  }
#else
  const std::string why_not = "this zkinfer was built without CUDA (no nvcc at build time)";
#endif
  if (o.backend == "cuda") throw std::runtime_error("--backend cuda: " + why_not);
  std::fprintf(stderr, "zkinfer: using the CPU backend (%s)\n", why_not.c_str());
  return make_cpu_backend({o.threads});
}

}  // namespace zkinfer::cli
