// G2 MSM entry point: instantiates the G2 kernels of msm_steps.h.
#include "cuda/msm_driver.cuh"

namespace zkinfer::gpu {

void MsmDriver::msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n) {
  out = impl_->run<G2Curve>(scalars, points, n);
}

void MsmDriver::precompute_g2(G2Affine* table, size_t n, const MsmTables& t) {
  impl_->precompute<G2Curve>(table, n, t);
}

void MsmDriver::msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* table, size_t n, const MsmTables& t) {
  out = impl_->run<G2Curve>(scalars, table, n, &t);
}

}  // namespace zkinfer::gpu
