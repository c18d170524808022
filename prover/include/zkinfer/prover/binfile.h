// The iden3 binary container shared by .r1cs, .wtns, .zkey and .ptau files:
//
//   magic (4 ASCII bytes) | version u32 | n_sections u32 |
//   n_sections x ( type u32 | size u64 | size bytes of payload )
//
// all integers little-endian. Sections are found by type, never by position (circom and snarkjs
// write them in different orders). Files are memory-mapped read-only; every read is bounds-checked
// and every error names the file and, where it applies, the section.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "zkinfer/ff/u256.h"

namespace zkinfer::prover {

// Every malformed input file is reported with this type: "FILE: section N: what".
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A read-only memory map of a whole file (empty files map to an empty span).
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Sequential, bounds-checked little-endian reads over one span; errors carry `where`
// ("circuit.r1cs: section 2").
class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> data, std::string where) : data_(data), where_(std::move(where)) {}

  uint32_t u32();
  uint64_t u64();
  U256 u256();  // 32 bytes little-endian
  std::span<const uint8_t> bytes(size_t n);
  void skip(size_t n) { bytes(n); }
  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  const std::string& where() const { return where_; }
  // Throws unless every byte was consumed.
  void expect_end() const;
  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  std::string where_;
};

// A parsed container: the mapped bytes and the section table.
class BinFile {
 public:
  // Maps `path`, checks the magic and that the version is in [1, max_version], and reads the
  // section table (sizes checked against the file size). A section type may appear once only.
  static BinFile open(const std::string& path, std::string_view magic, uint32_t max_version);
  // Same checks over bytes already in memory (fuzz targets, tests); `name` stands in for a path.
  static BinFile parse(std::span<const uint8_t> bytes, std::string name, std::string_view magic,
                       uint32_t max_version);

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  bool has(uint32_t type) const { return sections_.count(type) != 0; }
  // The payload of a section; throws FormatError "NAME: section T (what) is missing".
  std::span<const uint8_t> section(uint32_t type, const char* what) const;
  // A reader over that payload, with the file and section in its error messages.
  ByteReader reader(uint32_t type, const char* what) const;
  // "NAME: section T (what)" for messages.
  std::string where(uint32_t type, const char* what) const;
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  std::vector<MappedFile> map_;  // 0 or 1 entries: empty when parsing caller-owned bytes
  std::span<const uint8_t> bytes_;
  std::string name_;
  uint32_t version_ = 0;
  std::map<uint32_t, std::span<const uint8_t>> sections_;
};

// Writes a container section by section; sizes are patched in when a section ends.
// Errors (disk full, unwritable path) throw std::runtime_error naming the path.
class BinWriter {
 public:
  BinWriter(const std::string& path, std::string_view magic, uint32_t version, uint32_t n_sections);
  ~BinWriter();
  BinWriter(const BinWriter&) = delete;
  BinWriter& operator=(const BinWriter&) = delete;

  void begin_section(uint32_t type);
  void end_section();
  void u32(uint32_t v);
  void u64(uint64_t v);
  void u256(const U256& v);
  void bytes(std::span<const uint8_t> b);
  // Flushes and closes; checks that n_sections sections were written. Call before reading the
  // file back: the destructor closes without checks (and removes a file left incomplete).
  void close();

 private:
  void raw(const void* p, size_t n);
  std::string path_;
  std::FILE* f_ = nullptr;
  uint32_t n_sections_ = 0;
  uint32_t written_ = 0;
  long section_start_ = -1;
};

}  // namespace zkinfer::prover
