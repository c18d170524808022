#include "zkinfer/prover/r1cs.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "cpu/parallel.h"
#include "format_util.h"

namespace zkinfer::prover {

namespace {

constexpr uint32_t kSecHeader = 1, kSecConstraints = 2, kSecLabels = 3;
constexpr uint32_t kSecCustomGates = 4, kSecCustomGateUses = 5;
constexpr size_t kHeaderBytes = 64;  // n8 | prime | 4 x u32 | u64 | u32
constexpr size_t kTermBytes = 36;    // wire u32 | coefficient 32 bytes
constexpr size_t kLcCountBytes = 4;
const char* const kMatrixName[3] = {"A", "B", "C"};

R1csHeader read_header(const BinFile& f) {
  ByteReader r = f.reader(kSecHeader, "header");
  if (r.remaining() != kHeaderBytes)
    r.fail("size " + std::to_string(r.remaining()) + " bytes, expected " + std::to_string(kHeaderBytes));
  fmt::expect_bn254_r(r);
  R1csHeader h;
  h.n_wires = r.u32();
  h.n_pub_out = r.u32();
  h.n_pub_in = r.u32();
  h.n_prv_in = r.u32();
  h.n_labels = r.u64();
  h.n_constraints = r.u32();
  uint64_t inputs = uint64_t{1} + h.n_pub_out + h.n_pub_in + h.n_prv_in;
  if (inputs > h.n_wires)
    r.fail("n_wires " + std::to_string(h.n_wires) + " is less than the constant wire plus " +
           std::to_string(inputs - 1) + " outputs and inputs");
  return h;
}

// Pass 1 over section 2: the structure only (term counts and lengths), giving every row's
// start in all three matrices. Pass 2 can then decode constraints in parallel, each at the
// byte offset its term counts imply, without bounds checks per term.
void read_row_starts(const BinFile& f, const R1csHeader& h, R1cs& cs) {
  std::span<const uint8_t> s = f.section(kSecConstraints, "constraints");
  const std::string where = f.where(kSecConstraints, "constraints");
  const uint64_t nc = h.n_constraints;
  if (s.size() < nc * 3 * kLcCountBytes)
    throw FormatError(where + ": size " + std::to_string(s.size()) + " bytes is too small for " +
                      std::to_string(nc) + " constraints");
  SparseMatrix* m[3] = {&cs.a, &cs.b, &cs.c};
  for (auto* x : m) x->row_start.assign(nc + 1, 0);
  uint64_t pos = 0, total[3] = {0, 0, 0};
  for (uint64_t i = 0; i < nc; ++i) {
    for (int k = 0; k < 3; ++k) {
      if (s.size() - pos < kLcCountBytes)
        throw FormatError(where + ": constraint " + std::to_string(i) + " " + kMatrixName[k] +
                          ": truncated before the term count");
      uint32_t n = fmt::le32(s.data() + pos);
      pos += kLcCountBytes;
      if ((s.size() - pos) / kTermBytes < n)
        throw FormatError(where + ": constraint " + std::to_string(i) + " " + kMatrixName[k] + ": " +
                          std::to_string(n) + " terms need " + std::to_string(uint64_t{n} * kTermBytes) +
                          " bytes, " + std::to_string(s.size() - pos) + " remain");
      pos += uint64_t{n} * kTermBytes;
      total[k] += n;
      m[k]->row_start[i + 1] = total[k];
    }
  }
  if (pos != s.size())
    throw FormatError(where + ": " + std::to_string(s.size() - pos) + " unexpected bytes after constraint " +
                      std::to_string(nc));
  for (int k = 0; k < 3; ++k) {
    m[k]->wire.resize(total[k]);
    m[k]->coeff.resize(total[k]);
  }
}

void read_terms(const BinFile& f, const R1csHeader& h, R1cs& cs) {
  const uint8_t* base = f.section(kSecConstraints, "constraints").data();
  const std::string where = f.where(kSecConstraints, "constraints");
  SparseMatrix* m[3] = {&cs.a, &cs.b, &cs.c};
  fmt::FirstFailure failure;
  cpu::parallel_for(h.n_constraints, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      const uint8_t* p = base + kLcCountBytes * 3 * i +
                         kTermBytes * (cs.a.row_start[i] + cs.b.row_start[i] + cs.c.row_start[i]);
      for (int k = 0; k < 3; ++k) {
        p += kLcCountBytes;
        for (uint64_t t = m[k]->row_start[i]; t < m[k]->row_start[i + 1]; ++t, p += kTermBytes) {
          uint32_t wire = fmt::le32(p);
          U256 v = u256_from_le_bytes(p + 4);
          if (wire >= h.n_wires || !fmt::below_r(v)) {
            std::string what = where + ": constraint " + std::to_string(i) + " " + kMatrixName[k] + " term " +
                               std::to_string(t - m[k]->row_start[i]) + ": ";
            what += wire >= h.n_wires ? "wire " + std::to_string(wire) + " is not below n_wires " +
                                            std::to_string(h.n_wires)
                                      : "coefficient " + u256_to_decimal(v) + " is not below r";
            failure.record(i, std::move(what));
            return;
          }
          m[k]->wire[t] = wire;
          m[k]->coeff[t] = Fr::from_canonical(v);
        }
      }
    }
  });
  failure.throw_if_any();
}

std::vector<uint64_t> read_labels(const BinFile& f, const R1csHeader& h) {
  if (!f.has(kSecLabels)) return {};
  ByteReader r = f.reader(kSecLabels, "wire to label map");
  if (r.remaining() != uint64_t{h.n_wires} * 8)
    r.fail("size " + std::to_string(r.remaining()) + " bytes, expected " + std::to_string(uint64_t{h.n_wires} * 8) +
           " (8 bytes for each of " + std::to_string(h.n_wires) + " wires)");
  std::vector<uint64_t> labels(h.n_wires);
  for (uint32_t i = 0; i < h.n_wires; ++i) {
    labels[i] = r.u64();
    if (labels[i] >= h.n_labels)
      r.fail("wire " + std::to_string(i) + " has label " + std::to_string(labels[i]) + ", not below n_labels " +
             std::to_string(h.n_labels));
  }
  return labels;
}

R1cs parse_file(const BinFile& f) {
  for (uint32_t t : {kSecCustomGates, kSecCustomGateUses})
    if (f.has(t))
      throw FormatError(f.where(t, "custom gates") +
                        ": circuits with custom gates (PLONK only) cannot be proved with Groth16");
  R1cs cs;
  cs.header = read_header(f);
  read_row_starts(f, cs.header, cs);
  read_terms(f, cs.header, cs);
  cs.wire_to_label = read_labels(f, cs.header);
  return cs;
}

}  // namespace

void SparseMatrix::add_row(std::span<const uint32_t> wires, std::span<const Fr> coeffs) {
  if (wires.size() != coeffs.size())
    throw std::invalid_argument("SparseMatrix::add_row: " + std::to_string(wires.size()) + " wires but " +
                                std::to_string(coeffs.size()) + " coefficients");
  wire.insert(wire.end(), wires.begin(), wires.end());
  coeff.insert(coeff.end(), coeffs.begin(), coeffs.end());
  row_start.push_back(wire.size());
}

R1cs read_r1cs(const std::string& path) { return parse_file(BinFile::open(path, "r1cs", 1)); }

R1cs parse_r1cs(std::span<const uint8_t> bytes, const std::string& name) {
  return parse_file(BinFile::parse(bytes, name, "r1cs", 1));
}

// ---- writing --------------------------------------------------------------------------------

namespace {

void validate(const R1cs& cs) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("write_r1cs: " + what); };
  const R1csHeader& h = cs.header;
  if (uint64_t{1} + h.n_pub_out + h.n_pub_in + h.n_prv_in > h.n_wires)
    bad("n_wires " + std::to_string(h.n_wires) + " is less than the constant wire plus outputs and inputs");
  const SparseMatrix* m[3] = {&cs.a, &cs.b, &cs.c};
  for (int k = 0; k < 3; ++k) {
    const SparseMatrix& x = *m[k];
    if (x.row_start.empty() || x.rows() != h.n_constraints)
      bad(std::string(kMatrixName[k]) + " has " + std::to_string(x.row_start.empty() ? 0 : x.rows()) +
          " rows, the header says " + std::to_string(h.n_constraints) + " constraints");
    if (x.row_start.front() != 0 || x.row_start.back() != x.wire.size() || x.wire.size() != x.coeff.size() ||
        !std::is_sorted(x.row_start.begin(), x.row_start.end()))
      bad(std::string(kMatrixName[k]) + ": row_start, wire and coeff do not agree");
    for (size_t i = 0; i + 1 < x.row_start.size(); ++i)
      if (x.row_start[i + 1] - x.row_start[i] > UINT32_MAX)
        bad(std::string(kMatrixName[k]) + " row " + std::to_string(i) + " has more than 2^32 - 1 terms");
    for (uint32_t w : x.wire)
      if (w >= h.n_wires) bad(std::string(kMatrixName[k]) + ": wire " + std::to_string(w) + " is not below n_wires");
  }
  if (!cs.wire_to_label.empty() && cs.wire_to_label.size() != h.n_wires)
    bad("wire_to_label has " + std::to_string(cs.wire_to_label.size()) + " entries for " +
        std::to_string(h.n_wires) + " wires");
  uint64_t max_label = cs.wire_to_label.empty() ? (h.n_wires ? h.n_wires - 1 : 0)
                                                : *std::max_element(cs.wire_to_label.begin(), cs.wire_to_label.end());
  if (h.n_wires && max_label >= h.n_labels)
    bad("label " + std::to_string(max_label) + " is not below n_labels " + std::to_string(h.n_labels));
}

}  // namespace

void write_r1cs(const std::string& path, const R1cs& cs) {
  validate(cs);
  const R1csHeader& h = cs.header;
  BinWriter w(path, "r1cs", 1, 3);

  w.begin_section(kSecHeader);
  w.u32(32);
  w.u256(Fr::MOD);
  w.u32(h.n_wires);
  w.u32(h.n_pub_out);
  w.u32(h.n_pub_in);
  w.u32(h.n_prv_in);
  w.u64(h.n_labels);
  w.u32(h.n_constraints);
  w.end_section();

  // Constraints are encoded into a buffer flushed every few thousand terms.
  w.begin_section(kSecConstraints);
  std::vector<uint8_t> buf;
  const SparseMatrix* m[3] = {&cs.a, &cs.b, &cs.c};
  for (uint32_t i = 0; i < h.n_constraints; ++i) {
    for (const SparseMatrix* x : m) {
      uint64_t b = x->row_start[i], e = x->row_start[i + 1];
      size_t at = buf.size();
      buf.resize(at + kLcCountBytes + kTermBytes * (e - b));
      uint8_t* p = buf.data() + at;
      fmt::put_le32(p, (uint32_t)(e - b));
      p += kLcCountBytes;
      for (uint64_t t = b; t < e; ++t, p += kTermBytes) {
        fmt::put_le32(p, x->wire[t]);
        u256_to_le_bytes(x->coeff[t].to_canonical(), p + 4);
      }
    }
    if (buf.size() >= (1u << 18)) {
      w.bytes(buf);
      buf.clear();
    }
  }
  w.bytes(buf);
  w.end_section();

  w.begin_section(kSecLabels);
  for (uint32_t i = 0; i < h.n_wires; ++i) w.u64(cs.wire_to_label.empty() ? i : cs.wire_to_label[i]);
  w.end_section();
  w.close();
}

// ---- checking a witness ---------------------------------------------------------------------

bool r1cs_satisfied(const R1cs& cs, std::span<const Fr> witness, std::string* why) {
  auto fail = [&](std::string what) {
    if (why) *why = std::move(what);
    return false;
  };
  if (witness.size() != cs.header.n_wires)
    return fail("witness has " + std::to_string(witness.size()) + " values, the circuit " +
                std::to_string(cs.header.n_wires) + " wires");
  if (witness.empty() || !witness[0].is_one()) return fail("witness[0] (the constant wire) is not 1");

  // <row i of m, witness>; false when a wire is out of range (an R1cs built by hand).
  auto dot = [&](const SparseMatrix& m, size_t i, Fr& out) {
    Fr acc = Fr::zero();
    for (uint64_t t = m.row_start[i]; t < m.row_start[i + 1]; ++t) {
      if (m.wire[t] >= witness.size()) return false;
      acc += m.coeff[t] * witness[m.wire[t]];
    }
    out = acc;
    return true;
  };
  const size_t nc = std::min({cs.a.rows(), cs.b.rows(), cs.c.rows()});
  if (nc != cs.header.n_constraints)
    return fail("the matrices do not all have " + std::to_string(cs.header.n_constraints) + " rows");
  std::atomic<size_t> first_bad{nc};
  cpu::parallel_for(nc, [&](size_t b, size_t e) {
    for (size_t i = b; i < e && i < first_bad.load(std::memory_order_relaxed); ++i) {
      Fr va, vb, vc;
      if (!dot(cs.a, i, va) || !dot(cs.b, i, vb) || !dot(cs.c, i, vc) || va * vb != vc) {
        size_t cur = first_bad.load();
        while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {
        }
        return;
      }
    }
  });
  size_t bad = first_bad.load();
  if (bad == nc) return true;
  Fr va, vb, vc;
  if (!dot(cs.a, bad, va) || !dot(cs.b, bad, vb) || !dot(cs.c, bad, vc))
    return fail("constraint " + std::to_string(bad) + " refers to a wire beyond the witness");
  return fail("constraint " + std::to_string(bad) + " is not satisfied: A = " + field_to_decimal(va) +
              ", B = " + field_to_decimal(vb) + ", C = " + field_to_decimal(vc));
}

}  // namespace zkinfer::prover
