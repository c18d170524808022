// libFuzzer target: what the cluster's peers decode from the network (proto/zkinfer.proto). The
// input is one frame, read as each top-level message of both sockets; what parses has its
// payloads decoded as the coordinator and worker decode them: partial points (G1, G2), scalar
// vectors, and artifact chunks fed through an ArtifactUpload. Allowed failures are
// std::invalid_argument (our decoders' "this is malformed"); anything else, or a crash, is a bug.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <unistd.h>

#include "fuzz_util.h"
#include "zkinfer/common/artifact_store.h"
#include "zkinfer/proto/wire.h"

#include <google/protobuf/stubs/logging.h>

namespace {

namespace v1 = zkinfer::v1;
using zkinfer::wire::decode_g1;
using zkinfer::wire::decode_g2;
using zkinfer::wire::decode_scalars;

// One scratch store per process, removed at exit.
struct ScratchStore {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("zkinfer-fuzz-wire-" + std::to_string(::getpid()));
  zkinfer::common::ArtifactStore store{dir.string()};
  ~ScratchStore() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

zkinfer::common::ArtifactStore& store() {
  static ScratchStore s;
  return s.store;
}

void chunk(const v1::ArtifactChunk& c) {
  zkinfer::common::ArtifactUpload u(store(), c.sha256(), c.total_size(), uint64_t{1} << 20);
  u.append(c.sha256(), c.total_size(), c.offset(), c.data());
  if (u.complete()) u.finish();
}

void decode_point_both(const std::string& bytes) {
  try {
    decode_g1(bytes, "fuzz point");
  } catch (const std::invalid_argument&) {
  }
  decode_g2(bytes, "fuzz point");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Protobuf logs every string field that is not UTF-8 before refusing the message.
  static const bool quiet = (google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string&) {}), true);
  (void)quiet;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  zkinfer::fuzz::run_parser<std::invalid_argument>([&] {
    zmq::message_t frame(bytes.data(), bytes.size());
    if (v1::ClientRequest q; zkinfer::wire::from_frame(frame, q) && q.has_upload()) {
      try {
        chunk(q.upload());
      } catch (const std::invalid_argument&) {
      }
    }
    if (v1::WorkerMessage m; zkinfer::wire::from_frame(frame, m)) {
      if (m.has_result()) {
        try {
          decode_point_both(m.result().point());
        } catch (const std::invalid_argument&) {
        }
      }
      if (m.has_upload()) {
        try {
          chunk(m.upload());
        } catch (const std::invalid_argument&) {
        }
      }
    }
    v1::ClientResponse r;
    zkinfer::wire::from_frame(frame, r);
    v1::CoordinatorMessage c;
    if (zkinfer::wire::from_frame(frame, c) && c.has_chunk()) {
      try {
        chunk(c.chunk());
      } catch (const std::invalid_argument&) {
      }
    }
    // The raw bytes as the payloads themselves.
    try {
      decode_scalars(bytes, "fuzz scalars");
    } catch (const std::invalid_argument&) {
    }
    decode_point_both(std::string(bytes));
  });
  return 0;
}
