// A content-addressed directory of artifacts (models, circuits, keys, witnesses, h vectors,
// proofs): each file is named by the SHA-256 of its bytes (proto/zkinfer.proto, "Bulk data").
// The coordinator keeps one beside its job store; every worker keeps one as its disk cache.
//
// Files enter only through a temporary file in DIR/tmp that is hashed and then renamed into
// place, so a file under its name is always complete and correct, also after a crash.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "zkinfer/common/sha256.h"

namespace zkinfer::common {

class ArtifactStore {
 public:
  // Creates DIR (and DIR/tmp, emptied of leftovers of an earlier run) when needed.
  explicit ArtifactStore(std::string dir);

  const std::string& dir() const { return dir_; }
  // Throws std::invalid_argument unless `sha` is 64 lowercase hex digits.
  std::string path(std::string_view sha) const;
  bool has(std::string_view sha) const;
  // The artifact's size; throws std::out_of_range naming it when it is not here.
  uint64_t size(std::string_view sha) const;
  // Up to max_bytes from `offset` (empty at or past the end); throws std::out_of_range when absent.
  std::string read_chunk(std::string_view sha, uint64_t offset, uint32_t max_bytes) const;
  std::string read_all(std::string_view sha) const;

  // Store bytes or a copy of a file; returns the hash. Storing what is already here is a no-op.
  std::string put(std::string_view bytes);
  std::string put_file(const std::string& file);

  std::vector<std::string> list() const;  // hashes, sorted
  // Marks the artifact as just used (its modification time), for retention by age.
  void touch(std::string_view sha);
  uint64_t total_bytes() const;
  void remove(std::string_view sha);

  // A fresh path in DIR/tmp for a file that will be adopted by `adopt` (or removed by its writer).
  std::string temp_path() const;
  // Hashes `tmp_file`, checks it equals `expected_sha` when that is not empty (else throws
  // std::invalid_argument naming both hashes, and removes the file), and renames it into place.
  std::string adopt(const std::string& tmp_file, std::string_view expected_sha = {});

 private:
  std::string dir_;
};

// One artifact arriving in chunks, in offset order (ArtifactChunk): written to a temporary file,
// hashed as it comes, and moved into the store by finish() only when the hash matches. The
// temporary file is removed when the upload is dropped unfinished.
class ArtifactUpload {
 public:
  // Throws std::invalid_argument for a malformed hash, or a total_size above max_bytes (naming
  // both sizes).
  ArtifactUpload(ArtifactStore& store, std::string sha, uint64_t total_size, uint64_t max_bytes);
  ~ArtifactUpload();
  ArtifactUpload(const ArtifactUpload&) = delete;
  ArtifactUpload& operator=(const ArtifactUpload&) = delete;

  // Appends one chunk. Throws std::invalid_argument when the chunk names another artifact or
  // total size, does not start at the next byte, or runs past total_size.
  void append(std::string_view sha, uint64_t total_size, uint64_t offset, std::string_view data);
  bool complete() const { return received_ == total_; }
  uint64_t received() const { return received_; }
  const std::string& sha() const { return sha_; }
  // When complete: checks the hash (std::invalid_argument naming what it hashed to, and the
  // partial file is dropped) and moves the file into the store.
  void finish();

 private:
  ArtifactStore& store_;
  std::string sha_, tmp_;
  uint64_t total_, received_ = 0;
  std::ofstream out_;
  Sha256 hash_;
  bool done_ = false;
};

}  // namespace zkinfer::common
