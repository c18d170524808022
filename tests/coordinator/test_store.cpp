// The coordinator's job store (coordinator/store.h): every column round trips, paging and
// filters, atomic multi-row writes, durability across a reopen, and clear errors for bad files.
#include "zkinfer/coordinator/store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <tuple>

#include "zkinfer.pb.h"

namespace {

namespace fs = std::filesystem;
using namespace zkinfer::coordinator;
using ::testing::HasSubstr;
namespace v1 = zkinfer::v1;

// A data directory unique to this process and test, removed afterwards.
class DataDir {
 public:
  DataDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("zkinfer-store-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "." + info->name());
    fs::remove_all(path_);
  }
  ~DataDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }
  std::string db() const { return (path_ / "zkinfer.db").string(); }

 private:
  fs::path path_;
};

// Every column, so EXPECT_EQ compares whole rows.
auto columns(const ModelRow& m) {
  return std::tie(m.model_id, m.name, m.state, m.error, m.constraints, m.wires, m.public_signals, m.log_domain,
                  m.onnx_sha256, m.r1cs_sha256, m.zkey_sha256, m.verification_key_json, m.model_json, m.owner,
                  m.created_unix_ms);
}
auto columns(const JobRow& j) {
  return std::tie(j.job_id, j.seq, j.model_id, j.owner, j.state, j.error, j.priority, j.deadline_unix_ms, j.split_into,
                  j.input_json, j.witness_sha256, j.submitted_unix_ms, j.started_unix_ms, j.finished_unix_ms,
                  j.shards_total, j.shards_done, j.output_json, j.proof_json, j.public_json);
}
auto columns(const ShardRow& s) {
  return std::tie(s.shard_id, s.job_id, s.kind, s.msm, s.first, s.count, s.state, s.lost_retries, s.failed_retries,
                  s.last_error, s.proof_json, s.public_json, s.output_json, s.witness_sha256, s.h_sha256, s.point,
                  s.finished_unix_ms);
}

// Bytes with zeros inside and at both ends, as a point or randomiser has.
std::string binary(size_t n, unsigned seed) {
  std::string b(n, '\0');
  std::mt19937 rng(seed);
  for (size_t i = 1; i + 1 < n; ++i) b[i] = char(i % 3 == 0 ? 0 : rng());
  return b;
}

ModelRow model(const std::string& id, uint64_t created) {
  ModelRow m;
  m.model_id = id;
  m.name = "model " + id + " \xc3\xa9";
  m.state = v1::MODEL_STATE_READY;
  m.error = "none";
  m.constraints = 4000000000u;  // above INT32_MAX
  m.wires = 123;
  m.public_signals = 7;
  m.log_domain = 12;
  m.onnx_sha256 = std::string(64, 'a');
  m.r1cs_sha256 = std::string(64, 'b');
  m.zkey_sha256 = std::string(64, 'c');
  m.verification_key_json = R"({"protocol":"groth16"})";
  m.model_json = R"({"inputs":[]})";
  m.owner = "owner-key";
  m.created_unix_ms = created;
  return m;
}

JobRow job(const std::string& id, int state = v1::JOB_STATE_QUEUED, const std::string& owner = "alice") {
  JobRow j;
  j.job_id = id;
  j.model_id = "m1";
  j.owner = owner;
  j.state = state;
  j.error = "";
  j.priority = -5;
  j.deadline_unix_ms = 1'900'000'000'000ull;
  j.split_into = 4;
  j.input_json = R"({"x":[1,2,3]})";
  j.witness_sha256 = std::string(64, 'd');
  j.submitted_unix_ms = 1'700'000'000'001ull;
  j.started_unix_ms = 1'700'000'000'002ull;
  j.finished_unix_ms = 0;
  j.shards_total = 3;
  j.shards_done = 1;
  j.output_json = R"({"y":[0.5]})";
  j.proof_json = R"({"pi_a":[]})";
  j.public_json = R"(["1"])";
  return j;
}

ShardRow shard(const std::string& job_id, int index) {
  ShardRow s;
  s.shard_id = job_id + "/4/" + std::to_string(index);
  s.job_id = job_id;
  s.kind = v1::SHARD_KIND_MSM;
  s.msm = v1::MSM_KIND_B2;
  s.first = 1ull << 40;
  s.count = 1000 + uint64_t(index);
  s.state = kShardLeased;
  s.lost_retries = 2;
  s.failed_retries = 1;
  s.last_error = "worker lost";
  s.proof_json = "{}";
  s.public_json = "[]";
  s.output_json = "{}";
  s.witness_sha256 = std::string(64, 'e');
  s.h_sha256 = std::string(64, 'f');
  s.point = binary(128, unsigned(index) + 10);
  s.finished_unix_ms = 1'700'000'000'003ull;
  return s;
}

TEST(JobStore, ModelRoundTripAndReplace) {
  DataDir dir;
  Store st(dir.str());
  EXPECT_FALSE(st.get_model("m1").has_value());
  const ModelRow m = model("m1", 10);
  st.put_model(m);
  ASSERT_TRUE(st.get_model("m1").has_value());
  EXPECT_EQ(columns(*st.get_model("m1")), columns(m));

  ModelRow changed = m;  // put again: the row is replaced
  changed.state = v1::MODEL_STATE_FAILED;
  changed.error = "setup failed";
  changed.verification_key_json.clear();
  st.put_model(changed);
  EXPECT_EQ(columns(*st.get_model("m1")), columns(changed));
  EXPECT_EQ(st.list_models(0, "").size(), 1u);
}

TEST(JobStore, ListModelsByCreatedThenIdWithPaging) {
  DataDir dir;
  Store st(dir.str());
  st.put_model(model("c", 20));
  st.put_model(model("b", 10));
  st.put_model(model("a", 20));
  st.put_model(model("d", 5));
  auto ids = [](const std::vector<ModelRow>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.model_id);
    return out;
  };
  EXPECT_EQ(ids(st.list_models(0, "")), (std::vector<std::string>{"d", "b", "a", "c"}));
  EXPECT_EQ(ids(st.list_models(2, "")), (std::vector<std::string>{"d", "b"}));
  EXPECT_EQ(ids(st.list_models(2, "b")), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(ids(st.list_models(0, "a")), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(st.list_models(0, "c").empty());
  try {
    st.list_models(0, "nope");
    FAIL() << "unknown after_model_id accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("'nope'"));
  }
}

TEST(JobStore, InsertJobAssignsSeqAndRoundTrips) {
  DataDir dir;
  Store st(dir.str());
  JobRow a = job("a");
  a.seq = 77;  // ignored: insert_job assigns it
  const JobRow ra = st.insert_job(a);
  const JobRow rb = st.insert_job(job("b"));
  const JobRow rc = st.insert_job(job("c"));
  EXPECT_EQ(ra.seq, 1u);
  EXPECT_EQ(rb.seq, 2u);
  EXPECT_EQ(rc.seq, 3u);
  a.seq = 1;
  EXPECT_EQ(columns(ra), columns(a));
  ASSERT_TRUE(st.get_job("a").has_value());
  EXPECT_EQ(columns(*st.get_job("a")), columns(ra));
  EXPECT_FALSE(st.get_job("zzz").has_value());

  // update_job writes every column (seq stays what insert_job gave).
  JobRow u = rb;
  u.model_id = "m2";
  u.owner = "bob";
  u.state = v1::JOB_STATE_SUCCEEDED;
  u.error = "e";
  u.priority = 9;
  u.deadline_unix_ms = 0;
  u.split_into = 0;
  u.input_json = "{}";
  u.witness_sha256.clear();
  u.submitted_unix_ms = 1;
  u.started_unix_ms = 2;
  u.finished_unix_ms = 3;
  u.shards_total = 5;
  u.shards_done = 5;
  u.output_json = "[1]";
  u.proof_json = "[2]";
  u.public_json = "[3]";
  st.update_job(u);
  EXPECT_EQ(columns(*st.get_job("b")), columns(u));

  EXPECT_THROW(st.insert_job(job("a")), std::runtime_error);  // duplicate id
  EXPECT_THROW(st.update_job(job("missing")), std::invalid_argument);
  EXPECT_EQ(st.insert_job(job("d")).seq, 4u);  // a failed insert uses up no seq
}

TEST(JobStore, ListJobsFiltersAndPages) {
  DataDir dir;
  Store st(dir.str());
  st.insert_job(job("j1", v1::JOB_STATE_QUEUED, "alice"));
  st.insert_job(job("j2", v1::JOB_STATE_RUNNING, "bob"));
  st.insert_job(job("j3", v1::JOB_STATE_QUEUED, "bob"));
  st.insert_job(job("j4", v1::JOB_STATE_SUCCEEDED, "alice"));
  st.insert_job(job("j5", v1::JOB_STATE_QUEUED, "alice"));
  auto ids = [](const std::vector<JobRow>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.job_id);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids(st.list_jobs(0, "", 0, "")), (V{"j1", "j2", "j3", "j4", "j5"}));
  EXPECT_EQ(ids(st.list_jobs(v1::JOB_STATE_QUEUED, "", 0, "")), (V{"j1", "j3", "j5"}));
  EXPECT_EQ(ids(st.list_jobs(0, "alice", 0, "")), (V{"j1", "j4", "j5"}));
  EXPECT_EQ(ids(st.list_jobs(v1::JOB_STATE_QUEUED, "bob", 0, "")), (V{"j3"}));
  EXPECT_EQ(ids(st.list_jobs(0, "", 2, "")), (V{"j1", "j2"}));
  EXPECT_EQ(ids(st.list_jobs(0, "", 2, "j2")), (V{"j3", "j4"}));
  EXPECT_EQ(ids(st.list_jobs(0, "alice", 1, "j1")), (V{"j4"}));
  // Paging after a job of another owner or state still means "submitted after it".
  EXPECT_EQ(ids(st.list_jobs(v1::JOB_STATE_QUEUED, "alice", 0, "j3")), (V{"j5"}));
  EXPECT_TRUE(st.list_jobs(0, "", 0, "j5").empty());
  EXPECT_TRUE(st.list_jobs(0, "carol", 0, "").empty());
  try {
    st.list_jobs(0, "", 0, "no-such-job");
    FAIL() << "unknown after_job_id accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("'no-such-job'"));
  }
}

TEST(JobStore, UnfinishedJobsAndCounts) {
  DataDir dir;
  Store st(dir.str());
  st.insert_job(job("j1", v1::JOB_STATE_SUCCEEDED));
  st.insert_job(job("j2", v1::JOB_STATE_RUNNING));
  st.insert_job(job("j3", v1::JOB_STATE_FAILED));
  st.insert_job(job("j4", v1::JOB_STATE_QUEUED));
  st.insert_job(job("j5", v1::JOB_STATE_CANCELLED));
  st.insert_job(job("j6", v1::JOB_STATE_QUEUED));
  std::vector<std::string> ids;
  for (const auto& j : st.unfinished_jobs()) ids.push_back(j.job_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"j2", "j4", "j6"}));
  EXPECT_EQ(st.count_jobs(v1::JOB_STATE_QUEUED), 2u);
  EXPECT_EQ(st.count_jobs(v1::JOB_STATE_RUNNING), 1u);
  EXPECT_EQ(st.count_jobs(v1::JOB_STATE_SUCCEEDED), 1u);
  EXPECT_EQ(st.count_jobs(0), 6u);
}

TEST(JobStore, PlanJobAndUpdateShards) {
  DataDir dir;
  Store st(dir.str());
  JobRow j = st.insert_job(job("j"));
  st.insert_job(job("other"));
  j.state = v1::JOB_STATE_RUNNING;
  j.shards_total = 3;
  std::vector<ShardRow> shards = {shard("j", 2), shard("j", 0), shard("j", 1)};
  shards[1].point.clear();
  st.plan_job(j, shards);
  EXPECT_EQ(columns(*st.get_job("j")), columns(j));
  const auto stored = st.shards_of("j");
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(columns(stored[0]), columns(shards[1]));  // by shard_id
  EXPECT_EQ(columns(stored[1]), columns(shards[2]));
  EXPECT_EQ(columns(stored[2]), columns(shards[0]));
  EXPECT_TRUE(st.shards_of("other").empty());

  ShardRow s = stored[0];
  s.state = kShardDone;
  s.point = binary(64, 99);
  st.update_shard(s);
  EXPECT_EQ(columns(st.shards_of("j")[0]), columns(s));

  s.state = kShardFailed;
  s.failed_retries = 3;
  j.state = v1::JOB_STATE_FAILED;
  j.error = "shard failed 3 times";
  st.update_shard_and_job(s, j);
  EXPECT_EQ(columns(st.shards_of("j")[0]), columns(s));
  EXPECT_EQ(columns(*st.get_job("j")), columns(j));
  EXPECT_THROW(st.update_shard(shard("j", 7)), std::invalid_argument);
}

TEST(JobStore, PlanJobIsAtomic) {
  DataDir dir;
  Store st(dir.str());
  const JobRow before = st.insert_job(job("j"));
  JobRow planned = before;
  planned.state = v1::JOB_STATE_RUNNING;
  planned.shards_total = 3;
  // The third shard repeats the first's id: the insert fails after the job row and two shards
  // were written, and all of it is rolled back.
  try {
    st.plan_job(planned, {shard("j", 0), shard("j", 1), shard("j", 0)});
    FAIL() << "duplicate shard id accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("zkinfer.db"));
    EXPECT_THAT(e.what(), HasSubstr("j/4/0"));
    EXPECT_THAT(e.what(), HasSubstr("UNIQUE"));
  }
  EXPECT_EQ(columns(*st.get_job("j")), columns(before));
  EXPECT_TRUE(st.shards_of("j").empty());

  // A plan for a job that does not exist writes no shards either.
  EXPECT_THROW(st.plan_job(job("ghost"), {shard("ghost", 0)}), std::invalid_argument);
  EXPECT_TRUE(st.shards_of("ghost").empty());

  // The store is usable after a rolled-back transaction.
  st.plan_job(planned, {shard("j", 0)});
  EXPECT_EQ(st.shards_of("j").size(), 1u);
}

TEST(JobStore, UpdateShardAndJobIsAtomic) {
  DataDir dir;
  Store st(dir.str());
  JobRow j = st.insert_job(job("j"));
  st.plan_job(j, {shard("j", 0)});
  ShardRow s = shard("j", 0);
  s.state = kShardDone;
  JobRow missing = job("missing");
  EXPECT_THROW(st.update_shard_and_job(s, missing), std::invalid_argument);
  EXPECT_EQ(st.shards_of("j")[0].state, kShardLeased);  // the shard update was rolled back
}

TEST(JobStore, ReopenSeesEverything) {
  DataDir dir;
  {
    Store st(dir.str());
    st.put_model(model("m", 1));
    JobRow j = st.insert_job(job("j1"));
    st.insert_job(job("j2", v1::JOB_STATE_SUCCEEDED));
    j.state = v1::JOB_STATE_RUNNING;
    st.plan_job(j, {shard("j1", 0), shard("j1", 1)});
  }
  Store st(dir.str());  // a restarted coordinator
  ASSERT_TRUE(st.get_model("m").has_value());
  EXPECT_EQ(columns(*st.get_model("m")), columns(model("m", 1)));
  JobRow want = job("j1");
  want.seq = 1;
  want.state = v1::JOB_STATE_RUNNING;
  EXPECT_EQ(columns(*st.get_job("j1")), columns(want));
  ASSERT_EQ(st.unfinished_jobs().size(), 1u);
  EXPECT_EQ(st.unfinished_jobs()[0].job_id, "j1");
  ASSERT_EQ(st.shards_of("j1").size(), 2u);
  EXPECT_EQ(columns(st.shards_of("j1")[1]), columns(shard("j1", 1)));
  EXPECT_EQ(st.insert_job(job("j3")).seq, 3u);  // seq continues
}

TEST(JobStore, WalModeAndSchemaVersionOnDisk) {
  DataDir dir;
  Store st(dir.str());
  st.insert_job(job("j"));
  // A second connection, as an operator's sqlite3 shell would see the file.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(dir.db().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  auto scalar = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::string v;
    if (sqlite3_step(s) == SQLITE_ROW) v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
  };
  EXPECT_EQ(scalar("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(scalar("PRAGMA user_version"), "1");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM jobs"), "1");  // committed, visible to other readers
  sqlite3_close(db);
  EXPECT_TRUE(fs::exists(dir.db() + "-wal"));
}

TEST(JobStore, NewerSchemaIsRefused) {
  DataDir dir;
  { Store st(dir.str()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.db().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    Store st(dir.str());
    FAIL() << "schema version 99 accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("zkinfer.db"));
    EXPECT_THAT(e.what(), HasSubstr("schema version 99"));
  }
}

TEST(JobStore, GarbageFileGivesClearError) {
  for (size_t size : {size_t(5), size_t(8192)}) {
    DataDir dir;
    fs::create_directories(dir.str());
    {
      std::ofstream f(dir.db(), std::ios::binary);
      f << binary(size, 7);
    }
    try {
      Store st(dir.str());
      FAIL() << "a garbage zkinfer.db of " << size << " bytes opened";
    } catch (const std::runtime_error& e) {
      EXPECT_THAT(e.what(), HasSubstr(dir.db()));
      EXPECT_THAT(e.what(), HasSubstr("not a database"));
    }
  }
}

TEST(JobStore, UnwritableDataDirGivesClearError) {
  DataDir dir;
  fs::create_directories(dir.str());
  { std::ofstream(dir.str() + "/file") << "x"; }
  EXPECT_THROW(Store(dir.str() + "/file/sub"), std::runtime_error);
}

}  // namespace
