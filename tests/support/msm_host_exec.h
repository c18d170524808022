// Host stand-ins for the CUDA MSM driver's memory and sort (kernels/cuda/msm_steps.h), shared by
// the host-simulator test and tests/tools/msm_carry_census: an aligned scratch arena for
// msm::carve, poisoned before use, and the radix sort's contract (stable by key, the result in
// buffer 1).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <numeric>
#include <vector>

#include "cuda/msm_steps.h"

namespace zkinfer::testing {

struct AlignedFree {
  void operator()(void* p) const { ::operator delete[](p, std::align_val_t(gpu::msm::kAlign)); }
};

// A plan's scratch memory, poisoned before use (a value read before it is written shows).
template <class C>
struct PoisonedArena {
  std::unique_ptr<unsigned char[], AlignedFree> bytes;
  gpu::msm::Buffers<C> b;
  explicit PoisonedArena(const gpu::msm::Plan& plan)
      : bytes(static_cast<unsigned char*>(::operator new[](gpu::msm::arena_bytes(plan),
                                                           std::align_val_t(gpu::msm::kAlign)))) {
    std::memset(bytes.get(), 0xa5, gpu::msm::arena_bytes(plan));
    b = gpu::msm::carve<C>(plan, bytes.get());
  }
};

// The m pairs in keys[0] / vals[0], sorted stably by key into keys[1] / vals[1]; returns 1.
inline unsigned stable_sort_pairs(uint32_t* const keys[2], uint32_t* const vals[2], size_t m) {
  std::vector<size_t> idx(m);
  std::iota(idx.begin(), idx.end(), size_t{0});
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return keys[0][a] < keys[0][b]; });
  for (size_t i = 0; i < m; ++i) {
    keys[1][i] = keys[0][idx[i]];
    vals[1][i] = vals[0][idx[i]];
  }
  return 1;
}

}  // namespace zkinfer::testing
