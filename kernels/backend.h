// The Backend interface: the operations a Groth16 prover needs from a compute device.
// The CPU backend (kernels/cpu/) is the first implementation; the CUDA backend implements the
// same interface, so the prover and the tests can run either and compare them.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fields.h"

namespace zkinfer {

enum class NttKind {
  kForward,       // coefficients -> evaluations on {w^i}
  kInverse,       // evaluations on {w^i} -> coefficients
  kCosetForward,  // coefficients -> evaluations on {g w^i}
  kCosetInverse,  // evaluations on {g w^i} -> coefficients
};

// "forward", "inverse", "coset_forward", "coset_inverse": for logs, test names and result keys.
constexpr const char* ntt_kind_name(NttKind k) {
  switch (k) {
    case NttKind::kForward: return "forward";
    case NttKind::kInverse: return "inverse";
    case NttKind::kCosetForward: return "coset_forward";
    case NttKind::kCosetInverse: return "coset_inverse";
  }
  return "?";
}

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // out = sum scalars[i] * points[i]; scalars in Montgomery form; n may be 0.
  virtual void msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n) = 0;
  virtual void msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n) = 0;

  // In-place NTT of n = 2^k elements in natural order. coset_shift is g for the coset kinds
  // (ignored otherwise).
  virtual void ntt(Fr* data, size_t n, NttKind kind, const Fr& coset_shift = Fr::one()) = 0;
};

struct CpuBackendConfig {
  unsigned threads = 0;  // 0: every hardware thread (or ZKINFER_THREADS)
};

std::unique_ptr<Backend> make_cpu_backend(const CpuBackendConfig& cfg = {});

}  // namespace zkinfer
