#include "zkinfer/proto/wire.h"

#include <stdexcept>

#include "zkinfer/ec/serialize.h"
#include "zkinfer/ff/fp_io.h"

namespace zkinfer::wire {

namespace {

template <class C>
std::string encode_point(const Affine<C>& p) {
  std::string out(kUncompressedBytes<C>, '\0');
  write_point<C>(std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()), p, FieldEncoding::kStandard);
  return out;
}

template <class C>
Affine<C> decode_point(std::string_view bytes, const std::string& what) {
  if (bytes.size() != kUncompressedBytes<C>)
    throw std::invalid_argument(what + ": a point must be " + std::to_string(kUncompressedBytes<C>) + " bytes, got " +
                                std::to_string(bytes.size()));
  try {
    return read_point<C>(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                         FieldEncoding::kStandard);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(what + ": " + e.what());
  }
}

}  // namespace

std::string encode_g1(const G1Affine& p) { return encode_point<G1Curve>(p); }
std::string encode_g2(const G2Affine& p) { return encode_point<G2Curve>(p); }
G1Affine decode_g1(std::string_view bytes, const std::string& what) { return decode_point<G1Curve>(bytes, what); }
G2Affine decode_g2(std::string_view bytes, const std::string& what) { return decode_point<G2Curve>(bytes, what); }

std::string encode_scalars(std::span<const Fr> v) {
  std::string out(32 * v.size(), '\0');
  for (size_t i = 0; i < v.size(); ++i) field_to_le_bytes(v[i], reinterpret_cast<uint8_t*>(out.data()) + 32 * i);
  return out;
}

std::vector<Fr> decode_scalars(std::string_view bytes, const std::string& what) {
  if (bytes.size() % 32)
    throw std::invalid_argument(what + ": " + std::to_string(bytes.size()) + " bytes is not a whole number of 32-byte scalars");
  std::vector<Fr> v(bytes.size() / 32);
  for (size_t i = 0; i < v.size(); ++i) {
    const U256 a = u256_from_le_bytes(reinterpret_cast<const uint8_t*>(bytes.data()) + 32 * i);
    if (!u256::less(a, Fr::MOD))
      throw std::invalid_argument(what + ": scalar " + std::to_string(i) + " is not below the field modulus");
    v[i] = Fr::from_canonical(a);
  }
  return v;
}

void apply_socket_limits(zmq::socket_t& s, int64_t max_message_bytes) {
  s.set(zmq::sockopt::maxmsgsize, max_message_bytes);
  s.set(zmq::sockopt::linger, 200);
}

zmq::message_t to_frame(const google::protobuf::MessageLite& m) {
  zmq::message_t f(m.ByteSizeLong());
  if (!m.SerializeToArray(f.data(), int(f.size()))) throw std::runtime_error("protobuf: cannot serialize " + m.GetTypeName());
  return f;
}

bool from_frame(const zmq::message_t& frame, google::protobuf::MessageLite& m) {
  if (frame.size() > size_t(INT32_MAX)) return false;
  return m.ParseFromArray(frame.data(), int(frame.size()));
}

v1::Error make_error(v1::ErrorCode code, std::string message) {
  v1::Error e;
  e.set_code(code);
  e.set_message(std::move(message));
  return e;
}

v1::Error unsupported_version_error(uint32_t got) {
  v1::Error e = make_error(v1::ERROR_CODE_UNSUPPORTED_VERSION,
                           "protocol version " + std::to_string(got) + " is not supported; this peer speaks version " +
                               std::to_string(kProtocolVersion));
  e.add_supported_versions(kProtocolVersion);
  return e;
}

}  // namespace zkinfer::wire
