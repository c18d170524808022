// Global-memory access to field elements for the GPU steps (msm_steps.h, ntt_steps.h): on the
// device each Fp is two 16-byte vector accesses (callers keep their arrays 16-byte aligned), so a
// warp's accesses to adjacent elements cover whole lines and the value lands in registers;
// `ReadOnly` loads take the read-only data path, for arrays no kernel writes. On the host (the
// simulators) they are plain copies. Compiles with g++ as well as nvcc.
#pragma once

#include "zkinfer/ff/fp.h"
#include "zkinfer/ff/hd.h"

namespace zkinfer::gpu {

template <bool ReadOnly = false, class P>
ZK_HDI Fp<P> load(const Fp<P>* p) {
#if defined(__CUDA_ARCH__)
  const ulonglong2* src = reinterpret_cast<const ulonglong2*>(p);
  const ulonglong2 a = ReadOnly ? __ldg(src) : src[0], b = ReadOnly ? __ldg(src + 1) : src[1];
  return Fp<P>{{a.x, a.y, b.x, b.y}};
#else
  return *p;
#endif
}

template <class P>
ZK_HDI void store(Fp<P>* p, const Fp<P>& v) {
#if defined(__CUDA_ARCH__)
  ulonglong2* dst = reinterpret_cast<ulonglong2*>(p);
  dst[0] = make_ulonglong2(v.v[0], v.v[1]);
  dst[1] = make_ulonglong2(v.v[2], v.v[3]);
#else
  *p = v;
#endif
}

}  // namespace zkinfer::gpu
