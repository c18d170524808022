// The G1 hybrid MSM's other splits (msm_steps.h: 3 or 5 of a mixed addition's 10 products on the
// FP64 pipe instead of the model's 4), one kernel set each. A file of their own, so only the
// programs that call this overload (bench_gpu_msm, test_gpu_msm) carry their kernels; the
// prebuilt archives for the GPU machines stay within what one device call carries.
#include <stdexcept>

#include "cuda/msm_driver.cuh"

namespace zkinfer::gpu {

void MsmDriver::msm_g1_hybrid(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n,
                              Fp64Split split) {
  switch (split) {
    case Fp64Split::kModel:
      msm_g1_hybrid(out, scalars, points, n);
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

}  // namespace zkinfer::gpu
