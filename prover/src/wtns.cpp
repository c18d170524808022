#include "zkinfer/prover/wtns.h"

#include <algorithm>
#include <stdexcept>

#include "cpu/parallel.h"
#include "format_util.h"

namespace zkinfer::prover {

namespace {

constexpr uint32_t kVersion = 2;
constexpr uint32_t kSecHeader = 1, kSecValues = 2;

std::vector<Fr> parse_file(const BinFile& f) {
  // Current circom and snarkjs write version 2, the layout in wtns.h; an older version is
  // refused by name rather than read on the guess that its layout is the same.
  if (f.version() != kVersion)
    throw FormatError(f.name() + ": unsupported .wtns version " + std::to_string(f.version()) +
                      " (this reader knows version 2)");
  ByteReader h = f.reader(kSecHeader, "header");
  fmt::expect_bn254_r(h);
  uint32_t n = h.u32();
  h.expect_end();

  const std::string where = f.where(kSecValues, "values");
  std::span<const uint8_t> s = f.section(kSecValues, "values");
  if (s.size() != uint64_t{n} * 32)
    throw FormatError(where + ": size " + std::to_string(s.size()) + " bytes, expected " +
                      std::to_string(uint64_t{n} * 32) + " for " + std::to_string(n) + " values");
  std::vector<Fr> w(n);
  fmt::FirstFailure failure;
  cpu::parallel_for(n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      U256 v = u256_from_le_bytes(s.data() + 32 * i);
      if (!fmt::below_r(v)) {
        failure.record(i, where + ": value " + std::to_string(i) + " (" + u256_to_decimal(v) + ") is not below r");
        return;
      }
      w[i] = Fr::from_canonical(v);
    }
  });
  failure.throw_if_any();
  return w;
}

}  // namespace

std::vector<Fr> read_wtns(const std::string& path) { return parse_file(BinFile::open(path, "wtns", kVersion)); }

std::vector<Fr> parse_wtns(std::span<const uint8_t> bytes, const std::string& name) {
  return parse_file(BinFile::parse(bytes, name, "wtns", kVersion));
}

void write_wtns(const std::string& path, std::span<const Fr> witness) {
  if (witness.size() > UINT32_MAX) throw std::invalid_argument("write_wtns: more than 2^32 - 1 values");
  BinWriter w(path, "wtns", kVersion, 2);
  w.begin_section(kSecHeader);
  w.u32(32);
  w.u256(Fr::MOD);
  w.u32((uint32_t)witness.size());
  w.end_section();
  w.begin_section(kSecValues);
  constexpr size_t kBlock = 8192;
  std::vector<uint8_t> buf(32 * kBlock);
  for (size_t b = 0; b < witness.size(); b += kBlock) {
    size_t e = std::min(witness.size(), b + kBlock);
    for (size_t i = b; i < e; ++i) u256_to_le_bytes(witness[i].to_canonical(), buf.data() + 32 * (i - b));
    w.bytes({buf.data(), 32 * (e - b)});
  }
  w.end_section();
  w.close();
}

}  // namespace zkinfer::prover
