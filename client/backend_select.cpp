#include "backend_select.h"

#include <stdexcept>

namespace zkinfer::cli {

void add_backend_options(CLI::App* cmd, BackendOptions& o) {
  cmd->add_option("--backend", o.backend, "Compute backend: cpu, cuda or auto")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}))
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "CPU threads (0: all, or ZKINFER_THREADS)")->capture_default_str();
}

std::unique_ptr<Backend> select_backend(const BackendOptions& o) {
  if (o.backend == "cuda")
    throw std::invalid_argument(
        "--backend cuda: this build has no CUDA MSM/NTT backend yet (the CUDA kernels are being "
        "built); use --backend cpu or auto");
  if (o.backend != "cpu" && o.backend != "auto")
    throw std::invalid_argument("unknown backend '" + o.backend + "' (expected cpu, cuda or auto)");
  return make_cpu_backend({o.threads});
}

}  // namespace zkinfer::cli
