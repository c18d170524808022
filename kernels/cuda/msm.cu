// MsmDriver: construction, resources, and the small accessors; the G1 and G2 entry points are in
// msm_g1.cu and msm_g2.cu (one curve's kernels per file, compiled in parallel).
#include "cuda/msm_driver.cuh"

namespace zkinfer::gpu {

MsmDriver::Impl::Impl(int dev, const MsmConfig& c) : device(dev), cfg(c) {
  DeviceScope scope(device);
  try {
    cudaDeviceProp prop{};
    ZK_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    sm_count = unsigned(std::max(prop.multiProcessorCount, 1));
    total_mem = prop.totalGlobalMem;
    ZK_CUDA_CHECK(cudaStreamCreateWithFlags(&compute, cudaStreamNonBlocking));
    ZK_CUDA_CHECK(cudaStreamCreateWithFlags(&copy, cudaStreamNonBlocking));
    for (int i = 0; i < 2; ++i) {
      ZK_CUDA_CHECK(cudaEventCreateWithFlags(&copied[i], cudaEventDisableTiming));
      ZK_CUDA_CHECK(cudaEventCreateWithFlags(&consumed[i], cudaEventDisableTiming));
    }
    ZK_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&host_word), sizeof(uint32_t)));
  } catch (...) {
    destroy();
    throw;
  }
}

MsmDriver::Impl::~Impl() {
  int prev = 0;
  const bool switched = cudaGetDevice(&prev) == cudaSuccess && prev != device && cudaSetDevice(device) == cudaSuccess;
  destroy();
  if (switched) (void)cudaSetDevice(prev);
}

// Errors are ignored here: nothing can report them, and a broken context shows at the next
// checked call anyway.
void MsmDriver::Impl::destroy() noexcept {
  if (compute) (void)cudaStreamSynchronize(compute);
  if (copy) (void)cudaStreamSynchronize(copy);
  arena.release();
  sort_temp.release();
  for (auto& s : staging) s.release();
  pinned.release();
  for (int i = 0; i < 2; ++i) {
    if (copied[i]) (void)cudaEventDestroy(copied[i]);
    if (consumed[i]) (void)cudaEventDestroy(consumed[i]);
    copied[i] = consumed[i] = nullptr;
  }
  if (compute) (void)cudaStreamDestroy(compute);
  if (copy) (void)cudaStreamDestroy(copy);
  compute = copy = nullptr;
  if (host_word) (void)cudaFreeHost(host_word);
  host_word = nullptr;
}

MsmDriver::MsmDriver(int device, const MsmConfig& cfg) : impl_(std::make_unique<Impl>(device, cfg)) {}
MsmDriver::~MsmDriver() = default;
MsmDriver::MsmDriver(MsmDriver&&) noexcept = default;
MsmDriver& MsmDriver::operator=(MsmDriver&&) noexcept = default;

// Buckets within 1/16 of the device.
MsmTables MsmDriver::plan_tables(size_t n, size_t point_bytes, size_t max_bytes) const {
  return msm::plan_tables(n, point_bytes, max_bytes, impl_->sm_count, impl_->total_mem / 16, impl_->cfg.tuning);
}

MsmDriver::RunInfo MsmDriver::last_run() const { return impl_->last; }
int MsmDriver::device() const { return impl_->device; }
cudaStream_t MsmDriver::stream() const { return impl_->compute; }
size_t MsmDriver::scratch_bytes() const { return impl_->held_bytes(); }
void MsmDriver::release_scratch() {
  DeviceScope scope(impl_->device);
  ZK_CUDA_CHECK(cudaStreamSynchronize(impl_->compute));
  ZK_CUDA_CHECK(cudaStreamSynchronize(impl_->copy));
  impl_->arena.release();
  impl_->sort_temp.release();
  for (auto& s : impl_->staging) s.release();
  impl_->pinned.release();
}

}  // namespace zkinfer::gpu
