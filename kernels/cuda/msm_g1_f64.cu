// G1 MSM with Fq as five 52-bit limbs and its products on the FP64 pipe (msm::G1CurveF64): the
// points are converted into the driver's f64_points buffer, the G1 kernels of msm_steps.h run
// over that curve, and the result is converted back.
#include <mutex>

#include "cuda/msm_driver.cuh"

namespace zkinfer::gpu {

void MsmDriver::msm_g1_f64(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n) {
  using C = msm::G1CurveF64;
  Impl& d = *impl_;
  d.last = RunInfo{};
  if (n == 0) {
    out = G1Jacobian::infinity();
    return;
  }
  if (scalars == nullptr || points == nullptr) throw std::invalid_argument("GPU MSM: null input");
  DeviceScope scope(d.device);
  const bool host_points = !msm_detail::on_device(points, d.device, "points");
  msm_detail::DeviceBytes uploaded;  // host points go to the device first
  G1Affine* staged = nullptr;
  Affine<C>* converted = nullptr;
  {
    // Sized under the lock the plan's budget is taken under, so a driver beside this one
    // (CudaBackend::msm_jobs) does not count this memory as free; a failure is MsmOutOfMemory.
    std::lock_guard<std::mutex> allocating(msm_detail::allocation_mutex());
    if (host_points)
      staged = static_cast<G1Affine*>(uploaded.ensure(n * sizeof(G1Affine), "the FP64 MSM's copy of host points"));
    converted = static_cast<Affine<C>*>(d.f64_points.ensure(n * sizeof(Affine<C>), "FP64 MSM points"));
  }
  // On the compute stream, so the conversion below reads the points after they land (a plain
  // cudaMemcpy from pageable memory may return earlier, and the stream does not wait for it).
  if (host_points) d.pinned.upload(staged, points, n * sizeof(G1Affine), d.compute);
  msm_detail::CudaExec ex{d.compute, nullptr, 0, d.host_word};
  ex.launch(msm::ConvertPointsF64Step{host_points ? staged : points, converted}, n);
  out = msm::to_g1(d.run<C>(scalars, converted, n));  // returns after the stream's work
}

}  // namespace zkinfer::gpu
