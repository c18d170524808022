// G1 MSM with Fq as five 52-bit limbs and its products on the FP64 pipe (msm::G1CurveF64): the
// points are converted into the driver's f64_points buffer, the G1 kernels of msm_steps.h run
// over that curve, and the result is converted back.
#include "cuda/buffer.h"
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
  DeviceBuffer<G1Affine> uploaded;  // host points go to the device first
  const G1Affine* src = points;
  if (!msm_detail::on_device(points, d.device, "points")) {
    uploaded = DeviceBuffer<G1Affine>(n);
    ZK_CUDA_CHECK(cudaMemcpy(uploaded.data(), points, n * sizeof(G1Affine), cudaMemcpyHostToDevice));
    src = uploaded.data();
  }
  auto* converted = static_cast<Affine<C>*>(d.f64_points.ensure(n * sizeof(Affine<C>), "FP64 MSM points"));
  msm_detail::CudaExec ex{d.compute, nullptr, 0, d.host_word};
  ex.launch(msm::ConvertPointsF64Step{src, converted}, n);
  out = msm::to_g1(d.run<C>(scalars, converted, n));  // returns after the stream's work
}

}  // namespace zkinfer::gpu
