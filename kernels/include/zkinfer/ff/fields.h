// The BN254 prime fields.
#pragma once

#include "zkinfer/bn254.h"
#include "zkinfer/ff/fp.h"

namespace zkinfer {

using Fq = Fp<bn254::FqParams>;
using Fr = Fp<bn254::FrParams>;

}  // namespace zkinfer
