// G1 MSM entry point: instantiates the G1 kernels of msm_steps.h.
#include "cuda/msm_driver.cuh"

namespace zkinfer::gpu {

void MsmDriver::msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n) {
  out = impl_->run<G1Curve>(scalars, points, n);
}

}  // namespace zkinfer::gpu
