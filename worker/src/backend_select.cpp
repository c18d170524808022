#include <stdexcept>

#include <spdlog/spdlog.h>

#include "zkinfer/worker/worker.h"

#ifdef ZKINFER_HAVE_CUDA
#include "cuda/cuda_backend.h"
#include "cuda/device.h"
#endif

namespace zkinfer::worker {

BackendChoice select_backend(const std::string& which, unsigned threads, unsigned msm_tables) {
  if (which != "cpu" && which != "cuda" && which != "auto")
    throw std::invalid_argument("unknown backend '" + which + "' (expected cpu, cuda or auto)");
  BackendChoice c;
  if (which != "cpu") {
#ifdef ZKINFER_HAVE_CUDA
    std::string why_not, notes;
    gpu::CudaBackendConfig cfg;
    cfg.all_devices = true;  // several GPUs: each MSM spread over them
    cfg.msm_tables = msm_tables;
    if (auto be = gpu::make_cuda_backend(cfg, &why_not, &notes)) {
      if (!notes.empty()) spdlog::warn("backend: {}", notes);
      c.backend = std::move(be);
      c.kind = v1::BACKEND_KIND_CUDA;
      // Visible devices are numbered from 0; the first one that does not probe ends the count.
      for (int d = 0;; ++d) {
        const gpu::GpuInfo info = gpu::probe_gpu(d);
        if (!info.usable) break;
        if (d == 0) c.gpu_memory_bytes = info.global_mem_bytes;
        ++c.gpu_count;
      }
      spdlog::info("backend: {} on {} GPU(s)", c.backend->name(), c.gpu_count);
      return c;
    }
#else
    (void)msm_tables;
    const std::string why_not = "this zkinfer was built without CUDA (no nvcc at build time)";
#endif
    if (which == "cuda") throw std::runtime_error("--backend cuda: " + why_not);
    spdlog::info("using the CPU backend ({})", why_not);
  }
  c.backend = make_cpu_backend({threads});
  c.kind = v1::BACKEND_KIND_CPU;
  return c;
}

}  // namespace zkinfer::worker
