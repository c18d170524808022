// A Backend over several others, for a machine with several GPUs (one CUDA backend each): MSMs
// are split into contiguous index ranges, one per part, run concurrently on host threads, and
// the partial sums added. A resident point array keeps on each part only its range of the
// points, so a proving key larger than one device's memory fits several; resident scalars (a
// proof's witness) go to every part whole. NTTs, the quotient steps and constraint rows run on
// the first part; the H vector they produce stays where the first part keeps it and goes from
// there to every other part (Backend::resident_copy: GPU to GPU between CUDA parts, as NCCL
// sends in a build with ZKINFER_NCCL, else CUDA peer copies), the only data the devices
// exchange. No part reads another's memory otherwise.
//
//   std::vector<std::unique_ptr<Backend>> gpus = ...;   // one per device
//   std::unique_ptr<Backend> all = make_split_backend(std::move(gpus));
#pragma once

#include <memory>
#include <vector>

#include "backend.h"

namespace zkinfer {

// Throws std::invalid_argument when `parts` is empty or holds a null backend. With one part the
// result behaves as that part.
std::unique_ptr<Backend> make_split_backend(std::vector<std::unique_ptr<Backend>> parts);

}  // namespace zkinfer
