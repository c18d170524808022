#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "zkinfer/common/curve.h"

namespace zc = zkinfer::common;
using namespace std::chrono_literals;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "zkinfer-curve-XXXXXX").string();
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp");
    path_ = templ;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name, const std::string& text = {}) const {
    auto p = (path_ / name).string();
    if (!text.empty()) std::ofstream(p) << text;
    return p;
  }

 private:
  std::filesystem::path path_;
};

std::string what_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

// Socket events (zmq_socket_monitor) of one socket, read with bounded waits.
class EventWatcher {
 public:
  EventWatcher(zmq::context_t& ctx, zmq::socket_t& socket, const std::string& name)
      : pair_(ctx, zmq::socket_type::pair) {
    std::string endpoint = "inproc://monitor-" + name;
    if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), ZMQ_EVENT_ALL) != 0)
      throw std::runtime_error("zmq_socket_monitor failed");
    pair_.set(zmq::sockopt::linger, 0);
    pair_.connect(endpoint);
  }
  // The value of the first `event` within `timeout`, or nullopt.
  std::optional<uint32_t> wait_for(uint16_t event, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t item{pair_.handle(), 0, ZMQ_POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (zmq::poll(&item, 1, std::max(left, 1ms)) == 0) break;
      zmq::message_t head, address;
      (void)pair_.recv(head);
      (void)pair_.recv(address);
      uint16_t id;
      uint32_t value;
      std::memcpy(&id, head.data(), 2);
      std::memcpy(&value, static_cast<const char*>(head.data()) + 2, 4);
      if (id == event) return value;
    }
    return std::nullopt;
  }

 private:
  zmq::socket_t pair_;
};

// A message from the ROUTER within `timeout`: (payload, User-Id), or nullopt.
std::optional<std::pair<std::string, std::string>> receive(zmq::socket_t& router, std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
  zmq::message_t id, payload;
  (void)router.recv(id);
  (void)router.recv(payload);
  return std::pair{payload.to_string(), zc::peer_user_id(payload)};
}

zmq::socket_t make_socket(zmq::context_t& ctx, zmq::socket_type type) {
  zmq::socket_t s(ctx, type);
  s.set(zmq::sockopt::linger, 0);
  return s;
}

}  // namespace

class ZmqCurve : public testing::Test {
 protected:
  void SetUp() override {
    if (!zc::curve_available()) GTEST_SKIP() << "libzmq built without CURVE";
  }
};

TEST_F(ZmqCurve, KeypairsAreZ85AndDistinct) {
  auto a = zc::generate_keypair(), b = zc::generate_keypair();
  EXPECT_EQ(a.public_z85.size(), 40u);
  EXPECT_TRUE(zc::valid_z85_key(a.public_z85));
  EXPECT_TRUE(zc::valid_z85_key(a.secret_z85));
  EXPECT_NE(a.public_z85, b.public_z85);
  EXPECT_NE(a.secret_z85, a.public_z85);
  EXPECT_FALSE(zc::valid_z85_key(a.public_z85.substr(1)));
  EXPECT_FALSE(zc::valid_z85_key(std::string(39, 'a') + " "));
}

TEST_F(ZmqCurve, KeyFileRoundTripsAndIsPrivate) {
  TempDir dir;
  auto keys = zc::generate_keypair();
  std::string path = dir.file("worker.key");
  zc::write_keypair(path, keys);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = zc::read_keypair(path);
  EXPECT_EQ(back.public_z85, keys.public_z85);
  EXPECT_EQ(back.secret_z85, keys.secret_z85);

  // Rewriting an existing, more open file leaves it private too.
  ::chmod(path.c_str(), 0644);
  zc::write_keypair(path, zc::generate_keypair());
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ZmqCurve, MalformedKeyFilesThrowNamingTheFile) {
  TempDir dir;
  auto a = zc::generate_keypair(), b = zc::generate_keypair();
  const std::string cases[] = {
      "",                                                           // empty
      "public " + a.public_z85 + "\n",                              // no secret
      "public " + a.public_z85 + "\nsecret " + a.secret_z85.substr(1) + "\n",  // short key
      "public " + a.public_z85 + "\nsecret " + b.secret_z85 + "\n",  // not a pair
      "pub " + a.public_z85 + "\nsecret " + a.secret_z85 + "\n",     // unknown tag
      "public " + a.public_z85 + " x\nsecret " + a.secret_z85 + "\n",  // trailing junk
  };
  int i = 0;
  for (const auto& text : cases) {
    std::string path = dir.file("bad" + std::to_string(i++) + ".key", text.empty() ? "\n" : text);
    std::string msg = what_of([&] { zc::read_keypair(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << text << " -> " << msg;
  }
  std::string missing = dir.file("missing.key");
  EXPECT_NE(what_of([&] { zc::read_keypair(missing); }).find(missing), std::string::npos);
  // Comments and blank lines are fine.
  std::string ok = dir.file("ok.key", "# worker 1\n\npublic " + a.public_z85 + "\nsecret " + a.secret_z85 + "\n");
  EXPECT_EQ(zc::read_keypair(ok).public_z85, a.public_z85);
}

TEST_F(ZmqCurve, AllowlistFileKeysAndComments) {
  TempDir dir;
  auto a = zc::generate_keypair(), b = zc::generate_keypair();
  std::string path = dir.file("allow", "# workers\n\n  " + a.public_z85 + "  # worker-1\n#" + b.public_z85 +
                                           "\n" + b.public_z85 + "\n");
  EXPECT_EQ(zc::read_allowlist(path), (std::vector<std::string>{a.public_z85, b.public_z85}));
  // A key that starts with '#' (a Z85 character) is still a key.
  std::string hash_key = "#" + a.public_z85.substr(1);
  if (zc::valid_z85_key(hash_key)) {
    std::string p2 = dir.file("allow2", hash_key + "\n");
    EXPECT_EQ(zc::read_allowlist(p2), std::vector<std::string>{hash_key});
  }
  std::string bad = dir.file("allow3", a.public_z85 + "\nnot-a-key\n");
  std::string msg = what_of([&] { zc::read_allowlist(bad); });
  EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
}

TEST_F(ZmqCurve, AllowedClientIsAdmittedWithItsKeyAsUserId) {
  auto server_keys = zc::generate_keypair(), client_keys = zc::generate_keypair();
  zmq::context_t ctx;
  zc::ZapAuthenticator auth(ctx, {client_keys.public_z85});
  auto router = make_socket(ctx, zmq::socket_type::router);
  zc::make_curve_server(router, server_keys);
  EventWatcher server_events(ctx, router, "allowed");
  router.bind("tcp://127.0.0.1:*");
  std::string endpoint = router.get(zmq::sockopt::last_endpoint);

  auto dealer = make_socket(ctx, zmq::socket_type::dealer);
  zc::make_curve_client(dealer, client_keys, server_keys.public_z85);
  dealer.connect(endpoint);
  (void)dealer.send(zmq::str_buffer("hello"), zmq::send_flags::none);

  auto got = receive(router, 5s);
  ASSERT_TRUE(got) << "the allowed client's message did not arrive";
  EXPECT_EQ(got->first, "hello");
  EXPECT_EQ(got->second, client_keys.public_z85);
  EXPECT_TRUE(server_events.wait_for(ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 1s));
}

TEST_F(ZmqCurve, ClientNotOnTheListGetsNothingThrough) {
  auto server_keys = zc::generate_keypair(), allowed = zc::generate_keypair(), stranger = zc::generate_keypair();
  zmq::context_t ctx;
  zc::ZapAuthenticator auth(ctx, {allowed.public_z85});
  auto router = make_socket(ctx, zmq::socket_type::router);
  zc::make_curve_server(router, server_keys);
  EventWatcher server_events(ctx, router, "stranger");
  router.bind("tcp://127.0.0.1:*");

  auto dealer = make_socket(ctx, zmq::socket_type::dealer);
  zc::make_curve_client(dealer, stranger, server_keys.public_z85);
  dealer.connect(router.get(zmq::sockopt::last_endpoint));
  (void)dealer.send(zmq::str_buffer("let me in"), zmq::send_flags::dontwait);

  EXPECT_EQ(server_events.wait_for(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 5s), std::optional<uint32_t>(400));
  EXPECT_FALSE(receive(router, 500ms));
}

TEST_F(ZmqCurve, PlainClientIsRefusedByACurveServer) {
  auto server_keys = zc::generate_keypair(), allowed = zc::generate_keypair();
  zmq::context_t ctx;
  zc::ZapAuthenticator auth(ctx, {allowed.public_z85});
  auto router = make_socket(ctx, zmq::socket_type::router);
  zc::make_curve_server(router, server_keys);
  EventWatcher server_events(ctx, router, "plain");
  router.bind("tcp://127.0.0.1:*");

  auto dealer = make_socket(ctx, zmq::socket_type::dealer);  // NULL mechanism
  dealer.connect(router.get(zmq::sockopt::last_endpoint));
  (void)dealer.send(zmq::str_buffer("plain"), zmq::send_flags::dontwait);

  EXPECT_EQ(server_events.wait_for(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, 5s),
            std::optional<uint32_t>(ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH));
  EXPECT_FALSE(receive(router, 500ms));
}

TEST_F(ZmqCurve, HandlerRefusesNullMechanismRequests) {
  // A NULL socket with a ZAP domain asks the handler too; it must say no.
  zmq::context_t ctx;
  zc::ZapAuthenticator auth(ctx, {zc::generate_keypair().public_z85});
  auto router = make_socket(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::zap_domain, "zkinfer");
  EventWatcher server_events(ctx, router, "null");
  router.bind("tcp://127.0.0.1:*");
  auto dealer = make_socket(ctx, zmq::socket_type::dealer);
  dealer.connect(router.get(zmq::sockopt::last_endpoint));
  (void)dealer.send(zmq::str_buffer("null"), zmq::send_flags::dontwait);

  EXPECT_EQ(server_events.wait_for(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 5s), std::optional<uint32_t>(400));
  EXPECT_FALSE(receive(router, 500ms));
}

TEST_F(ZmqCurve, AuthenticatorRejectsBadKeysAndASecondHandler) {
  zmq::context_t ctx;
  EXPECT_THROW(zc::ZapAuthenticator(ctx, {"not a key"}), std::invalid_argument);
  zc::ZapAuthenticator first(ctx, {});
  EXPECT_THROW(zc::ZapAuthenticator(ctx, {}), std::runtime_error);
}

TEST_F(ZmqCurve, AuthenticatorStopsPromptly) {
  auto t0 = std::chrono::steady_clock::now();
  {
    zmq::context_t ctx;
    for (int i = 0; i < 10; ++i) zc::ZapAuthenticator auth(ctx, {});
  }
  {
    // Also when the context was shut down first.
    zmq::context_t ctx;
    auto auth = std::make_unique<zc::ZapAuthenticator>(ctx, std::vector<std::string>{});
    ctx.shutdown();
    auth.reset();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(ZmqCurveSockets, PeerUserIdIsEmptyWithoutZap) {
  zmq::message_t msg(std::string("x"));
  EXPECT_EQ(zc::peer_user_id(msg), "");
}

TEST(ZmqCurveSockets, SocketSetupRejectsBadKeys) {
  zmq::context_t ctx;
  auto s = make_socket(ctx, zmq::socket_type::dealer);
  zc::Keypair bad{"short", "short"};
  EXPECT_THROW(zc::make_curve_server(s, bad), std::invalid_argument);
  EXPECT_THROW(zc::make_curve_client(s, bad, std::string(40, 'a')), std::invalid_argument);
}
