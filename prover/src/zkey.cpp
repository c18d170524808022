#include "zkinfer/prover/zkey.h"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <type_traits>

#include "cpu/parallel.h"
#include "format_util.h"
#include "zkinfer/ec/serialize.h"
#include "zkinfer/prover/section_view.h"

namespace zkinfer::prover {

namespace {

constexpr uint32_t kProtocolGroth16 = 1;
constexpr size_t kG1Bytes = sizeof(G1Affine), kG2Bytes = sizeof(G2Affine);
static_assert(kG1Bytes == 64 && kG2Bytes == 128, "points must have the file layout in memory");
constexpr size_t kCoefBytes = ZkeyCoefRecords::kBytes;
constexpr size_t kGroth16HeaderBytes = 660;     // 4 + 32 + 4 + 32 + 3 x 4 + 3 x 64 + 3 x 128
constexpr size_t kContributionFixedBytes = 3 * 64 + 128 + 64 + 4 + 4;  // up to the params
constexpr uint32_t kMaxDomainSize = uint32_t{1} << Fr::S;  // largest power-of-two NTT domain of r

enum : uint32_t {
  kSecProtocol = 1,
  kSecGroth16 = 2,
  kSecIc = 3,
  kSecCoefs = 4,
  kSecA = 5,
  kSecB1 = 6,
  kSecB2 = 7,
  kSecC = 8,
  kSecH = 9,
  kSecContributions = 10,
};

// Point counts implied by the header: IC, A, B1, B2, C, H.
struct Counts {
  uint64_t ic, a, b1, b2, c, h;
};
Counts counts(const ZkeyHeader& h) {
  uint64_t n = h.n_vars;
  return {uint64_t{h.n_public} + 1, n, n, n, n - h.n_public - 1, h.domain_size};
}

// What is wrong with the header's sizes, or empty.
std::string header_problem(const ZkeyHeader& h) {
  if (uint64_t{h.n_public} + 1 > h.n_vars)
    return "n_public " + std::to_string(h.n_public) + " + 1 exceeds n_vars " + std::to_string(h.n_vars);
  if (h.domain_size == 0 || (h.domain_size & (h.domain_size - 1)) != 0)
    return "domain_size " + std::to_string(h.domain_size) + " is not a power of two";
  if (h.domain_size > kMaxDomainSize)
    return "domain_size " + std::to_string(h.domain_size) + " exceeds 2^" + std::to_string(Fr::S) +
           ", the largest NTT domain of BN254's scalar field";
  return {};
}

std::string coef_problem(const ZkeyHeader& h, uint32_t matrix, uint32_t constraint, uint32_t signal) {
  if (matrix > 1) return "matrix " + std::to_string(matrix) + " is neither 0 (A) nor 1 (B)";
  if (constraint >= h.domain_size)
    return "constraint " + std::to_string(constraint) + " is not below domain_size " + std::to_string(h.domain_size);
  if (signal >= h.n_vars)
    return "signal " + std::to_string(signal) + " is not below n_vars " + std::to_string(h.n_vars);
  return {};
}

// Walks section 10's structure: circuit hash (64) | n u32 | n x (deltaAfter G1 | g1_s G1 |
// g1_sx G1 | g2_spx G2 | transcript (64) | type u32 | params_len u32 | params). The prover never
// reads it, but its length must add up as snarkjs's reader expects.
void check_contributions(ByteReader r) {
  r.skip(64);
  uint32_t n = r.u32();
  for (uint32_t i = 0; i < n; ++i) {
    if (r.remaining() < kContributionFixedBytes)
      r.fail("truncated in contribution " + std::to_string(i) + " of " + std::to_string(n));
    r.skip(kContributionFixedBytes - 4);
    r.skip(r.u32());
  }
  r.expect_end();
}

// Stored coefficient words are v * R^2 mod r, read back by ZkeyCoefRecords::operator[].
U256 coef_to_stored(const Fr& v) { return (v * Fr::from_mont(Fr::R2)).mont(); }

template <class P>
void read_header_point(ByteReader& r, P& out, const char* name) {
  using C = std::conditional_t<std::is_same_v<P, G1Affine>, G1Curve, G2Curve>;
  auto bytes = r.bytes(sizeof(P));
  try {
    out = read_point<C>(bytes, FieldEncoding::kMontgomery, PointCheck::kFull);
  } catch (const std::invalid_argument& e) {
    r.fail(std::string(name) + ": " + e.what());
  }
  if (out.is_infinity()) r.fail(std::string(name) + " is the point at infinity");
}

}  // namespace

// ---- reading --------------------------------------------------------------------------------

Zkey Zkey::open(const std::string& path, ZkeyCheck check) {
  Zkey k(BinFile::open(path, "zkey", 1));
  k.load(check);
  return k;
}

Zkey Zkey::parse(std::span<const uint8_t> bytes, const std::string& name, ZkeyCheck check) {
  Zkey k(BinFile::parse(bytes, name, "zkey", 1));
  k.load(check);
  return k;
}

void Zkey::load(ZkeyCheck check) {
  const BinFile& f = file_;
  {
    ByteReader r = f.reader(kSecProtocol, "protocol header");
    uint32_t protocol = r.u32();
    if (protocol != kProtocolGroth16)
      r.fail("protocol " + std::to_string(protocol) + " is not Groth16 (1)");
    r.expect_end();
  }

  ZkeyHeader& h = parts_.header;
  {
    ByteReader r = f.reader(kSecGroth16, "Groth16 header");
    if (r.remaining() != kGroth16HeaderBytes)
      r.fail("size " + std::to_string(r.remaining()) + " bytes, expected " + std::to_string(kGroth16HeaderBytes));
    uint32_t n8q = r.u32();
    if (n8q != 32) r.fail("base field size n8q is " + std::to_string(n8q) + ", expected 32 (BN254)");
    if (!(r.u256() == Fq::MOD)) r.fail("q is not BN254's base field modulus");
    uint32_t n8r = r.u32();
    if (n8r != 32) r.fail("scalar field size n8r is " + std::to_string(n8r) + ", expected 32 (BN254)");
    if (!(r.u256() == Fr::MOD)) r.fail("r is not BN254's scalar field modulus");
    h.n_vars = r.u32();
    h.n_public = r.u32();
    h.domain_size = r.u32();
    if (auto why = header_problem(h); !why.empty()) r.fail(why);
    read_header_point(r, h.alpha1, "alpha1");
    read_header_point(r, h.beta1, "beta1");
    read_header_point(r, h.beta2, "beta2");
    read_header_point(r, h.gamma2, "gamma2");
    read_header_point(r, h.delta1, "delta1");
    read_header_point(r, h.delta2, "delta2");
  }

  auto sized = [&](uint32_t type, const char* what, uint64_t count, size_t elem) {
    auto s = f.section(type, what);
    if (s.size() != count * elem)
      throw FormatError(f.where(type, what) + ": size " + std::to_string(s.size()) + " bytes, expected " +
                        std::to_string(count * elem) + " (" + std::to_string(count) + " points of " +
                        std::to_string(elem) + " bytes)");
    return s;
  };
  const Counts n = counts(h);
  parts_.ic = typed_view(sized(kSecIc, "IC", n.ic, kG1Bytes), ic_store_, f.where(kSecIc, "IC"));
  parts_.a = typed_view(sized(kSecA, "A", n.a, kG1Bytes), a_store_, f.where(kSecA, "A"));
  parts_.b1 = typed_view(sized(kSecB1, "B1", n.b1, kG1Bytes), b1_store_, f.where(kSecB1, "B1"));
  parts_.b2 = typed_view(sized(kSecB2, "B2", n.b2, kG2Bytes), b2_store_, f.where(kSecB2, "B2"));
  parts_.c = typed_view(sized(kSecC, "C", n.c, kG1Bytes), c_store_, f.where(kSecC, "C"));
  parts_.h = typed_view(sized(kSecH, "H", n.h, kG1Bytes), h_store_, f.where(kSecH, "H"));

  parts_.contributions = f.section(kSecContributions, "contributions");
  check_contributions(f.reader(kSecContributions, "contributions"));

  {
    const std::string where = f.where(kSecCoefs, "coefficients");
    ByteReader r = f.reader(kSecCoefs, "coefficients");
    uint32_t count = r.u32();
    if (r.remaining() != uint64_t{count} * kCoefBytes)
      r.fail("size " + std::to_string(r.remaining() + 4) + " bytes does not hold " + std::to_string(count) +
             " coefficients of " + std::to_string(kCoefBytes) + " bytes after the count");
    const ZkeyCoefRecords recs(r.bytes(r.remaining()).data(), count);
    fmt::FirstFailure failure;
    cpu::parallel_for(count, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) {
        std::string why = coef_problem(h, recs.matrix(i), recs.constraint(i), recs.signal(i));
        if (why.empty() && !fmt::below_r(recs.stored_value(i).mont())) why = "value is not below r";
        if (!why.empty()) {
          failure.record(i, where + ": coefficient " + std::to_string(i) + ": " + why);
          return;
        }
      }
    });
    failure.throw_if_any();
    records_ = recs;
  }

  if (check == ZkeyCheck::kPoints) check_section_points();
}

ZkeyCoef ZkeyCoefRecords::operator[](size_t i) const {
  return {matrix(i), constraint(i), signal(i), stored_value(i) * stored_factor()};
}

Fr ZkeyCoefRecords::stored_value(size_t i) const { return Fr::from_mont(u256_from_le_bytes(base_ + kBytes * i + 12)); }

struct Zkey::Decoded {
  std::once_flag once;
  std::unique_ptr<ZkeyCoef[]> coefs;
  ZkeyParts parts;
};

Zkey::Zkey(BinFile file) : file_(std::move(file)), decoded_(std::make_unique<Decoded>()) {}
Zkey::Zkey(Zkey&&) noexcept = default;
Zkey& Zkey::operator=(Zkey&&) noexcept = default;
Zkey::~Zkey() = default;

const ZkeyParts& Zkey::parts() const {
  Decoded& d = *decoded_;
  std::call_once(d.once, [&] {
    const size_t n = records_.size();
    d.coefs = std::make_unique_for_overwrite<ZkeyCoef[]>(n);
    cpu::parallel_for(n, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) d.coefs[i] = records_[i];
    });
    d.parts = parts_;
    d.parts.coefs = {d.coefs.get(), n};
  });
  return d.parts;
}

void Zkey::check_section_points() const {
  const BinFile& f = file_;
  check_points<G1Curve>(parts_.ic, f.where(kSecIc, "IC"));
  check_points<G1Curve>(parts_.a, f.where(kSecA, "A"));
  check_points<G1Curve>(parts_.b1, f.where(kSecB1, "B1"));
  check_points<G2Curve>(parts_.b2, f.where(kSecB2, "B2"));
  check_points<G1Curve>(parts_.c, f.where(kSecC, "C"));
  check_points<G1Curve>(parts_.h, f.where(kSecH, "H"));
}

// ---- writing --------------------------------------------------------------------------------

namespace {

void validate(const ZkeyParts& k) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("write_zkey: " + what); };
  const ZkeyHeader& h = k.header;
  if (auto why = header_problem(h); !why.empty()) bad(why);
  const Counts n = counts(h);
  auto expect = [&](const char* name, size_t got, uint64_t want) {
    if (got != want) bad(std::string(name) + " has " + std::to_string(got) + " points, the header implies " + std::to_string(want));
  };
  expect("IC", k.ic.size(), n.ic);
  expect("A", k.a.size(), n.a);
  expect("B1", k.b1.size(), n.b1);
  expect("B2", k.b2.size(), n.b2);
  expect("C", k.c.size(), n.c);
  expect("H", k.h.size(), n.h);
  if (k.coefs.size() > UINT32_MAX) bad("more than 2^32 - 1 coefficients");
  for (size_t i = 0; i < k.coefs.size(); ++i) {
    const ZkeyCoef& c = k.coefs[i];
    if (auto why = coef_problem(h, c.matrix, c.constraint, c.signal); !why.empty())
      bad("coefficient " + std::to_string(i) + ": " + why);
  }
  try {
    check_contributions(ByteReader(k.contributions, "contributions"));
  } catch (const FormatError& e) {
    bad(e.what());
  }
}

template <class P>
void write_points(BinWriter& w, std::span<const P> pts) {
  w.bytes(fmt::as_bytes(pts));
}

}  // namespace

void write_zkey(const std::string& path, const ZkeyParts& k) {
  validate(k);
  const ZkeyHeader& h = k.header;

  struct Planned {
    uint32_t type;
    uint64_t size;
    bool points;
  };
  const Planned order[] = {
      {kSecProtocol, 4, false},
      {kSecGroth16, kGroth16HeaderBytes, false},
      {kSecIc, k.ic.size_bytes(), true},
      {kSecH, k.h.size_bytes(), true},
      {kSecC, k.c.size_bytes(), true},
      {kSecA, k.a.size_bytes(), true},
      {kSecB1, k.b1.size_bytes(), true},
      {kSecB2, k.b2.size_bytes(), true},
      {kSecCoefs, 4 + kCoefBytes * k.coefs.size(), false},
      {kSecContributions, k.contributions.size(), false},
  };
  // Plan the padding: file header 12 bytes, then 12 bytes of section header before each payload.
  std::vector<uint32_t> types;
  uint64_t pos = 12;
  uint32_t pads = 0;
  for (const Planned& s : order) {
    if (s.points && (pos + 12) % alignof(G1Affine) != 0) {
      types.push_back(kZkeyPadSection + pads++);
      pos += 12;
    }
    types.push_back(s.type);
    pos += 12 + s.size;
  }

  BinWriter w(path, "zkey", 1, (uint32_t)types.size());
  for (uint32_t type : types) {
    w.begin_section(type);
    switch (type) {
      case kSecProtocol:
        w.u32(kProtocolGroth16);
        break;
      case kSecGroth16:
        w.u32(32);
        w.u256(Fq::MOD);
        w.u32(32);
        w.u256(Fr::MOD);
        w.u32(h.n_vars);
        w.u32(h.n_public);
        w.u32(h.domain_size);
        for (const G1Affine* p : {&h.alpha1, &h.beta1}) write_points<G1Affine>(w, {p, 1});
        for (const G2Affine* p : {&h.beta2, &h.gamma2}) write_points<G2Affine>(w, {p, 1});
        write_points<G1Affine>(w, {&h.delta1, 1});
        write_points<G2Affine>(w, {&h.delta2, 1});
        break;
      case kSecIc: write_points(w, k.ic); break;
      case kSecA: write_points(w, k.a); break;
      case kSecB1: write_points(w, k.b1); break;
      case kSecB2: write_points(w, k.b2); break;
      case kSecC: write_points(w, k.c); break;
      case kSecH: write_points(w, k.h); break;
      case kSecCoefs: {
        w.u32((uint32_t)k.coefs.size());
        // Encoded in blocks: one stdio call per coefficient field would dominate for big keys.
        constexpr size_t kBlock = 4096;
        std::vector<uint8_t> buf(kBlock * kCoefBytes);
        for (size_t b = 0; b < k.coefs.size(); b += kBlock) {
          size_t e = std::min(k.coefs.size(), b + kBlock);
          for (size_t i = b; i < e; ++i) {
            uint8_t* p = buf.data() + kCoefBytes * (i - b);
            const ZkeyCoef& c = k.coefs[i];
            fmt::put_le32(p, c.matrix);
            fmt::put_le32(p + 4, c.constraint);
            fmt::put_le32(p + 8, c.signal);
            u256_to_le_bytes(coef_to_stored(c.value), p + 12);
          }
          w.bytes({buf.data(), kCoefBytes * (e - b)});
        }
        break;
      }
      case kSecContributions: w.bytes(k.contributions); break;
      default: break;  // padding: empty
    }
    w.end_section();
  }
  w.close();
}

}  // namespace zkinfer::prover
