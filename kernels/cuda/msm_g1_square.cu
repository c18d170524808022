// G1 MSM with the device's dedicated Fq square (an experiment, msm::G1CurveSquare): the G1
// kernels of msm_steps.h instantiated over a curve whose points and sums have G1Curve's layout
// (same words, same Montgomery form), so the arrays are reinterpreted.
#include <cstring>

#include "cuda/msm_driver.cuh"

namespace zkinfer::gpu {

namespace {

using C = msm::G1CurveSquare;
static_assert(sizeof(Affine<C>) == sizeof(G1Affine) && sizeof(Jacobian<C>) == sizeof(G1Jacobian));

void to_g1(G1Jacobian& out, const Jacobian<C>& r) { std::memcpy(&out, &r, sizeof out); }

}  // namespace

void MsmDriver::msm_g1_square(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n) {
  to_g1(out, impl_->run<C>(scalars, reinterpret_cast<const Affine<C>*>(points), n));
}

void MsmDriver::msm_g1_square(G1Jacobian& out, const Fr* scalars, const G1Affine* table, size_t n,
                              const MsmTables& t) {
  to_g1(out, impl_->run<C>(scalars, reinterpret_cast<const Affine<C>*>(table), n, &t));
}

}  // namespace zkinfer::gpu
