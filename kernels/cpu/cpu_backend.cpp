// The CPU implementation of the Backend interface: thin forwarding to the multi-threaded
// MSM and NTT, with the thread count fixed at construction. Resident points (backend.h) are the
// base class's: a view of the caller's host array, as memory-mapped keys need no copy here.
#include <stdexcept>
#include <string>
#include <vector>

#include "backend.h"
#include "cpu/msm.h"
#include "cpu/ntt.h"
#include "cpu/parallel.h"
#include "cpu/rows.h"

namespace zkinfer {
namespace {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const CpuBackendConfig& cfg)
      : threads_(cfg.threads ? cfg.threads : cpu::default_threads()) {}

  std::string name() const override { return "cpu"; }

  using Backend::msm_g1;  // the resident-point overloads
  using Backend::msm_g2;

  void msm_g1(G1Jacobian& out, const Fr* scalars, const G1Affine* points, size_t n) override {
    cpu::MsmConfig cfg;
    cfg.threads = threads_;
    cpu::msm_g1(out, scalars, points, n, cfg);
  }

  void msm_g2(G2Jacobian& out, const Fr* scalars, const G2Affine* points, size_t n) override {
    cpu::MsmConfig cfg;
    cfg.threads = threads_;
    cpu::msm_g2(out, scalars, points, n, cfg);
  }

  void ntt(Fr* data, size_t n, NttKind kind, const Fr& coset_shift) override {
    cpu::NttConfig cfg;
    cfg.threads = threads_;
    cfg.inverse = kind == NttKind::kInverse || kind == NttKind::kCosetInverse;
    cfg.coset = kind == NttKind::kCosetForward || kind == NttKind::kCosetInverse;
    if (cfg.coset) {
      if (coset_shift.is_zero()) throw std::invalid_argument("NTT coset shift must be non-zero");
      cfg.coset_gen = coset_shift;
    }
    cpu::ntt(data, n, cfg);
  }

  void coset_quotient(Fr* a, Fr* b, Fr* c, size_t n, const Fr& shift) override {
    for (Fr* v : {a, b, c}) {
      ntt(v, n, NttKind::kInverse, Fr::one());
      ntt(v, n, NttKind::kCosetForward, shift);
    }
    cpu::parallel_for(
        n, [&](size_t lo, size_t hi) {
          for (size_t i = lo; i < hi; ++i) a[i] = a[i] * b[i] - c[i];
        },
        threads_);
  }

  void constraint_quotient(Fr* h_out, const ResidentRows& rows, const ResidentFr& z, size_t n,
                           const Fr& shift) override {
    check_quotient_shapes(rows, z, n);
    std::vector<Fr> b(n), c(n);
    cpu::parallel_for(
        n, [&](size_t lo, size_t hi) { cpu::eval_constraints(rows.host(), z.host(), n, lo, hi, h_out, b.data(), c.data()); },
        threads_);
    coset_quotient(h_out, b.data(), c.data(), n, shift);
  }

 private:
  unsigned threads_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const CpuBackendConfig& cfg) {
  return std::make_unique<CpuBackend>(cfg);
}

}  // namespace zkinfer
