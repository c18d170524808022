#include "zkinfer/prover/resident_key.h"

namespace zkinfer::prover {

ResidentKey::ResidentKey(const Zkey& key, Backend& backend) : key_(&key), rows_(key) {
  // Largest first: if the device runs out of memory it does so before the small arrays are
  // copied (members made so far are freed by the throw).
  const ZkeyParts& p = key.point_parts();
  b2_ = backend.resident_g2(p.b2.data(), p.b2.size());
  h_ = backend.resident_g1(p.h.data(), p.h.size());
  a_ = backend.resident_g1(p.a.data(), p.a.size());
  b1_ = backend.resident_g1(p.b1.data(), p.b1.size());
  c_ = backend.resident_g1(p.c.data(), p.c.size());
  rows_resident_ = backend.resident_rows(rows_.view());
}

size_t ResidentKey::device_bytes() const {
  return a_->device_bytes() + b1_->device_bytes() + b2_->device_bytes() + c_->device_bytes() +
         h_->device_bytes() + rows_resident_->device_bytes();
}

}  // namespace zkinfer::prover
