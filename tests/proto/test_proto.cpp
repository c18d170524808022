// The wire protocol (proto/zkinfer.proto): messages round-trip, the oneofs carry what was set,
// and bytes that are not a message are refused rather than half-read.
#include <gtest/gtest.h>

#include <string>

#include "zkinfer.pb.h"

namespace {

using namespace zkinfer::v1;

TEST(Proto, ClientRequestRoundTrip) {
  ClientRequest req;
  req.set_protocol_version(PROTOCOL_VERSION_1);
  req.set_request_id(42);
  SubmitJobRequest* s = req.mutable_submit();
  s->set_model_id(std::string(64, 'a'));
  s->set_input_json("{\"input\": [[0.5, 1]]}");
  s->set_priority(-3);
  s->set_deadline_unix_ms(1'800'000'000'000ull);
  s->set_split_into(4);
  const std::string wire = req.SerializeAsString();

  ClientRequest back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_EQ(back.protocol_version(), 1u);
  EXPECT_EQ(back.request_id(), 42u);
  ASSERT_EQ(back.body_case(), ClientRequest::kSubmit);
  EXPECT_EQ(back.submit().input_json(), s->input_json());
  EXPECT_EQ(back.submit().priority(), -3);
  EXPECT_EQ(back.submit().split_into(), 4u);
  EXPECT_EQ(back.SerializeAsString(), wire);
}

TEST(Proto, WorkerMessagesRoundTrip) {
  WorkerMessage hello;
  hello.set_protocol_version(PROTOCOL_VERSION_1);
  Hello* h = hello.mutable_hello();
  h->set_worker_name("gpu-0");
  h->mutable_capacity()->set_backend(BACKEND_KIND_CUDA);
  h->mutable_capacity()->set_gpu_memory_bytes(80ull << 30);
  KeyRange* r = h->add_resident();
  r->set_msm(MSM_KIND_B2);
  r->set_first(1 << 20);
  r->set_count(1 << 19);
  WorkerMessage back;
  ASSERT_TRUE(back.ParseFromString(hello.SerializeAsString()));
  ASSERT_EQ(back.body_case(), WorkerMessage::kHello);
  EXPECT_EQ(back.hello().capacity().gpu_memory_bytes(), 80ull << 30);
  ASSERT_EQ(back.hello().resident_size(), 1);
  EXPECT_EQ(back.hello().resident(0).msm(), MSM_KIND_B2);

  WorkerMessage result;
  result.set_protocol_version(PROTOCOL_VERSION_1);
  ShardResult* sr = result.mutable_result();
  sr->set_shard_id("job-1/msm/3");
  sr->set_point(std::string(64, '\0'));
  (*sr->mutable_phase_seconds())["msm"] = 0.25;
  ASSERT_TRUE(back.ParseFromString(result.SerializeAsString()));
  ASSERT_EQ(back.body_case(), WorkerMessage::kResult);
  EXPECT_EQ(back.result().point().size(), 64u);
  EXPECT_DOUBLE_EQ(back.result().phase_seconds().at("msm"), 0.25);
}

TEST(Proto, OneofKeepsTheLastBodySet) {
  CoordinatorMessage m;
  m.mutable_no_work()->set_retry_after_ms(100);
  m.mutable_assign()->set_shard_id("j/whole/0");
  EXPECT_EQ(m.body_case(), CoordinatorMessage::kAssign);
  EXPECT_FALSE(m.has_no_work());
}

TEST(Proto, GarbageIsRefused) {
  ClientRequest req;
  // A field tag with wire type 7 does not exist.
  EXPECT_FALSE(req.ParseFromString(std::string("\x0f\x01", 2)));
  // A length-delimited field running past the end.
  EXPECT_FALSE(req.ParseFromString(std::string("\x52\x10\x01", 3)));
}

}  // namespace
