#include "zkinfer/common/curve.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

namespace zkinfer::common {

namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

void require_key(const std::string& key, const char* what) {
  if (!valid_z85_key(key))
    throw std::invalid_argument(std::string(what) + " is not a 40-character Z85 CURVE key");
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::string z85_of(const uint8_t* key32) {
  char z85[41];
  if (!zmq_z85_encode(z85, key32, 32)) return {};
  return std::string(z85, 40);
}

}  // namespace

bool curve_available() { return zmq_has("curve") != 0; }

bool valid_z85_key(const std::string& key) {
  uint8_t raw[32];
  return key.size() == 40 && zmq_z85_decode(raw, key.c_str()) != nullptr;
}

Keypair generate_keypair() {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0)
    throw std::runtime_error(std::string("cannot make a CURVE keypair: ") + zmq_strerror(zmq_errno()) +
                             (curve_available() ? "" : " (libzmq built without CURVE)"));
  Keypair k{std::string(pub, 40), std::string(sec, 40)};
  std::memset(sec, 0, sizeof sec);
  return k;
}

void write_keypair(const std::string& path, const Keypair& keys) {
  require_key(keys.public_z85, "public key");
  require_key(keys.secret_z85, "secret key");
  // A temporary file created 0600 and renamed, so the secret is never readable by others and
  // the key file is never half written.
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write key file " + path + ": " + std::strerror(errno));
  std::string text = "public " + keys.public_z85 + "\nsecret " + keys.secret_z85 + "\n";
  bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) == ssize_t(text.size()) &&
            ::fsync(fd) == 0;
  int err = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) err = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write key file " + path + ": " + std::strerror(err));
  }
}

Keypair read_keypair(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read key file " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 0077))
    spdlog::warn("key file {} is readable by other users (mode {:o}); it holds a secret key", path,
                 st.st_mode & 0777);
  Keypair k;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = trim(line);
    if (line.empty() || line.starts_with('#')) continue;
    std::istringstream fields(line);
    std::string tag, key, extra;
    fields >> tag >> key >> extra;
    std::string* slot = tag == "public" ? &k.public_z85 : tag == "secret" ? &k.secret_z85 : nullptr;
    if (!slot || !extra.empty() || !valid_z85_key(key))
      throw std::runtime_error("key file " + path + " line " + std::to_string(n) +
                               ": expected 'public <Z85>' or 'secret <Z85>'");
    if (!slot->empty())
      throw std::runtime_error("key file " + path + " line " + std::to_string(n) + ": " + tag + " key given twice");
    *slot = key;
  }
  if (k.public_z85.empty() || k.secret_z85.empty())
    throw std::runtime_error("key file " + path + " lacks its " + (k.public_z85.empty() ? "public" : "secret") + " key");
  char derived[41];
  if (zmq_curve_public(derived, k.secret_z85.c_str()) != 0 || k.public_z85 != std::string(derived, 40))
    throw std::runtime_error("key file " + path + ": the public key does not belong to the secret key");
  return k;
}

std::vector<std::string> read_allowlist(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read allowlist " + path + ": " + std::strerror(errno));
  std::vector<std::string> keys;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = trim(line);
    if (line.empty()) continue;
    // Z85 uses '#', so a key may start with one: a line is a key first, a comment otherwise.
    auto end = line.find_first_of(" \t");
    std::string first = line.substr(0, end);
    std::string rest = end == std::string::npos ? "" : trim(line.substr(end));
    if (valid_z85_key(first) && (rest.empty() || rest.starts_with('#'))) {
      keys.push_back(first);
    } else if (!line.starts_with('#')) {
      throw std::runtime_error("allowlist " + path + " line " + std::to_string(n) +
                               ": not a 40-character Z85 public key");
    }
  }
  return keys;
}

void make_curve_server(zmq::socket_t& socket, const Keypair& own) {
  require_key(own.secret_z85, "server secret key");
  socket.set(zmq::sockopt::curve_server, true);
  socket.set(zmq::sockopt::curve_secretkey, own.secret_z85);
}

void make_curve_client(zmq::socket_t& socket, const Keypair& own, const std::string& server_public_z85) {
  require_key(own.public_z85, "client public key");
  require_key(own.secret_z85, "client secret key");
  require_key(server_public_z85, "server public key");
  socket.set(zmq::sockopt::curve_serverkey, server_public_z85);
  socket.set(zmq::sockopt::curve_publickey, own.public_z85);
  socket.set(zmq::sockopt::curve_secretkey, own.secret_z85);
}

std::string peer_user_id(const zmq::message_t& msg) {
  // cppzmq's gets() throws when the property is absent; absent is a normal answer here.
  const char* v = zmq_msg_gets(msg.handle(), "User-Id");
  return v ? std::string(v) : std::string();
}

ZapAuthenticator::ZapAuthenticator(zmq::context_t& context, const std::vector<std::string>& allowed)
    : handler_(context, zmq::socket_type::rep),
      stop_rx_(context, zmq::socket_type::pair),
      stop_tx_(context, zmq::socket_type::pair) {
  for (const auto& key : allowed) {
    require_key(key, ("allowlisted key '" + key + "'").c_str());
    allowed_.insert(key);
  }
  handler_.set(zmq::sockopt::linger, 0);
  try {
    handler_.bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(std::string("cannot bind the ZAP handler ") + kZapEndpoint + ": " + e.what() +
                             " (one ZapAuthenticator per context)");
  }
  // A fresh name each time: a closed socket's inproc endpoint lingers until libzmq reaps it.
  static std::atomic<uint64_t> instances{0};
  std::string stop_endpoint = "inproc://zkinfer-zap-stop-" + std::to_string(instances++);
  stop_rx_.bind(stop_endpoint);
  stop_tx_.connect(stop_endpoint);
  // The sockets move to the thread here; thread creation orders these uses before its own.
  thread_ = std::thread([this] { serve(); });
}

ZapAuthenticator::~ZapAuthenticator() {
  try {
    stop_tx_.send(zmq::str_buffer("stop"), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // ETERM: the context was shut down, which ends serve() as well.
  }
  thread_.join();
  stop_tx_.close();
}

void ZapAuthenticator::serve() {
  zmq::pollitem_t items[] = {{handler_.handle(), 0, ZMQ_POLLIN, 0}, {stop_rx_.handle(), 0, ZMQ_POLLIN, 0}};
  for (;;) {
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(-1));
      if (items[1].revents & ZMQ_POLLIN) break;
      if (items[0].revents & ZMQ_POLLIN) answer_one();
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) break;
      if (e.num() == EINTR) continue;  // a signal for someone else
      // Keep serving: with no handler bound libzmq would admit every CURVE client.
      spdlog::error("ZAP handler: {}", e.what());
    }
  }
  // Unbinding is immediate, closing is not: a new authenticator may bind right after us.
  try {
    handler_.unbind(kZapEndpoint);
  } catch (const zmq::error_t&) {
    // ETERM: the context is going away with the endpoint.
  }
  handler_.close();
  stop_rx_.close();
}

void ZapAuthenticator::answer_one() {
  std::vector<zmq::message_t> req;
  if (!zmq::recv_multipart(handler_, std::back_inserter(req), zmq::recv_flags::dontwait)) return;

  // RFC 27 request: version, request id, domain, address, identity, mechanism, credentials...
  auto frame = [&](size_t i) { return i < req.size() ? req[i].to_string() : std::string(); };
  std::string status = "400", text, user_id;
  const std::string mechanism = frame(5);
  if (req.size() < 6 || frame(0) != "1.0") {
    status = "500";
    text = "malformed ZAP request";
  } else if (mechanism != "CURVE") {
    text = "CURVE required, got " + mechanism;
  } else if (req.size() != 7 || req[6].size() != 32) {
    status = "500";
    text = "malformed CURVE credentials";
  } else {
    std::string key = z85_of(req[6].data<uint8_t>());
    if (allowed_.contains(key)) {
      status = "200";
      text = "OK";
      user_id = key;
    } else {
      text = "client key not on the allowlist";
      spdlog::warn("ZAP: refused CURVE client {} from {}", key, frame(3));
    }
  }
  if (status != "200" && mechanism != "CURVE")
    spdlog::warn("ZAP: refused {} connection from {}: {}", mechanism.empty() ? "?" : mechanism, frame(3), text);

  // RFC 27 reply: version, request id (echoed), status code, status text, user id, metadata.
  const std::string reply[] = {"1.0", frame(1), status, text, user_id, ""};
  for (size_t i = 0; i < 6; ++i)
    handler_.send(zmq::buffer(reply[i]), i + 1 < 6 ? zmq::send_flags::sndmore : zmq::send_flags::none);
}

}  // namespace zkinfer::common
