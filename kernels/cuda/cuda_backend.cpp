// Tested where tests/gpu runs on a device (first on an H100, 2026-11-26).
#include "cuda/cuda_backend.h"

#include <bit>
#include <stdexcept>
#include <string>

#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/device.h"
#include "cuda/msm.h"
#include "cuda/ntt.h"

namespace zkinfer::gpu {
namespace {

std::string mib(size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

// Points copied once into device memory of `device`; the MSMs read them in place.
template <class A>
class DeviceResident final : public ResidentPoints<A> {
 public:
  DeviceResident(const A* host, size_t n, int device, cudaStream_t stream, const char* what)
      : ResidentPoints<A>(host, n), device_(device), buf_(allocate(n, what)) {
    if (!n) return;
    // Through the MSM stream, then waited for: that stream does not synchronise with others,
    // and a copy from pageable memory (the mapped .zkey) may return before it lands.
    ZK_CUDA_CHECK(cudaMemcpyAsync(buf_.data(), host, n * sizeof(A), cudaMemcpyHostToDevice, stream));
    ZK_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  size_t device_bytes() const override { return buf_.size() * sizeof(A); }
  const A* device_data() const { return buf_.data(); }
  int device() const { return device_; }

 private:
  static DeviceBuffer<A> allocate(size_t n, const char* what) {
    try {
      return DeviceBuffer<A>(n);
    } catch (const CudaError& e) {
      if (e.code() != cudaErrorMemoryAllocation) throw;
      (void)cudaGetLastError();  // else the next launch check would report this failure
      size_t free = 0, total = 0;
      (void)cudaMemGetInfo(&free, &total);
      throw std::runtime_error("GPU out of memory: " + std::to_string(n) + " resident " + what + " points need " +
                               mib(n * sizeof(A)) + ", " + mib(free) + " of " + mib(total) +
                               " are free (a smaller key, or the CPU backend)");
    }
  }

  int device_;
  DeviceBuffer<A> buf_;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(const GpuInfo& info, int device)
      : name_("cuda (" + info.name + ")"), device_(device), msm_(device) {
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

  using Backend::msm_g1;
  using Backend::msm_g2;
  std::shared_ptr<const ResidentG1> resident_g1(const G1Affine* points, size_t n) override {
    return make_resident(points, n, "G1");
  }
  std::shared_ptr<const ResidentG2> resident_g2(const G2Affine* points, size_t n) override {
    return make_resident(points, n, "G2");
  }
  void msm_g1(G1Jacobian& out, const Fr* scalars, const ResidentG1& points, size_t first, size_t n) override {
    points.check_range(first, n);
    msm_.msm_g1(out, scalars, points_for_msm(points) + first, n);
  }
  void msm_g2(G2Jacobian& out, const Fr* scalars, const ResidentG2& points, size_t first, size_t n) override {
    points.check_range(first, n);
    msm_.msm_g2(out, scalars, points_for_msm(points) + first, n);
  }

  void ntt(Fr* data, size_t n, NttKind kind, const Fr& coset_shift) override {
    if (!std::has_single_bit(n)) throw std::invalid_argument("NTT size must be a power of two");
    ntt_->run_host(data, unsigned(std::countr_zero(n)), kind, coset_shift, 1);
  }

  void coset_quotient(Fr* a, Fr* b, Fr* c, size_t n, const Fr& shift) override {
    if (!std::has_single_bit(n)) throw std::invalid_argument("NTT size must be a power of two");
    ntt_->coset_quotient_host(a, b, c, unsigned(std::countr_zero(n)), shift);
  }

 private:
  template <class A>
  std::shared_ptr<const ResidentPoints<A>> make_resident(const A* points, size_t n, const char* what) {
    struct Scope {  // this backend's device for the allocation, the caller's again after it
      int prev = 0;
      explicit Scope(int dev) {
        ZK_CUDA_CHECK(cudaGetDevice(&prev));
        ZK_CUDA_CHECK(cudaSetDevice(dev));
      }
      ~Scope() { (void)cudaSetDevice(prev); }
    } scope(device_);
    return std::make_shared<const DeviceResident<A>>(points, n, device_, msm_.stream(), what);
  }
  // This backend's device copy, or the host points of a resident array made elsewhere (the
  // CPU backend's, another device's): the MSM driver copies those in as for any host input.
  template <class A>
  const A* points_for_msm(const ResidentPoints<A>& p) const {
    const auto* d = dynamic_cast<const DeviceResident<A>*>(&p);
    return d && d->device() == device_ ? d->device_data() : p.host();
  }

  std::string name_;
  int device_;
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
