// G1 MSM with Fq's products split between the integer multiply-adds and the FP64 pipe: the G1
// kernels of msm_steps.h instantiated over msm::G1CurveHybridSites (one kernel set per split),
// whose points and sums have G1Curve's layout (same words, same Montgomery form), so the arrays
// are reinterpreted.
#include <cstring>
#include <stdexcept>

#include "cuda/msm_driver.cuh"

namespace zkinfer::gpu {

template <uint32_t kSites>
void MsmDriver::run_hybrid(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n,
                           const MsmTables* tables) {
  using C = msm::G1CurveHybridSites<kSites>;
  static_assert(sizeof(Affine<C>) == sizeof(G1Affine) && sizeof(Jacobian<C>) == sizeof(G1Jacobian));
  const Jacobian<C> r = impl_->run<C>(scalars, reinterpret_cast<const Affine<C>*>(points), n, tables);
  std::memcpy(&out, &r, sizeof out);
}

void MsmDriver::msm_g1_hybrid(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n,
                              Fp64Split split) {
  switch (split) {
    case Fp64Split::kModel:
      run_hybrid<msm::kFp64SitesModel>(out, scalars, points, n, nullptr);
      return;
    case Fp64Split::kFewer:
      run_hybrid<msm::kFp64SitesFewer>(out, scalars, points, n, nullptr);
      return;
    case Fp64Split::kMore:
      run_hybrid<msm::kFp64SitesMore>(out, scalars, points, n, nullptr);
      return;
  }
  throw std::invalid_argument("msm_g1_hybrid: unknown Fp64Split");
}

void MsmDriver::msm_g1_hybrid(G1Jacobian& out, const Fr* scalars, const G1Affine* table, size_t n,
                              const MsmTables& t) {
  run_hybrid<msm::kFp64SitesModel>(out, scalars, table, n, &t);
}

}  // namespace zkinfer::gpu
