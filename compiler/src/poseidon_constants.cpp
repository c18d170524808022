// Poseidon's constants, generated rather than pasted (see poseidon.h).
//
// Reference form, following the method of the Poseidon paper's parameter script (the one
// circomlib's constants came from, run as "1 0 254 t 8 R_P p": prime field, S-box x^alpha,
// 254-bit elements, width t, 8 full rounds, R_P partial rounds):
//   - An 80-bit Grain LFSR is loaded, most significant bit first, with: 2 bits field type (1:
//     prime field), 4 bits S-box type (0: x^alpha), 12 bits field size (254), 12 bits t, 10 bits
//     R_F, 10 bits R_P, then 30 one bits. It updates b[i+80] = b[i+62] ^ b[i+51] ^ b[i+38] ^
//     b[i+23] ^ b[i+13] ^ b[i]; the first 160 output bits are discarded.
//   - Self-shrinking: bits are taken in pairs; when the first is 1 the second is output,
//     otherwise both are dropped.
//   - A number is 254 output bits read most significant first. Each of the (R_F + R_P) * t round
//     constants is such a number, redrawn until it is below p.
//   - Then the MDS matrix: 2t more numbers, each reduced mod p (no redraw), x = the first t,
//     y = the last t; all 2t must be distinct and no x_i + y_j zero (else all 2t are drawn
//     again); M[i][j] = 1 / (x_i + y_j), applied as new = M * old.
//     The script also tests the matrix against invariant subspace trails and draws another if
//     one is found; that test is not repeated here: the first matrix drawn is used, and the
//     comparison with circomlib's file in test_poseidon shows it is the one the script kept for
//     every t = 2..17.
//
// Optimized form (circomlib's POSEIDON_C/S/M/P), derived from the reference form:
//   - Round constants move forward through the linear layer: a constant c added after a mix
//     equals M^-1 c added before it. So the first round keeps c_0, and in the full rounds the
//     next round's constants are added after the S-boxes, as M^-1 c_{r+1}.
//   - In the partial rounds only element 0 goes through the S-box, so, walking backward from
//     the first constants after the partial rounds, v: w = M^-1 v; w[0] stays as the constant
//     added after that partial round's S-box; (0, w[1..]) passes the S-box and joins that
//     round's own constants as the next v. The last v, as M^-1 v, is added after the S-boxes of
//     the last full round before the partial rounds.
//   - The partial rounds' matrices factor as X = S * D, D = diag(1, X^) (X^ = X without its
//     first row and column) and S = [[x00, x_r X^^-1], [x_c, I]] (x_r, x_c the rest of the first
//     row and column): sparse. D leaves element 0 alone, so it commutes with the S-box on element
//     0 and with constants on element 0, and moves into the previous round's matrix. Walking
//     backward from X = M: X_{k-1} = D_k * M, and P = D_0 * M is the mix before the partial
//     rounds.
//   - circomlib's Mix applies its matrices transposed (new[i] = sum_j M[j][i] old[j]), so its
//     M and P are the transposes of the matrices above; S is stored per round as the first row
//     of S (t values) followed by x_c (t - 1 values).
#include <array>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "zkinfer/compiler/poseidon.h"

namespace zkinfer::compiler {

namespace {

constexpr unsigned kFieldBits = 254;
constexpr unsigned kMinT = 2, kMaxT = kPoseidonMaxInputs + 1;
constexpr std::array<unsigned, kMaxT - kMinT + 1> kPartialRounds = {
    56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68};

class Grain {
 public:
  Grain(unsigned n, unsigned t, unsigned rf, unsigned rp) {
    load(1, 2);  // prime field
    load(0, 4);  // S-box x^alpha
    load(n, 12);
    load(t, 12);
    load(rf, 10);
    load(rp, 10);
    load((1u << 30) - 1, 30);
    if (fill_ != 80) throw std::logic_error("poseidon: Grain state is not 80 bits");
    for (int i = 0; i < 160; ++i) step();
  }

  // n output bits, most significant first.
  U256 bits(unsigned n) {
    U256 r{};
    for (unsigned i = 0; i < n; ++i) {
      for (int w = 3; w > 0; --w) r.w[w] = (r.w[w] << 1) | (r.w[w - 1] >> 63);
      r.w[0] = (r.w[0] << 1) | uint64_t(bit());
    }
    return r;
  }

 private:
  void load(unsigned value, unsigned width) {
    for (int i = int(width) - 1; i >= 0; --i) s_[fill_++] = uint8_t((value >> i) & 1);
  }
  // s_[(head_ + k) % 80] is b[i + k] for the current i.
  uint8_t at(unsigned k) const { return s_[(head_ + k) % 80]; }
  uint8_t step() {
    const uint8_t nb = at(62) ^ at(51) ^ at(38) ^ at(23) ^ at(13) ^ at(0);
    s_[head_] = nb;  // b[i] is no longer needed; b[i + 80] takes its place
    head_ = (head_ + 1) % 80;
    return nb;
  }
  uint8_t bit() {
    for (;;) {
      const uint8_t a = step();
      const uint8_t b = step();
      if (a) return b;
    }
  }

  std::array<uint8_t, 80> s_{};
  unsigned fill_ = 0;
  unsigned head_ = 0;
};

using Matrix = std::vector<Fr>;  // t x t, row-major

Matrix mat_mul(const Matrix& a, const Matrix& b, unsigned t) {
  Matrix c(size_t(t) * t, Fr::zero());
  for (unsigned i = 0; i < t; ++i)
    for (unsigned k = 0; k < t; ++k) {
      const Fr aik = a[i * t + k];
      for (unsigned j = 0; j < t; ++j) c[i * t + j] += aik * b[k * t + j];
    }
  return c;
}

std::vector<Fr> mat_vec(const Matrix& a, const std::vector<Fr>& v, unsigned t) {
  std::vector<Fr> r(t, Fr::zero());
  for (unsigned i = 0; i < t; ++i)
    for (unsigned j = 0; j < t; ++j) r[i] += a[i * t + j] * v[j];
  return r;
}

Matrix transpose(const Matrix& a, unsigned t) {
  Matrix r(a.size());
  for (unsigned i = 0; i < t; ++i)
    for (unsigned j = 0; j < t; ++j) r[j * t + i] = a[i * t + j];
  return r;
}

// Gauss-Jordan inverse of an n x n matrix; throws if it is singular.
Matrix mat_inverse(Matrix a, unsigned n) {
  Matrix inv(size_t(n) * n, Fr::zero());
  for (unsigned i = 0; i < n; ++i) inv[i * n + i] = Fr::one();
  for (unsigned col = 0; col < n; ++col) {
    unsigned piv = col;
    while (piv < n && a[piv * n + col].is_zero()) ++piv;
    if (piv == n) throw std::logic_error("poseidon: singular matrix");
    if (piv != col)
      for (unsigned j = 0; j < n; ++j) {
        std::swap(a[piv * n + j], a[col * n + j]);
        std::swap(inv[piv * n + j], inv[col * n + j]);
      }
    const Fr f = a[col * n + col].inverse();
    for (unsigned j = 0; j < n; ++j) {
      a[col * n + j] *= f;
      inv[col * n + j] *= f;
    }
    for (unsigned r = 0; r < n; ++r) {
      if (r == col || a[r * n + col].is_zero()) continue;
      const Fr g = a[r * n + col];
      for (unsigned j = 0; j < n; ++j) {
        a[r * n + j] -= g * a[col * n + j];
        inv[r * n + j] -= g * inv[col * n + j];
      }
    }
  }
  return inv;
}

void generate_reference(PoseidonParams& p) {
  const unsigned t = p.t;
  constexpr U256 mod = Fr::MOD;
  Grain grain(kFieldBits, t, p.rounds_f, p.rounds_p);

  const size_t n_rc = size_t(p.rounds_f + p.rounds_p) * t;
  p.round_constants.reserve(n_rc);
  for (size_t i = 0; i < n_rc; ++i) {
    U256 x = grain.bits(kFieldBits);
    while (!u256::less(x, mod)) x = grain.bits(kFieldBits);
    p.round_constants.push_back(Fr::from_canonical(x));
  }

  for (;;) {
    std::vector<Fr> pts;
    for (;;) {
      pts.clear();
      for (unsigned i = 0; i < 2 * t; ++i) {
        U256 x = grain.bits(kFieldBits);
        if (!u256::less(x, mod)) {  // 2^254 < 2p: one subtraction reduces
          uint64_t borrow = 0;
          x = u256::sub(x, mod, borrow);
        }
        pts.push_back(Fr::from_canonical(x));
      }
      bool distinct = true;
      for (unsigned i = 0; i < 2 * t && distinct; ++i)
        for (unsigned j = i + 1; j < 2 * t && distinct; ++j) distinct = pts[i] != pts[j];
      if (distinct) break;
    }
    Matrix m(size_t(t) * t);
    bool ok = true;
    for (unsigned i = 0; i < t && ok; ++i)
      for (unsigned j = 0; j < t && ok; ++j) {
        const Fr s = pts[i] + pts[t + j];
        ok = !s.is_zero();
        m[i * t + j] = s.inverse();
      }
    if (ok) {
      p.mds = std::move(m);
      return;
    }
  }
}

void derive_optimized(PoseidonParams& p) {
  const unsigned t = p.t, rf_half = p.rounds_f / 2, rp = p.rounds_p;
  const Matrix& m = p.mds;
  const Matrix m_inv = mat_inverse(m, t);
  auto rc = [&](unsigned round) {
    return std::vector<Fr>(p.round_constants.begin() + size_t(round) * t,
                           p.round_constants.begin() + size_t(round + 1) * t);
  };
  auto append = [](std::vector<Fr>& out, const std::vector<Fr>& v) {
    out.insert(out.end(), v.begin(), v.end());
  };

  // Constants.
  std::vector<Fr> partial_post(rp);
  std::vector<Fr> v = rc(rf_half + rp);  // the first constants after the partial rounds
  for (unsigned k = rp; k-- > 0;) {
    std::vector<Fr> w = mat_vec(m_inv, v, t);
    partial_post[k] = w[0];
    v = rc(rf_half + k);
    for (unsigned i = 1; i < t; ++i) v[i] += w[i];
  }
  p.opt_c.clear();
  append(p.opt_c, rc(0));
  for (unsigned r = 1; r < rf_half; ++r) append(p.opt_c, mat_vec(m_inv, rc(r), t));
  append(p.opt_c, mat_vec(m_inv, v, t));
  append(p.opt_c, partial_post);
  for (unsigned r = 1; r < rf_half; ++r) append(p.opt_c, mat_vec(m_inv, rc(rf_half + rp + r), t));

  // Sparse partial-round matrices, walking backward.
  const unsigned h = t - 1;
  std::vector<std::vector<Fr>> sparse(rp);
  Matrix x = m;
  for (unsigned k = rp; k-- > 0;) {
    Matrix xhat(size_t(h) * h);
    for (unsigned i = 0; i < h; ++i)
      for (unsigned j = 0; j < h; ++j) xhat[i * h + j] = x[(i + 1) * t + (j + 1)];
    const Matrix xhat_inv = mat_inverse(xhat, h);
    std::vector<Fr>& s = sparse[k];
    s.assign(2 * t - 1, Fr::zero());
    s[0] = x[0];
    for (unsigned j = 0; j < h; ++j)  // (x_r X^^-1)_j = sum_i x_r[i] * X^^-1[i][j]
      for (unsigned i = 0; i < h; ++i) s[1 + j] += x[1 + i] * xhat_inv[i * h + j];
    for (unsigned i = 0; i < h; ++i) s[t + i] = x[(i + 1) * t];
    Matrix d(size_t(t) * t, Fr::zero());
    d[0] = Fr::one();
    for (unsigned i = 0; i < h; ++i)
      for (unsigned j = 0; j < h; ++j) d[(i + 1) * t + (j + 1)] = xhat[i * h + j];
    x = mat_mul(d, m, t);
  }
  p.opt_s.clear();
  for (const auto& s : sparse) append(p.opt_s, s);
  p.opt_m = transpose(m, t);
  p.opt_p = transpose(x, t);
}

std::unique_ptr<PoseidonParams> generate(unsigned t) {
  auto p = std::make_unique<PoseidonParams>();
  p->t = t;
  p->rounds_f = kPoseidonFullRounds;
  p->rounds_p = poseidon_partial_rounds(t);
  generate_reference(*p);
  derive_optimized(*p);
  return p;
}

}  // namespace

unsigned poseidon_partial_rounds(unsigned t) {
  if (t < kMinT || t > kMaxT)
    throw std::invalid_argument("poseidon: width " + std::to_string(t) +
                                " is not supported (2..17, i.e. 1..16 inputs)");
  return kPartialRounds[t - kMinT];
}

const PoseidonParams& poseidon_params(unsigned t) {
  poseidon_partial_rounds(t);  // validates t
  static std::array<std::once_flag, kMaxT + 1> once;
  static std::array<std::unique_ptr<PoseidonParams>, kMaxT + 1> cache;
  std::call_once(once[t], [t] { cache[t] = generate(t); });
  return *cache[t];
}

}  // namespace zkinfer::compiler
