// Constraint rows on the device (rows_steps.h): the launch of Groth16's A z, B z, a b evaluation.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "zkinfer/ff/fields.h"

namespace zkinfer::gpu {

// abc[0, 3n) = (A z, B z, (A z)(B z)) for the 2n rows at row_start/cols/values (A's then B's),
// all in device memory; asynchronous on `stream`.
void eval_constraint_rows(const uint32_t* row_start, const uint32_t* cols, const Fr* values, const Fr* z,
                          uint64_t n, Fr* abc, cudaStream_t stream);

}  // namespace zkinfer::gpu
