// ZeroMQ CURVE security for the coordinator's sockets (DESIGN.md 3): keypairs in Z85 (40
// characters), key files, socket setup, and a ZAP handler (RFC 27) that admits only clients
// whose public key is on an allowlist.
//
// Key file: text, written 0600 because it holds the secret key:
//   public <Z85>
//   secret <Z85>
// Allowlist file: one Z85 public key per line, optionally followed by a `#` comment; blank
// lines and lines starting with `#` are ignored.
#pragma once

#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <zmq.hpp>

namespace zkinfer::common {

struct Keypair {
  std::string public_z85;
  std::string secret_z85;
};

// Whether this libzmq was built with CURVE (libsodium or tweetnacl).
bool curve_available();
// A fresh keypair from the OS CSPRNG; throws std::runtime_error when CURVE is unavailable.
Keypair generate_keypair();

// Whether `key` is 40 Z85 characters that decode to 32 bytes.
bool valid_z85_key(const std::string& key);

// Writes the key file with mode 0600 (replacing any file there); throws std::runtime_error
// naming the file when it cannot.
void write_keypair(const std::string& path, const Keypair& keys);
// Throws std::runtime_error naming the file when it cannot be read, is malformed, or its
// public key does not belong to its secret key.
Keypair read_keypair(const std::string& path);
// Throws std::runtime_error naming the file and line of anything that is not a key or comment.
std::vector<std::string> read_allowlist(const std::string& path);

// A CURVE server socket (before bind): clients must know `own.public_z85`.
void make_curve_server(zmq::socket_t& socket, const Keypair& own);
// A CURVE client socket (before connect) talking to the server with that public key.
void make_curve_client(zmq::socket_t& socket, const Keypair& own, const std::string& server_public_z85);

// The ZAP User-Id of the peer that sent `msg` (the client's public key in Z85 under
// ZapAuthenticator); empty when absent. On a ROUTER, ask a payload frame, not the routing id.
std::string peer_user_id(const zmq::message_t& msg);

// The ZAP handler of `context`: a REP socket on inproc://zeromq.zap.01 served by its own thread.
// It answers 200 (User-Id = the client's Z85 public key) to CURVE clients on the allowlist and
// 400 to everything else, NULL and PLAIN connections included. libzmq admits every CURVE
// client while no handler is bound, so construct it before binding the sockets it guards and
// destroy it after closing them, and before the context (it also stops when the context is
// shut down).
class ZapAuthenticator {
 public:
  // Throws std::invalid_argument for a key that is not Z85, std::runtime_error when the
  // context already has a ZAP handler.
  ZapAuthenticator(zmq::context_t& context, const std::vector<std::string>& allowed_public_z85);
  ~ZapAuthenticator();
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

 private:
  void serve();
  void answer_one();  // one RFC 27 request and its reply

  std::unordered_set<std::string> allowed_;
  zmq::socket_t handler_;
  zmq::socket_t stop_rx_;  // PAIR: the destructor's wake-up
  zmq::socket_t stop_tx_;
  std::thread thread_;
};

}  // namespace zkinfer::common
