// G1 MSM with Fq's products split between the integer multiply-adds and the FP64 pipe: the G1
// kernels of msm_steps.h instantiated over msm::G1CurveHybrid (the pipe model's split), whose
// points and sums have G1Curve's layout (same words, same Montgomery form), so the arrays are
// reinterpreted (MsmDriver::run_hybrid, msm_driver.cuh). The other splits are in
// msm_g1_hybrid_sites.cu.
#include "cuda/msm_driver.cuh"

namespace zkinfer::gpu {

void MsmDriver::msm_g1_hybrid(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n) {
  run_hybrid<msm::kFp64SitesModel>(out, scalars, points, n, nullptr);
}

void MsmDriver::msm_g1_hybrid(G1Jacobian& out, const Fr* scalars, const G1Affine* table, size_t n,
                              const MsmTables& t) {
  run_hybrid<msm::kFp64SitesModel>(out, scalars, table, n, &t);
}

}  // namespace zkinfer::gpu
