// The Backend interface: the operations a Groth16 prover needs from a compute device.
// The CPU backend (kernels/cpu/) is the first implementation; the CUDA backend implements the
// same interface, so the prover and the tests can run either and compare them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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

// An array a backend may keep close to its compute units across calls (on a GPU: in device
// memory), so that repeated operations over the same data (a proving key's points, a proof's
// witness) do not move it again. Made by Backend::resident_g1 / resident_g2 / resident_fr from a
// host array, which the caller keeps alive and unchanged while the array exists: every resident
// array remembers it, so any backend can use any resident array (one that did not make it reads
// the host array, as the plain operations do).
//
// The one exception: an array a backend computed on its device and never copied out (h from
// constraint_quotient_resident on a GPU) has no host array; only that backend can read it, and
// host() says so.
template <class T>
class ResidentArray {
 public:
  ResidentArray(const T* host, size_t n) : host_(host), n_(n) {
    if (!host && n) throw std::invalid_argument("resident array: null host array");
  }
  virtual ~ResidentArray() = default;
  ResidentArray(const ResidentArray&) = delete;
  ResidentArray& operator=(const ResidentArray&) = delete;

  // Throws std::logic_error for an array that lives only on the device that computed it.
  const T* host() const {
    if (!host_ && n_)
      throw std::logic_error("resident array of " + std::to_string(n_) +
                             " values lives only on the device that computed it: use that backend");
    return host_;
  }
  size_t size() const { return n_; }
  // False for an array that lives only on the device that computed it.
  bool has_host() const { return host_ || !n_; }
  // Device memory this array holds, bytes (0 where it only views the host array).
  virtual size_t device_bytes() const { return 0; }
  // All n values into out: from the host array, or (an array without one) from the device that
  // holds it.
  virtual void read(T* out) const {
    const T* h = host();
    std::copy(h, h + n_, out);
  }

  // Throws std::out_of_range unless [first, first + n) lies within the array.
  void check_range(size_t first, size_t n) const {
    if (first > n_ || n > n_ - first)
      throw std::out_of_range("resident array: range [" + std::to_string(first) + ", " + std::to_string(first) +
                              " + " + std::to_string(n) + ") exceeds its " + std::to_string(n_) + " entries");
  }

  // Tag of the constructor for arrays without a host array (the exception above).
  struct DeviceOnly {};

 protected:
  ResidentArray(DeviceOnly, size_t n) : host_(nullptr), n_(n) {}
  // A copy of another array with that array's host array, if it has one (null: none).
  ResidentArray(DeviceOnly, size_t n, const T* host_or_null) : host_(host_or_null), n_(n) {}

 private:
  const T* host_;
  size_t n_;
};
using ResidentG1 = ResidentArray<G1Affine>;
using ResidentG2 = ResidentArray<G2Affine>;
using ResidentFr = ResidentArray<Fr>;

// A sparse matrix by rows (CSR): row r is sum_k values[k] * z[cols[k]] over k in
// [row_start[r], row_start[r + 1]).
struct SparseRows {
  std::span<const uint32_t> row_start;  // rows() + 1 entries, non-decreasing, last = cols.size()
  std::span<const uint32_t> cols;
  std::span<const Fr> values;  // as many as cols
  size_t rows() const { return row_start.empty() ? 0 : row_start.size() - 1; }
  Fr row_times(size_t r, const Fr* z) const {
    Fr acc = Fr::zero();
    for (uint32_t k = row_start[r]; k < row_start[r + 1]; ++k) acc += values[k] * z[cols[k]];
    return acc;
  }
  // Groth16's evaluations for constraints r in [lo, hi) of 2n rows (A's, then B's): a[r] = A z,
  // b[r] = B z and c[r] = a[r] b[r] (C z on the domain, for a satisfying witness). The device
  // runs the same per constraint in kernels/cuda/rows_steps.h.
  void eval_constraints(const Fr* z, size_t n, size_t lo, size_t hi, Fr* a, Fr* b, Fr* c) const {
    for (size_t r = lo; r < hi; ++r) {
      a[r] = row_times(r, z);
      b[r] = row_times(n + r, z);
      c[r] = a[r] * b[r];
    }
  }
};

// Rows kept for many products (a proving key's A and B matrices), like ResidentArray: it
// remembers the host view, which the caller keeps alive. Checks the shape once.
class ResidentRows {
 public:
  explicit ResidentRows(const SparseRows& host) : host_(host) {
    if (host.cols.size() != host.values.size() || host.row_start.empty() || host.row_start.back() != host.cols.size())
      throw std::invalid_argument("sparse rows: row starts, columns and values do not agree");
    for (size_t r = 0; r + 1 < host.row_start.size(); ++r)
      if (host.row_start[r] > host.row_start[r + 1]) throw std::invalid_argument("sparse rows: row starts decrease");
    for (uint32_t c : host.cols) columns_ = std::max<size_t>(columns_, size_t{c} + 1);
  }
  virtual ~ResidentRows() = default;
  ResidentRows(const ResidentRows&) = delete;
  ResidentRows& operator=(const ResidentRows&) = delete;
  const SparseRows& host() const { return host_; }
  size_t columns() const { return columns_; }  // 1 + the largest column (0 when empty)
  virtual size_t device_bytes() const { return 0; }

 private:
  SparseRows host_;
  size_t columns_ = 0;
};

// One MSM over resident scalars and points for Backend::msm_jobs: *out = sum_{i < n}
// scalars[s_first + i] * points[first + i].
template <class C>
struct MsmJob {
  Jacobian<C>* out;
  const ResidentFr* scalars;
  size_t s_first;
  const ResidentArray<Affine<C>>* points;
  size_t first, n;
};
using MsmG1Job = MsmJob<G1Curve>;
using MsmG2Job = MsmJob<G2Curve>;

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

  // Scalars kept for several MSMs of one proof (its witness): a GPU backend copies them to
  // device memory once; the CPU backend (this default) views the host array.
  virtual std::shared_ptr<const ResidentFr> resident_fr(const Fr* values, size_t n) {
    return std::make_shared<const ResidentFr>(values, n);
  }
  // out = sum_{i < n} s[s_first + i] * points[first + i]. Throws std::out_of_range when a range
  // exceeds its array.
  virtual void msm_g1(G1Jacobian& out, const ResidentFr& s, size_t s_first, const ResidentG1& points, size_t first,
                      size_t n) {
    s.check_range(s_first, n);
    msm_g1(out, s.host() + s_first, points, first, n);
  }
  virtual void msm_g2(G2Jacobian& out, const ResidentFr& s, size_t s_first, const ResidentG2& points, size_t first,
                      size_t n) {
    s.check_range(s_first, n);
    msm_g2(out, s.host() + s_first, points, first, n);
  }
  // Independent MSMs (a proof's A, B1, C, H and B2), which a backend may run at the same time:
  // the CUDA backend runs the G2 ones on a second stream beside the G1 ones, filling each other's
  // idle stretches (host round trips, the narrow last levels of a bucket reduction). This default
  // runs them one after another, in order. Each job throws as its msm_g1 / msm_g2 would.
  virtual void msm_jobs(std::span<const MsmG1Job> g1, std::span<const MsmG2Job> g2) {
    for (const MsmG1Job& j : g1) msm_g1(*j.out, *j.scalars, j.s_first, *j.points, j.first, j.n);
    for (const MsmG2Job& j : g2) msm_g2(*j.out, *j.scalars, j.s_first, *j.points, j.first, j.n);
  }

  // A sparse matrix kept for many products (a proving key's constraint rows); the default views
  // the host arrays.
  virtual std::shared_ptr<const ResidentRows> resident_rows(const SparseRows& m) {
    return std::make_shared<const ResidentRows>(m);
  }

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

  // Groth16's H from the constraint rows (rows [0, n) of A, then [n, 2n) of B) and the witness
  // z: a = A z, b = B z and c = a b on the domain, then coset_quotient; h (n values) goes to
  // h_out. A GPU backend with rows and z resident moves only h. Throws std::invalid_argument
  // when the shapes disagree. This default evaluates on the host, one thread.
  virtual void constraint_quotient(Fr* h_out, const ResidentRows& rows, const ResidentFr& z, size_t n,
                                   const Fr& shift) {
    check_quotient_shapes(rows, z, n);
    std::vector<Fr> b(n), c(n);
    rows.host().eval_constraints(z.host(), n, 0, n, h_out, b.data(), c.data());
    coset_quotient(h_out, b.data(), c.data(), n, shift);
  }

  // The same H, left where the MSM over the key's H points reads it: this default computes h
  // into a host array owned by the result and makes it resident (resident_fr); a GPU backend
  // keeps it in device memory and moves nothing (the result then has no host array).
  virtual std::shared_ptr<const ResidentFr> constraint_quotient_resident(const ResidentRows& rows, const ResidentFr& z,
                                                                         size_t n, const Fr& shift) {
    auto h = std::make_shared<std::vector<Fr>>(n);
    constraint_quotient(h->data(), rows, z, n, shift);
    return resident_owning(std::move(h));
  }

  // This backend's own copy of an array made resident elsewhere (a split backend hands h from
  // the part that computed it to the others this way). This default makes it resident from the
  // array's host values, read back first where it has none; the CUDA backend copies an array
  // that lives on a GPU straight from that device's memory into its own.
  virtual std::shared_ptr<const ResidentFr> resident_copy(const ResidentFr& from) {
    if (from.has_host()) return resident_fr(from.host(), from.size());
    auto values = std::make_shared<std::vector<Fr>>(from.size());
    from.read(values->data());
    return resident_owning(std::move(values));
  }

 protected:
  // resident_fr over host values that the result owns: the resident array views *values, and
  // one owner keeps both alive.
  std::shared_ptr<const ResidentFr> resident_owning(std::shared_ptr<std::vector<Fr>> values) {
    auto r = resident_fr(values->data(), values->size());
    auto both = std::make_shared<std::pair<std::shared_ptr<std::vector<Fr>>, std::shared_ptr<const ResidentFr>>>(
        std::move(values), r);
    return std::shared_ptr<const ResidentFr>(both, r.get());
  }

  static void check_quotient_shapes(const ResidentRows& rows, const ResidentFr& z, size_t n) {
    if (rows.host().rows() != 2 * n)
      throw std::invalid_argument("constraint quotient: " + std::to_string(rows.host().rows()) +
                                  " rows, a domain of " + std::to_string(n) + " needs " + std::to_string(2 * n));
    if (rows.columns() > z.size())
      throw std::invalid_argument("constraint quotient: the rows read " + std::to_string(rows.columns()) +
                                  " witness values, " + std::to_string(z.size()) + " were given");
  }
};

struct CpuBackendConfig {
  unsigned threads = 0;  // 0: every hardware thread (or ZKINFER_THREADS)
};

std::unique_ptr<Backend> make_cpu_backend(const CpuBackendConfig& cfg = {});

}  // namespace zkinfer
