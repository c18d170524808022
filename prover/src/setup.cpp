#include "zkinfer/prover/setup.h"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "backend.h"
#include "cpu/msm.h"
#include "cpu/parallel.h"
#include "setup_math.h"
#include "zkinfer/ec/serialize.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/prover/zkey.h"

namespace zkinfer::prover {

const char* const kDevSetupWarning =
    "WARNING: development setup, NOT FOR PRODUCTION. Its secrets (tau, alpha, beta, gamma, "
    "delta) came from this machine's random number generator and were wiped after use, but "
    "whoever ran it could have kept them and could then forge proofs for this circuit. Use "
    "`groth16 setup` on a .ptau from a multi-party ceremony, then phase-2 contributions, in "
    "production.";

const char* const kPhase2Warning =
    "NOTE: this key has delta = gamma = the generator, like snarkjs's zkey 0000, so anyone can "
    "forge proofs with it. It needs at least one phase-2 contribution (`snarkjs zkey "
    "contribute`, or a ceremony) before production use.";

namespace {

using setup_detail::FixedBase;
using setup_detail::wipe;

// Runs fn(begin, end) over [0, n) in pieces of `grain`, handed out to every core as they free
// up (per-signal work varies a lot: most signals have a term or two, a few have thousands).
template <class Fn>
void dynamic_for(size_t n, size_t grain, Fn&& fn) {
  std::atomic<size_t> next{0};
  unsigned threads = cpu::default_threads();
  cpu::parallel_chunks(threads, threads, [&](size_t, size_t, unsigned) {
    for (;;) {
      size_t b = next.fetch_add(grain);
      if (b >= n) return;
      fn(b, std::min(n, b + grain));
    }
  });
}

// ---- the circuit, by signal ------------------------------------------------------------------

struct Term {
  uint32_t row;
  Fr coef;
};

// One matrix transposed: the terms of signal s are terms[start[s] .. start[s+1]).
struct Columns {
  std::vector<uint64_t> start;
  std::vector<Term> terms;
  std::span<const Term> col(size_t s) const { return {terms.data() + start[s], terms.data() + start[s + 1]}; }
};

// `extra`: snarkjs's additional A rows, row n_rows + s with coefficient 1 for s < extra.
Columns transpose(const SparseMatrix& m, uint32_t n_cols, uint32_t extra) {
  Columns c;
  c.start.assign(size_t{n_cols} + 2, 0);
  for (uint32_t w : m.wire) ++c.start[w + 2];
  for (uint32_t s = 0; s < extra; ++s) ++c.start[s + 2];
  for (size_t i = 2; i < c.start.size(); ++i) c.start[i] += c.start[i - 1];
  c.terms.resize(m.wire.size() + extra);
  const size_t rows = m.rows();
  for (size_t r = 0; r < rows; ++r)
    for (uint64_t t = m.row_start[r]; t < m.row_start[r + 1]; ++t)
      c.terms[c.start[m.wire[t] + 1]++] = {(uint32_t)r, m.coeff[t]};
  for (uint32_t s = 0; s < extra; ++s) c.terms[c.start[s + 1]++] = {(uint32_t)(rows + s), Fr::one()};
  c.start.pop_back();
  return c;
}

struct Circuit {
  uint32_t n_vars = 0, n_public = 0, n_constraints = 0, domain = 0, log_domain = 0;
  Columns a, b, c;
  std::vector<ZkeyCoef> coefs;  // section 4, in snarkjs's order
};

Circuit prepare(const R1cs& cs) {
  Circuit k;
  const R1csHeader& h = cs.header;
  k.n_vars = h.n_wires;
  k.n_public = h.n_public();
  k.n_constraints = h.n_constraints;
  if (uint64_t{h.n_wires} < uint64_t{k.n_public} + 1)
    throw std::invalid_argument("R1CS has " + std::to_string(h.n_wires) + " wires, fewer than wire 0 and its " +
                                std::to_string(k.n_public) + " public signals");
  k.domain = groth16_domain_size(h);
  k.log_domain = (uint32_t)__builtin_ctz(k.domain);
  if (cs.a.rows() != h.n_constraints || cs.b.rows() != h.n_constraints || cs.c.rows() != h.n_constraints)
    throw std::invalid_argument("R1CS matrices do not have n_constraints rows");
  for (const SparseMatrix* m : {&cs.a, &cs.b, &cs.c})
    for (uint32_t w : m->wire)
      if (w >= k.n_vars) throw std::invalid_argument("R1CS wire " + std::to_string(w) + " is not below n_wires");
  k.a = transpose(cs.a, k.n_vars, k.n_public + 1);
  k.b = transpose(cs.b, k.n_vars, 0);
  k.c = transpose(cs.c, k.n_vars, 0);
  k.coefs.reserve(cs.a.wire.size() + cs.b.wire.size() + k.n_public + 1);
  for (uint32_t i = 0; i < h.n_constraints; ++i) {
    for (uint64_t t = cs.a.row_start[i]; t < cs.a.row_start[i + 1]; ++t)
      k.coefs.push_back({0, i, cs.a.wire[t], cs.a.coeff[t]});
    for (uint64_t t = cs.b.row_start[i]; t < cs.b.row_start[i + 1]; ++t)
      k.coefs.push_back({1, i, cs.b.wire[t], cs.b.coeff[t]});
  }
  for (uint32_t s = 0; s <= k.n_public; ++s) k.coefs.push_back({0, h.n_constraints + s, s, Fr::one()});
  return k;
}

// ---- sums of points by signal (setup from a .ptau) -------------------------------------------

template <class C>
struct Source {
  const Columns* cols;
  std::span<const Affine<C>> base;  // indexed by row
};

// How a signal's sum is computed, by its number of terms whose coefficient is not +-1 (those
// are one addition each). Measured on the 2-core dev machine (G1, full-size coefficients, one
// thread): Straus's method (lincomb) and the CPU MSM cost the same at 8 terms (0.23 and 0.25 ms),
// from 16 on the MSM wins (32: 0.93 against 0.61 ms; 128: 3.2 against 1.9 ms).
//   < kMsmMinTerms               lincomb, in the worker thread
//   < kBackendMsmMinTerms        the CPU MSM on one thread, in the worker thread: many such
//                                signals run side by side
//   otherwise                    the backend's MSM (every core, or the GPU), one signal at a time
constexpr size_t kMsmMinTerms = 16;
constexpr size_t kBackendMsmMinTerms = 4096;

template <class C>
void backend_msm(Backend& be, Jacobian<C>& out, const std::vector<Fr>& s, const std::vector<Affine<C>>& p) {
  if constexpr (std::is_same_v<C, G1Curve>) be.msm_g1(out, s.data(), p.data(), s.size());
  else be.msm_g2(out, s.data(), p.data(), s.size());
}

template <class C>
void single_thread_msm(Jacobian<C>& out, const std::vector<Fr>& s, const std::vector<Affine<C>>& p) {
  cpu::MsmConfig cfg;
  cfg.threads = 1;
  if constexpr (std::is_same_v<C, G1Curve>) cpu::msm_g1(out, s.data(), p.data(), s.size(), cfg);
  else cpu::msm_g2(out, s.data(), p.data(), s.size(), cfg);
}

// out[s] = sum over sources of sum over the terms (row, v) of signal s of v * base[row].
template <class C>
void signal_sums(std::span<const Source<C>> sources, size_t n_signals, std::span<Affine<C>> out,
                 Backend& be) {
  const Fr one = Fr::one(), minus_one = -Fr::one();
  std::vector<Jacobian<C>> acc(n_signals, Jacobian<C>::infinity());
  std::vector<size_t> nontrivial(n_signals, 0);
  cpu::parallel_for(n_signals, [&](size_t b, size_t e) {
    for (size_t s = b; s < e; ++s)
      for (const auto& src : sources)
        for (const Term& t : src.cols->col(s)) nontrivial[s] += !(t.coef == one || t.coef == minus_one);
  });
  dynamic_for(n_signals, 64, [&](size_t b, size_t e) {
    std::vector<Affine<C>> pts;
    std::vector<Fr> ks;
    for (size_t s = b; s < e; ++s) {
      if (nontrivial[s] >= kBackendMsmMinTerms) continue;
      Jacobian<C> a = Jacobian<C>::infinity();
      pts.clear();
      ks.clear();
      const bool msm = nontrivial[s] >= kMsmMinTerms;
      for (const auto& src : sources)
        for (const Term& t : src.cols->col(s)) {
          const Affine<C>& p = src.base[t.row];
          if (t.coef == one) a = a.add_affine(p);
          else if (t.coef == minus_one) a = a.add_affine(-p);
          else {
            pts.push_back(p);
            ks.push_back(t.coef);
          }
        }
      if (msm) {
        Jacobian<C> m;
        single_thread_msm<C>(m, ks, pts);
        a += m;
      } else if (!pts.empty()) {
        a += setup_detail::lincomb(pts, ks);
      }
      acc[s] = a;
    }
  });
  std::vector<Fr> sc;
  std::vector<Affine<C>> pts;
  for (size_t s = 0; s < n_signals; ++s) {
    if (nontrivial[s] < kBackendMsmMinTerms) continue;
    sc.clear();
    pts.clear();
    for (const auto& src : sources)
      for (const Term& t : src.cols->col(s)) {
        sc.push_back(t.coef);
        pts.push_back(src.base[t.row]);
      }
    backend_msm<C>(be, acc[s], sc, pts);
  }
  setup_detail::to_affine<C>(acc, out);
}

// ---- circuit hash ----------------------------------------------------------------------------

// ffjavascript's uncompressed form (toRprUncompressed / batchLEMtoU): standard form, each
// coordinate big-endian over its whole width; infinity all zero.
template <class C>
void uncompressed(const Affine<C>& p, uint8_t* out) {
  constexpr size_t n = kUncompressedBytes<C>, half = n / 2;
  write_point<C>(std::span<uint8_t>(out, n), p, FieldEncoding::kStandard);
  std::reverse(out, out + half);
  std::reverse(out + half, out + n);
}

class CircuitHasher {
 public:
  CircuitHasher() { crypto_generichash_init(&st_, nullptr, 0, 64); }
  void u32_be(uint32_t v) {
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    crypto_generichash_update(&st_, b, 4);
  }
  template <class C>
  void points(std::span<const Affine<C>> pts) {
    constexpr size_t n = kUncompressedBytes<C>;
    constexpr size_t kChunk = 1 << 14;
    std::vector<uint8_t> buf(std::min(pts.size(), kChunk) * n);
    for (size_t first = 0; first < pts.size(); first += kChunk) {
      size_t m = std::min(kChunk, pts.size() - first);
      cpu::parallel_for(m, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) uncompressed<C>(pts[first + i], buf.data() + i * n);
      });
      crypto_generichash_update(&st_, buf.data(), m * n);
    }
  }
  template <class C>
  void point(const Affine<C>& p) {
    points<C>(std::span<const Affine<C>>(&p, 1));
  }
  std::array<uint8_t, 64> digest() {
    std::array<uint8_t, 64> h{};
    crypto_generichash_final(&st_, h.data(), h.size());
    return h;
  }

 private:
  crypto_generichash_state st_;
};

// How many "H" points snarkjs hashes for a domain of N points (the count it writes is N - 1):
// chunks of 2^14, each read whole.
size_t hashed_h_points(size_t n) {
  constexpr size_t kChunk = size_t{1} << 14;
  size_t chunks = (n - 1 + kChunk - 1) / kChunk;
  return chunks * std::min(n - 1, kChunk);
}

// ---- snarkjs's arithmetic on an unreduced "point" (see setup.h) ----------------------------

// ffjavascript's wasm field code (wasmcurves build_f1m.js) on raw Montgomery words that may be
// >= q: add and sub correct with one conditional q, mul is Montgomery's reduction of the full
// product followed by one conditional subtraction.
namespace wasm_fq {

constexpr U256 q = Fq::MOD;

U256 add(const U256& x, const U256& y) {
  uint64_t c = 0, b = 0;
  U256 r = u256::add(x, y, c);
  if (c || !u256::less(r, q)) r = u256::sub(r, q, b);
  return r;
}

U256 sub(const U256& x, const U256& y) {
  uint64_t b = 0, c = 0;
  U256 r = u256::sub(x, y, b);
  if (b) r = u256::add(r, q, c);
  return r;
}

U256 mul(const U256& x, const U256& y) {
  // t = x * y (512 bits), m = -t q^-1 mod 2^256, u = (t + m q) / 2^256 (257 bits).
  uint64_t t[9] = {};
  for (int i = 0; i < 4; ++i) {
    uint64_t carry = 0;
    for (int j = 0; j < 4; ++j) {
      u128 p = (u128)x.w[i] * y.w[j] + t[i + j] + carry;
      t[i + j] = (uint64_t)p;
      carry = (uint64_t)(p >> 64);
    }
    t[i + 4] = carry;
  }
  const uint64_t inv = Fq::INV;  // -q^-1 mod 2^64
  for (int i = 0; i < 4; ++i) {
    uint64_t m = t[i] * inv;
    uint64_t carry = 0;
    for (int j = 0; j < 4; ++j) {
      u128 p = (u128)m * q.w[j] + t[i + j] + carry;
      t[i + j] = (uint64_t)p;
      carry = (uint64_t)(p >> 64);
    }
    for (int k = i + 4; carry && k < 9; ++k) {
      u128 s = (u128)t[k] + carry;
      t[k] = (uint64_t)s;
      carry = (uint64_t)(s >> 64);
    }
  }
  U256 r{{t[4], t[5], t[6], t[7]}};
  uint64_t b = 0;
  if (t[8]) r = u256::sub(r, q, b);
  else if (!u256::less(r, q)) r = u256::sub(r, q, b);
  return r;
}

bool is_zero(const U256& x) { return x.is_zero(); }

}  // namespace wasm_fq

// snarkjs's g1m_subAffine(p1, p2) followed by g1m_batchToAffine, with p1 the 64 raw bytes it
// read (x then y, raw Montgomery words, possibly >= q) and p2 a real point.
G1Affine snarkjs_sub_raw(std::span<const uint8_t> raw, const G1Affine& p2) {
  using namespace wasm_fq;
  U256 x1 = u256_from_le_bytes(raw.data()), y1 = u256_from_le_bytes(raw.data() + 32);
  // AUX = -p2 (negAffine: 0 - y).
  U256 x2 = p2.x.mont(), y2 = sub(U256{}, p2.y.mont());
  if (is_zero(x1) && is_zero(y1)) return -p2;  // p1 is "zero": the result is AUX
  if (p2.is_infinity()) {
    // copyAffine(p1) with z = 1: the raw words, reduced by batchToAffine's products.
    Fq x = Fq::from_mont(mul(x1, Fq::one().mont())), y = Fq::from_mont(mul(y1, Fq::one().mont()));
    return {x, y};
  }
  if (x1 == x2 && y1 == y2) {  // doubleAffine(AUX): only for a p1 that is a reduced point
    G1Affine aux{Fq::from_mont(x2), Fq::from_mont(y2)};
    return G1Jacobian::from_affine(aux).dbl().to_affine();
  }
  U256 h = sub(x2, x1);
  U256 y2my1 = sub(y2, y1);
  U256 hh = mul(h, h);
  U256 i = add(hh, hh);
  i = add(i, i);
  U256 j = mul(h, i);
  U256 r = add(y2my1, y2my1);
  U256 v = mul(x1, i);
  U256 r2 = mul(r, r);
  U256 v2 = add(v, v);
  U256 x3 = sub(sub(r2, j), v2);
  U256 y1j2 = mul(y1, j);
  y1j2 = add(y1j2, y1j2);
  U256 y3 = sub(mul(sub(v, x3), r), y1j2);
  U256 z3 = add(h, h);
  // batchToAffine: products only, so exact modulo q from here on.
  auto reduce = [](const U256& a) { return Fq::from_mont(mul(a, Fq::one().mont())); };
  Fq X = reduce(x3), Y = reduce(y3), Z = reduce(z3);
  if (Z.is_zero()) return G1Affine::infinity();
  Fq zi = Z.inverse(), zi2 = zi.sqr();
  return {X * zi2, Y * zi2 * zi};
}

// ---- the key ---------------------------------------------------------------------------------

struct KeyPoints {
  ZkeyHeader header;
  std::vector<G1Affine> ic, c, a, b1, h;
  std::vector<G2Affine> b2;
  // What the circuit hash covers where it differs from the key (a dev key's IC and C before
  // the division by gamma and delta); empty: the key's own.
  std::vector<G1Affine> ic_hashed, c_hashed;
  std::vector<G1Affine> h_hashed;  // tau^i (tau^N - 1) G1
};

std::array<uint8_t, 64> circuit_hash(const KeyPoints& k) {
  CircuitHasher hs;
  hs.point<G1Curve>(k.header.alpha1);
  hs.point<G1Curve>(k.header.beta1);
  hs.point<G2Curve>(k.header.beta2);
  hs.point<G2Curve>(g2_generator());  // gamma2 of the initial key
  hs.point<G1Curve>(g1_generator());  // delta1
  hs.point<G2Curve>(g2_generator());  // delta2
  const auto& ic = k.ic_hashed.empty() ? k.ic : k.ic_hashed;
  const auto& c = k.c_hashed.empty() ? k.c : k.c_hashed;
  hs.u32_be((uint32_t)ic.size());
  hs.points<G1Curve>(ic);
  hs.u32_be(k.header.domain_size - 1);
  hs.points<G1Curve>(k.h_hashed);
  hs.u32_be((uint32_t)c.size());
  hs.points<G1Curve>(c);
  hs.u32_be((uint32_t)k.a.size());
  hs.points<G1Curve>(k.a);
  hs.u32_be((uint32_t)k.b1.size());
  hs.points<G1Curve>(k.b1);
  hs.u32_be((uint32_t)k.b2.size());
  hs.points<G2Curve>(k.b2);
  return hs.digest();
}

SetupResult finish(const Circuit& k, KeyPoints& p, const std::string& path, StepTimer& timer) {
  SetupResult res;
  res.circuit_hash = circuit_hash(p);
  timer.done("circuit hash");
  std::vector<uint8_t> contrib(68, 0);
  std::copy(res.circuit_hash.begin(), res.circuit_hash.end(), contrib.begin());
  ZkeyParts parts;
  parts.header = p.header;
  parts.coefs = k.coefs;
  parts.ic = p.ic;
  parts.a = p.a;
  parts.b1 = p.b1;
  parts.c = p.c;
  parts.h = p.h;
  parts.b2 = p.b2;
  parts.contributions = contrib;
  write_zkey(path, parts);
  timer.done("write .zkey");
  res.domain_size = k.domain;
  res.n_public = k.n_public;
  return res;
}

void header_counts(const Circuit& k, ZkeyHeader& h) {
  h.n_vars = k.n_vars;
  h.n_public = k.n_public;
  h.domain_size = k.domain;
}

}  // namespace

uint32_t groth16_domain_size(const R1csHeader& h) {
  uint64_t v = uint64_t{h.n_constraints} + h.n_public();
  unsigned k = 1;
  while ((uint64_t{1} << k) <= v) ++k;
  if (k > kFrMaxLogDomain)
    throw std::invalid_argument("circuit too big: " + std::to_string(h.n_constraints) + " constraints and " +
                                std::to_string(h.n_public()) + " public signals need a domain of 2^" +
                                std::to_string(k) + " points, BN254 allows 2^28");
  return uint32_t{1} << k;
}

SetupResult groth16_setup(const R1cs& cs, const Ptau& ptau, const std::string& zkey_path,
                          const SetupProgress& progress, Backend* backend) {
  StepTimer timer(progress);
  Circuit k = prepare(cs);
  if (k.log_domain > ptau.power())
    throw std::invalid_argument("circuit too big for " + ptau.name() + ": " + std::to_string(k.n_constraints) +
                                " constraints and " + std::to_string(k.n_public) +
                                " public signals need a domain of 2^" + std::to_string(k.log_domain) +
                                " points, the .ptau has power " + std::to_string(ptau.power()));
  if (!ptau.prepared())
    throw FormatError(ptau.name() + ": not prepared for phase 2 (sections 12 to 15 are missing; run "
                                    "`snarkjs powersoftau prepare phase2`)");
  std::unique_ptr<Backend> own;
  if (!backend) {
    own = make_cpu_backend();
    backend = own.get();
  }
  const unsigned lk = k.log_domain;
  const size_t n = k.domain;
  auto l_tau1 = ptau.lagrange_tau_g1(lk);
  auto l_tau2 = ptau.lagrange_tau_g2(lk);
  auto l_alpha = ptau.lagrange_alpha_tau_g1(lk);
  auto l_beta = ptau.lagrange_beta_tau_g1(lk);
  timer.done("read .ptau");

  KeyPoints p;
  header_counts(k, p.header);
  p.header.alpha1 = ptau.alpha_tau_g1()[0];
  p.header.beta1 = ptau.beta_tau_g1()[0];
  p.header.beta2 = ptau.beta_g2();
  p.header.gamma2 = g2_generator();
  p.header.delta1 = g1_generator();
  p.header.delta2 = g2_generator();

  p.a.resize(k.n_vars);
  p.b1.resize(k.n_vars);
  p.b2.resize(k.n_vars);
  {
    Source<G1Curve> a[] = {{&k.a, l_tau1}};
    signal_sums<G1Curve>(a, k.n_vars, p.a, *backend);
    timer.done("A");
    Source<G1Curve> b1[] = {{&k.b, l_tau1}};
    signal_sums<G1Curve>(b1, k.n_vars, p.b1, *backend);
    timer.done("B1");
    Source<G2Curve> b2[] = {{&k.b, l_tau2}};
    signal_sums<G2Curve>(b2, k.n_vars, p.b2, *backend);
    timer.done("B2");
    std::vector<G1Affine> kk(k.n_vars);
    Source<G1Curve> ks[] = {{&k.a, l_beta}, {&k.b, l_alpha}, {&k.c, l_tau1}};
    signal_sums<G1Curve>(ks, k.n_vars, kk, *backend);
    p.ic.assign(kk.begin(), kk.begin() + k.n_public + 1);
    p.c.assign(kk.begin() + k.n_public + 1, kk.end());
    timer.done("IC and C");
  }

  // H: the odd Lagrange points of the 2N domain (snarkjs's writeHs).
  p.h.resize(n);
  if (lk < kFrMaxLogDomain) {
    auto l2 = ptau.lagrange_tau_g1(lk + 1);
    for (size_t i = 0; i < n; ++i) p.h[i] = l2[2 * i + 1];
  } else {
    // snarkjs reads the second half of the 2^29 block for a 2^28 domain.
    auto l2 = ptau.lagrange_tau_g1(lk + 1);
    std::copy(l2.begin() + n, l2.end(), p.h.begin());
  }
  timer.done("H");

  // The hashed H basis: tauG1[i + N] - tauG1[i].
  auto tau1 = ptau.tau_g1();
  size_t nh = hashed_h_points(n);
  size_t nh_in_section = std::min(nh, tau1.size() - n);  // points whose i + N lies in section 2
  std::vector<G1Jacobian> hj(nh_in_section);
  cpu::parallel_for(nh_in_section, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) hj[i] = G1Jacobian::from_affine(tau1[i + n]).add_affine(-tau1[i]);
  });
  p.h_hashed.resize(nh);
  setup_detail::to_affine<G1Curve>(hj, std::span<G1Affine>(p.h_hashed.data(), nh_in_section));
  for (size_t i = nh_in_section; i < nh; ++i)
    p.h_hashed[i] = snarkjs_sub_raw(ptau.tau_g1_file_bytes(i + n, 1), tau1[i]);
  timer.done("H basis for the hash");

  SetupResult res = finish(k, p, zkey_path, timer);
  res.warning = kPhase2Warning;
  return res;
}

SetupResult groth16_setup_with_known_secrets(const R1cs& cs, const std::string& zkey_path,
                                             const Groth16Secrets& sec, const SetupProgress& progress) {
  StepTimer timer(progress);
  if (sec.alpha.is_zero() || sec.beta.is_zero() || sec.gamma.is_zero() || sec.delta.is_zero() || sec.tau.is_zero())
    throw std::invalid_argument("setup secrets must not be zero");
  Circuit k = prepare(cs);
  const size_t n = k.domain;
  const unsigned lk = k.log_domain;
  if (sec.tau.pow(uint64_t(2 * n)) == Fr::one())
    throw std::invalid_argument("tau is a 2^" + std::to_string(lk + 1) + "-th root of unity");

  // Field values of every column: a_s, b_s, c_s at tau.
  std::vector<Fr> lag(n), av(k.n_vars), bv(k.n_vars), kv(k.n_vars), sc;
  setup_detail::WipeOnExit<Fr> w1{lag}, w2{av}, w3{bv}, w4{kv}, w5{sc};
  sc.reserve(std::max<size_t>({k.n_vars, n, hashed_h_points(n)}));  // resized below, never reallocated
  setup_detail::lagrange_values(lk, sec.tau, 0, lag);
  cpu::parallel_for(k.n_vars, [&](size_t b, size_t e) {
    for (size_t s = b; s < e; ++s) {
      Fr x[3];
      const Columns* m[3] = {&k.a, &k.b, &k.c};
      for (int j = 0; j < 3; ++j) {
        Fr acc = Fr::zero();
        for (const Term& t : m[j]->col(s)) acc += t.coef * lag[t.row];
        x[j] = acc;
      }
      av[s] = x[0];
      bv[s] = x[1];
      kv[s] = sec.beta * x[0] + sec.alpha * x[1] + x[2];
      for (Fr& v : x) wipe(v);
    }
  });
  timer.done("evaluate the circuit at tau");

  const size_t nh = hashed_h_points(n);
  FixedBase<G1Curve> g1(g1_generator(), 4 * size_t{k.n_vars} + n + nh + 3);
  FixedBase<G2Curve> g2(g2_generator(), k.n_vars + 3);
  timer.done("fixed-base tables");

  KeyPoints p;
  header_counts(k, p.header);
  {
    Fr s1[3] = {sec.alpha, sec.beta, sec.delta};
    G1Affine o1[3];
    g1.mul(s1, o1);
    Fr s2[3] = {sec.beta, sec.gamma, sec.delta};
    G2Affine o2[3];
    g2.mul(s2, o2);
    for (Fr& v : s1) wipe(v);
    for (Fr& v : s2) wipe(v);
    p.header.alpha1 = o1[0];
    p.header.beta1 = o1[1];
    p.header.delta1 = o1[2];
    p.header.beta2 = o2[0];
    p.header.gamma2 = o2[1];
    p.header.delta2 = o2[2];
  }
  p.a.resize(k.n_vars);
  g1.mul(av, p.a);
  p.b1.resize(k.n_vars);
  g1.mul(bv, p.b1);
  p.b2.resize(k.n_vars);
  g2.mul(bv, p.b2);
  timer.done("A, B1, B2");

  std::vector<Fr> inv;
  inv.reserve(3);  // never reallocated: a freed buffer would keep the secrets
  setup_detail::WipeOnExit<Fr> w7{inv};
  inv.push_back(sec.gamma.inverse());
  inv.push_back(sec.delta.inverse());
  const Fr &gamma_inv = inv[0], &delta_inv = inv[1];
  std::vector<G1Affine> kk(k.n_vars);
  g1.mul(kv, kk);
  p.ic_hashed.assign(kk.begin(), kk.begin() + k.n_public + 1);
  p.c_hashed.assign(kk.begin() + k.n_public + 1, kk.end());
  sc.resize(k.n_vars);
  for (size_t s = 0; s < k.n_vars; ++s) sc[s] = kv[s] * (s <= k.n_public ? gamma_inv : delta_inv);
  g1.mul(sc, kk);
  p.ic.assign(kk.begin(), kk.begin() + k.n_public + 1);
  p.c.assign(kk.begin() + k.n_public + 1, kk.end());
  timer.done("IC and C");

  // H[i] = L_{2i+1}(tau) / delta on the 2N domain; the hashed basis tau^i (tau^N - 1).
  {
    std::vector<Fr> l2(2 * n);
    setup_detail::WipeOnExit<Fr> w6{l2};
    setup_detail::lagrange_values(lk + 1, sec.tau, 0, l2);
    sc.resize(n);
    for (size_t i = 0; i < n; ++i) sc[i] = l2[2 * i + 1] * delta_inv;
    p.h.resize(n);
    g1.mul(sc, p.h);
  }
  sc.resize(nh);
  inv.push_back(sec.tau.pow(uint64_t(n)) - Fr::one());  // wiped with the inverses
  setup_detail::geometric(inv.back(), sec.tau, sc);
  p.h_hashed.resize(nh);
  g1.mul(sc, p.h_hashed);
  timer.done("H");

  SetupResult res = finish(k, p, zkey_path, timer);
  res.warning = kDevSetupWarning;
  return res;
}

SetupResult groth16_setup_dev(const R1cs& cs, const std::string& zkey_path, const SetupProgress& progress) {
  Groth16Secrets sec;
  struct Wipe {
    Groth16Secrets& s;
    ~Wipe() { wipe(s); }
  } guard{sec};
  const uint64_t two_n = 2 * uint64_t{groth16_domain_size(cs.header)};
  do {
    sec.tau = setup_detail::random_nonzero_fr();
  } while (sec.tau.pow(two_n) == Fr::one());
  sec.alpha = setup_detail::random_nonzero_fr();
  sec.beta = setup_detail::random_nonzero_fr();
  sec.gamma = setup_detail::random_nonzero_fr();
  sec.delta = setup_detail::random_nonzero_fr();
  return groth16_setup_with_known_secrets(cs, zkey_path, sec, progress);
}

}  // namespace zkinfer::prover
