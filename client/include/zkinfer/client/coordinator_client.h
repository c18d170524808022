// zkinfer::client: talks to a coordinator over its client socket (proto/zkinfer.proto, "Client
// session"). One request at a time; each call waits for the response carrying its request_id and
// throws when the coordinator answers with an Error or does not answer in time.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "zkinfer.pb.h"

namespace zkinfer::client {

using ModelInfo = v1::ModelInfo;
using JobInfo = v1::JobInfo;
using JobResult = v1::JobResult;
using Millis = std::chrono::milliseconds;

inline constexpr const char* kDefaultEndpoint = "tcp://127.0.0.1:7700";
// Quick requests (status, submit, one upload chunk).
inline constexpr Millis kDefaultTimeout{30'000};
// An ONNX model is compiled and set up before the coordinator answers AddModel.
inline constexpr Millis kAddModelTimeout{60 * 60'000};

// The coordinator answered with an Error: what() is "<CODE>: <message>".
class CoordinatorError : public std::runtime_error {
 public:
  CoordinatorError(v1::ErrorCode code, const std::string& message);
  v1::ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  v1::ErrorCode code_;
  std::string message_;
};

// No answer within a call's timeout.
class TimeoutError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClientOptions {
  std::string endpoint = kDefaultEndpoint;  // tcp://HOST:PORT of the coordinator's client socket
  Millis timeout = kDefaultTimeout;         // for calls without a timeout of their own
  // CURVE: this client's keypair file and the coordinator's public key (Z85, or a file holding
  // it). Both empty: plain TCP.
  std::string curve_key_file;
  std::string server_public_key;
};

// Called about once a second while a long call (add_model) waits, with the seconds waited.
using WaitingFn = std::function<void(double seconds)>;

class CoordinatorClient {
 public:
  explicit CoordinatorClient(ClientOptions opts);
  ~CoordinatorClient();
  CoordinatorClient(CoordinatorClient&&) noexcept;
  CoordinatorClient& operator=(CoordinatorClient&&) noexcept;

  const std::string& endpoint() const { return opts_.endpoint; }

  // Uploads an artifact chunk by chunk, each after the previous one was acknowledged; returns
  // its SHA-256 (lowercase hex), the name requests refer to it by.
  std::string upload(const std::string& file);
  std::string upload_bytes(std::string_view bytes);

  // Registers a model from uploaded artifacts. An ONNX model is answered once compiled and set up.
  ModelInfo add_model(const std::string& name, const v1::OnnxSource& onnx, Millis timeout = kAddModelTimeout,
                      const WaitingFn& waiting = {});
  ModelInfo add_model(const std::string& name, const v1::CircuitSource& circuit, Millis timeout = kAddModelTimeout,
                      const WaitingFn& waiting = {});
  ModelInfo get_model(const std::string& model_id);
  std::vector<ModelInfo> list_models(uint32_t limit = 0, const std::string& after_model_id = {});

  JobInfo submit(const v1::SubmitJobRequest& job);
  JobInfo status(const std::string& job_id);
  // Returns when the job ends or `timeout` passes (then with the job still QUEUED or RUNNING).
  JobInfo wait(const std::string& job_id, Millis timeout);
  // FAILED_PRECONDITION (a CoordinatorError) unless the job succeeded.
  JobResult result(const std::string& job_id);
  JobInfo cancel(const std::string& job_id);
  std::vector<JobInfo> list_jobs(v1::JobState state = v1::JOB_STATE_UNSPECIFIED, uint32_t limit = 0,
                                 const std::string& after_job_id = {});

  // Sends one request (protocol_version and request_id filled in here) and returns the response
  // answering it; responses to earlier requests that arrive meanwhile are dropped. Throws
  // CoordinatorError for an Error response, TimeoutError when none comes within `timeout`.
  v1::ClientResponse call(v1::ClientRequest req, Millis timeout, const WaitingFn& waiting = {});

 private:
  struct Socket;
  ClientOptions opts_;
  std::unique_ptr<Socket> sock_;
  uint64_t next_request_id_ = 1;
};

// Short names of the protocol's enums for people: "QUEUED", "READY", "NOT_FOUND", ...
std::string state_name(v1::JobState s);
std::string state_name(v1::ModelState s);
std::string code_name(v1::ErrorCode c);
// The inverse for job states given on the command line (case-insensitive); throws on others.
v1::JobState parse_job_state(const std::string& s);

// A CURVE public key given as Z85 text, or as a file holding one (a bare key, or a key file's
// `public <Z85>` line); throws naming the argument when it is neither.
std::string read_public_key(const std::string& z85_or_file);

// Writes a succeeded job's files into dir (created): output.json (when the result has one),
// proof.json, public.json and verification_key.json. Returns the paths written.
std::vector<std::filesystem::path> write_result_files(const JobResult& r, const std::filesystem::path& dir);

}  // namespace zkinfer::client
