#include "zkinfer/common/artifact_store.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <system_error>

namespace zkinfer::common {

namespace fs = std::filesystem;

ArtifactStore::ArtifactStore(std::string dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_ + "/tmp");
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_ + "/tmp")) fs::remove_all(e.path(), ec);
}

std::string ArtifactStore::path(std::string_view sha) const {
  if (!is_sha256_hex(sha)) throw std::invalid_argument("not an artifact name (64 lowercase hex digits): '" + std::string(sha.substr(0, 80)) + "'");
  return dir_ + "/" + std::string(sha);
}

bool ArtifactStore::has(std::string_view sha) const {
  if (!is_sha256_hex(sha)) return false;
  std::error_code ec;
  return fs::is_regular_file(path(sha), ec);
}

uint64_t ArtifactStore::size(std::string_view sha) const {
  std::error_code ec;
  const auto n = fs::file_size(path(sha), ec);
  if (ec) throw std::out_of_range("artifact " + std::string(sha) + " not found");
  return n;
}

std::string ArtifactStore::read_chunk(std::string_view sha, uint64_t offset, uint32_t max_bytes) const {
  const uint64_t total = size(sha);
  if (offset >= total) return {};
  std::ifstream f(path(sha), std::ios::binary);
  if (!f) throw std::out_of_range("artifact " + std::string(sha) + " not found");
  std::string out(size_t(std::min<uint64_t>(max_bytes, total - offset)), '\0');
  f.seekg(std::streamoff(offset));
  f.read(out.data(), std::streamsize(out.size()));
  if (size_t(f.gcount()) != out.size()) throw std::runtime_error("artifact " + std::string(sha) + ": short read");
  return out;
}

std::string ArtifactStore::read_all(std::string_view sha) const {
  const uint64_t n = size(sha);
  std::string out;
  out.reserve(size_t(n));
  while (out.size() < n) out += read_chunk(sha, out.size(), 1u << 26);
  return out;
}

std::string ArtifactStore::temp_path() const {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return dir_ + "/tmp/" + std::to_string(counter++) + "-" + std::to_string(rng());
}

std::string ArtifactStore::adopt(const std::string& tmp_file, std::string_view expected_sha) {
  const std::string got = sha256_file_hex(tmp_file);
  if (!expected_sha.empty() && got != expected_sha) {
    std::error_code ec;
    fs::remove(tmp_file, ec);
    throw std::invalid_argument("artifact " + std::string(expected_sha) + ": content hashes to " + got);
  }
  if (has(got)) {
    std::error_code ec;
    fs::remove(tmp_file, ec);
  } else {
    fs::rename(tmp_file, path(got));
  }
  return got;
}

std::string ArtifactStore::put(std::string_view bytes) {
  const std::string sha = sha256_hex(bytes);
  if (has(sha)) return sha;
  const std::string tmp = temp_path();
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write(bytes.data(), std::streamsize(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + tmp);
  }
  return adopt(tmp, sha);
}

std::string ArtifactStore::put_file(const std::string& file) {
  const std::string tmp = temp_path();
  fs::copy_file(file, tmp);
  return adopt(tmp);
}

std::vector<std::string> ArtifactStore::list() const {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && is_sha256_hex(name)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t ArtifactStore::total_bytes() const {
  uint64_t n = 0;
  for (const auto& s : list()) n += size(s);
  return n;
}

void ArtifactStore::touch(std::string_view sha) {
  std::error_code ec;
  fs::last_write_time(path(sha), fs::file_time_type::clock::now(), ec);
}

void ArtifactStore::remove(std::string_view sha) {
  std::error_code ec;
  fs::remove(path(sha), ec);
}

ArtifactUpload::ArtifactUpload(ArtifactStore& store, std::string sha, uint64_t total_size, uint64_t max_bytes)
    : store_(store), sha_(std::move(sha)), total_(total_size) {
  store_.path(sha_);  // validates the name
  if (total_size > max_bytes)
    throw std::invalid_argument("artifact " + sha_ + " is " + std::to_string(total_size) + " bytes, above the limit of " +
                                std::to_string(max_bytes));
  tmp_ = store_.temp_path();
  out_.open(tmp_, std::ios::binary);
  if (!out_) throw std::runtime_error("cannot write " + tmp_);
}

ArtifactUpload::~ArtifactUpload() {
  if (!done_) {
    out_.close();
    std::error_code ec;
    fs::remove(tmp_, ec);
  }
}

void ArtifactUpload::append(std::string_view sha, uint64_t total_size, uint64_t offset, std::string_view data) {
  if (sha != sha_ || total_size != total_)
    throw std::invalid_argument("chunk of artifact " + std::string(sha.substr(0, 64)) + " (" + std::to_string(total_size) +
                                " bytes) does not continue the upload of " + sha_ + " (" + std::to_string(total_) + " bytes)");
  if (offset != received_)
    throw std::invalid_argument("artifact " + sha_ + ": chunk at offset " + std::to_string(offset) + ", expected " +
                                std::to_string(received_));
  if (data.size() > total_ - received_)
    throw std::invalid_argument("artifact " + sha_ + ": chunk runs past its total size of " + std::to_string(total_));
  out_.write(data.data(), std::streamsize(data.size()));
  if (!out_) throw std::runtime_error("cannot write " + tmp_);
  hash_.update(data);
  received_ += data.size();
}

void ArtifactUpload::finish() {
  if (!complete())
    throw std::invalid_argument("artifact " + sha_ + ": " + std::to_string(received_) + " of " + std::to_string(total_) +
                                " bytes received");
  out_.close();
  const std::string got = hash_.hex();
  if (got != sha_) throw std::invalid_argument("artifact " + sha_ + ": content hashes to " + got);
  if (store_.has(sha_)) {
    std::error_code ec;
    fs::remove(tmp_, ec);
  } else {
    fs::rename(tmp_, store_.path(sha_));
  }
  done_ = true;
}

}  // namespace zkinfer::common
