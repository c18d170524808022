// Helpers for tests of the iden3 container formats: temporary files, the committed fixtures in
// tests/data, and a trusting split/join of a container so tests can reorder, duplicate, resize
// or corrupt sections of a valid file.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace zkinfer::testing {

// tests/data, found from this header's own path (CMake passes absolute source paths).
inline std::filesystem::path test_data_dir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "data";
}

// A file name in the temporary directory, unique to this process and test; removed on scope exit.
class TempPath {
 public:
  explicit TempPath(const std::string& suffix) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string test = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
    std::replace(test.begin(), test.end(), '/', '_');  // parameterized tests: "Suite/Test/param"
    path_ = (std::filesystem::temp_directory_path() /
             ("zkinfer-" + std::to_string(::getpid()) + "-" + test + "-" + std::to_string(counter()++) + suffix))
                .string();
  }
  ~TempPath() { std::filesystem::remove(path_); }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  const std::string& str() const { return path_; }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::string path_;
};

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), (std::streamsize)bytes.size());
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline uint32_t get_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // little-endian host, as the formats
  return v;
}
inline void put_u32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

struct RawSection {
  uint32_t type;
  std::vector<uint8_t> payload;
};

struct RawFile {
  std::string magic;
  uint32_t version = 0;
  std::vector<RawSection> sections;

  RawSection& section(uint32_t type) {
    for (auto& s : sections)
      if (s.type == type) return s;
    throw std::runtime_error("no section " + std::to_string(type));
  }
  // Moves the sections into the given order of types (each present type listed once).
  void reorder(const std::vector<uint32_t>& types) {
    std::vector<RawSection> out;
    for (uint32_t t : types) out.push_back(section(t));
    sections = std::move(out);
  }
};

// Splits a valid container (no checks beyond what the test data needs).
inline RawFile split(const std::vector<uint8_t>& b) {
  RawFile f;
  f.magic.assign(b.begin(), b.begin() + 4);
  f.version = get_u32(&b[4]);
  uint32_t n = get_u32(&b[8]);
  size_t pos = 12;
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t type = get_u32(&b[pos]);
    uint64_t size;
    std::memcpy(&size, &b[pos + 4], 8);
    pos += 12;
    f.sections.push_back({type, std::vector<uint8_t>(b.begin() + pos, b.begin() + pos + size)});
    pos += size;
  }
  return f;
}

inline std::vector<uint8_t> join(const RawFile& f) {
  std::vector<uint8_t> b(f.magic.begin(), f.magic.end());
  auto u32 = [&](uint32_t v) {
    uint8_t t[4];
    put_u32(t, v);
    b.insert(b.end(), t, t + 4);
  };
  u32(f.version);
  u32((uint32_t)f.sections.size());
  for (const auto& s : f.sections) {
    u32(s.type);
    uint64_t size = s.payload.size();
    uint8_t t[8];
    std::memcpy(t, &size, 8);
    b.insert(b.end(), t, t + 8);
    b.insert(b.end(), s.payload.begin(), s.payload.end());
  }
  return b;
}

// Offset of a section's payload in a joined file.
inline size_t payload_offset(const RawFile& f, uint32_t type) {
  size_t pos = 12;
  for (const auto& s : f.sections) {
    pos += 12;
    if (s.type == type) return pos;
    pos += s.payload.size();
  }
  throw std::runtime_error("no section " + std::to_string(type));
}

}  // namespace zkinfer::testing
