#include "zkinfer/worker/worker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "zkinfer/common/metrics.h"
#include "zkinfer/common/metrics_server.h"
#include "zkinfer/worker/executor.h"

namespace zkinfer::worker {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr uint32_t kDefaultHeartbeatMs = 1000;
constexpr uint32_t kDefaultLiveness = 3;
// A NoWork with a tiny retry_after_ms must not turn the worker into a busy loop.
constexpr milliseconds kMinRetry{50};
// Room in a message for the ArtifactChunk's other fields.
constexpr int64_t kChunkOverhead = 4096;

std::string default_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || !host[0]) std::snprintf(host, sizeof host, "worker");
  return std::string(host) + "-" + std::to_string(getpid());
}

int make_eventfd() {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  return fd;
}

void signal_fd(int fd) {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = write(fd, &one, sizeof one);
}

void clear_fd(int fd) {
  uint64_t v;
  [[maybe_unused]] const ssize_t n = read(fd, &v, sizeof v);
}

const char* kind_label(v1::ShardKind k) {
  switch (k) {
    case v1::SHARD_KIND_WHOLE: return "whole";
    case v1::SHARD_KIND_WITNESS: return "witness";
    case v1::SHARD_KIND_H: return "h";
    case v1::SHARD_KIND_MSM: return "msm";
    default: return "unknown";
  }
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The worker's series (DESIGN.md 3): prefix zkinfer_worker_, no job or shard ids in labels.
struct Metrics {
  common::Registry reg;
  common::Counter& busy = reg.counter("zkinfer_worker_busy_seconds_total", "Seconds spent running shards");
  common::Counter& msm_points =
      reg.counter("zkinfer_worker_msm_points_total", "Points the worker's MSMs went over (MSM and WHOLE shards)");
  common::Counter& fetched =
      reg.counter("zkinfer_worker_artifact_fetched_bytes_total", "Artifact bytes fetched from the coordinator");
  common::Counter& uploaded =
      reg.counter("zkinfer_worker_artifact_uploaded_bytes_total", "Result artifact bytes uploaded to the coordinator");
  common::Counter& reconnects =
      reg.counter("zkinfer_worker_reconnects_total", "Fresh connections to the coordinator after the first");

  void shard_done(v1::ShardKind kind, bool ok, const v1::ShardResult& r, double total) {
    reg.counter("zkinfer_worker_shards_total", "Shards finished, by kind and outcome",
                {{"kind", kind_label(kind)}, {"outcome", ok ? "succeeded" : "failed"}})
        .inc();
    auto observe = [&](const std::string& phase, double s) {
      reg.histogram("zkinfer_worker_shard_duration_seconds", "Shard time by kind and phase (total: fetch to result)",
                    common::duration_buckets(), {{"kind", kind_label(kind)}, {"phase", phase}})
          .observe(s);
    };
    for (const auto& [phase, s] : r.phase_seconds()) observe(phase, s);
    observe("total", total);
  }
  void state(const char* now) {
    for (const char* s : {"disconnected", "idle", "busy", "draining"})
      reg.gauge("zkinfer_worker_state", "1 for the worker's current state", {{"state", s}}).set(s == std::string(now));
  }
};

}  // namespace

// The I/O thread's state machine (zkinfer.proto, "Worker session") and the compute thread.
class Worker::Session {
 public:
  Session(Worker& w) : w_(w), cfg_(w.cfg_), exec_(w.cache_, *w.backend_.backend, {cfg_.max_resident_keys}) {
    done_fd_ = make_eventfd();
    backoff_ = cfg_.backoff_initial;
    if (!cfg_.metrics_address.empty()) {
      metrics_ = std::make_unique<Metrics>();
      metrics_->reg.gauge_callback("zkinfer_worker_device_memory_used_bytes",
                                   "Device memory held by resident keys and key ranges", {},
                                   [this] { return double(exec_.resident_snapshot().device_bytes); });
      metrics_->state("disconnected");
      server_ = std::make_unique<common::MetricsServer>(cfg_.metrics_address, metrics_->reg, [this] {
        return std::pair<bool, std::string>(w_.ready_.load(), "not connected to a coordinator");
      });
      w_.metrics_port_ = server_->port();
      spdlog::info("metrics on {} (port {})", cfg_.metrics_address, server_->port());
    }
    compute_ = std::thread([this] { compute_loop(); });
  }

  ~Session() {
    {
      std::lock_guard lk(mu_);
      quit_ = true;
    }
    cv_.notify_one();
    compute_.join();
    server_.reset();
    close(done_fd_);
    w_.ready_ = false;
    w_.metrics_port_ = 0;
  }

  void loop() {
    connect();
    while (!finished_) {
      const auto now = Clock::now();
      const auto timeout = std::clamp(std::chrono::duration_cast<milliseconds>(next_deadline(now) - now),
                                      milliseconds(0), milliseconds(1000));
      zmq::pollitem_t items[3] = {{nullptr, w_.stop_fd_, ZMQ_POLLIN, 0}, {nullptr, done_fd_, ZMQ_POLLIN, 0}, {}};
      size_t n = 2;
      if (sock_) items[n++] = {sock_->handle(), 0, short(ZMQ_POLLIN | (want_send() ? ZMQ_POLLOUT : 0)), 0};
      try {
        zmq::poll(items, n, timeout);
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) throw;
        continue;  // a signal: its handler has written the stop eventfd, seen on the next poll
      }
      if (items[0].revents & ZMQ_POLLIN) {
        clear_fd(w_.stop_fd_);
        on_stop();
      }
      if (items[1].revents & ZMQ_POLLIN) {
        clear_fd(done_fd_);
        on_computed();
      }
      if (n == 3 && (items[2].revents & ZMQ_POLLIN)) receive();
      on_timers();
      flush();
    }
    flush();
  }

 private:
  enum class Link { kDown, kHelloSent, kWelcomed };
  enum class Task { kIdle, kFetching, kComputing, kUploading };

  // ---- compute thread ----------------------------------------------------------------------

  void compute_loop() {
    std::unique_lock lk(mu_);
    for (;;) {
      cv_.wait(lk, [&] { return quit_ || todo_; });
      if (!todo_) return;
      const v1::ShardAssignment a = std::move(*todo_);
      todo_.reset();
      lk.unlock();
      ShardOutcome out = exec_.run(a);
      lk.lock();
      done_ = std::move(out);
      signal_fd(done_fd_);
    }
  }

  // ---- connection --------------------------------------------------------------------------

  void connect() {
    sock_.emplace(ctx_, zmq::socket_type::dealer);
    wire::apply_socket_limits(*sock_, cfg_.max_message_bytes);
    // Few messages queued: artifact chunks are made one at a time as the socket takes them.
    sock_->set(zmq::sockopt::sndhwm, 16);
    if (!cfg_.curve_server_key.empty()) common::make_curve_client(*sock_, cfg_.curve_keys, cfg_.curve_server_key);
    sock_->connect(cfg_.coordinator);
    if (connections_++ && metrics_) metrics_->reconnects.inc();
    send_hello();
  }

  void send_hello() {
    v1::WorkerMessage m;
    v1::Hello& h = *m.mutable_hello();
    h.set_worker_name(cfg_.name);
    v1::Capacity& c = *h.mutable_capacity();
    const BackendChoice& be = w_.backend_;
    c.set_backend(be.kind);
    c.set_gpu_count(be.gpu_count);
    c.set_gpu_memory_bytes(be.gpu_memory_bytes);
    c.set_cpu_threads(cfg_.cpu_threads ? cfg_.cpu_threads : std::max(1u, std::thread::hardware_concurrency()));
    c.set_host_memory_bytes(uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGE_SIZE)));
    const std::vector<std::string> cached = w_.cache_.list();
    uint64_t used = 0;
    for (const auto& sha : cached) {
      used += w_.cache_.size(sha);
      h.add_cached_artifacts(sha);
    }
    std::error_code ec;
    const auto space = std::filesystem::space(w_.cache_.dir(), ec);
    c.set_cache_bytes(used + (ec ? 0 : space.available));
    const ResidentSnapshot snap = exec_.resident_snapshot();
    for (const auto& r : snap.ranges) *h.add_resident() = r;
    reported_version_ = snap.version;
    outbox_.clear();  // whatever was queued belongs to the session before this Hello
    push(m);
    link_ = Link::kHelloSent;
    w_.ready_ = false;
    hello_sent_at_ = Clock::now();
    fetch_outstanding_ = false;
  }

  // The coordinator is gone (silent, said Goodbye, or refused our version): a fresh socket after
  // the backoff. The shard in hand is not affected.
  void lost(const std::string& why) {
    spdlog::warn("coordinator {}: {}; reconnecting in {} ms", cfg_.coordinator, why, backoff_.count());
    sock_.reset();
    outbox_.clear();
    link_ = Link::kDown;
    w_.ready_ = false;
    fetch_outstanding_ = false;
    reconnect_at_ = Clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, cfg_.backoff_max);
    if (draining_ && task_ == Task::kIdle) finished_ = true;  // nobody left to say Goodbye to
    update_state();
  }

  Clock::time_point next_deadline(Clock::time_point now) const {
    auto t = now + milliseconds(1000);
    if (!sock_) return std::min(t, reconnect_at_);
    if (link_ == Link::kHelloSent) return std::min(t, hello_sent_at_ + cfg_.hello_timeout);
    if (link_ == Link::kWelcomed) {
      t = std::min({t, next_heartbeat_, last_heard_ + heartbeat_ * liveness_});
      if (task_ == Task::kIdle && !ready_sent_ && !draining_) t = std::min(t, ready_at_);
    }
    return t;
  }

  void on_timers() {
    const auto now = Clock::now();
    if (!sock_) {
      if (now >= reconnect_at_ && !finished_) connect();
      return;
    }
    if (link_ == Link::kHelloSent && now - hello_sent_at_ >= cfg_.hello_timeout) {
      lost("no Welcome within " + std::to_string(cfg_.hello_timeout.count()) + " ms");
      return;
    }
    if (link_ != Link::kWelcomed) return;
    if (now - last_heard_ >= heartbeat_ * liveness_) {
      lost("silent for " + std::to_string(liveness_) + " heartbeat intervals");
      return;
    }
    if (now >= next_heartbeat_) send_heartbeat();
    if (task_ == Task::kIdle && !ready_sent_ && !draining_ && now >= ready_at_) send_ready();
  }

  // ---- sending -----------------------------------------------------------------------------

  void push(v1::WorkerMessage& m) {
    m.set_protocol_version(wire::kProtocolVersion);
    outbox_.push_back(wire::to_frame(m));
  }

  bool want_send() const {
    return !outbox_.empty() || (link_ == Link::kWelcomed && task_ == Task::kUploading);
  }

  // Sends what is queued, then the shard's result artifacts chunk by chunk and its result, as
  // far as the socket takes them without blocking.
  void flush() {
    while (sock_) {
      while (!outbox_.empty()) {
        try {
          if (!sock_->send(outbox_.front(), zmq::send_flags::dontwait)) return;
        } catch (const zmq::error_t& e) {
          spdlog::warn("send to the coordinator failed: {}", e.what());
        }
        outbox_.pop_front();
      }
      if (link_ != Link::kWelcomed || task_ != Task::kUploading) return;
      next_upload_message();
    }
  }

  void send_heartbeat() {
    v1::WorkerMessage m;
    v1::Heartbeat& hb = *m.mutable_heartbeat();
    hb.set_sequence(++heartbeat_seq_);
    hb.set_state(draining_ ? v1::WORKER_STATE_DRAINING
                           : task_ == Task::kIdle ? v1::WORKER_STATE_IDLE : v1::WORKER_STATE_BUSY);
    if (shard_) hb.set_shard_in_hand(shard_->shard_id());
    const ResidentSnapshot snap = exec_.resident_snapshot();
    if (snap.version != reported_version_) {
      for (const auto& r : snap.ranges) *hb.add_resident() = r;
      reported_version_ = snap.version;
    }
    hb.set_gpu_memory_used_bytes(snap.device_bytes);
    push(m);
    next_heartbeat_ = Clock::now() + heartbeat_;
  }

  void send_ready() {
    v1::WorkerMessage m;
    m.mutable_ready();
    push(m);
    ready_sent_ = true;
  }

  void send_goodbye() {
    v1::WorkerMessage m;
    m.mutable_goodbye()->set_reason("draining: stopped by request");
    push(m);
    finished_ = true;
    spdlog::info("drained; Goodbye sent");
  }

  // ---- receiving ---------------------------------------------------------------------------

  void receive() {
    while (sock_) {
      zmq::message_t frame;
      if (!sock_->recv(frame, zmq::recv_flags::dontwait)) return;
      last_heard_ = Clock::now();  // any message is a sign of life
      if (frame.more()) {
        while (frame.more() && sock_->recv(frame, zmq::recv_flags::dontwait)) {
        }
        spdlog::warn("dropped a multi-frame message from the coordinator");
        continue;
      }
      v1::CoordinatorMessage m;
      if (!wire::from_frame(frame, m)) {
        spdlog::warn("dropped a message from the coordinator that does not parse ({} bytes)", frame.size());
        continue;
      }
      if (m.protocol_version() != wire::kProtocolVersion) {
        spdlog::warn("dropped a message of protocol version {} (this worker speaks {})", m.protocol_version(),
                     wire::kProtocolVersion);
        continue;
      }
      handle(m);
    }
  }

  void handle(const v1::CoordinatorMessage& m) {
    switch (m.body_case()) {
      case v1::CoordinatorMessage::kWelcome: on_welcome(m.welcome()); break;
      case v1::CoordinatorMessage::kHeartbeat: break;
      case v1::CoordinatorMessage::kAssign: on_assignment(m.assign()); break;
      case v1::CoordinatorMessage::kNoWork:
        if (task_ == Task::kIdle && ready_sent_) {
          ready_sent_ = false;
          ready_at_ = Clock::now() + std::max(milliseconds(m.no_work().retry_after_ms()), kMinRetry);
        }
        break;
      case v1::CoordinatorMessage::kChunk: on_chunk(m.chunk()); break;
      case v1::CoordinatorMessage::kError: on_error(m.error()); break;
      case v1::CoordinatorMessage::kGoodbye:
        backoff_ = cfg_.backoff_initial;
        lost("said Goodbye (" + m.goodbye().reason() + ")");
        break;
      default: spdlog::warn("dropped a message from the coordinator without a body"); break;
    }
  }

  void on_welcome(const v1::Welcome& w) {
    const bool first = link_ != Link::kWelcomed;
    heartbeat_ = milliseconds(w.heartbeat_interval_ms() ? w.heartbeat_interval_ms() : kDefaultHeartbeatMs);
    liveness_ = w.heartbeat_liveness() ? w.heartbeat_liveness() : kDefaultLiveness;
    const int64_t room = cfg_.max_message_bytes - kChunkOverhead;
    max_chunk_ = uint32_t(std::min<int64_t>(w.max_chunk_bytes() ? w.max_chunk_bytes() : wire::kDefaultChunkBytes, room));
    link_ = Link::kWelcomed;
    w_.ready_ = true;
    backoff_ = cfg_.backoff_initial;
    next_heartbeat_ = Clock::now() + heartbeat_;
    if (!first) return;
    spdlog::info("connected to {} as {} (heartbeat {} ms x {}, chunks of {} bytes)", cfg_.coordinator, w.worker_id(),
                 heartbeat_.count(), liveness_, max_chunk_);
    update_state();
    // Pick up where this worker was before the (re)connection.
    switch (task_) {
      case Task::kIdle:
        if (draining_) {
          send_goodbye();
        } else {
          ready_sent_ = false;
          send_ready();
        }
        break;
      case Task::kFetching: request_next(); break;
      case Task::kComputing: break;
      case Task::kUploading:
        upload_index_ = 0;
        upload_offset_ = 0;
        break;
    }
  }

  void on_error(const v1::Error& e) {
    if (e.code() == v1::ERROR_CODE_FAILED_PRECONDITION) {
      spdlog::info("coordinator: {}; sending Hello again", e.message());
      send_hello();
      return;
    }
    if (e.code() == v1::ERROR_CODE_UNSUPPORTED_VERSION) {
      lost("refused protocol version " + std::to_string(wire::kProtocolVersion) + " (" + e.message() + ")");
      return;
    }
    if (task_ == Task::kFetching && fetch_outstanding_) {
      fail_shard(e.code(), "fetching artifact " + to_fetch_.front() + ": " + e.message());
      return;
    }
    spdlog::warn("coordinator error {}: {}", v1::ErrorCode_Name(e.code()), e.message());
  }

  // ---- a shard: fetch, compute, upload -----------------------------------------------------

  void on_assignment(const v1::ShardAssignment& a) {
    if (shard_) {
      if (a.shard_id() == shard_->shard_id()) return;  // a repeat of the shard in hand
      spdlog::warn("refused shard {}: busy with {}", a.shard_id(), shard_->shard_id());
      v1::WorkerMessage m;
      m.mutable_result()->set_shard_id(a.shard_id());
      *m.mutable_result()->mutable_failure() =
          wire::make_error(v1::ERROR_CODE_FAILED_PRECONDITION, "worker " + cfg_.name + " is busy with shard " + shard_->shard_id());
      push(m);
      return;
    }
    shard_ = a;
    shard_started_ = Clock::now();
    ready_sent_ = false;
    task_ = Task::kFetching;
    update_state();
    spdlog::info("shard {} ({}) started", a.shard_id(), kind_label(a.kind()));
    to_fetch_.clear();
    try {
      for (const auto& sha : shard_inputs(a))
        if (!w_.cache_.has(sha) && std::find(to_fetch_.begin(), to_fetch_.end(), sha) == to_fetch_.end())
          to_fetch_.push_back(sha);
    } catch (const std::exception& e) {
      const v1::Error err = error_from_exception(e);
      fail_shard(err.code(), err.message());
      return;
    }
    request_next();
  }

  // Asks for the next chunk of the artifact being fetched, or starts the shard when all are here.
  void request_next() {
    if (to_fetch_.empty()) {
      fetch_seconds_ = seconds_since(shard_started_);
      task_ = Task::kComputing;
      {
        std::lock_guard lk(mu_);
        todo_ = *shard_;
      }
      cv_.notify_one();
      return;
    }
    if (link_ != Link::kWelcomed) return;  // asked again after the next Welcome
    v1::WorkerMessage m;
    v1::ArtifactRequest& r = *m.mutable_fetch();
    r.set_sha256(to_fetch_.front());
    r.set_offset(fetching_ ? fetching_->received() : 0);
    r.set_max_bytes(max_chunk_);
    push(m);
    fetch_outstanding_ = true;
  }

  void on_chunk(const v1::ArtifactChunk& c) {
    if (task_ != Task::kFetching || to_fetch_.empty() || c.sha256() != to_fetch_.front()) {
      spdlog::debug("dropped an unasked-for chunk of {}", c.sha256());
      return;
    }
    const uint64_t expected = fetching_ ? fetching_->received() : 0;
    if (c.offset() != expected) {  // an answer to a request from before a reconnection
      spdlog::debug("dropped a chunk of {} at offset {} (expected {})", c.sha256(), c.offset(), expected);
      return;
    }
    fetch_outstanding_ = false;
    try {
      if (!fetching_)
        fetching_ = std::make_unique<common::ArtifactUpload>(w_.cache_, c.sha256(), c.total_size(), cfg_.max_artifact_bytes);
      fetching_->append(c.sha256(), c.total_size(), c.offset(), c.data());
      if (metrics_) metrics_->fetched.inc(double(c.data().size()));
      if (fetching_->complete()) {
        fetching_->finish();
        fetching_.reset();
        to_fetch_.pop_front();
      } else if (c.data().empty()) {
        throw std::invalid_argument("empty chunk at offset " + std::to_string(c.offset()) + " of " +
                                    std::to_string(c.total_size()) + " bytes");
      }
    } catch (const std::exception& e) {
      fail_shard(v1::ERROR_CODE_INVALID_ARGUMENT, "artifact " + c.sha256() + " from the coordinator: " + e.what());
      return;
    }
    request_next();
  }

  // The shard in hand fails before it ran: its result carries the failure and nothing else.
  void fail_shard(v1::ErrorCode code, const std::string& why) {
    spdlog::warn("shard {} failed: {}", shard_->shard_id(), why);
    fetching_.reset();
    to_fetch_.clear();
    fetch_outstanding_ = false;
    outcome_ = {};
    outcome_.result.set_shard_id(shard_->shard_id());
    *outcome_.result.mutable_failure() = wire::make_error(code, why);
    begin_upload();
  }

  void on_computed() {
    {
      std::lock_guard lk(mu_);
      if (!done_) return;
      outcome_ = std::move(*done_);
      done_.reset();
    }
    const double busy = seconds_since(shard_started_) - fetch_seconds_;
    (*outcome_.result.mutable_phase_seconds())["fetch"] = fetch_seconds_;
    if (metrics_) {
      metrics_->busy.inc(busy);
      metrics_->msm_points.inc(double(outcome_.msm_points));
    }
    if (outcome_.result.has_failure())
      spdlog::warn("shard {} failed after {:.3f} s: {}", shard_->shard_id(), busy, outcome_.result.failure().message());
    else
      spdlog::info("shard {} computed in {:.3f} s (fetch {:.3f} s)", shard_->shard_id(), busy, fetch_seconds_);
    begin_upload();
  }

  // A finished shard's job data joins the list of it; beyond the byte limit, the oldest leaves
  // the cache, so a long-running worker's disk holds keys and models, not every proof's vectors.
  void retire_job_data(const v1::ShardAssignment& a, const std::vector<std::string>& made) {
    auto add = [&](const std::string& sha) {
      if (sha.empty() || !w_.cache_.has(sha)) return;
      job_data_.erase(std::remove(job_data_.begin(), job_data_.end(), sha), job_data_.end());
      job_data_.push_back(sha);  // most recent last
    };
    add(a.witness_sha256());
    add(a.scalars_sha256());
    for (const auto& sha : made) add(sha);
    uint64_t bytes = 0;
    for (const auto& sha : job_data_) bytes += w_.cache_.has(sha) ? w_.cache_.size(sha) : 0;
    while (job_data_.size() > 2 && bytes > cfg_.job_cache_bytes) {
      const std::string old = job_data_.front();
      job_data_.pop_front();
      if (!w_.cache_.has(old)) continue;
      bytes -= w_.cache_.size(old);
      w_.cache_.remove(old);
      spdlog::debug("cache: removed job data {}", old);
    }
  }

  void begin_upload() {
    task_ = Task::kUploading;
    upload_index_ = 0;
    upload_offset_ = 0;
  }

  // Queues the next chunk of the result artifacts, or the result itself, which ends the shard.
  void next_upload_message() {
    v1::WorkerMessage m;
    if (upload_index_ < outcome_.uploads.size()) {
      const std::string& sha = outcome_.uploads[upload_index_];
      try {
        v1::ArtifactChunk& c = *m.mutable_upload();
        c.set_sha256(sha);
        c.set_total_size(w_.cache_.size(sha));
        c.set_offset(upload_offset_);
        c.set_data(w_.cache_.read_chunk(sha, upload_offset_, max_chunk_));
        upload_offset_ += c.data().size();
        if (upload_offset_ >= c.total_size()) {
          ++upload_index_;
          upload_offset_ = 0;
        }
        if (metrics_) metrics_->uploaded.inc(double(c.data().size()));
      } catch (const std::exception& e) {  // the cache lost it: the shard fails after all
        outcome_.uploads.clear();
        outcome_.result = {};
        outcome_.result.set_shard_id(shard_->shard_id());
        *outcome_.result.mutable_failure() =
            wire::make_error(v1::ERROR_CODE_INTERNAL, "reading result artifact " + sha + ": " + e.what());
        return;
      }
      push(m);
      return;
    }
    *m.mutable_result() = outcome_.result;
    push(m);
    const bool ok = !outcome_.result.has_failure();
    const double total = seconds_since(shard_started_);
    if (metrics_) metrics_->shard_done(shard_->kind(), ok, outcome_.result, total);
    spdlog::info("shard {} {} in {:.3f} s", shard_->shard_id(), ok ? "done" : "reported failed", total);
    retire_job_data(*shard_, outcome_.uploads);
    shard_.reset();
    outcome_ = {};
    task_ = Task::kIdle;
    ready_sent_ = false;
    ready_at_ = Clock::now();
    update_state();
    if (draining_) send_goodbye();
  }

  // ---- draining ----------------------------------------------------------------------------

  void on_stop() {
    if (draining_) return;
    draining_ = true;
    spdlog::info("draining: {}", shard_ ? "finishing shard " + shard_->shard_id() : std::string("no shard in hand"));
    update_state();
    if (link_ != Link::kWelcomed) {
      if (task_ == Task::kIdle) finished_ = true;
      return;
    }
    send_heartbeat();  // DRAINING now rather than at the next interval
    if (task_ == Task::kIdle) send_goodbye();
  }

  void update_state() {
    if (!metrics_) return;
    metrics_->state(draining_ ? "draining"
                    : link_ != Link::kWelcomed && task_ == Task::kIdle ? "disconnected"
                    : task_ == Task::kIdle ? "idle"
                                           : "busy");
  }

  Worker& w_;
  const WorkerConfig& cfg_;
  ShardExecutor exec_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<common::MetricsServer> server_;

  zmq::context_t ctx_;
  std::optional<zmq::socket_t> sock_;
  std::deque<zmq::message_t> outbox_;
  Link link_ = Link::kDown;
  unsigned connections_ = 0;
  milliseconds backoff_;
  milliseconds heartbeat_{kDefaultHeartbeatMs};
  uint32_t liveness_ = kDefaultLiveness;
  uint32_t max_chunk_ = wire::kDefaultChunkBytes;
  uint64_t heartbeat_seq_ = 0, reported_version_ = 0;
  Clock::time_point hello_sent_at_, last_heard_, next_heartbeat_, reconnect_at_, ready_at_;
  bool ready_sent_ = false, draining_ = false, finished_ = false;

  Task task_ = Task::kIdle;
  std::deque<std::string> job_data_;  // job data in the cache, oldest first (retire_job_data)
  std::optional<v1::ShardAssignment> shard_;
  Clock::time_point shard_started_;
  double fetch_seconds_ = 0;
  std::deque<std::string> to_fetch_;
  std::unique_ptr<common::ArtifactUpload> fetching_;
  bool fetch_outstanding_ = false;
  ShardOutcome outcome_;
  size_t upload_index_ = 0;
  uint64_t upload_offset_ = 0;

  std::thread compute_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<v1::ShardAssignment> todo_;
  std::optional<ShardOutcome> done_;
  bool quit_ = false;
  int done_fd_ = -1;
};

Worker::Worker(WorkerConfig cfg, BackendChoice backend)
    : cfg_(std::move(cfg)), backend_(std::move(backend)), cache_(cfg_.cache_dir) {
  if (!backend_.backend) throw std::invalid_argument("worker: no backend");
  if (cfg_.name.empty()) cfg_.name = default_name();
  stop_fd_ = make_eventfd();
}

Worker::~Worker() { close(stop_fd_); }

void Worker::run() {
  Session s(*this);
  s.loop();
}

void Worker::stop() noexcept { signal_fd(stop_fd_); }

}  // namespace zkinfer::worker
