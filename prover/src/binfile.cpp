#include "zkinfer/prover/binfile.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "zkinfer/ff/fp_io.h"

namespace zkinfer::prover {

namespace {
uint32_t le32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24); }
uint64_t le64(const uint8_t* p) { return le32(p) | ((uint64_t)le32(p + 4) << 32); }
}  // namespace

// ---- MappedFile -----------------------------------------------------------------------------

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error(path + ": not a regular file" + (err ? std::string(": ") + std::strerror(err) : ""));
  }
  size_ = (size_t)st.st_size;
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      throw std::runtime_error(path + ": cannot map: " + std::strerror(err));
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : path_(std::move(o.path_)), data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    path_ = std::move(o.path_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

// ---- ByteReader -----------------------------------------------------------------------------

void ByteReader::fail(const std::string& what) const { throw FormatError(where_ + ": " + what); }

std::span<const uint8_t> ByteReader::bytes(size_t n) {
  if (n > remaining())
    fail("truncated: needs " + std::to_string(n) + " more bytes at offset " + std::to_string(pos_) +
         ", has " + std::to_string(remaining()));
  auto s = data_.subspan(pos_, n);
  pos_ += n;
  return s;
}

uint32_t ByteReader::u32() { return le32(bytes(4).data()); }
uint64_t ByteReader::u64() { return le64(bytes(8).data()); }
U256 ByteReader::u256() { return u256_from_le_bytes(bytes(32).data()); }

void ByteReader::expect_end() const {
  if (remaining() != 0)
    fail(std::to_string(remaining()) + " unexpected bytes after offset " + std::to_string(pos_));
}

// ---- BinFile --------------------------------------------------------------------------------

BinFile BinFile::open(const std::string& path, std::string_view magic, uint32_t max_version) {
  MappedFile m(path);
  auto bytes = m.bytes();
  BinFile f = parse(bytes, path, magic, max_version);
  f.map_.push_back(std::move(m));  // the spans point into the mapping, which does not move
  return f;
}

BinFile BinFile::parse(std::span<const uint8_t> bytes, std::string name, std::string_view magic,
                       uint32_t max_version) {
  BinFile f;
  f.bytes_ = bytes;
  f.name_ = std::move(name);
  ByteReader r(bytes, f.name_);
  if (bytes.size() < 12)
    r.fail("not a ." + std::string(magic) + " file: " + std::to_string(bytes.size()) +
           " bytes is shorter than the 12-byte header");
  auto m = r.bytes(4);
  if (std::memcmp(m.data(), magic.data(), 4) != 0) {
    std::string got;
    for (uint8_t c : m) got += (c >= 32 && c < 127) ? (char)c : '?';
    r.fail("not a ." + std::string(magic) + " file: magic is \"" + got + "\", expected \"" +
           std::string(magic) + "\"");
  }
  f.version_ = r.u32();
  if (f.version_ < 1 || f.version_ > max_version)
    r.fail("unsupported ." + std::string(magic) + " version " + std::to_string(f.version_) +
           " (this reader knows versions 1 to " + std::to_string(max_version) + ")");
  uint32_t n = r.u32();
  for (uint32_t i = 0; i < n; ++i) {
    if (r.remaining() < 12)
      r.fail("truncated section table: section " + std::to_string(i + 1) + " of " + std::to_string(n) +
             " has no header");
    uint32_t type = r.u32();
    uint64_t size = r.u64();
    if (size > r.remaining())
      r.fail("truncated: section " + std::to_string(type) + " declares " + std::to_string(size) +
             " bytes, " + std::to_string(r.remaining()) + " remain in the file");
    auto payload = r.bytes((size_t)size);
    if (!f.sections_.emplace(type, payload).second)
      r.fail("section " + std::to_string(type) + " appears more than once");
  }
  if (r.remaining() != 0)
    r.fail(std::to_string(r.remaining()) + " bytes after the last of " + std::to_string(n) + " sections");
  return f;
}

std::string BinFile::where(uint32_t type, const char* what) const {
  return name_ + ": section " + std::to_string(type) + " (" + what + ")";
}

std::span<const uint8_t> BinFile::section(uint32_t type, const char* what) const {
  auto it = sections_.find(type);
  if (it == sections_.end()) throw FormatError(where(type, what) + " is missing");
  return it->second;
}

ByteReader BinFile::reader(uint32_t type, const char* what) const {
  return ByteReader(section(type, what), where(type, what));
}

// ---- BinWriter ------------------------------------------------------------------------------

BinWriter::BinWriter(const std::string& path, std::string_view magic, uint32_t version, uint32_t n_sections)
    : path_(path), n_sections_(n_sections) {
  if (magic.size() != 4) throw std::invalid_argument("binfile magic must be 4 bytes");
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
  raw(magic.data(), 4);
  u32(version);
  u32(n_sections);
}

BinWriter::~BinWriter() {
  if (f_) {
    std::fclose(f_);
    std::remove(path_.c_str());  // an incomplete file must not look like a valid one
  }
}

void BinWriter::raw(const void* p, size_t n) {
  if (n && std::fwrite(p, 1, n, f_) != n)
    throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
}

void BinWriter::u32(uint32_t v) {
  uint8_t b[4];
  for (int i = 0; i < 4; ++i) b[i] = (uint8_t)(v >> (8 * i));
  raw(b, 4);
}
void BinWriter::u64(uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = (uint8_t)(v >> (8 * i));
  raw(b, 8);
}
void BinWriter::u256(const U256& v) {
  uint8_t b[32];
  u256_to_le_bytes(v, b);
  raw(b, 32);
}
void BinWriter::bytes(std::span<const uint8_t> b) { raw(b.data(), b.size()); }

void BinWriter::begin_section(uint32_t type) {
  if (section_start_ >= 0) throw std::logic_error(path_ + ": section begun inside another");
  if (written_ == n_sections_) throw std::logic_error(path_ + ": more sections than declared");
  u32(type);
  u64(0);  // patched by end_section
  section_start_ = std::ftell(f_);
}

void BinWriter::end_section() {
  if (section_start_ < 0) throw std::logic_error(path_ + ": end_section without begin_section");
  long end = std::ftell(f_);
  if (std::fseek(f_, section_start_ - 8, SEEK_SET) != 0)
    throw std::runtime_error(path_ + ": seek failed: " + std::strerror(errno));
  u64((uint64_t)(end - section_start_));
  if (std::fseek(f_, end, SEEK_SET) != 0)
    throw std::runtime_error(path_ + ": seek failed: " + std::strerror(errno));
  section_start_ = -1;
  ++written_;
}

void BinWriter::close() {
  if (!f_) return;
  if (section_start_ >= 0) throw std::logic_error(path_ + ": closed inside a section");
  if (written_ != n_sections_)
    throw std::logic_error(path_ + ": " + std::to_string(written_) + " sections written, " +
                           std::to_string(n_sections_) + " declared");
  bool ok = std::fflush(f_) == 0;
  ok = (std::fclose(f_) == 0) && ok;
  f_ = nullptr;
  if (!ok) {
    std::remove(path_.c_str());
    throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
  }
}

}  // namespace zkinfer::prover
