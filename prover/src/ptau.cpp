#include "zkinfer/prover/ptau.h"

#include <stdexcept>
#include <tuple>

#include "setup_math.h"
#include "zkinfer/ec/serialize.h"
#include "zkinfer/ff/domain.h"
#include "zkinfer/ff/fp_io.h"
#include "zkinfer/prover/section_view.h"

namespace zkinfer::prover {

const char* const kDevPtauWarning =
    "WARNING: this .ptau is for development only, NOT FOR PRODUCTION. Its secrets (tau, alpha, "
    "beta) came from one machine's random number generator; whoever ran it could have kept them "
    "and could forge proofs for every circuit set up from this file. Use a .ptau from a "
    "multi-party ceremony in production.";

namespace {

constexpr uint32_t kSecHeader = 1, kSecTauG1 = 2, kSecTauG2 = 3, kSecAlphaTauG1 = 4,
                   kSecBetaTauG1 = 5, kSecBetaG2 = 6, kSecContributions = 7;
constexpr uint32_t kSecLagTauG1 = 12, kSecLagTauG2 = 13, kSecLagAlphaTauG1 = 14,
                   kSecLagBetaTauG1 = 15;
constexpr size_t kG1Bytes = sizeof(G1Affine), kG2Bytes = sizeof(G2Affine);
static_assert(kG1Bytes == 64 && kG2Bytes == 128, "affine points are stored as in the file");

const char* section_name(uint32_t s) {
  switch (s) {
    case kSecHeader: return "header";
    case kSecTauG1: return "tauG1";
    case kSecTauG2: return "tauG2";
    case kSecAlphaTauG1: return "alphaTauG1";
    case kSecBetaTauG1: return "betaTauG1";
    case kSecBetaG2: return "betaG2";
    case kSecContributions: return "contributions";
    case kSecLagTauG1: return "Lagrange tauG1";
    case kSecLagTauG2: return "Lagrange tauG2";
    case kSecLagAlphaTauG1: return "Lagrange alphaTauG1";
    case kSecLagBetaTauG1: return "Lagrange betaTauG1";
    default: return "?";
  }
}

size_t pow2(unsigned k) { return size_t{1} << k; }

template <class T>
struct CurveOf;
template <>
struct CurveOf<G1Affine> {
  using type = G1Curve;
};
template <>
struct CurveOf<G2Affine> {
  using type = G2Curve;
};

}  // namespace

// ---- reader ----------------------------------------------------------------------------------

struct Ptau::Cache {
  std::mutex mu;
  struct Entry {
    const void* data = nullptr;
    std::vector<G1Affine> g1;
    std::vector<G2Affine> g2;
  };
  std::map<std::tuple<uint32_t, size_t, size_t>, Entry> entries;
};

Ptau::Ptau(Ptau&&) noexcept = default;
Ptau& Ptau::operator=(Ptau&&) noexcept = default;
Ptau::~Ptau() = default;

Ptau Ptau::open(const std::string& path) {
  Ptau p;
  p.file_ = BinFile::open(path, "ptau", 1);
  p.load();
  return p;
}

Ptau Ptau::parse(std::span<const uint8_t> bytes, const std::string& name) {
  Ptau p;
  p.file_ = BinFile::parse(bytes, name, "ptau", 1);
  p.load();
  return p;
}

void Ptau::load() {
  cache_ = std::make_unique<Cache>();
  {
    ByteReader r = file_.reader(kSecHeader, section_name(kSecHeader));
    uint32_t n8 = r.u32();
    if (n8 != 32)
      r.fail("field element size n8 is " + std::to_string(n8) + ", expected 32 (BN254)");
    U256 q = r.u256();
    if (!(q == Fq::MOD))
      r.fail("prime q is " + u256_to_decimal(q) + ", expected BN254's base field prime " +
             u256_to_decimal(Fq::MOD));
    power_ = r.u32();
    ceremony_power_ = r.u32();
    r.expect_end();
    if (power_ > kPtauMaxPower)
      r.fail("power " + std::to_string(power_) + " is above " + std::to_string(kPtauMaxPower) +
             " (BN254's Fr has 2^28 roots of unity)");
  }
  auto expect_size = [&](uint32_t s, uint64_t want) {
    auto bytes = file_.section(s, section_name(s));
    if (bytes.size() != want)
      throw FormatError(file_.where(s, section_name(s)) + ": size " + std::to_string(bytes.size()) +
                        " bytes, expected " + std::to_string(want) + " for power " +
                        std::to_string(power_));
  };
  const uint64_t n = pow2(power_);
  expect_size(kSecTauG1, (2 * n - 1) * kG1Bytes);
  expect_size(kSecTauG2, n * kG2Bytes);
  expect_size(kSecAlphaTauG1, n * kG1Bytes);
  expect_size(kSecBetaTauG1, n * kG1Bytes);
  expect_size(kSecBetaG2, kG2Bytes);
  {
    ByteReader r = file_.reader(kSecContributions, section_name(kSecContributions));
    n_contributions_ = r.u32();
  }
  const uint32_t lag[] = {kSecLagTauG1, kSecLagTauG2, kSecLagAlphaTauG1, kSecLagBetaTauG1};
  int present = 0;
  for (uint32_t s : lag) present += file_.has(s);
  if (present != 0 && present != 4) {
    for (uint32_t s : lag)
      if (!file_.has(s))
        throw FormatError(file_.where(s, section_name(s)) +
                          " is missing, though other prepared phase-2 sections (12 to 15) exist");
  }
  prepared_ = present == 4;
  if (prepared_) {
    expect_size(kSecLagTauG1, (4 * n - 1) * kG1Bytes);
    expect_size(kSecLagTauG2, (2 * n - 1) * kG2Bytes);
    expect_size(kSecLagAlphaTauG1, (2 * n - 1) * kG1Bytes);
    expect_size(kSecLagBetaTauG1, (2 * n - 1) * kG1Bytes);
  }
  // The points the rest relies on, fully (G2 also in the subgroup).
  auto bg2 = file_.section(kSecBetaG2, section_name(kSecBetaG2));
  try {
    read_point<G2Curve>(bg2, FieldEncoding::kMontgomery);
  } catch (const std::invalid_argument& e) {
    throw FormatError(file_.where(kSecBetaG2, section_name(kSecBetaG2)) + ": " + e.what());
  }
  auto first_points = [&](uint32_t s, size_t count, size_t bytes_each, bool g2) {
    auto b = file_.section(s, section_name(s));
    for (size_t i = 0; i < count && (i + 1) * bytes_each <= b.size(); ++i) {
      try {
        if (g2) read_point<G2Curve>(b.subspan(i * bytes_each, bytes_each), FieldEncoding::kMontgomery);
        else read_point<G1Curve>(b.subspan(i * bytes_each, bytes_each), FieldEncoding::kMontgomery);
      } catch (const std::invalid_argument& e) {
        throw FormatError(file_.where(s, section_name(s)) + ": point " + std::to_string(i) + ": " + e.what());
      }
    }
  };
  first_points(kSecTauG1, 2, kG1Bytes, false);
  first_points(kSecTauG2, 2, kG2Bytes, true);
}

template <class T>
std::span<const T> Ptau::slice(uint32_t section, const char* what, size_t first, size_t count) const {
  using C = typename CurveOf<T>::type;
  auto bytes = file_.section(section, what);
  if ((first + count) * sizeof(T) > bytes.size())
    throw std::out_of_range(file_.where(section, what) + ": points " + std::to_string(first) +
                            " to " + std::to_string(first + count) + " lie beyond the section");
  std::lock_guard<std::mutex> lock(cache_->mu);
  auto key = std::make_tuple(section, first, count);
  auto it = cache_->entries.find(key);
  if (it != cache_->entries.end()) return {static_cast<const T*>(it->second.data), count};
  Cache::Entry e;
  std::vector<T> storage;
  std::string where = file_.where(section, what);
  if (first) where += " from point " + std::to_string(first);
  auto view = typed_view<T>(bytes.subspan(first * sizeof(T), count * sizeof(T)), storage, where);
  check_points<C>(view, where, false);
  if constexpr (std::is_same_v<T, G1Affine>) e.g1 = std::move(storage);
  else e.g2 = std::move(storage);
  // A moved vector keeps its buffer, so the view's data pointer is still right.
  e.data = view.data();
  cache_->entries.emplace(key, std::move(e));
  return view;
}

std::span<const G1Affine> Ptau::tau_g1() const {
  return slice<G1Affine>(kSecTauG1, section_name(kSecTauG1), 0, 2 * pow2(power_) - 1);
}
std::span<const G2Affine> Ptau::tau_g2() const {
  return slice<G2Affine>(kSecTauG2, section_name(kSecTauG2), 0, pow2(power_));
}
std::span<const G1Affine> Ptau::alpha_tau_g1() const {
  return slice<G1Affine>(kSecAlphaTauG1, section_name(kSecAlphaTauG1), 0, pow2(power_));
}
std::span<const G1Affine> Ptau::beta_tau_g1() const {
  return slice<G1Affine>(kSecBetaTauG1, section_name(kSecBetaTauG1), 0, pow2(power_));
}
G2Affine Ptau::beta_g2() const {
  return read_point<G2Curve>(file_.section(kSecBetaG2, section_name(kSecBetaG2)),
                             FieldEncoding::kMontgomery, PointCheck::kSkipSubgroup);
}
std::span<const uint8_t> Ptau::contributions() const {
  return file_.section(kSecContributions, section_name(kSecContributions));
}

namespace {
void check_lagrange(bool prepared, const std::string& name, unsigned log_n, unsigned max) {
  if (!prepared)
    throw FormatError(name + ": not prepared for phase 2 (sections 12 to 15 are missing; run "
                             "`snarkjs powersoftau prepare phase2`)");
  if (log_n > max)
    throw std::out_of_range(name + ": no Lagrange block for 2^" + std::to_string(log_n) +
                            " points (at most 2^" + std::to_string(max) + ")");
}
}  // namespace

std::span<const G1Affine> Ptau::lagrange_tau_g1(unsigned log_n) const {
  check_lagrange(prepared_, name(), log_n, power_ + 1);
  return slice<G1Affine>(kSecLagTauG1, section_name(kSecLagTauG1), pow2(log_n) - 1, pow2(log_n));
}
std::span<const G2Affine> Ptau::lagrange_tau_g2(unsigned log_n) const {
  check_lagrange(prepared_, name(), log_n, power_);
  return slice<G2Affine>(kSecLagTauG2, section_name(kSecLagTauG2), pow2(log_n) - 1, pow2(log_n));
}
std::span<const G1Affine> Ptau::lagrange_alpha_tau_g1(unsigned log_n) const {
  check_lagrange(prepared_, name(), log_n, power_);
  return slice<G1Affine>(kSecLagAlphaTauG1, section_name(kSecLagAlphaTauG1), pow2(log_n) - 1, pow2(log_n));
}
std::span<const G1Affine> Ptau::lagrange_beta_tau_g1(unsigned log_n) const {
  check_lagrange(prepared_, name(), log_n, power_);
  return slice<G1Affine>(kSecLagBetaTauG1, section_name(kSecLagBetaTauG1), pow2(log_n) - 1, pow2(log_n));
}

std::span<const uint8_t> Ptau::tau_g1_file_bytes(size_t first, size_t n_points) const {
  auto sec = file_.section(kSecTauG1, section_name(kSecTauG1));
  auto all = file_.bytes();
  size_t start = (size_t)(sec.data() - all.data()) + first * kG1Bytes;
  size_t len = n_points * kG1Bytes;
  if (start > all.size() || len > all.size() - start)
    throw FormatError(file_.where(kSecTauG1, section_name(kSecTauG1)) + ": points " +
                      std::to_string(first) + " to " + std::to_string(first + n_points) +
                      " lie beyond the end of the file");
  return all.subspan(start, len);
}

// ---- development writer ----------------------------------------------------------------------

namespace {

using setup_detail::FixedBase;
using setup_detail::wipe;

template <class C>
void write_points(BinWriter& w, std::span<const Affine<C>> pts) {
  w.bytes({reinterpret_cast<const uint8_t*>(pts.data()), pts.size() * sizeof(Affine<C>)});
}

// Writes count points scalar(i) * base, i < count, in chunks; gen(first, out) fills the scalars
// of one chunk. The scalars are wiped after use.
template <class C, class Gen>
void emit(BinWriter& w, const FixedBase<C>& fb, size_t count, Gen&& gen) {
  constexpr size_t kChunk = size_t{1} << 16;
  std::vector<Fr> s(std::min(kChunk, count));
  setup_detail::WipeOnExit<Fr> guard{s};
  std::vector<Affine<C>> pts(s.size());
  for (size_t first = 0; first < count; first += kChunk) {
    size_t m = std::min(kChunk, count - first);
    std::span<Fr> sc(s.data(), m);
    gen(first, sc);
    fb.mul(sc, std::span<Affine<C>>(pts.data(), m));
    write_points<C>(w, std::span<const Affine<C>>(pts.data(), m));
  }
}

void write_ptau_impl(const std::string& path, unsigned power, const Fr& tau, const Fr& alpha,
                     const Fr& beta, const SetupProgress& progress) {
  if (power < 1 || power > 27)
    throw std::invalid_argument("development .ptau power must be 1 to 27, got " + std::to_string(power));
  if (tau.is_zero() || alpha.is_zero() || beta.is_zero())
    throw std::invalid_argument("ptau secrets must not be zero");
  const size_t n = pow2(power);
  if (tau.pow(uint64_t(2 * n)) == Fr::one())
    throw std::invalid_argument("tau is a 2^" + std::to_string(power + 1) + "-th root of unity");

  StepTimer t(progress);
  FixedBase<G1Curve> g1(g1_generator(), 12 * n);
  FixedBase<G2Curve> g2(g2_generator(), 3 * n);
  t.done("fixed-base tables");

  BinWriter w(path, "ptau", 1, 11);
  w.begin_section(kSecHeader);
  w.u32(32);
  w.u256(Fq::MOD);
  w.u32(power);
  w.u32(power);  // ceremony power: snarkjs writes the power when none is given
  w.end_section();

  const Fr one = Fr::one();
  auto powers = [&tau](const Fr& start) {  // start: a reference, so no copy of a secret is left
    return [&tau, &start](size_t first, std::span<Fr> out) {
      Fr s = start * tau.pow((uint64_t)first);
      setup_detail::geometric(s, tau, out);
      wipe(s);
    };
  };
  w.begin_section(kSecTauG1);
  emit(w, g1, 2 * n - 1, powers(one));
  w.end_section();
  t.done("tauG1");
  w.begin_section(kSecTauG2);
  emit(w, g2, n, powers(one));
  w.end_section();
  t.done("tauG2");
  w.begin_section(kSecAlphaTauG1);
  emit(w, g1, n, powers(alpha));
  w.end_section();
  t.done("alphaTauG1");
  w.begin_section(kSecBetaTauG1);
  emit(w, g1, n, powers(beta));
  w.end_section();
  t.done("betaTauG1");
  w.begin_section(kSecBetaG2);
  {
    Fr b[1] = {beta};
    G2Affine p[1];
    g2.mul(b, p);
    wipe(b[0]);
    write_points<G2Curve>(w, p);
  }
  w.end_section();
  w.begin_section(kSecContributions);
  w.u32(0);
  w.end_section();

  // Lagrange blocks k = 0 .. max_k, each scaled by `scale`.
  auto lagrange = [&](auto& fb, unsigned max_k, const Fr& scale, bool tau_g1) {
    for (unsigned k = 0; k <= max_k; ++k) {
      bool drop = tau_g1 && k == power + 1;
      emit(w, fb, pow2(k), [&](size_t first, std::span<Fr> out) {
        setup_detail::lagrange_values(k, tau, first, out, drop);
        if (!scale.is_one())
          for (Fr& x : out) x *= scale;
      });
    }
  };
  w.begin_section(kSecLagTauG1);
  lagrange(g1, power + 1, Fr::one(), true);
  w.end_section();
  t.done("Lagrange tauG1");
  w.begin_section(kSecLagTauG2);
  lagrange(g2, power, Fr::one(), false);
  w.end_section();
  t.done("Lagrange tauG2");
  w.begin_section(kSecLagAlphaTauG1);
  lagrange(g1, power, alpha, false);
  w.end_section();
  t.done("Lagrange alphaTauG1");
  w.begin_section(kSecLagBetaTauG1);
  lagrange(g1, power, beta, false);
  w.end_section();
  w.close();
  t.done("Lagrange betaTauG1");
}

}  // namespace

void write_ptau_with_known_secrets(const std::string& path, unsigned power, const Fr& tau,
                                   const Fr& alpha, const Fr& beta, const SetupProgress& progress) {
  write_ptau_impl(path, power, tau, alpha, beta, progress);
}

void write_dev_ptau(const std::string& path, unsigned power, const SetupProgress& progress) {
  if (power < 1 || power > 27)
    throw std::invalid_argument("development .ptau power must be 1 to 27, got " + std::to_string(power));
  Fr tau, alpha, beta;
  struct Wipe {
    Fr *a, *b, *c;
    ~Wipe() {
      wipe(*a);
      wipe(*b);
      wipe(*c);
    }
  } guard{&tau, &alpha, &beta};
  do {
    tau = setup_detail::random_nonzero_fr();
  } while (tau.pow(uint64_t(2) << power) == Fr::one());
  alpha = setup_detail::random_nonzero_fr();
  beta = setup_detail::random_nonzero_fr();
  write_ptau_impl(path, power, tau, alpha, beta, progress);
}

}  // namespace zkinfer::prover
