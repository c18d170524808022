// The wire helpers every peer of the protocol shares (zkinfer.proto says what goes on the wire):
// the protocol version, size limits, the field and point encodings, and turning protobuf
// messages into ZeroMQ frames and back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "zkinfer.pb.h"
#include "zkinfer/ec/curves.h"
#include "zkinfer/ff/fields.h"

namespace zkinfer::wire {

inline constexpr uint32_t kProtocolVersion = 1;
// ZMQ_MAXMSGSIZE on every socket: a peer sending more is disconnected by ZeroMQ itself.
inline constexpr int64_t kDefaultMaxMessageBytes = int64_t{64} << 20;
// Artifact chunks: small enough to interleave with heartbeats, large enough to move a 1 GiB key
// in a few hundred messages.
inline constexpr uint32_t kDefaultChunkBytes = 4u << 20;
// Largest artifact a peer accepts (a 2^24 circuit's proving key is about 6 GiB).
inline constexpr uint64_t kDefaultMaxArtifactBytes = uint64_t{16} << 30;

// Field and point encodings (zkinfer.proto, "Field encodings"). Decoders check length, range,
// curve and subgroup and throw std::invalid_argument naming `what` and the problem.
std::string encode_g1(const G1Affine& p);
std::string encode_g2(const G2Affine& p);
G1Affine decode_g1(std::string_view bytes, const std::string& what);
G2Affine decode_g2(std::string_view bytes, const std::string& what);
// A vector of scalars: n x 32 bytes, little-endian standard form (the h artifact).
std::string encode_scalars(std::span<const Fr> v);
std::vector<Fr> decode_scalars(std::string_view bytes, const std::string& what);

// Sets ZMQ_MAXMSGSIZE and a short ZMQ_LINGER (a closing peer does not hang on unsent data).
void apply_socket_limits(zmq::socket_t& s, int64_t max_message_bytes = kDefaultMaxMessageBytes);

// One protobuf message as one frame.
zmq::message_t to_frame(const google::protobuf::MessageLite& m);
// Parses a frame; false when it is not a valid message of that type.
bool from_frame(const zmq::message_t& frame, google::protobuf::MessageLite& m);

// The Error messages of the protocol.
v1::Error make_error(v1::ErrorCode code, std::string message);
v1::Error unsupported_version_error(uint32_t got);

}  // namespace zkinfer::wire
