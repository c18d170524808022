// Curve and field helpers for the setups (private to prover/src): CSPRNG field elements and
// wiping, fixed-base scalar multiplication of many scalars, variable-base scalar multiplication
// of one point, parallel conversion to affine, Lagrange basis values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fields.h"

namespace zkinfer::prover::setup_detail {

// ---- secrets ----------------------------------------------------------------------------------

// A uniformly random non-zero element of Fr from the OS CSPRNG (csprng.h).
Fr random_nonzero_fr();

// Overwrites memory in a way the compiler may not elide (csprng.h's secure_wipe).
void wipe_bytes(void* p, size_t n);
template <class T>
void wipe(std::vector<T>& v) {
  if (!v.empty()) wipe_bytes(v.data(), v.size() * sizeof(T));
}
template <class T>
void wipe(T& x) {
  wipe_bytes(&x, sizeof(T));
}

// Wipes the vector when it leaves scope, also on exceptions.
template <class T>
struct WipeOnExit {
  std::vector<T>& v;
  ~WipeOnExit() { wipe(v); }
};

// ---- fixed base ------------------------------------------------------------------------------

// out[i] = scalars[i] * base for many scalars: signed windows of w bits over the 254-bit scalar,
// a table of the multiples d * 2^(w j) * base (d = 1 .. 2^(w-1)) per window j, so each product
// is one addition per window and no doubling. The scalars go through the windows in batches,
// and the additions of a batch in one window share one field inversion (batch-affine: about 6
// field products an addition, the independent ones in AVX-512 IFMA lanes on G1). w is chosen
// from the number of scalars the table will serve (table cost against per-scalar cost). Table
// lookups depend on the scalar's digits: not constant time (only development setups use this,
// see ptau.h and setup.h).
template <class C>
class FixedBase {
 public:
  FixedBase(const Affine<C>& base, size_t expected_scalars);
  // Every core (cpu::default_threads()); scalars in Montgomery form, any value.
  void mul(std::span<const Fr> scalars, std::span<Affine<C>> out) const;
  unsigned window_bits() const { return w_; }

 private:
  unsigned w_ = 0, windows_ = 0;
  size_t per_window_ = 0;
  std::vector<Affine<C>> table_;
};

extern template class FixedBase<G1Curve>;
extern template class FixedBase<G2Curve>;

// ---- variable base ---------------------------------------------------------------------------

// sum ks[i] * pts[i] for a few terms: Straus's method (one doubling chain shared by all terms,
// signed-window NAF digits per term; on G1, scalars beyond 128 bits split by GLV), the smaller
// of k and r - k used for each. Cheap for the +-1 and small coefficients R1CS is full of.
Jacobian<G1Curve> lincomb(std::span<const G1Affine> pts, std::span<const Fr> ks);
Jacobian<G2Curve> lincomb(std::span<const G2Affine> pts, std::span<const Fr> ks);
// k * p.
Jacobian<G1Curve> mul_var(const G1Affine& p, const Fr& k);
Jacobian<G2Curve> mul_var(const G2Affine& p, const Fr& k);

// ---- affine conversion -----------------------------------------------------------------------

// out[i] = in[i] in affine form, one inversion per chunk, chunks over every core.
template <class C>
void to_affine(std::span<const Jacobian<C>> in, std::span<Affine<C>> out);
extern template void to_affine<G1Curve>(std::span<const G1Jacobian>, std::span<G1Affine>);
extern template void to_affine<G2Curve>(std::span<const G2Jacobian>, std::span<G2Affine>);

// ---- field -----------------------------------------------------------------------------------

// Lagrange basis values of the domain of n = 2^log_n points (snarkjs's root w) at tau, for the
// indices first .. first + out.size() - 1: L_i(tau) = (tau^n - 1) / n * w^i / (tau - w^i).
// tau must not be in the domain (tau^n != 1). With `drop_last_power`, the values of the inverse
// FFT of (1, tau, ..., tau^(n-2), 0) instead, which is L_i(tau) - tau^(n-1) w^i / n: snarkjs's
// last tauG1 block (ptau.h).
void lagrange_values(unsigned log_n, const Fr& tau, size_t first, std::span<Fr> out,
                     bool drop_last_power = false);

// out[i] = start * ratio^i.
void geometric(const Fr& start, const Fr& ratio, std::span<Fr> out);

}  // namespace zkinfer::prover::setup_detail
