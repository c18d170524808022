// Runs a fuzz target without libFuzzer, so every compiler and every ctest run exercises it:
// each file of the corpus directories (or files) given on the command line, then a fixed number
// of deterministic mutations of each. Mutations are drawn from a generator seeded by the seed's
// position and size, so a failure replays exactly; they aim at what the iden3 containers are
// made of: bit flips, truncations, 32-bit count fields and 64-bit section sizes set to boundary
// values, section types changed, field elements replaced by the moduli, bytes inserted or cut.
//
//   replay_<target> [--mutations N] DIR_OR_FILE...
//
// A crash or abort in the target fails the run. With ZKINFER_REPLAY_VERBOSE set, each input is
// named on stderr before it runs, so the last line names the one that failed.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "zkinfer/ff/fields.h"
#include "zkinfer/ff/fp_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Bytes = std::vector<uint8_t>;

// Runs the target on an exact-size heap copy, so AddressSanitizer sees any read past the end.
void run(const Bytes& in) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[in.size() ? in.size() : 1]);
  if (!in.empty()) std::memcpy(copy.get(), in.data(), in.size());
  LLVMFuzzerTestOneInput(copy.get(), in.size());
}

void put(Bytes& b, size_t off, uint64_t v, size_t width) {
  for (size_t i = 0; i < width && off + i < b.size(); ++i) b[off + i] = (uint8_t)(v >> (8 * i));
}

uint64_t get(const Bytes& b, size_t off, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width && off + i < b.size(); ++i) v |= uint64_t{b[off + i]} << (8 * i);
  return v;
}

// Offsets of the section headers (type u32 | size u64) of an iden3 container, as far as the
// table is consistent.
std::vector<size_t> section_headers(const Bytes& b) {
  std::vector<size_t> out;
  if (b.size() < 12) return out;
  uint64_t n = get(b, 8, 4);
  size_t pos = 12;
  for (uint64_t i = 0; i < n && pos + 12 <= b.size(); ++i) {
    out.push_back(pos);
    uint64_t size = get(b, pos + 4, 8);
    if (size > b.size() - pos - 12) break;
    pos += 12 + size;
  }
  return out;
}

// BN254's p and r, little-endian: values just at the top of a field's range.
struct Moduli {
  uint8_t p[32], r[32];
  Moduli() {
    zkinfer::u256_to_le_bytes(zkinfer::Fq::MOD, p);
    zkinfer::u256_to_le_bytes(zkinfer::Fr::MOD, r);
  }
};
const Moduli kModuli;

Bytes mutate(const Bytes& seed, std::mt19937_64& rng) {
  Bytes b = seed;
  auto pick = [&](size_t n) { return n ? (size_t)(rng() % n) : 0; };
  const uint64_t n = b.size();
  const uint64_t u32s[] = {0, 1, 2, 3, 31, 32, 33, 64, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
                           n, n / 32, n / 44, n / 64, get(b, pick(n), 4) + 1, get(b, pick(n), 4) - 1};
  switch (rng() % 8) {
    case 0:  // flip 1 to 4 bits
      for (int k = 0, m = 1 + (int)(rng() % 4); k < m && n; ++k) b[pick(n)] ^= (uint8_t)(1u << (rng() % 8));
      break;
    case 1:  // truncate
      b.resize(pick(n));
      break;
    case 2: {  // a u32 count field (any offset, usually 4-aligned) to a boundary value
      size_t off = pick(n);
      if (rng() % 4) off &= ~size_t{3};
      put(b, off, u32s[rng() % std::size(u32s)], 4);
      break;
    }
    case 3: {  // a section's size
      auto hs = section_headers(b);
      if (hs.empty()) break;
      size_t h = hs[pick(hs.size())];
      uint64_t size = get(b, h + 4, 8);
      const uint64_t vals[] = {0, size - 1, size + 1, size - 4, size + 4, size - 32, size + 32, n - h - 12,
                               n - h - 11, uint64_t{1} << 32, uint64_t{1} << 63, ~uint64_t{0}};
      put(b, h + 4, vals[rng() % std::size(vals)], 8);
      break;
    }
    case 4: {  // a section's type
      auto hs = section_headers(b);
      if (hs.empty()) break;
      put(b, hs[pick(hs.size())], rng() % 12, 4);
      break;
    }
    case 5: {  // a 32-byte field element to p, r or 2^256 - 1
      if (n < 32) break;
      size_t off = pick(n - 31);
      if (rng() % 4) off &= ~size_t{3};
      int which = (int)(rng() % 3);
      for (size_t i = 0; i < 32; ++i) b[off + i] = which == 0 ? kModuli.p[i] : which == 1 ? kModuli.r[i] : 0xff;
      break;
    }
    case 6: {  // cut a chunk
      size_t off = pick(n), len = std::min<size_t>(1 + rng() % 64, n - off);
      b.erase(b.begin() + off, b.begin() + off + len);
      break;
    }
    default: {  // insert a chunk of a repeated byte
      size_t off = pick(n + 1), len = 1 + rng() % 64;
      b.insert(b.begin() + off, len, (uint8_t)rng());
      break;
    }
  }
  return b;
}

Bytes read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  size_t mutations = 1000;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--mutations" && i + 1 < argc) {
      mutations = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::directory_iterator(a))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (std::filesystem::is_regular_file(a)) {
      files.push_back(a);
    } else {
      std::fprintf(stderr, "replay: %s is neither a corpus directory nor a file\n", a.c_str());
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s [--mutations N] DIR_OR_FILE...  (no seed inputs found)\n", argv[0]);
    return 2;
  }
  std::sort(files.begin(), files.end());
  const bool verbose = std::getenv("ZKINFER_REPLAY_VERBOSE") != nullptr;
  size_t runs = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    const Bytes seed = read_file(files[f]);
    if (verbose) std::fprintf(stderr, "input %s\n", files[f].c_str());
    run(seed);
    ++runs;
    std::mt19937_64 rng(0x9e3779b97f4a7c15ull * (f + 1) ^ seed.size());
    for (size_t m = 0; m < mutations; ++m) {
      Bytes in = mutate(seed, rng);
      if (verbose) std::fprintf(stderr, "input %s mutation %zu\n", files[f].c_str(), m);
      run(in);
      ++runs;
    }
  }
  std::printf("replay: %zu inputs (%zu seeds, %zu mutations each) handled\n", runs, files.size(), mutations);
  return 0;
}
