#include "zkinfer/client/coordinator_client.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>

#include <zmq.hpp>

#include "zkinfer/common/curve.h"
#include "zkinfer/common/sha256.h"
#include "zkinfer/proto/wire.h"

namespace zkinfer::client {

namespace fs = std::filesystem;

namespace {

// "30 s", "0.2 s": how long a call waited, for people.
std::string seconds_text(Millis t) {
  char buf[32];
  if (t.count() % 1000 == 0) std::snprintf(buf, sizeof buf, "%lld s", (long long)(t.count() / 1000));
  else std::snprintf(buf, sizeof buf, "%.1f s", double(t.count()) / 1000.0);
  return buf;
}

const char* request_name(v1::ClientRequest::BodyCase c) {
  switch (c) {
    case v1::ClientRequest::kUpload: return "upload";
    case v1::ClientRequest::kAddModel: return "add-model";
    case v1::ClientRequest::kGetModel: return "get-model";
    case v1::ClientRequest::kListModels: return "list-models";
    case v1::ClientRequest::kSubmit: return "submit";
    case v1::ClientRequest::kStatus: return "status";
    case v1::ClientRequest::kWait: return "wait";
    case v1::ClientRequest::kResult: return "result";
    case v1::ClientRequest::kCancel: return "cancel";
    case v1::ClientRequest::kListJobs: return "list-jobs";
    case v1::ClientRequest::BODY_NOT_SET: break;
  }
  return "empty";
}

// Strips the enum's type prefix: JOB_STATE_QUEUED -> QUEUED.
std::string strip_prefix(const std::string& full, std::string_view prefix) {
  if (full.empty()) return "UNKNOWN";
  return full.starts_with(prefix) ? full.substr(prefix.size()) : full;
}

}  // namespace

CoordinatorError::CoordinatorError(v1::ErrorCode code, const std::string& message)
    : std::runtime_error(code_name(code) + ": " + message), code_(code), message_(message) {}

struct CoordinatorClient::Socket {
  zmq::context_t ctx{1};
  zmq::socket_t s{ctx, zmq::socket_type::dealer};
};

CoordinatorClient::CoordinatorClient(ClientOptions opts) : opts_(std::move(opts)), sock_(std::make_unique<Socket>()) {
  if (!opts_.endpoint.starts_with("tcp://"))
    throw std::invalid_argument("coordinator endpoint '" + opts_.endpoint + "' is not of the form tcp://HOST:PORT");
  if (opts_.curve_key_file.empty() != opts_.server_public_key.empty())
    throw std::invalid_argument("CURVE needs both this client's key file and the coordinator's public key");
  wire::apply_socket_limits(sock_->s);
  if (!opts_.curve_key_file.empty())
    common::make_curve_client(sock_->s, common::read_keypair(opts_.curve_key_file),
                              read_public_key(opts_.server_public_key));
  try {
    sock_->s.connect(opts_.endpoint);
  } catch (const zmq::error_t& e) {
    throw std::invalid_argument("cannot use coordinator endpoint '" + opts_.endpoint + "': " + e.what());
  }
}

CoordinatorClient::~CoordinatorClient() = default;
CoordinatorClient::CoordinatorClient(CoordinatorClient&&) noexcept = default;
CoordinatorClient& CoordinatorClient::operator=(CoordinatorClient&&) noexcept = default;

v1::ClientResponse CoordinatorClient::call(v1::ClientRequest req, Millis timeout, const WaitingFn& waiting) {
  const uint64_t id = next_request_id_++;
  req.set_protocol_version(wire::kProtocolVersion);
  req.set_request_id(id);
  // Without a connection a DEALER queues the message, so this only fails when that queue is full.
  if (!sock_->s.send(wire::to_frame(req), zmq::send_flags::dontwait))
    throw TimeoutError("cannot send to the coordinator at " + opts_.endpoint + ": its send queue is full (is it running?)");

  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now(), deadline = t0 + timeout;
  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline)
      throw TimeoutError("no answer from the coordinator at " + opts_.endpoint + " within " + seconds_text(timeout) +
                         " (is it running? `zkinfer cluster up` starts a local one)");
    // Slices of at most a second, so a long wait can report that it is still waiting.
    const auto slice = std::min<Clock::duration>(deadline - now, std::chrono::seconds(1));
    zmq::pollitem_t item{sock_->s.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::duration_cast<Millis>(slice) + Millis(1));
    if (!(item.revents & ZMQ_POLLIN)) {
      if (waiting) waiting(std::chrono::duration<double>(Clock::now() - t0).count());
      continue;
    }
    // One frame after the envelope (zkinfer.proto, "Transport"); a DEALER sees no envelope, but
    // take the last part in case the coordinator adds an empty delimiter.
    zmq::message_t frame;
    bool more = true;
    while (more) {
      if (!sock_->s.recv(frame, zmq::recv_flags::dontwait)) break;
      more = frame.more();
    }
    v1::ClientResponse resp;
    // Unparseable frames and answers to requests this client gave up on cannot answer this one.
    if (!wire::from_frame(frame, resp) || resp.request_id() != id) continue;
    if (resp.has_error()) throw CoordinatorError(resp.error().code(), resp.error().message());
    return resp;
  }
}

namespace {

// The response's body must be what the request asks for.
const v1::ClientResponse& expect(const v1::ClientResponse& r, v1::ClientResponse::BodyCase want,
                                 v1::ClientRequest::BodyCase req) {
  if (r.body_case() != want)
    throw std::runtime_error(std::string("the coordinator answered a ") + request_name(req) +
                             " request with an unexpected response (body field " + std::to_string(int(r.body_case())) + ")");
  return r;
}

}  // namespace

std::string CoordinatorClient::upload_bytes(std::string_view bytes) {
  const std::string sha = common::sha256_hex(bytes);
  uint64_t off = 0;
  do {  // an empty artifact is one empty chunk
    const size_t n = std::min<size_t>(bytes.size() - off, wire::kDefaultChunkBytes);
    v1::ClientRequest req;
    v1::ArtifactChunk* c = req.mutable_upload();
    c->set_sha256(sha);
    c->set_total_size(bytes.size());
    c->set_offset(off);
    c->set_data(bytes.data() + off, n);
    expect(call(std::move(req), opts_.timeout), v1::ClientResponse::kOk, v1::ClientRequest::kUpload);
    off += n;
  } while (off < bytes.size());
  return sha;
}

std::string CoordinatorClient::upload(const std::string& file) {
  std::error_code ec;
  const uint64_t size = fs::file_size(file, ec);
  if (ec) throw std::runtime_error("cannot upload " + file + ": " + ec.message());
  const std::string sha = common::sha256_file_hex(file);
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + file + " for reading");
  std::string buf;
  uint64_t off = 0;
  do {
    const size_t n = size_t(std::min<uint64_t>(size - off, wire::kDefaultChunkBytes));
    buf.resize(n);
    if (!in.read(buf.data(), std::streamsize(n)))
      throw std::runtime_error("cannot read " + file + " at byte " + std::to_string(off) + " (did it change while uploading?)");
    v1::ClientRequest req;
    v1::ArtifactChunk* c = req.mutable_upload();
    c->set_sha256(sha);
    c->set_total_size(size);
    c->set_offset(off);
    c->set_data(std::move(buf));
    expect(call(std::move(req), opts_.timeout), v1::ClientResponse::kOk, v1::ClientRequest::kUpload);
    off += n;
  } while (off < size);
  return sha;
}

ModelInfo CoordinatorClient::add_model(const std::string& name, const v1::OnnxSource& onnx, Millis timeout,
                                       const WaitingFn& waiting) {
  v1::ClientRequest req;
  req.mutable_add_model()->set_name(name);
  *req.mutable_add_model()->mutable_onnx() = onnx;
  return expect(call(std::move(req), timeout, waiting), v1::ClientResponse::kModel, v1::ClientRequest::kAddModel).model();
}

ModelInfo CoordinatorClient::add_model(const std::string& name, const v1::CircuitSource& circuit, Millis timeout,
                                       const WaitingFn& waiting) {
  v1::ClientRequest req;
  req.mutable_add_model()->set_name(name);
  *req.mutable_add_model()->mutable_circuit() = circuit;
  return expect(call(std::move(req), timeout, waiting), v1::ClientResponse::kModel, v1::ClientRequest::kAddModel).model();
}

ModelInfo CoordinatorClient::get_model(const std::string& model_id) {
  v1::ClientRequest req;
  req.mutable_get_model()->set_model_id(model_id);
  return expect(call(std::move(req), opts_.timeout), v1::ClientResponse::kModel, v1::ClientRequest::kGetModel).model();
}

std::vector<ModelInfo> CoordinatorClient::list_models(uint32_t limit, const std::string& after_model_id) {
  v1::ClientRequest req;
  req.mutable_list_models()->set_limit(limit);
  req.mutable_list_models()->set_after_model_id(after_model_id);
  const auto r = call(std::move(req), opts_.timeout);
  const auto& list = expect(r, v1::ClientResponse::kModels, v1::ClientRequest::kListModels).models().models();
  return {list.begin(), list.end()};
}

JobInfo CoordinatorClient::submit(const v1::SubmitJobRequest& job) {
  v1::ClientRequest req;
  *req.mutable_submit() = job;
  return expect(call(std::move(req), opts_.timeout), v1::ClientResponse::kJob, v1::ClientRequest::kSubmit).job();
}

JobInfo CoordinatorClient::status(const std::string& job_id) {
  v1::ClientRequest req;
  req.mutable_status()->set_job_id(job_id);
  return expect(call(std::move(req), opts_.timeout), v1::ClientResponse::kJob, v1::ClientRequest::kStatus).job();
}

JobInfo CoordinatorClient::wait(const std::string& job_id, Millis timeout) {
  const Millis server = std::clamp<Millis>(timeout, Millis(0), Millis(UINT32_MAX));
  v1::ClientRequest req;
  req.mutable_wait()->set_job_id(job_id);
  req.mutable_wait()->set_timeout_ms(uint32_t(server.count()));
  // The coordinator answers once `timeout` passed; allow the usual answer time beyond that.
  return expect(call(std::move(req), server + opts_.timeout), v1::ClientResponse::kJob, v1::ClientRequest::kWait).job();
}

JobResult CoordinatorClient::result(const std::string& job_id) {
  v1::ClientRequest req;
  req.mutable_result()->set_job_id(job_id);
  return expect(call(std::move(req), opts_.timeout), v1::ClientResponse::kResult, v1::ClientRequest::kResult).result();
}

JobInfo CoordinatorClient::cancel(const std::string& job_id) {
  v1::ClientRequest req;
  req.mutable_cancel()->set_job_id(job_id);
  return expect(call(std::move(req), opts_.timeout), v1::ClientResponse::kJob, v1::ClientRequest::kCancel).job();
}

std::vector<JobInfo> CoordinatorClient::list_jobs(v1::JobState state, uint32_t limit, const std::string& after_job_id) {
  v1::ClientRequest req;
  req.mutable_list_jobs()->set_state(state);
  req.mutable_list_jobs()->set_limit(limit);
  req.mutable_list_jobs()->set_after_job_id(after_job_id);
  const auto r = call(std::move(req), opts_.timeout);
  const auto& list = expect(r, v1::ClientResponse::kJobs, v1::ClientRequest::kListJobs).jobs().jobs();
  return {list.begin(), list.end()};
}

std::string state_name(v1::JobState s) { return strip_prefix(v1::JobState_Name(s), "JOB_STATE_"); }
std::string state_name(v1::ModelState s) { return strip_prefix(v1::ModelState_Name(s), "MODEL_STATE_"); }
std::string code_name(v1::ErrorCode c) { return strip_prefix(v1::ErrorCode_Name(c), "ERROR_CODE_"); }

v1::JobState parse_job_state(const std::string& s) {
  std::string up = "JOB_STATE_" + s;
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char ch) { return char(std::toupper(ch)); });
  v1::JobState st;
  if (!v1::JobState_Parse(up, &st) || st == v1::JOB_STATE_UNSPECIFIED)
    throw std::invalid_argument("unknown job state '" + s + "': give queued, running, succeeded, failed or cancelled");
  return st;
}

std::string read_public_key(const std::string& z85_or_file) {
  if (common::valid_z85_key(z85_or_file)) return z85_or_file;
  std::ifstream in(z85_or_file);
  if (!in)
    throw std::runtime_error("server key '" + z85_or_file + "' is neither a 40-character Z85 public key nor a readable file");
  // A bare key, or a key file's "public <Z85>" line (the secret line is never looked at).
  std::string line;
  while (std::getline(in, line)) {
    std::string_view v = line;
    if (v.starts_with("public ")) v.remove_prefix(7);
    while (!v.empty() && std::isspace((unsigned char)v.back())) v.remove_suffix(1);
    while (!v.empty() && std::isspace((unsigned char)v.front())) v.remove_prefix(1);
    if (common::valid_z85_key(std::string(v))) return std::string(v);
  }
  throw std::runtime_error(z85_or_file + " holds no Z85 public key (a line with the key, or `public <Z85>`)");
}

std::vector<fs::path> write_result_files(const JobResult& r, const fs::path& dir) {
  if (r.proof_json().empty() || r.public_json().empty() || r.verification_key_json().empty())
    throw std::runtime_error("the result of job " + r.info().job_id() + " lacks its proof, public signals or verification key");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create directory " + dir.string() + ": " + ec.message());
  std::vector<std::pair<std::string, const std::string*>> files;
  if (!r.output_json().empty()) files.emplace_back("output.json", &r.output_json());
  files.emplace_back("proof.json", &r.proof_json());
  files.emplace_back("public.json", &r.public_json());
  files.emplace_back("verification_key.json", &r.verification_key_json());
  std::vector<fs::path> written;
  for (const auto& [name, text] : files) {
    const fs::path p = dir / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << *text;
    if (!text->empty() && text->back() != '\n') out << '\n';
    if (!out.flush()) throw std::runtime_error("cannot write " + p.string());
    written.push_back(p);
  }
  return written;
}

}  // namespace zkinfer::client
