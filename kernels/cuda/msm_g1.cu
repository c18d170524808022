// G1 MSM entry point: instantiates the G1 kernels of msm_steps.h.
#include "cuda/msm_driver.cuh"

namespace zkinfer::gpu {

void MsmDriver::msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n) {
  if (impl_->cfg.g1_dedicated_square) return msm_g1_square(out, scalars, points, n);
  out = impl_->run<G1Curve>(scalars, points, n);
}

void MsmDriver::precompute_g1(G1Affine* table, size_t n, const MsmTables& t) {
  impl_->precompute<G1Curve>(table, n, t);
}

void MsmDriver::msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* table, size_t n, const MsmTables& t) {
  if (impl_->cfg.g1_dedicated_square) return msm_g1_square(out, scalars, table, n, t);
  out = impl_->run<G1Curve>(scalars, table, n, &t);
}

}  // namespace zkinfer::gpu
