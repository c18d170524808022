// A proving key's point arrays and constraint rows made resident on a backend once (backend.h,
// ResidentArray, ResidentRows), so that every later proof with it moves only witness data: on a
// GPU the A, B1, B2, C and H points and the A and B rows stay in device memory; on the CPU the
// points are views of the memory-mapped .zkey (no copy) and the rows one copy in row order.
//
//   Zkey key = Zkey::open("circuit.zkey");
//   ResidentKey rk(key, *backend);         // uploads once; `key` must outlive `rk`
//   for (auto& w : witnesses) proofs.push_back(prove(rk, w, *backend));
//
// A ResidentKey may be used with another backend than the one that made it (that backend reads
// the host points, as prove(Zkey) does); it is immutable, so threads may share it.
#pragma once

#include <cstddef>
#include <memory>

#include "backend.h"
#include "zkinfer/prover/groth16.h"
#include "zkinfer/prover/zkey.h"

namespace zkinfer::prover {

class ResidentKey {
 public:
  // Throws what the backend throws when its memory does not hold the points (a clear
  // std::runtime_error), with nothing left resident.
  ResidentKey(const Zkey& key, Backend& backend);

  const Zkey& key() const { return *key_; }
  const ResidentG1& a() const { return *a_; }    // n_vars points
  const ResidentG1& b1() const { return *b1_; }  // n_vars points
  const ResidentG2& b2() const { return *b2_; }  // n_vars points
  const ResidentG1& c() const { return *c_; }    // n_vars - n_public - 1 points
  const ResidentG1& h() const { return *h_; }    // domain_size points
  // The key's coefficients grouped by constraint (built once, on the host), and those rows made
  // resident on the backend (prove's H step reads them there).
  const ConstraintRows& rows() const { return rows_; }
  const ResidentRows& resident_rows() const { return *rows_resident_; }

  // Device memory the five point arrays and the rows hold together (0 on the CPU backend).
  size_t device_bytes() const;

 private:
  const Zkey* key_;
  ConstraintRows rows_;
  std::shared_ptr<const ResidentG1> a_, b1_, c_, h_;
  std::shared_ptr<const ResidentG2> b2_;
  std::shared_ptr<const ResidentRows> rows_resident_;
};

}  // namespace zkinfer::prover
