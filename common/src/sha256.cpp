#include "zkinfer/common/sha256.h"

#include <sodium.h>

#include <fstream>
#include <stdexcept>
#include <vector>

namespace zkinfer::common {

struct Sha256::State {
  crypto_hash_sha256_state s;
};

Sha256::Sha256() : st_(std::make_unique<State>()) { crypto_hash_sha256_init(&st_->s); }
Sha256::~Sha256() = default;

void Sha256::update(std::span<const uint8_t> bytes) { crypto_hash_sha256_update(&st_->s, bytes.data(), bytes.size()); }
void Sha256::update(std::string_view bytes) {
  crypto_hash_sha256_update(&st_->s, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string Sha256::hex() {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st_->s, out);
  static const char* d = "0123456789abcdef";
  std::string h;
  h.reserve(2 * sizeof out);
  for (unsigned char b : out) {
    h += d[b >> 4];
    h += d[b & 15];
  }
  return h;
}

std::string sha256_hex(std::span<const uint8_t> bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hex();
}
std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hex();
}

std::string sha256_file_hex(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (f) {
    f.read(buf.data(), std::streamsize(buf.size()));
    h.update(std::string_view(buf.data(), size_t(f.gcount())));
  }
  if (f.bad()) throw std::runtime_error("error reading " + path);
  return h.hex();
}

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace zkinfer::common
