// G2 MSM entry point: instantiates the G2 kernels of msm_steps.h.
#include "cuda/msm_driver.cuh"

namespace zkinfer::gpu {

void MsmDriver::msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n) {
  out = impl_->run<G2Curve>(scalars, points, n);
}

}  // namespace zkinfer::gpu
