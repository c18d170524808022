// A fake coordinator for the client's tests: a ROUTER on a free loopback port, served by a
// thread that answers each request as the test scripts it, and records what it received.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "zkinfer/common/curve.h"
#include "zkinfer/proto/wire.h"

namespace zkinfer::testing {

using namespace std::chrono_literals;

// A response answering `req`, as the coordinator would start it.
inline v1::ClientResponse answer(const v1::ClientRequest& req) {
  v1::ClientResponse r;
  r.set_protocol_version(wire::kProtocolVersion);
  r.set_request_id(req.request_id());
  return r;
}

inline v1::ClientResponse ok(const v1::ClientRequest& req) {
  v1::ClientResponse r = answer(req);
  r.mutable_ok();
  return r;
}

struct FakeOptions {
  // Before each answer, listen this long: a request arriving then did not wait for the answer.
  std::chrono::milliseconds listen_before_answer{0};
  const common::Keypair* curve = nullptr;  // a CURVE server with this keypair
};

class FakeCoordinator {
 public:
  // Returns the responses to send for a request, in order (none: stay silent).
  using Script = std::function<std::vector<v1::ClientResponse>(const v1::ClientRequest&)>;

  explicit FakeCoordinator(Script script, FakeOptions o = {}) : script_(std::move(script)), opts_(o) {
    wire::apply_socket_limits(sock_);
    sock_.set(zmq::sockopt::router_mandatory, 1);
    if (o.curve) common::make_curve_server(sock_, *o.curve);
    sock_.bind("tcp://127.0.0.1:*");
    endpoint_ = sock_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeCoordinator() {
    stop_ = true;
    thread_.join();
  }

  const std::string& endpoint() const { return endpoint_; }
  std::vector<v1::ClientRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int early_requests() const { return early_; }

 private:
  bool readable(std::chrono::milliseconds t) {
    zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, t);
    return item.revents & ZMQ_POLLIN;
  }

  void serve() {
    while (!stop_) {
      if (!readable(20ms)) continue;
      zmq::message_t id, frame;
      (void)sock_.recv(id);
      (void)sock_.recv(frame);
      v1::ClientRequest req;
      ASSERT_TRUE(wire::from_frame(frame, req)) << "the client sent a frame that is no ClientRequest";
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
      }
      if (opts_.listen_before_answer > 0ms && readable(opts_.listen_before_answer)) ++early_;
      for (const auto& r : script_(req)) {
        sock_.send(zmq::buffer(id.data(), id.size()), zmq::send_flags::sndmore);
        sock_.send(wire::to_frame(r), zmq::send_flags::none);
      }
    }
  }

  Script script_;
  FakeOptions opts_;
  zmq::context_t ctx_{1};
  zmq::socket_t sock_{ctx_, zmq::socket_type::router};
  std::string endpoint_;
  std::mutex mu_;
  std::vector<v1::ClientRequest> requests_;
  std::atomic<int> early_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A scripted job: submitted, running, then done, with its result.
inline std::vector<v1::ClientResponse> job_script(const v1::ClientRequest& r) {
  v1::ClientResponse a = answer(r);
  auto job = [&](v1::JobState s, uint32_t done) {
    v1::JobInfo* j = a.mutable_job();
    j->set_job_id("job-1");
    j->set_model_id(std::string(64, 'b'));
    j->set_state(s);
    j->set_shards_total(3);
    j->set_shards_done(done);
  };
  switch (r.body_case()) {
    case v1::ClientRequest::kSubmit: job(v1::JOB_STATE_QUEUED, 0); break;
    case v1::ClientRequest::kStatus: job(v1::JOB_STATE_RUNNING, 1); break;
    case v1::ClientRequest::kWait: job(v1::JOB_STATE_SUCCEEDED, 3); break;
    case v1::ClientRequest::kCancel: job(v1::JOB_STATE_CANCELLED, 1); break;
    case v1::ClientRequest::kResult: {
      v1::JobResult* res = a.mutable_result();
      res->mutable_info()->set_job_id(r.result().job_id());
      res->set_output_json("{\"y\": [0.25]}");
      res->set_proof_json("{\"protocol\": \"groth16\"}");
      res->set_public_json("[\"1\"]");
      res->set_verification_key_json("{\"nPublic\": 1}");
      break;
    }
    case v1::ClientRequest::kListJobs:
      for (int i = 0; i < 2; ++i) a.mutable_jobs()->add_jobs()->set_job_id("job-" + std::to_string(i));
      break;
    case v1::ClientRequest::kListModels: a.mutable_models()->add_models()->set_model_id(std::string(64, 'c')); break;
    case v1::ClientRequest::kGetModel:
    case v1::ClientRequest::kAddModel: {
      v1::ModelInfo* m = a.mutable_model();
      m->set_model_id(std::string(64, 'c'));
      m->set_state(v1::MODEL_STATE_READY);
      m->set_constraints(17);
      break;
    }
    default: *a.mutable_error() = wire::make_error(v1::ERROR_CODE_INVALID_ARGUMENT, "unexpected request");
  }
  return {a};
}

}  // namespace zkinfer::testing
