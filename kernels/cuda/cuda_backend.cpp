#include "cuda/cuda_backend.h"

#include <bit>
#include <stdexcept>

#include "cuda/check.h"
#include "cuda/device.h"
#include "cuda/msm.h"
#include "cuda/ntt.h"

namespace zkinfer::gpu {
namespace {

class CudaBackend final : public Backend {
 public:
  CudaBackend(const GpuInfo& info, int device) : name_("cuda (" + info.name + ")"), msm_(device) {
    ZK_CUDA_CHECK(cudaSetDevice(device));
    ntt_ = std::make_unique<NttDriver>();
  }

  std::string name() const override { return name_; }

  void msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n) override {
    msm_.msm_g1(out, scalars, points, n);
  }
  void msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n) override {
    msm_.msm_g2(out, scalars, points, n);
  }
  void ntt(Fr* data, size_t n, NttKind kind, const Fr& coset_shift) override {
    if (!std::has_single_bit(n)) throw std::invalid_argument("NTT size must be a power of two");
    ntt_->run_host(data, unsigned(std::countr_zero(n)), kind, coset_shift, 1);
  }

 private:
  std::string name_;
  MsmDriver msm_;
  std::unique_ptr<NttDriver> ntt_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const CudaBackendConfig& cfg, std::string* why_not) {
  const GpuInfo info = probe_gpu(cfg.device);
  if (!info.usable) {
    if (why_not) *why_not = info.reason;
    return nullptr;
  }
  return std::make_unique<CudaBackend>(info, cfg.device);
}

}  // namespace zkinfer::gpu
