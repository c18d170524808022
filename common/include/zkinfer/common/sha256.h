// SHA-256 (libsodium), lowercase hex: the names of content-addressed artifacts (proto/zkinfer.proto).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace zkinfer::common {

// Incremental hashing, for artifacts that arrive in chunks.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::span<const uint8_t> bytes);
  void update(std::string_view bytes);
  std::string hex();  // finishes; the object must not be updated afterwards

 private:
  struct State;
  std::unique_ptr<State> st_;
};

std::string sha256_hex(std::span<const uint8_t> bytes);
std::string sha256_hex(std::string_view bytes);
// Reads the file in blocks; throws std::runtime_error naming it when it cannot be read.
std::string sha256_file_hex(const std::string& path);

// True for 64 lowercase hex digits: the only names the artifact store accepts (they become file
// names, so nothing else may reach a path).
bool is_sha256_hex(std::string_view s);

}  // namespace zkinfer::common
