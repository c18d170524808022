#include "zkinfer/coordinator/coordinator.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

#include "zkinfer/common/artifact_store.h"
#include "zkinfer/common/curve.h"
#include "zkinfer/compiler/graph.h"
#include "zkinfer/compiler/io_json.h"
#include "zkinfer/coordinator/aggregate.h"
#include "zkinfer/coordinator/metrics.h"
#include "zkinfer/coordinator/models.h"
#include "zkinfer/coordinator/planner.h"
#include "zkinfer/coordinator/store.h"
#include "zkinfer/prover/wtns.h"

namespace zkinfer::coordinator {

namespace v1 = zkinfer::v1;
using Clock = std::chrono::steady_clock;

namespace {

uint64_t unix_ms() {
  return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::string random_hex(size_t n) {
  static thread_local std::random_device rd;
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += d[rd() & 15];
  return s;
}

bool finished_state(int st) {
  return st == v1::JOB_STATE_SUCCEEDED || st == v1::JOB_STATE_FAILED || st == v1::JOB_STATE_CANCELLED;
}

const char* job_state_name(int st) {
  switch (st) {
    case v1::JOB_STATE_QUEUED: return "queued";
    case v1::JOB_STATE_RUNNING: return "running";
    case v1::JOB_STATE_SUCCEEDED: return "succeeded";
    case v1::JOB_STATE_FAILED: return "failed";
    case v1::JOB_STATE_CANCELLED: return "cancelled";
    default: return "unknown";
  }
}

v1::JobInfo job_info(const JobRow& j) {
  v1::JobInfo i;
  i.set_job_id(j.job_id);
  i.set_model_id(j.model_id);
  i.set_state(v1::JobState(j.state));
  i.set_error(j.error);
  i.set_submitted_unix_ms(j.submitted_unix_ms);
  i.set_started_unix_ms(j.started_unix_ms);
  i.set_finished_unix_ms(j.finished_unix_ms);
  i.set_shards_total(j.shards_total);
  i.set_shards_done(j.shards_done);
  return i;
}

v1::ModelInfo model_info(const ModelRow& m) {
  v1::ModelInfo i;
  i.set_model_id(m.model_id);
  i.set_name(m.name);
  i.set_state(v1::ModelState(m.state));
  i.set_error(m.error);
  i.set_constraints(m.constraints);
  i.set_wires(m.wires);
  i.set_public_signals(m.public_signals);
  i.set_log_domain(m.log_domain);
  i.set_onnx_sha256(m.onnx_sha256);
  i.set_r1cs_sha256(m.r1cs_sha256);
  i.set_zkey_sha256(m.zkey_sha256);
  i.set_verification_key_json(m.verification_key_json);
  i.set_model_json(m.model_json);
  i.set_created_unix_ms(m.created_unix_ms);
  return i;
}

// A request the loop answers later (WaitJob), or a model being prepared (AddModel).
struct PendingReply {
  std::string client;  // routing id
  uint64_t request_id = 0;
};

struct Waiter : PendingReply {
  std::string job_id;
  Clock::time_point until;
};

struct Lease {
  std::string worker;  // routing id
  Clock::time_point until;
  Clock::time_point started;
};

struct ActiveJob {
  JobRow row;
  std::vector<ShardRow> shards;  // empty until planned (on first dispatch)
  std::map<std::string, Lease> leases;  // shard id -> lease
};

struct WorkerEntry {
  std::string worker_id, name;
  v1::Capacity capacity;
  Clock::time_point last_seen;
  int state = v1::WORKER_STATE_IDLE;
  bool waiting = false;   // sent ReadyForWork, not yet assigned
  bool draining = false;
  std::string shard;      // the shard assigned to it, if any
  uint64_t gpu_memory_used = 0;
  std::vector<v1::KeyRange> resident;
  std::map<std::string, std::unique_ptr<common::ArtifactUpload>> uploads;
};

struct ClientUpload {
  std::unique_ptr<common::ArtifactUpload> upload;  // null: the artifact is already here
  uint64_t expect_offset = 0, total = 0;
  Clock::time_point last;
};

// Work for the model-preparation thread and what it hands back.
struct PrepTask : PendingReply {
  std::string owner;
  v1::AddModelRequest request;
};
struct PrepDone : PendingReply {
  std::optional<ModelRow> model;
  std::string error;
};

}  // namespace

struct Coordinator::Impl {
  CoordinatorConfig cfg;
  Store store;
  common::ArtifactStore artifacts;
  zmq::context_t ctx{1};
  zmq::context_t worker_ctx{1};  // its own ZAP handler: worker and client keys are separate allowlists
  // Declared after the contexts and before the sockets: they must outlive the sockets they guard.
  std::unique_ptr<common::ZapAuthenticator> client_zap, worker_zap;
  zmq::socket_t clients{ctx, zmq::socket_type::router};
  zmq::socket_t workers{worker_ctx, zmq::socket_type::router};
  zmq::socket_t wake_pull{ctx, zmq::socket_type::pull};
  std::string clients_ep, workers_ep;
  std::unique_ptr<CoordinatorMetrics> metrics;
  std::atomic<bool> stopping{false};

  std::map<std::string, ActiveJob> active;       // queued and running jobs
  std::map<std::string, WorkerEntry> workers_by_id;  // by routing id
  std::map<std::string, ClientUpload> client_uploads;  // routing id + "/" + sha
  std::vector<Waiter> waiters;
  std::map<std::string, std::unique_ptr<compiler::Graph>> graphs;  // ONNX graphs by model id (input checks)
  uint64_t worker_counter = 0;
  Clock::time_point next_tick = Clock::now();
  Clock::time_point next_sweep = Clock::now();

  // Model preparation thread.
  std::mutex prep_mu;
  std::condition_variable prep_cv;
  std::deque<PrepTask> prep_tasks;
  std::deque<PrepDone> prep_done;
  std::thread prep_thread;

  explicit Impl(CoordinatorConfig c)
      : cfg(std::move(c)), store((std::filesystem::create_directories(cfg.data_dir), cfg.data_dir)),
        artifacts(cfg.data_dir + "/artifacts") {
    const bool curve = !cfg.curve_key_file.empty() || !cfg.client_keys_file.empty() || !cfg.worker_keys_file.empty();
    if (curve) {
      if (cfg.curve_key_file.empty() || cfg.client_keys_file.empty() || cfg.worker_keys_file.empty())
        throw std::invalid_argument("CURVE needs all of --curve-key, --client-keys and --worker-keys");
      const common::Keypair own = common::read_keypair(cfg.curve_key_file);
      client_zap = std::make_unique<common::ZapAuthenticator>(ctx, common::read_allowlist(cfg.client_keys_file));
      worker_zap = std::make_unique<common::ZapAuthenticator>(worker_ctx, common::read_allowlist(cfg.worker_keys_file));
      common::make_curve_server(clients, own);
      common::make_curve_server(workers, own);
    }
    for (zmq::socket_t* s : {&clients, &workers}) {
      wire::apply_socket_limits(*s, cfg.max_message_bytes);
      s->set(zmq::sockopt::router_mandatory, 1);
      s->set(zmq::sockopt::sndhwm, 10000);
    }
    clients_ep = bind(clients, cfg.clients_endpoint, "--clients");
    workers_ep = bind(workers, cfg.workers_endpoint, "--workers");
    wake_pull.bind("inproc://zkinfer-coordinator-wake");
    metrics = std::make_unique<CoordinatorMetrics>(cfg.metrics_address);
    resume();
    prep_thread = std::thread([this] { prep_loop(); });
  }

  ~Impl() {
    {
      std::lock_guard lk(prep_mu);
      stopping = true;
    }
    prep_cv.notify_all();
    if (prep_thread.joinable()) prep_thread.join();
  }

  static std::string bind(zmq::socket_t& s, const std::string& ep, const char* flag) {
    try {
      s.bind(ep);
    } catch (const zmq::error_t& e) {
      throw std::runtime_error(std::string("cannot bind ") + flag + " " + ep + ": " + e.what());
    }
    return s.get(zmq::sockopt::last_endpoint);
  }

  // ---- restart ----------------------------------------------------------------------------------

  void resume() {
    size_t n = 0, leased = 0;
    for (JobRow& j : store.unfinished_jobs()) {
      ActiveJob a;
      a.shards = store.shards_of(j.job_id);
      for (auto& s : a.shards)
        if (s.state == kShardLeased) {
          s.state = kShardPending;  // its lease died with the previous process
          ++leased;
        }
      a.row = std::move(j);
      const std::string id = a.row.job_id;
      active.emplace(id, std::move(a));
      ++n;
      ActiveJob& aj = active.at(id);
      const bool all_done = !aj.shards.empty() &&
                            std::all_of(aj.shards.begin(), aj.shards.end(), [](const ShardRow& s) { return s.state == kShardDone; });
      if (all_done)
        if (auto m = store.get_model(aj.row.model_id)) complete(aj, *m, aj.shards.back());
    }
    if (n) spdlog::info("resumed {} unfinished jobs from {} ({} shards were leased and are queued again)", n, cfg.data_dir, leased);
    metrics->jobs_resumed(n);
  }

  // ---- sending ----------------------------------------------------------------------------------

  template <class M>
  bool send_to(zmq::socket_t& s, const std::string& peer, const M& m) {
    try {
      if (!s.send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) return false;
      return bool(s.send(wire::to_frame(m), zmq::send_flags::dontwait));
    } catch (const zmq::error_t&) {
      return false;  // the peer is gone (ROUTER_MANDATORY); what it asked for stays in the store
    }
  }

  void reply(const PendingReply& to, v1::ClientResponse r) {
    r.set_protocol_version(wire::kProtocolVersion);
    r.set_request_id(to.request_id);
    send_to(clients, to.client, r);
  }
  void reply_error(const PendingReply& to, v1::ErrorCode code, std::string msg) {
    v1::ClientResponse r;
    *r.mutable_error() = wire::make_error(code, std::move(msg));
    reply(to, std::move(r));
  }
  void send_worker(const std::string& peer, v1::CoordinatorMessage m) {
    m.set_protocol_version(wire::kProtocolVersion);
    send_to(workers, peer, m);
  }
  void worker_error(const std::string& peer, v1::ErrorCode code, std::string msg) {
    v1::CoordinatorMessage m;
    *m.mutable_error() = wire::make_error(code, std::move(msg));
    send_worker(peer, std::move(m));
  }

  // ---- the loop ---------------------------------------------------------------------------------

  void run() {
    spdlog::info("coordinator: clients on {}, workers on {}, data in {}", clients_ep, workers_ep, cfg.data_dir);
    dispatch();
    while (!stopping) {
      zmq::pollitem_t items[] = {{clients.handle(), 0, ZMQ_POLLIN, 0},
                                 {workers.handle(), 0, ZMQ_POLLIN, 0},
                                 {wake_pull.handle(), 0, ZMQ_POLLIN, 0}};
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - Clock::now());
      try {
        zmq::poll(items, 3, std::chrono::milliseconds(std::clamp<int64_t>(wait.count(), 0, 200)));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;  // a signal: stop() may have been asked for
        throw;
      }
      // Bounded batches, so one busy socket cannot starve the other or the timers.
      for (int i = 0; i < 256 && (items[0].revents & ZMQ_POLLIN); ++i)
        if (!receive(clients, [this](auto& id, auto& f) { on_client(id, f); })) break;
      for (int i = 0; i < 256 && (items[1].revents & ZMQ_POLLIN); ++i)
        if (!receive(workers, [this](auto& id, auto& f) { on_worker(id, f); })) break;
      if (items[2].revents & ZMQ_POLLIN) {
        zmq::message_t m;
        while (wake_pull.recv(m, zmq::recv_flags::dontwait)) {
        }
        take_prepared();
      }
      if (Clock::now() >= next_tick) {
        tick();
        next_tick = Clock::now() + std::chrono::milliseconds(cfg.heartbeat_interval_ms);
      }
    }
    v1::CoordinatorMessage bye;
    bye.mutable_goodbye()->set_reason("coordinator shutting down");
    for (auto& [peer, w] : workers_by_id) send_worker(peer, bye);
    spdlog::info("coordinator: stopped; {} unfinished jobs stay in the store", active.size());
  }

  // Receives one routed message: [routing id][payload]. Anything else (more frames, an empty
  // payload) is a malformed message: answered where possible, dropped, never fatal.
  template <class F>
  bool receive(zmq::socket_t& s, F&& handle) {
    std::vector<zmq::message_t> frames;
    try {
      if (!zmq::recv_multipart(s, std::back_inserter(frames), zmq::recv_flags::dontwait)) return false;
    } catch (const zmq::error_t& e) {
      spdlog::warn("receive failed: {}", e.what());
      return false;
    }
    if (frames.size() < 2) return true;
    const std::string id = frames[0].to_string();
    if (frames.size() != 2) {
      metrics->malformed();
      zmq::message_t empty;
      handle(id, empty);
      return true;
    }
    handle(id, frames[1]);
    return true;
  }

  // ---- clients ----------------------------------------------------------------------------------

  void on_client(const std::string& id, zmq::message_t& frame) {
    v1::ClientRequest req;
    PendingReply to{id, 0};
    if (frame.size() == 0 || !wire::from_frame(frame, req)) {
      metrics->malformed();
      reply_error(to, v1::ERROR_CODE_INVALID_ARGUMENT, "malformed request: not a zkinfer.v1.ClientRequest");
      return;
    }
    to.request_id = req.request_id();
    if (req.protocol_version() != wire::kProtocolVersion) {
      v1::ClientResponse r;
      *r.mutable_error() = wire::unsupported_version_error(req.protocol_version());
      reply(to, std::move(r));
      return;
    }
    const std::string owner = client_zap ? common::peer_user_id(frame) : std::string();
    try {
      switch (req.body_case()) {
        case v1::ClientRequest::kUpload: return on_upload(to, req.upload());
        case v1::ClientRequest::kAddModel: return on_add_model(to, owner, req.add_model());
        case v1::ClientRequest::kGetModel: return on_get_model(to, req.get_model().model_id());
        case v1::ClientRequest::kListModels: return on_list_models(to, req.list_models());
        case v1::ClientRequest::kSubmit: return on_submit(to, owner, req.submit());
        case v1::ClientRequest::kStatus: return on_status(to, owner, req.status().job_id());
        case v1::ClientRequest::kWait: return on_wait(to, owner, req.wait());
        case v1::ClientRequest::kResult: return on_result(to, owner, req.result().job_id());
        case v1::ClientRequest::kCancel: return on_cancel(to, owner, req.cancel().job_id());
        case v1::ClientRequest::kListJobs: return on_list_jobs(to, owner, req.list_jobs());
        default:
          reply_error(to, v1::ERROR_CODE_INVALID_ARGUMENT, "request has no body");
      }
    } catch (const std::invalid_argument& e) {
      reply_error(to, v1::ERROR_CODE_INVALID_ARGUMENT, e.what());
    } catch (const std::exception& e) {
      spdlog::error("client request {}: {}", req.request_id(), e.what());
      reply_error(to, v1::ERROR_CODE_INTERNAL, e.what());
    }
  }

  void reply_ok(const PendingReply& to) {
    v1::ClientResponse r;
    r.mutable_ok();
    reply(to, std::move(r));
  }

  void on_upload(const PendingReply& to, const v1::ArtifactChunk& c) {
    if (!common::is_sha256_hex(c.sha256()))
      return reply_error(to, v1::ERROR_CODE_INVALID_ARGUMENT, "upload: artifact name must be a lowercase hex SHA-256");
    if (c.total_size() > cfg.max_artifact_bytes)
      return reply_error(to, v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                         "upload: artifact of " + std::to_string(c.total_size()) + " bytes is above the limit of " +
                             std::to_string(cfg.max_artifact_bytes));
    const std::string key = to.client + "/" + c.sha256();
    if (c.offset() == 0) {
      ClientUpload u;
      u.total = c.total_size();
      if (!artifacts.has(c.sha256()))
        u.upload = std::make_unique<common::ArtifactUpload>(artifacts, c.sha256(), c.total_size(), cfg.max_artifact_bytes);
      else
        artifacts.touch(c.sha256());  // used again: its retention starts over
      client_uploads[key] = std::move(u);
    }
    auto it = client_uploads.find(key);
    if (it == client_uploads.end())
      return reply_error(to, v1::ERROR_CODE_INVALID_ARGUMENT,
                         "upload: chunk at offset " + std::to_string(c.offset()) + " of " + c.sha256() + " without its first chunk");
    ClientUpload& u = it->second;
    u.last = Clock::now();
    try {
      if (u.upload) {
        u.upload->append(c.sha256(), c.total_size(), c.offset(), c.data());
        if (u.upload->complete()) {
          u.upload->finish();
          client_uploads.erase(it);
        }
      } else {
        if (c.offset() != u.expect_offset || c.total_size() != u.total || c.data().size() > u.total - u.expect_offset)
          throw std::invalid_argument("upload: chunk of " + c.sha256() + " out of order");
        u.expect_offset += c.data().size();
        if (u.expect_offset == u.total) client_uploads.erase(it);
      }
    } catch (const std::exception&) {
      client_uploads.erase(key);
      throw;
    }
    reply_ok(to);
  }

  void require_artifact(const std::string& sha, const char* what) {
    if (!artifacts.has(sha))
      throw std::invalid_argument(std::string(what) + " artifact " + (sha.empty() ? "(none given)" : sha) +
                                  " has not been uploaded");
  }

  void on_add_model(const PendingReply& to, const std::string& owner, const v1::AddModelRequest& r) {
    if (r.has_onnx()) {
      require_artifact(r.onnx().onnx_sha256(), "ONNX model");
      if (!r.onnx().compile().calibration_sha256().empty()) require_artifact(r.onnx().compile().calibration_sha256(), "calibration");
      if (r.onnx().setup().dev() == !r.onnx().setup().ptau_sha256().empty())
        throw std::invalid_argument("setup: give exactly one of a development setup and a .ptau");
      if (!r.onnx().setup().ptau_sha256().empty()) require_artifact(r.onnx().setup().ptau_sha256(), ".ptau");
    } else if (r.has_circuit()) {
      require_artifact(r.circuit().r1cs_sha256(), ".r1cs");
      require_artifact(r.circuit().zkey_sha256(), ".zkey");
    } else {
      throw std::invalid_argument("add model: give an ONNX model or a circuit with its key");
    }
    {
      std::lock_guard lk(prep_mu);
      prep_tasks.push_back(PrepTask{to, owner, r});
    }
    prep_cv.notify_one();
  }

  void prep_loop() {
    zmq::socket_t wake(ctx, zmq::socket_type::push);
    wake.connect("inproc://zkinfer-coordinator-wake");
    for (;;) {
      PrepTask t;
      {
        std::unique_lock lk(prep_mu);
        prep_cv.wait(lk, [&] { return stopping || !prep_tasks.empty(); });
        if (stopping) return;
        t = std::move(prep_tasks.front());
        prep_tasks.pop_front();
      }
      PrepDone d;
      static_cast<PendingReply&>(d) = t;
      const auto t0 = Clock::now();
      try {
        ModelRow m = t.request.has_onnx()
                         ? prepare_onnx_model(artifacts, t.request.name(), t.request.onnx(),
                                              [](const std::string& line) { spdlog::info("model: {}", line); })
                         : prepare_circuit_model(artifacts, t.request.name(), t.request.circuit().r1cs_sha256(),
                                                 t.request.circuit().zkey_sha256());
        m.owner = t.owner;
        m.created_unix_ms = unix_ms();
        d.model = std::move(m);
      } catch (const std::exception& e) {
        d.error = e.what();
      }
      spdlog::info("model {} prepared in {:.1f} s{}", d.model ? d.model->model_id : t.request.name(),
                   std::chrono::duration<double>(Clock::now() - t0).count(), d.model ? "" : ": " + d.error);
      {
        std::lock_guard lk(prep_mu);
        prep_done.push_back(std::move(d));
      }
      wake.send(zmq::str_buffer("x"), zmq::send_flags::dontwait);
    }
  }

  void take_prepared() {
    std::deque<PrepDone> done;
    {
      std::lock_guard lk(prep_mu);
      done.swap(prep_done);
    }
    for (auto& d : done) {
      if (!d.model) {
        reply_error(d, v1::ERROR_CODE_INVALID_ARGUMENT, "model not added: " + d.error);
        continue;
      }
      if (auto old = store.get_model(d.model->model_id)) d.model->created_unix_ms = old->created_unix_ms;
      store.put_model(*d.model);
      metrics->model_added();
      v1::ClientResponse r;
      *r.mutable_model() = model_info(*d.model);
      reply(d, std::move(r));
    }
  }

  ModelRow ready_model(const std::string& id) {
    auto m = store.get_model(id);
    if (!m) throw NotFound("model " + id + " not found (`zkinfer models` lists them)");
    return *m;
  }

  struct NotFound : std::runtime_error {
    using std::runtime_error::runtime_error;
  };

  void on_get_model(const PendingReply& to, const std::string& id) {
    auto m = store.get_model(id);
    if (!m) return reply_error(to, v1::ERROR_CODE_NOT_FOUND, "model " + id + " not found");
    v1::ClientResponse r;
    *r.mutable_model() = model_info(*m);
    reply(to, std::move(r));
  }

  void on_list_models(const PendingReply& to, const v1::ListModelsRequest& q) {
    v1::ClientResponse r;
    auto* list = r.mutable_models();
    for (const auto& m : store.list_models(std::min<uint32_t>(q.limit() ? q.limit() : 1000, 1000), q.after_model_id())) {
      v1::ModelInfo i = model_info(m);
      i.clear_model_json();  // listing stays small; get_model has everything
      i.clear_verification_key_json();
      *list->add_models() = std::move(i);
    }
    reply(to, std::move(r));
  }

  // Checks an ONNX job's input against the model's graph here, so that a wrong name or tensor
  // shape is refused at submission with the compiler's message rather than failing on a worker.
  void check_input(const ModelRow& m, const std::string& input_json) {
    auto it = graphs.find(m.model_id);
    if (it == graphs.end())
      it = graphs.emplace(m.model_id, std::make_unique<compiler::Graph>(compiler::load_onnx(artifacts.path(m.onnx_sha256)))).first;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(input_json);
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(std::string("input is not valid JSON: ") + e.what());
    }
    try {
      compiler::inputs_from_json(j, *it->second, "input");
    } catch (const std::exception& e) {
      throw std::invalid_argument(e.what());  // names the input and what is wrong with it
    }
  }

  void on_submit(const PendingReply& to, const std::string& owner, const v1::SubmitJobRequest& s) {
    auto m = store.get_model(s.model_id());
    if (!m) return reply_error(to, v1::ERROR_CODE_NOT_FOUND, "model " + s.model_id() + " not found (`zkinfer models` lists them)");
    if (!m->onnx_sha256.empty()) {
      if (s.input_json().empty()) throw std::invalid_argument("model " + m->model_id + " is an ONNX model: submit an input (INPUT.json)");
      check_input(*m, s.input_json());
    } else {
      if (s.witness_sha256().empty()) throw std::invalid_argument("model " + m->model_id + " is a circuit model: submit a witness (.wtns)");
      require_artifact(s.witness_sha256(), "witness");
      const auto w = prover::read_wtns(artifacts.path(s.witness_sha256()));
      if (w.size() != m->wires)
        throw std::invalid_argument("witness has " + std::to_string(w.size()) + " values, the circuit " + std::to_string(m->wires) + " wires");
    }
    if (s.split_into() > cfg.max_split)
      throw std::invalid_argument("split_into " + std::to_string(s.split_into()) + " is above the limit of " + std::to_string(cfg.max_split));
    if (active.size() >= cfg.max_queued_jobs)
      return reply_error(to, v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                         "the queue is full (" + std::to_string(active.size()) + " unfinished jobs); try again later");
    JobRow j;
    j.job_id = random_hex(16);
    j.model_id = m->model_id;
    j.owner = owner;
    j.state = v1::JOB_STATE_QUEUED;
    j.priority = s.priority();
    j.deadline_unix_ms = s.deadline_unix_ms();
    j.split_into = s.split_into();
    j.input_json = s.input_json();
    j.witness_sha256 = s.witness_sha256();
    j.submitted_unix_ms = unix_ms();
    j = store.insert_job(std::move(j));  // on disk before it is acknowledged
    metrics->job_submitted();
    v1::ClientResponse r;
    *r.mutable_job() = job_info(j);
    ActiveJob a;
    a.row = j;
    active.emplace(j.job_id, std::move(a));
    reply(to, std::move(r));
    dispatch();
  }

  // The job as the client may see it: its own, or anyone's without CURVE.
  std::optional<JobRow> visible_job(const std::string& id, const std::string& owner) {
    std::optional<JobRow> j;
    if (auto it = active.find(id); it != active.end()) j = it->second.row;
    else j = store.get_job(id);
    if (j && !owner.empty() && j->owner != owner) return std::nullopt;  // not found, rather than a hint that it exists
    return j;
  }

  void on_status(const PendingReply& to, const std::string& owner, const std::string& id) {
    auto j = visible_job(id, owner);
    if (!j) return reply_error(to, v1::ERROR_CODE_NOT_FOUND, "job " + id + " not found");
    v1::ClientResponse r;
    *r.mutable_job() = job_info(*j);
    reply(to, std::move(r));
  }

  void on_wait(const PendingReply& to, const std::string& owner, const v1::WaitJobRequest& w) {
    auto j = visible_job(w.job_id(), owner);
    if (!j) return reply_error(to, v1::ERROR_CODE_NOT_FOUND, "job " + w.job_id() + " not found");
    if (finished_state(j->state) || w.timeout_ms() == 0) {
      v1::ClientResponse r;
      *r.mutable_job() = job_info(*j);
      return reply(to, std::move(r));
    }
    Waiter wt;
    static_cast<PendingReply&>(wt) = to;
    wt.job_id = w.job_id();
    wt.until = Clock::now() + std::chrono::milliseconds(std::min<uint32_t>(w.timeout_ms(), 600000));
    waiters.push_back(std::move(wt));
  }

  void on_result(const PendingReply& to, const std::string& owner, const std::string& id) {
    auto j = visible_job(id, owner);
    if (!j) return reply_error(to, v1::ERROR_CODE_NOT_FOUND, "job " + id + " not found");
    if (j->state != v1::JOB_STATE_SUCCEEDED)
      return reply_error(to, v1::ERROR_CODE_FAILED_PRECONDITION,
                         "job " + id + " is " + job_state_name(j->state) + (j->error.empty() ? "" : " (" + j->error + ")") +
                             "; only a succeeded job has a result");
    v1::ClientResponse r;
    auto* res = r.mutable_result();
    *res->mutable_info() = job_info(*j);
    res->set_output_json(j->output_json);
    res->set_proof_json(j->proof_json);
    res->set_public_json(j->public_json);
    if (auto m = store.get_model(j->model_id)) res->set_verification_key_json(m->verification_key_json);
    reply(to, std::move(r));
  }

  void on_cancel(const PendingReply& to, const std::string& owner, const std::string& id) {
    auto j = visible_job(id, owner);
    if (!j) return reply_error(to, v1::ERROR_CODE_NOT_FOUND, "job " + id + " not found");
    if (finished_state(j->state))
      return reply_error(to, v1::ERROR_CODE_FAILED_PRECONDITION, "job " + id + " already " + job_state_name(j->state));
    finish_job(active.at(id), v1::JOB_STATE_CANCELLED, "cancelled by the client");
    on_status(to, owner, id);
  }

  void on_list_jobs(const PendingReply& to, const std::string& owner, const v1::ListJobsRequest& q) {
    v1::ClientResponse r;
    auto* list = r.mutable_jobs();
    for (const auto& j : store.list_jobs(q.state(), owner, std::min<uint32_t>(q.limit() ? q.limit() : 100, 1000), q.after_job_id())) {
      // Running jobs' progress lives in memory between store writes.
      auto it = active.find(j.job_id);
      *list->add_jobs() = job_info(it != active.end() ? it->second.row : j);
    }
    reply(to, std::move(r));
  }

  // ---- jobs -------------------------------------------------------------------------------------

  // Ends a job. `settled`, the shard whose result or failure ended it, is written in the same
  // transaction, so a restart never finds a job whose every shard is done but which is not.
  void finish_job(ActiveJob& a, int state, std::string error, const ShardRow* settled = nullptr) {
    JobRow& j = a.row;
    j.state = state;
    j.error = std::move(error);
    j.finished_unix_ms = unix_ms();
    if (settled) store.update_shard_and_job(*settled, j);
    else store.update_job(j);
    for (auto& [sid, lease] : a.leases)
      if (auto w = workers_by_id.find(lease.worker); w != workers_by_id.end() && w->second.shard == sid) w->second.shard.clear();
    const double seconds = double(j.finished_unix_ms - j.submitted_unix_ms) / 1000.0;
    metrics->job_finished(job_state_name(state), seconds);
    if (state == v1::JOB_STATE_SUCCEEDED)
      spdlog::info("job {} succeeded in {:.2f} s ({} shards)", j.job_id, seconds, j.shards_total);
    else
      spdlog::info("job {} {}: {}", j.job_id, job_state_name(state), j.error);
    const JobRow row = j;
    const std::vector<std::string> scratch = job_scratch(a);
    active.erase(row.job_id);
    remove_unreferenced(scratch);
    notify_waiters(row);
  }

  // What a job made on the way, the witness of a witness shard and h: once the job ends only
  // its result (in the store) matters. What a client uploaded goes later, by age (sweep_uploads).
  static std::vector<std::string> job_scratch(const ActiveJob& a) {
    std::vector<std::string> out;
    for (const auto& s : a.shards) {
      if (!s.witness_sha256.empty()) out.push_back(s.witness_sha256);
      if (!s.h_sha256.empty()) out.push_back(s.h_sha256);
    }
    return out;
  }

  // Every artifact an unfinished job or a model needs.
  std::set<std::string> needed_artifacts() {
    std::set<std::string> needed;
    for (const auto& [id, a] : active) {
      needed.insert(a.row.witness_sha256);
      for (auto& sha : job_scratch(a)) needed.insert(std::move(sha));
    }
    for (const auto& m : store.list_models(0, "")) needed.insert({m.onnx_sha256, m.r1cs_sha256, m.zkey_sha256});
    return needed;
  }

  void remove_unreferenced(const std::vector<std::string>& shas) {
    if (shas.empty()) return;
    const std::set<std::string> needed = needed_artifacts();
    for (const auto& sha : shas)
      if (!needed.count(sha) && artifacts.has(sha)) artifacts.remove(sha);
  }

  // Sweeps of unused uploads: once a minute, or as often as the retention itself where that is
  // shorter (tests), but no more often than heartbeats.
  Clock::duration sweep_period() const {
    return std::clamp<Clock::duration>(cfg.keep_uploads, std::chrono::milliseconds(cfg.heartbeat_interval_ms),
                                       std::chrono::minutes(1));
  }

  // Uploads no unfinished job or model needs, unused for cfg.keep_uploads (a witness submitted
  // again within it is not uploaded twice; a re-upload counts as a use), and at least one sweep
  // period: a client that uploads and then names the upload (add_model, submit) always has that
  // long, even with a retention of 0 h (which a sweep between the two requests would otherwise
  // break: seen as a flaky test).
  void sweep_uploads() {
    const std::set<std::string> needed = needed_artifacts();
    const auto cutoff = std::filesystem::file_time_type::clock::now() -
                        std::max<std::filesystem::file_time_type::duration>(
                            std::chrono::duration_cast<std::filesystem::file_time_type::duration>(cfg.keep_uploads),
                            std::chrono::duration_cast<std::filesystem::file_time_type::duration>(sweep_period()));
    uint64_t bytes = 0;
    size_t n = 0;
    for (const auto& sha : artifacts.list()) {
      if (needed.count(sha)) continue;
      std::error_code ec;
      const auto t = std::filesystem::last_write_time(artifacts.path(sha), ec);
      if (ec || t > cutoff) continue;
      bytes += artifacts.size(sha);
      artifacts.remove(sha);
      ++n;
    }
    if (n) spdlog::info("removed {} unused uploads ({} MiB) older than {} h", n, bytes >> 20, cfg.keep_uploads.count());
  }

  void notify_waiters(const JobRow& j) {
    for (auto it = waiters.begin(); it != waiters.end();) {
      if (it->job_id == j.job_id) {
        v1::ClientResponse r;
        *r.mutable_job() = job_info(j);
        reply(*it, std::move(r));
        it = waiters.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Plans a job on its first dispatch, when the connected workers' memory is known.
  void plan(ActiveJob& a, const ModelRow& m) {
    PlanContext ctx;
    ctx.zkey_bytes = artifacts.size(m.zkey_sha256);
    ctx.n_vars = m.wires;
    ctx.n_public = m.public_signals;
    ctx.domain_size = 1u << m.log_domain;
    for (const auto& [peer, w] : workers_by_id) {
      const auto& c = w.capacity;
      ctx.worker_memory_bytes.push_back(c.backend() == v1::BACKEND_KIND_CUDA && c.gpu_memory_bytes() ? c.gpu_memory_bytes()
                                                                                                  : c.host_memory_bytes());
    }
    a.shards = plan_shards(a.row, m, ctx);
    a.row.shards_total = uint32_t(a.shards.size());
    a.row.shards_done = 0;
    a.row.state = v1::JOB_STATE_RUNNING;
    a.row.started_unix_ms = unix_ms();
    store.plan_job(a.row, a.shards);
    if (a.shards.size() > 1) spdlog::info("job {}: split into {} shards", a.row.job_id, a.shards.size());
  }

  // Whether a worker reported the points a shard reads as resident: the whole key for a WHOLE or
  // H shard, a covering range of the same section for an MSM shard.
  static bool holds_resident(const WorkerEntry& w, const ModelRow& m, const ShardRow& s) {
    for (const auto& r : w.resident) {
      if (r.zkey_sha256() != m.zkey_sha256) continue;
      if (s.kind != v1::SHARD_KIND_MSM) {
        if (r.msm() == v1::MSM_KIND_A && r.first() == 0 && r.count() >= m.wires) return true;
      } else if (r.msm() == s.msm && r.first() <= s.first && r.first() + r.count() >= s.first + s.count) return true;
    }
    return false;
  }

  // Gives waiting workers the most urgent ready shards: higher priority first, then submission
  // order; a job is planned when it first reaches a worker.
  void dispatch() {
    std::vector<std::string> idle;
    for (auto& [peer, w] : workers_by_id)
      if (w.waiting && !w.draining && w.shard.empty()) idle.push_back(peer);
    if (idle.empty() || active.empty()) return;
    std::vector<ActiveJob*> order;
    for (auto& [id, a] : active) order.push_back(&a);
    std::sort(order.begin(), order.end(), [](const ActiveJob* x, const ActiveJob* y) {
      return x->row.priority != y->row.priority ? x->row.priority > y->row.priority : x->row.seq < y->row.seq;
    });
    std::vector<std::string> failed_jobs;
    for (ActiveJob* a : order) {
      if (idle.empty()) break;
      std::optional<ModelRow> m = store.get_model(a->row.model_id);
      if (!m) {
        failed_jobs.push_back(a->row.job_id);
        continue;
      }
      if (a->shards.empty()) {
        try {
          plan(*a, *m);
        } catch (const std::exception& e) {
          spdlog::error("job {}: cannot plan: {}", a->row.job_id, e.what());
          failed_jobs.push_back(a->row.job_id);
          continue;
        }
      }
      for (auto& s : a->shards) {
        if (idle.empty()) break;
        if (s.state != kShardPending || !shard_ready(s, a->shards)) continue;
        // Prefer a worker that already holds the shard's key (range) resident.
        auto pick = std::find_if(idle.begin(), idle.end(), [&](const std::string& peer) {
          return holds_resident(workers_by_id.at(peer), *m, s);
        });
        if (pick == idle.end()) pick = idle.begin();
        const std::string peer = *pick;
        idle.erase(pick);
        assign(peer, *a, s, *m);
      }
    }
    for (const auto& id : failed_jobs)
      if (auto it = active.find(id); it != active.end())
        finish_job(it->second, v1::JOB_STATE_FAILED, "model " + it->second.row.model_id + " is not available");
  }

  void assign(const std::string& peer, ActiveJob& a, ShardRow& s, const ModelRow& m) {
    WorkerEntry& w = workers_by_id.at(peer);
    v1::CoordinatorMessage msg;
    auto* as = msg.mutable_assign();
    as->set_shard_id(s.shard_id);
    as->set_job_id(a.row.job_id);
    as->set_kind(v1::ShardKind(s.kind));
    as->set_model_id(m.model_id);
    as->set_r1cs_sha256(m.r1cs_sha256);
    as->set_zkey_sha256(m.zkey_sha256);
    as->set_model_json(m.model_json);
    as->set_onnx_sha256(m.onnx_sha256);
    as->set_lease_ms(cfg.lease_ms);
    switch (s.kind) {
      case v1::SHARD_KIND_WHOLE:
      case v1::SHARD_KIND_WITNESS:
        as->set_input_json(a.row.input_json);
        as->set_witness_sha256(a.row.witness_sha256);
        break;
      case v1::SHARD_KIND_H:
        as->set_witness_sha256(job_witness(a.row, a.shards));
        break;
      case v1::SHARD_KIND_MSM:
        as->set_msm(v1::MsmKind(s.msm));
        as->set_first(s.first);
        as->set_count(s.count);
        as->set_scalars_sha256(msm_scalars(s, a.row, a.shards));
        break;
    }
    s.state = kShardLeased;
    const auto now = Clock::now();
    a.leases[s.shard_id] = Lease{peer, now + std::chrono::milliseconds(cfg.lease_ms), now};
    w.waiting = false;
    w.shard = s.shard_id;
    metrics->shard_assigned(shard_kind_name(s.kind));
    send_worker(peer, std::move(msg));
  }

  // A shard goes back to the queue after its worker was lost (`lost`) or reported a failure; past
  // its retry budget the job fails.
  void requeue(ActiveJob& a, ShardRow& s, bool lost, const std::string& why) {
    a.leases.erase(s.shard_id);
    uint32_t& n = lost ? s.lost_retries : s.failed_retries;
    const uint32_t budget = lost ? cfg.max_lost_retries : cfg.max_failed_retries;
    ++n;
    s.last_error = why;
    metrics->retry(lost ? "worker_lost" : "shard_failed");
    if (n > budget) {
      s.state = kShardFailed;
      finish_job(a, v1::JOB_STATE_FAILED,
                 "shard " + s.shard_id + " " + (lost ? "lost" : "failed") + " " + std::to_string(n) + " times; last: " + why, &s);
      return;
    }
    s.state = kShardPending;
    store.update_shard(s);
    spdlog::warn("shard {} queued again ({}): {}", s.shard_id, lost ? "worker lost" : "failed", why);
  }

  // The active job and shard a shard id names, if any.
  std::pair<ActiveJob*, ShardRow*> find_shard(const std::string& shard_id) {
    const auto slash = shard_id.find('/');
    if (slash == std::string::npos) return {nullptr, nullptr};
    auto it = active.find(shard_id.substr(0, slash));
    if (it == active.end()) return {nullptr, nullptr};
    for (auto& s : it->second.shards)
      if (s.shard_id == shard_id) return {&it->second, &s};
    return {&it->second, nullptr};
  }

  // ---- workers ----------------------------------------------------------------------------------

  void on_worker(const std::string& peer, zmq::message_t& frame) {
    v1::WorkerMessage m;
    if (frame.size() == 0 || !wire::from_frame(frame, m)) {
      metrics->malformed();
      return worker_error(peer, v1::ERROR_CODE_INVALID_ARGUMENT, "malformed message: not a zkinfer.v1.WorkerMessage");
    }
    if (m.protocol_version() != wire::kProtocolVersion) {
      v1::CoordinatorMessage r;
      *r.mutable_error() = wire::unsupported_version_error(m.protocol_version());
      return send_worker(peer, std::move(r));
    }
    if (m.has_hello()) return on_hello(peer, m.hello());
    auto it = workers_by_id.find(peer);
    if (it == workers_by_id.end())
      return worker_error(peer, v1::ERROR_CODE_FAILED_PRECONDITION, "unknown worker: send Hello");
    WorkerEntry& w = it->second;
    w.last_seen = Clock::now();
    try {
      switch (m.body_case()) {
        case v1::WorkerMessage::kHeartbeat: return on_heartbeat(w, m.heartbeat());
        case v1::WorkerMessage::kReady: return on_ready(peer, w);
        case v1::WorkerMessage::kResult: return on_result(peer, w, m.result());
        case v1::WorkerMessage::kFetch:
          renew_lease(w);  // fetching the shard's inputs is working on it
          return on_fetch(peer, m.fetch());
        case v1::WorkerMessage::kUpload:
          renew_lease(w);
          return on_worker_upload(w, m.upload());
        case v1::WorkerMessage::kGoodbye: return on_goodbye(peer, m.goodbye().reason());
        default: return worker_error(peer, v1::ERROR_CODE_INVALID_ARGUMENT, "message has no body");
      }
    } catch (const std::exception& e) {
      spdlog::error("worker {}: {}", w.name, e.what());
      worker_error(peer, v1::ERROR_CODE_INTERNAL, e.what());
    }
  }

  void on_hello(const std::string& peer, const v1::Hello& h) {
    if (auto old = workers_by_id.find(peer); old != workers_by_id.end()) lose_worker(old->first, "said Hello again");
    WorkerEntry w;
    w.worker_id = "w" + std::to_string(++worker_counter) + "-" + h.worker_name().substr(0, 64);
    w.name = h.worker_name().substr(0, 128);
    w.capacity = h.capacity();
    w.last_seen = Clock::now();
    w.resident.assign(h.resident().begin(), h.resident().end());
    v1::CoordinatorMessage r;
    auto* wl = r.mutable_welcome();
    wl->set_worker_id(w.worker_id);
    wl->set_heartbeat_interval_ms(cfg.heartbeat_interval_ms);
    wl->set_heartbeat_liveness(cfg.heartbeat_liveness);
    wl->set_max_chunk_bytes(cfg.max_chunk_bytes);
    spdlog::info("worker {} ({}) joined: backend {}, {} GPUs, {} CPU threads", w.worker_id, w.name,
                 v1::BackendKind_Name(w.capacity.backend()), w.capacity.gpu_count(), w.capacity.cpu_threads());
    workers_by_id.emplace(peer, std::move(w));
    send_worker(peer, std::move(r));
  }

  void renew_lease(WorkerEntry& w) {
    if (w.shard.empty()) return;
    auto [a, s] = find_shard(w.shard);
    if (!a) return;
    if (auto l = a->leases.find(w.shard); l != a->leases.end())
      l->second.until = Clock::now() + std::chrono::milliseconds(cfg.lease_ms);
  }

  void on_heartbeat(WorkerEntry& w, const v1::Heartbeat& h) {
    // A lease lives while heartbeats name its shard; a worker that forgot it lets it run out.
    if (!w.shard.empty() && h.shard_in_hand() == w.shard) renew_lease(w);
    w.state = h.state();
    if (h.state() == v1::WORKER_STATE_DRAINING) w.draining = true;
    w.gpu_memory_used = h.gpu_memory_used_bytes();
    if (h.resident_size()) w.resident.assign(h.resident().begin(), h.resident().end());
  }

  void on_ready(const std::string& peer, WorkerEntry& w) {
    if (!w.shard.empty()) {
      // It asks for work while we think it holds a shard: that shard never reached it or was
      // dropped; give it to someone else.
      auto [a, s] = find_shard(w.shard);
      w.shard.clear();
      if (a && s && s->state == kShardLeased) requeue(*a, *s, true, "worker " + w.name + " asked for work without returning it");
    }
    w.waiting = true;
    dispatch();
    (void)peer;
  }

  void on_fetch(const std::string& peer, const v1::ArtifactRequest& f) {
    v1::CoordinatorMessage r;
    if (!artifacts.has(f.sha256())) {
      *r.mutable_error() = wire::make_error(v1::ERROR_CODE_NOT_FOUND, "artifact " + f.sha256().substr(0, 64) + " not found");
      return send_worker(peer, std::move(r));
    }
    const uint32_t n = std::min(f.max_bytes() ? f.max_bytes() : cfg.max_chunk_bytes, cfg.max_chunk_bytes);
    auto* c = r.mutable_chunk();
    c->set_sha256(f.sha256());
    c->set_total_size(artifacts.size(f.sha256()));
    c->set_offset(f.offset());
    c->set_data(artifacts.read_chunk(f.sha256(), f.offset(), n));
    metrics->artifact_bytes_served(c->data().size());
    send_worker(peer, std::move(r));
  }

  void on_worker_upload(WorkerEntry& w, const v1::ArtifactChunk& c) {
    try {
      if (c.offset() == 0) {
        if (w.uploads.size() >= 16) w.uploads.erase(w.uploads.begin());
        w.uploads[c.sha256()] = std::make_unique<common::ArtifactUpload>(artifacts, c.sha256(), c.total_size(), cfg.max_artifact_bytes);
      }
      auto it = w.uploads.find(c.sha256());
      if (it == w.uploads.end()) throw std::invalid_argument("chunk of " + c.sha256().substr(0, 64) + " without its first chunk");
      it->second->append(c.sha256(), c.total_size(), c.offset(), c.data());
      if (it->second->complete()) {
        auto up = std::move(it->second);
        w.uploads.erase(it);
        up->finish();
      }
    } catch (const std::exception& e) {
      w.uploads.erase(c.sha256());
      spdlog::warn("upload from worker {} refused: {}", w.name, e.what());
    }
  }

  void on_goodbye(const std::string& peer, const std::string& reason) {
    spdlog::info("worker {} left: {}", workers_by_id.at(peer).name, reason);
    lose_worker(peer, "left: " + reason);
  }

  // A worker is gone (evicted, or said goodbye, or reconnected): its shard goes back to the queue.
  void lose_worker(const std::string& peer, const std::string& why) {
    auto it = workers_by_id.find(peer);
    if (it == workers_by_id.end()) return;
    const std::string shard = it->second.shard, name = it->second.name;
    workers_by_id.erase(it);
    if (shard.empty()) return;
    auto [a, s] = find_shard(shard);
    if (a && s && s->state == kShardLeased) requeue(*a, *s, true, "worker " + name + " " + why);
  }

  void on_result(const std::string& peer, WorkerEntry& w, const v1::ShardResult& r) {
    if (w.shard == r.shard_id()) w.shard.clear();
    auto [a, s] = find_shard(r.shard_id());
    if (!a || !s || s->state == kShardDone || s->state == kShardFailed) {
      metrics->result_dropped();
      spdlog::info("dropped a late or duplicate result for {}", r.shard_id().substr(0, 100));
      return;
    }
    // Whoever else holds a lease on it will have its result dropped.
    if (auto l = a->leases.find(s->shard_id); l != a->leases.end()) {
      metrics->shard_duration(shard_kind_name(s->kind), "total", std::chrono::duration<double>(Clock::now() - l->second.started).count());
      if (l->second.worker != peer)
        if (auto o = workers_by_id.find(l->second.worker); o != workers_by_id.end() && o->second.shard == s->shard_id)
          o->second.shard.clear();
      a->leases.erase(l);
    }
    for (const auto& [phase, sec] : r.phase_seconds()) metrics->shard_duration(shard_kind_name(s->kind), phase, sec);
    if (r.has_failure()) {
      const std::string why = "worker " + w.name + ": " + r.failure().message();
      metrics->shard_outcome(shard_kind_name(s->kind), "failed");
      // Bad input fails the same way everywhere: no retry.
      if (r.failure().code() == v1::ERROR_CODE_INVALID_ARGUMENT) {
        s->state = kShardFailed;
        s->last_error = why;
        return finish_job(*a, v1::JOB_STATE_FAILED, "shard " + s->shard_id + ": " + r.failure().message(), s);
      }
      requeue(*a, *s, false, why);
      return dispatch();
    }
    const ModelRow m = ready_model(a->row.model_id);
    try {
      accept_result(*a, *s, m, r);
    } catch (const std::invalid_argument& e) {
      metrics->shard_outcome(shard_kind_name(s->kind), "invalid");
      requeue(*a, *s, false, "worker " + w.name + " returned an invalid result: " + e.what());
    }
    dispatch();
  }

  void accept_result(ActiveJob& a, ShardRow& s, const ModelRow& m, const v1::ShardResult& r) {
    switch (s.kind) {
      case v1::SHARD_KIND_WHOLE: {
        CheckedProof p;
        try {
          p = check_proof(m, r.proof_json(), r.public_json());
        } catch (const std::invalid_argument&) {
          metrics->verification_failed();
          throw;
        }
        s.proof_json = p.proof_json;
        s.public_json = p.public_json;
        s.output_json = r.output_json();
        break;
      }
      case v1::SHARD_KIND_WITNESS:
        if (!artifacts.has(r.witness_sha256())) throw std::invalid_argument("witness artifact " + r.witness_sha256() + " did not arrive whole");
        s.witness_sha256 = r.witness_sha256();
        s.output_json = r.output_json();
        a.row.output_json = r.output_json();
        break;
      case v1::SHARD_KIND_H: {
        if (!artifacts.has(r.h_sha256())) throw std::invalid_argument("h artifact " + r.h_sha256() + " did not arrive whole");
        const uint64_t want = uint64_t(32) << m.log_domain;
        if (artifacts.size(r.h_sha256()) != want)
          throw std::invalid_argument("h artifact is " + std::to_string(artifacts.size(r.h_sha256())) + " bytes, expected " + std::to_string(want));
        s.h_sha256 = r.h_sha256();
        break;
      }
      case v1::SHARD_KIND_MSM:
        if (s.msm == v1::MSM_KIND_B2) wire::decode_g2(r.point(), "partial point of " + s.shard_id);
        else wire::decode_g1(r.point(), "partial point of " + s.shard_id);
        s.point = r.point();
        metrics->msm_points(s.count);
        break;
    }
    s.state = kShardDone;
    s.finished_unix_ms = unix_ms();
    metrics->shard_outcome(shard_kind_name(s.kind), "done");
    ++a.row.shards_done;
    const bool all_done = std::all_of(a.shards.begin(), a.shards.end(), [](const ShardRow& x) { return x.state == kShardDone; });
    if (!all_done) {
      store.update_shard_and_job(s, a.row);
      return;
    }
    complete(a, m, s);
  }

  // Every shard of a job is done: its proof is the whole shard's, or the partial points added up
  // and checked; then the job succeeds. `last` is the shard that finished last.
  void complete(ActiveJob& a, const ModelRow& m, const ShardRow& last) {
    if (a.shards.size() == 1 && a.shards[0].kind == v1::SHARD_KIND_WHOLE) {
      const ShardRow& w = a.shards[0];
      a.row.proof_json = w.proof_json;
      a.row.public_json = w.public_json;
      a.row.output_json = w.output_json;
      return finish_job(a, v1::JOB_STATE_SUCCEEDED, "", &last);
    }
    try {
      CheckedProof p = aggregate_split(artifacts, m, job_witness(a.row, a.shards), a.shards);
      a.row.proof_json = p.proof_json;
      a.row.public_json = p.public_json;
    } catch (const std::invalid_argument& e) {
      // One partial point is wrong, and nothing says which: run every MSM range again, within
      // the ranges' failure budget.
      metrics->verification_failed();
      const std::string why = std::string("the aggregated proof does not verify: ") + e.what();
      spdlog::warn("job {}: {}", a.row.job_id, why);
      for (const auto& x : a.shards)
        if (x.kind == v1::SHARD_KIND_MSM && x.failed_retries + 1 > cfg.max_failed_retries)
          return finish_job(a, v1::JOB_STATE_FAILED, why, &last);
      for (auto& x : a.shards) {
        if (x.kind != v1::SHARD_KIND_MSM) continue;
        x.state = kShardPending;
        ++x.failed_retries;
        x.last_error = why;
        x.point.clear();
        --a.row.shards_done;
        metrics->retry("shard_failed");
      }
      store.update_shard_and_job(last, a.row);
      for (const auto& x : a.shards)
        if (x.kind == v1::SHARD_KIND_MSM) store.update_shard_and_job(x, a.row);
      return;
    }
    finish_job(a, v1::JOB_STATE_SUCCEEDED, "", &last);
  }

  // ---- timers -----------------------------------------------------------------------------------

  void tick() {
    const auto now = Clock::now();
    // Heartbeats out, and dead workers evicted.
    const auto silence = std::chrono::milliseconds(uint64_t(cfg.heartbeat_interval_ms) * cfg.heartbeat_liveness);
    std::vector<std::string> dead;
    v1::CoordinatorMessage hb;
    hb.mutable_heartbeat();
    for (auto& [peer, w] : workers_by_id) {
      if (now - w.last_seen > silence) dead.push_back(peer);
      else send_worker(peer, hb);
    }
    for (const auto& peer : dead) {
      spdlog::warn("worker {} evicted: no message for {} heartbeat intervals", workers_by_id.at(peer).name, cfg.heartbeat_liveness);
      metrics->eviction();
      lose_worker(peer, "stopped heartbeating");
    }
    // Leases that ran out, and deadlines that passed.
    const uint64_t wall = unix_ms();
    std::vector<std::string> late;
    std::vector<std::string> expired;
    for (auto& [id, a] : active) {
      if (a.row.deadline_unix_ms && wall > a.row.deadline_unix_ms) late.push_back(id);
      else
        for (auto& [sid, l] : a.leases)
          if (now > l.until) expired.push_back(sid);
    }
    // Requeueing may fail and so remove a job: look each one up again.
    for (const auto& sid : expired) {
      auto [a, s] = find_shard(sid);
      if (!a || !s) continue;
      if (auto l = a->leases.find(sid); l != a->leases.end())
        if (auto w = workers_by_id.find(l->second.worker); w != workers_by_id.end() && w->second.shard == sid)
          w->second.shard.clear();
      if (s->state == kShardLeased) requeue(*a, *s, true, "lease expired");
    }
    for (const auto& id : late)
      if (auto it = active.find(id); it != active.end()) finish_job(it->second, v1::JOB_STATE_FAILED, "deadline exceeded");
    // Waits that timed out are answered with the job as it stands.
    for (auto it = waiters.begin(); it != waiters.end();) {
      if (now >= it->until) {
        if (auto j = visible_job(it->job_id, "")) {
          v1::ClientResponse r;
          *r.mutable_job() = job_info(*j);
          reply(*it, std::move(r));
        }
        it = waiters.erase(it);
      } else {
        ++it;
      }
    }
    if (now >= next_sweep) {
      sweep_uploads();
      next_sweep = now + sweep_period();
    }
    // Client uploads abandoned for ten minutes.
    for (auto it = client_uploads.begin(); it != client_uploads.end();)
      it = now - it->second.last > std::chrono::minutes(10) ? client_uploads.erase(it) : std::next(it);
    update_gauges();
    dispatch();
  }

  void update_gauges() {
    CoordinatorMetrics::Snapshot snap;
    const uint64_t wall = unix_ms();
    for (const auto& [id, a] : active) {
      if (a.row.state == v1::JOB_STATE_QUEUED) {
        ++snap.queued;
        snap.oldest_queued_seconds = std::max(snap.oldest_queued_seconds, double(wall - a.row.submitted_unix_ms) / 1000.0);
      } else {
        ++snap.running;
      }
      for (const auto& s : a.shards) ++snap.shards[{shard_kind_name(s.kind), s.state}];
    }
    for (const auto& [peer, w] : workers_by_id) {
      ++snap.workers[w.draining ? "draining" : !w.shard.empty() ? "busy" : "idle"];
      snap.worker_device_memory[w.name] = double(w.gpu_memory_used);
    }
    metrics->update(snap);
  }
};

Coordinator::Coordinator(CoordinatorConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Coordinator::~Coordinator() = default;
void Coordinator::run() { impl_->run(); }
void Coordinator::stop() { impl_->stopping = true; }
std::string Coordinator::clients_endpoint() const { return impl_->clients_ep; }
std::string Coordinator::workers_endpoint() const { return impl_->workers_ep; }
int Coordinator::metrics_port() const { return impl_->metrics->port(); }

}  // namespace zkinfer::coordinator
