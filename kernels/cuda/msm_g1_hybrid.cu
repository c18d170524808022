// G1 MSM with Fq's products split between the integer multiply-adds and the FP64 pipe: the G1
// kernels of msm_steps.h instantiated over msm::G1CurveHybrid, whose points and sums have
// G1Curve's layout (same words, same Montgomery form), so the arrays are reinterpreted.
#include <cstring>

#include "cuda/msm_driver.cuh"

namespace zkinfer::gpu {

void MsmDriver::msm_g1_hybrid(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n) {
  using C = msm::G1CurveHybrid;
  const Jacobian<C> r = impl_->run<C>(scalars, reinterpret_cast<const Affine<C>*>(points), n);
  static_assert(sizeof r == sizeof out);
  std::memcpy(&out, &r, sizeof out);
}

void MsmDriver::msm_g1_hybrid(G1Jacobian& out, const Fr* scalars, const G1Affine* table, size_t n,
                              const MsmTables& t) {
  using C = msm::G1CurveHybrid;
  const Jacobian<C> r = impl_->run<C>(scalars, reinterpret_cast<const Affine<C>*>(table), n, &t);
  std::memcpy(&out, &r, sizeof out);
}

}  // namespace zkinfer::gpu
