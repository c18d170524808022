// A coordinator's worker socket, driven step by step by a test: a ROUTER on a free loopback port
// that serves artifact fetches from its own ArtifactStore, assembles uploaded chunks, and sends
// heartbeats while the test waits (unless told to be silent). Every wait is bounded.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "zkinfer.pb.h"
#include "zkinfer/common/artifact_store.h"
#include "zkinfer/proto/wire.h"

namespace zkinfer::testing {

using namespace std::chrono_literals;
namespace v1 = zkinfer::v1;

class FakeCoordinator {
 public:
  using Clock = std::chrono::steady_clock;

  explicit FakeCoordinator(const std::string& store_dir) : store(store_dir), sock_(ctx_, zmq::socket_type::router) {
    sock_.set(zmq::sockopt::router_mandatory, 1);
    wire::apply_socket_limits(sock_);
    sock_.bind("tcp://127.0.0.1:0");
    endpoint = sock_.get(zmq::sockopt::last_endpoint);
  }

  common::ArtifactStore store;
  std::string endpoint;
  bool silent = false;              // no heartbeats, no fetch answers: a dead coordinator
  uint32_t heartbeat_ms = 100;      // sent in Welcome and used for our own heartbeats
  uint32_t liveness = 5;
  uint32_t max_chunk = 4096;        // small, so that artifacts take several chunks
  std::map<std::string, std::string> uploaded;  // assembled result artifacts by hash
  std::vector<v1::Heartbeat> heartbeats;        // every heartbeat received
  std::vector<std::pair<Clock::time_point, uint64_t>> heartbeat_times;
  std::vector<std::string> fetched;             // hashes asked for, one entry per request

  // The next message of kind `want`, handling everything else on the way (heartbeats,
  // fetches, uploads); nullopt (and a test failure when `must`) on timeout.
  std::optional<v1::WorkerMessage> expect(v1::WorkerMessage::BodyCase want, std::chrono::milliseconds timeout = 20s,
                                          bool must = true) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (!silent && peer_ && Clock::now() >= next_hb_) {
        v1::CoordinatorMessage hb;
        hb.mutable_heartbeat()->set_sequence(++seq_);
        try {
          send(hb);
        } catch (const zmq::error_t&) {  // the worker's socket is gone (it reconnects or left)
        }
        next_hb_ = Clock::now() + std::chrono::milliseconds(heartbeat_ms);
      }
      zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 20ms);
      if (!(item.revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> frames;
      zmq::message_t f;
      do {
        if (!sock_.recv(f)) break;
        frames.emplace_back(std::move(f));
      } while (frames.back().more());
      if (frames.size() != 2) {
        ADD_FAILURE() << "a worker message must be one frame after the routing id, got " << frames.size() - 1;
        continue;
      }
      v1::WorkerMessage m;
      if (!wire::from_frame(frames[1], m)) {
        ADD_FAILURE() << "a worker message does not parse";
        continue;
      }
      EXPECT_EQ(m.protocol_version(), wire::kProtocolVersion);
      peer_ = frames[0].to_string();
      if (m.body_case() == v1::WorkerMessage::kHeartbeat) {
        heartbeats.push_back(m.heartbeat());
        heartbeat_times.emplace_back(Clock::now(), m.heartbeat().sequence());
      } else if (m.body_case() == v1::WorkerMessage::kFetch && want != v1::WorkerMessage::kFetch) {
        fetched.push_back(m.fetch().sha256());
        if (!silent) serve(m.fetch());
      } else if (m.body_case() == v1::WorkerMessage::kUpload) {
        const auto& c = m.upload();
        std::string& have = uploaded[c.sha256()];
        if (c.offset() == 0) have.clear();
        EXPECT_EQ(c.offset(), have.size()) << "chunks of " << c.sha256() << " out of order";
        EXPECT_LE(c.data().size(), max_chunk);
        have += c.data();
      }
      if (m.body_case() == want) return m;
    }
    if (must) ADD_FAILURE() << "no worker message of kind " << int(want) << " within " << timeout.count() << " ms";
    return std::nullopt;
  }

  void send(v1::CoordinatorMessage m) {
    ASSERT_TRUE(peer_) << "no worker has spoken yet";
    m.set_protocol_version(wire::kProtocolVersion);
    zmq::message_t id(peer_->data(), peer_->size());
    sock_.send(id, zmq::send_flags::sndmore);
    sock_.send(wire::to_frame(m), zmq::send_flags::none);
  }

  // Waits for Hello and answers Welcome.
  v1::Hello handshake() {
    auto m = expect(v1::WorkerMessage::kHello);
    if (!m) return {};
    welcome();
    return m->hello();
  }

  // Answers the last Hello.
  void welcome() {
    v1::CoordinatorMessage w;
    w.mutable_welcome()->set_worker_id("w-" + std::to_string(++welcomes_));
    w.mutable_welcome()->set_heartbeat_interval_ms(heartbeat_ms);
    w.mutable_welcome()->set_heartbeat_liveness(liveness);
    w.mutable_welcome()->set_max_chunk_bytes(max_chunk);
    send(w);
    next_hb_ = Clock::now();
  }

  void assign(const v1::ShardAssignment& a) {
    v1::CoordinatorMessage m;
    *m.mutable_assign() = a;
    send(m);
  }

  // Hello, Welcome, ReadyForWork, the assignment, and the result it ends with.
  v1::ShardResult run_shard(const v1::ShardAssignment& a, std::chrono::milliseconds timeout = 60s) {
    expect(v1::WorkerMessage::kReady);
    assign(a);
    auto r = expect(v1::WorkerMessage::kResult, timeout);
    return r ? r->result() : v1::ShardResult{};
  }

  void serve(const v1::ArtifactRequest& r) {
    v1::CoordinatorMessage m;
    if (!store.has(r.sha256())) {
      *m.mutable_error() = wire::make_error(v1::ERROR_CODE_NOT_FOUND, "artifact " + r.sha256() + " not found");
    } else {
      v1::ArtifactChunk& c = *m.mutable_chunk();
      c.set_sha256(r.sha256());
      c.set_total_size(store.size(r.sha256()));
      c.set_offset(r.offset());
      c.set_data(store.read_chunk(r.sha256(), r.offset(), std::min(r.max_bytes(), max_chunk)));
    }
    send(m);
  }

 private:
  zmq::context_t ctx_;
  zmq::socket_t sock_;
  std::optional<std::string> peer_;
  Clock::time_point next_hb_;
  uint64_t seq_ = 0;
  int welcomes_ = 0;
};

}  // namespace zkinfer::testing
