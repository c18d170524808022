// The Backend interface: the operations a Groth16 prover needs from a compute device.
// The CPU backend (kernels/cpu/) is the first implementation; the CUDA backend implements the
// same interface, so the prover and the tests can run either and compare them.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
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

// A point array a backend may keep close to its compute units across calls (on a GPU: in device
// memory), so that repeated MSMs over the same points (a proving key's) do not move them again.
// Made by Backend::resident_g1 / resident_g2 from host points, which the caller keeps alive and
// unchanged while the array exists: every resident array remembers them, so any backend can use
// any resident array (one that did not make it reads the host points, as the plain MSM does).
template <class A>
class ResidentPoints {
 public:
  ResidentPoints(const A* host, size_t n) : host_(host), n_(n) {
    if (!host && n) throw std::invalid_argument("resident points: null host array");
  }
  virtual ~ResidentPoints() = default;
  ResidentPoints(const ResidentPoints&) = delete;
  ResidentPoints& operator=(const ResidentPoints&) = delete;

  const A* host() const { return host_; }
  size_t size() const { return n_; }
  // Device memory this array holds, bytes (0 where it only views the host points).
  virtual size_t device_bytes() const { return 0; }

  // Throws std::out_of_range unless [first, first + n) lies within the array.
  void check_range(size_t first, size_t n) const {
    if (first > n_ || n > n_ - first)
      throw std::out_of_range("resident points: range [" + std::to_string(first) + ", " + std::to_string(first) +
                              " + " + std::to_string(n) + ") exceeds the " + std::to_string(n_) + " points");
  }

 private:
  const A* host_;
  size_t n_;
};
using ResidentG1 = ResidentPoints<G1Affine>;
using ResidentG2 = ResidentPoints<G2Affine>;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // out = sum scalars[i] * points[i]; scalars in Montgomery form; n may be 0.
  virtual void msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n) = 0;
  virtual void msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n) = 0;

  // Points kept for many MSMs: a GPU backend copies them to device memory once (throwing
  // std::runtime_error, not crashing, when they do not fit); the CPU backend (these defaults)
  // views the host array without a copy. n may be 0.
  virtual std::shared_ptr<const ResidentG1> resident_g1(const G1Affine* points, size_t n) {
    return std::make_shared<const ResidentG1>(points, n);
  }
  virtual std::shared_ptr<const ResidentG2> resident_g2(const G2Affine* points, size_t n) {
    return std::make_shared<const ResidentG2>(points, n);
  }
  // out = sum_{i < n} scalars[i] * points[first + i]: a range, so that a shard can take part of
  // a key. Throws std::out_of_range when the range exceeds the array.
  virtual void msm_g1(G1Jacobian& out, const Fr* scalars, const ResidentG1& points, size_t first, size_t n) {
    points.check_range(first, n);
    msm_g1(out, scalars, points.host() + first, n);
  }
  virtual void msm_g2(G2Jacobian& out, const Fr* scalars, const ResidentG2& points, size_t first, size_t n) {
    points.check_range(first, n);
    msm_g2(out, scalars, points.host() + first, n);
  }

  // In-place NTT of n = 2^k elements in natural order. coset_shift is g for the coset kinds
  // (ignored otherwise).
  virtual void ntt(Fr* data, size_t n, NttKind kind, const Fr& coset_shift = Fr::one()) = 0;

  // Groth16's quotient step (prover/groth16.cpp) on n = 2^k points: a, b and c hold A z, B z and
  // C z evaluated on the domain <w>; each goes to coefficients and is evaluated on the coset
  // shift * <w>, and a ends as h_i = a_i b_i - c_i there; b and c are left as scratch. This
  // default is six ntt() calls and a loop; a GPU backend does it in one round trip.
  virtual void coset_quotient(Fr* a, Fr* b, Fr* c, size_t n, const Fr& shift) {
    for (Fr* v : {a, b, c}) {
      ntt(v, n, NttKind::kInverse);
      ntt(v, n, NttKind::kCosetForward, shift);
    }
    for (size_t i = 0; i < n; ++i) a[i] = a[i] * b[i] - c[i];
  }
};

struct CpuBackendConfig {
  unsigned threads = 0;  // 0: every hardware thread (or ZKINFER_THREADS)
};

std::unique_ptr<Backend> make_cpu_backend(const CpuBackendConfig& cfg = {});

}  // namespace zkinfer
