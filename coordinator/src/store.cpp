// The job store on SQLite's C API: one connection, prepared statements kept for its lifetime,
// values always bound, never spliced into SQL text.
#include "zkinfer/coordinator/store.h"

#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "zkinfer.pb.h"

namespace zkinfer::coordinator {
namespace {

// kMigrations[i] takes a database from user_version i to i + 1 and sets it; a later schema
// appends a step, and files of every earlier version open by running the steps they lack.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE models (
  model_id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  state INTEGER NOT NULL,
  error TEXT NOT NULL,
  constraints INTEGER NOT NULL,
  wires INTEGER NOT NULL,
  public_signals INTEGER NOT NULL,
  log_domain INTEGER NOT NULL,
  onnx_sha256 TEXT NOT NULL,
  r1cs_sha256 TEXT NOT NULL,
  zkey_sha256 TEXT NOT NULL,
  verification_key_json TEXT NOT NULL,
  model_json TEXT NOT NULL,
  owner TEXT NOT NULL,
  created_unix_ms INTEGER NOT NULL
);
CREATE INDEX models_by_created ON models (created_unix_ms, model_id);
CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY NOT NULL,
  seq INTEGER NOT NULL UNIQUE,
  model_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  state INTEGER NOT NULL,
  error TEXT NOT NULL,
  priority INTEGER NOT NULL,
  deadline_unix_ms INTEGER NOT NULL,
  split_into INTEGER NOT NULL,
  input_json TEXT NOT NULL,
  witness_sha256 TEXT NOT NULL,
  submitted_unix_ms INTEGER NOT NULL,
  started_unix_ms INTEGER NOT NULL,
  finished_unix_ms INTEGER NOT NULL,
  shards_total INTEGER NOT NULL,
  shards_done INTEGER NOT NULL,
  output_json TEXT NOT NULL,
  proof_json TEXT NOT NULL,
  public_json TEXT NOT NULL
);
CREATE INDEX jobs_by_state ON jobs (state, seq);
CREATE TABLE shards (
  shard_id TEXT PRIMARY KEY NOT NULL,
  job_id TEXT NOT NULL REFERENCES jobs (job_id),
  kind INTEGER NOT NULL,
  msm INTEGER NOT NULL,
  range_first INTEGER NOT NULL,
  range_count INTEGER NOT NULL,
  state INTEGER NOT NULL,
  lost_retries INTEGER NOT NULL,
  failed_retries INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  proof_json TEXT NOT NULL,
  public_json TEXT NOT NULL,
  output_json TEXT NOT NULL,
  witness_sha256 TEXT NOT NULL,
  h_sha256 TEXT NOT NULL,
  point BLOB NOT NULL,
  finished_unix_ms INTEGER NOT NULL
);
CREATE INDEX shards_by_job ON shards (job_id);
PRAGMA user_version = 1;
)sql",
};
constexpr int kSchemaVersion = int(std::size(kMigrations));

// Column lists: the key first, then the fields that bind_fields / read_* handle in this order.
const std::vector<std::string_view> kModelFields = {
    "name", "state", "error", "constraints", "wires", "public_signals", "log_domain", "onnx_sha256",
    "r1cs_sha256", "zkey_sha256", "verification_key_json", "model_json", "owner", "created_unix_ms"};
const std::vector<std::string_view> kJobFields = {
    "model_id", "owner", "state", "error", "priority", "deadline_unix_ms", "split_into", "input_json",
    "witness_sha256", "submitted_unix_ms", "started_unix_ms", "finished_unix_ms", "shards_total",
    "shards_done", "output_json", "proof_json", "public_json"};
const std::vector<std::string_view> kShardFields = {
    "job_id", "kind", "msm", "range_first", "range_count", "state", "lost_retries", "failed_retries",
    "last_error", "proof_json", "public_json", "output_json", "witness_sha256", "h_sha256", "point",
    "finished_unix_ms"};

// "a, b, c" with each name put in place of every {} of `fmt` (e.g. "{} = ?").
std::string join(const std::vector<std::string_view>& names, std::string_view fmt) {
  std::string out;
  for (auto n : names) {
    if (!out.empty()) out += ", ";
    for (size_t i = 0; i < fmt.size(); ++i) {
      if (fmt.substr(i, 2) == "{}") {
        out += n;
        ++i;
      } else {
        out += fmt[i];
      }
    }
  }
  return out;
}
std::string select_sql(std::string_view table, std::string_view keys, const std::vector<std::string_view>& fields) {
  return "SELECT " + std::string(keys) + ", " + join(fields, "{}") + " FROM " + std::string(table) + " ";
}
std::string update_sql(std::string_view table, std::string_view key, const std::vector<std::string_view>& fields) {
  return "UPDATE " + std::string(table) + " SET " + join(fields, "{} = ?") + " WHERE " + std::string(key) + " = ?";
}
std::string marks(size_t n) { return join(std::vector<std::string_view>(n, ""), "?{}"); }

const std::string kSelectModel = select_sql("models", "model_id", kModelFields);
const std::string kPutModel = "INSERT INTO models (model_id, " + join(kModelFields, "{}") + ") VALUES (" +
                              marks(kModelFields.size() + 1) + ") ON CONFLICT (model_id) DO UPDATE SET " +
                              join(kModelFields, "{} = excluded.{}");
const std::string kSelectJob = select_sql("jobs", "job_id, seq", kJobFields);
const std::string kInsertJob = "INSERT INTO jobs (job_id, seq, " + join(kJobFields, "{}") +
                               ") VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs), " +
                               marks(kJobFields.size()) + ") RETURNING seq";
const std::string kUpdateJob = update_sql("jobs", "job_id", kJobFields);
const std::string kSelectShard = select_sql("shards", "shard_id", kShardFields);
const std::string kInsertShard =
    "INSERT INTO shards (shard_id, " + join(kShardFields, "{}") + ") VALUES (" + marks(kShardFields.size() + 1) + ")";
const std::string kUpdateShard = update_sql("shards", "shard_id", kShardFields);

struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

// The connection and its prepared statements.
struct Db {
  std::string path;
  std::unique_ptr<sqlite3, DbClose> db;
  // Declared after db, so statements are finalized before the connection closes.
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, StmtFinalize>> statements;

  explicit Db(const std::string& data_dir);

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(path + ": " + what + ": " + (db ? sqlite3_errmsg(db.get()) : "out of memory"));
  }
  void exec(const char* sql, const char* what) {
    if (sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(what);
  }
  sqlite3_stmt* prepare(const std::string& sql) {
    auto& s = statements[sql];
    if (!s) {
      sqlite3_stmt* raw = nullptr;
      const int rc = sqlite3_prepare_v3(db.get(), sql.c_str(), int(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
      if (rc != SQLITE_OK) {
        statements.erase(sql);
        fail("cannot prepare \"" + sql.substr(0, 60) + "...\"");
      }
      s.reset(raw);
    }
    return s.get();
  }
};

// One use of a prepared statement: parameters bound in order, columns read in order; reset on
// scope exit so the statement can be used again.
class Query {
 public:
  Query(Db& db, const std::string& sql, std::string what) : db_(db), st_(db.prepare(sql)), what_(std::move(what)) {}
  ~Query() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& text(std::string_view v) {
    return check(sqlite3_bind_text64(st_, ++bound_, v.data() ? v.data() : "", v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  // An empty blob binds as a zero-length blob, not NULL.
  Query& blob(std::string_view v) {
    return check(v.empty() ? sqlite3_bind_zeroblob(st_, ++bound_, 0)
                           : sqlite3_bind_blob64(st_, ++bound_, v.data(), v.size(), SQLITE_TRANSIENT));
  }
  Query& integer(int64_t v) { return check(sqlite3_bind_int64(st_, ++bound_, v)); }

  // Steps once: true when a row is ready. A write in autocommit mode commits in the step that
  // finishes the statement, so callers step writes until done() rather than leaving it to reset.
  bool row() {
    column_ = 0;
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) db_.fail(what_);
    return false;
  }
  void done() {
    if (row()) db_.fail(what_ + ": unexpected result row");
  }
  int changes() const { return sqlite3_changes(db_.db.get()); }

  std::string col_text() {
    const int c = column_++;
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, c));
    return p ? std::string(p, size_t(sqlite3_column_bytes(st_, c))) : std::string();
  }
  std::string col_blob() {
    const int c = column_++;
    const auto* p = static_cast<const char*>(sqlite3_column_blob(st_, c));
    return p ? std::string(p, size_t(sqlite3_column_bytes(st_, c))) : std::string();
  }
  int64_t col_int() { return sqlite3_column_int64(st_, column_++); }

 private:
  Query& check(int rc) {
    if (rc != SQLITE_OK) db_.fail(what_ + ": cannot bind parameter " + std::to_string(bound_));
    return *this;
  }

  Db& db_;
  sqlite3_stmt* st_;
  std::string what_;
  int bound_ = 0, column_ = 0;
};

// BEGIN IMMEDIATE takes the write lock up front, so a busy database fails here (after the busy
// timeout) and not halfway through. Rolled back unless committed.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE", "cannot begin a transaction"); }
  ~Transaction() {
    if (!committed_) sqlite3_exec(db_.db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    db_.exec("COMMIT", "cannot commit");
    committed_ = true;
  }

 private:
  Db& db_;
  bool committed_ = false;
};

int64_t i64(uint64_t v) { return int64_t(v); }

void bind_fields(Query& q, const ModelRow& m) {
  q.text(m.name).integer(m.state).text(m.error).integer(m.constraints).integer(m.wires).integer(m.public_signals);
  q.integer(m.log_domain).text(m.onnx_sha256).text(m.r1cs_sha256).text(m.zkey_sha256).text(m.verification_key_json);
  q.text(m.model_json).text(m.owner).integer(i64(m.created_unix_ms));
}
ModelRow read_model(Query& q) {
  ModelRow m;
  m.model_id = q.col_text();
  m.name = q.col_text();
  m.state = int(q.col_int());
  m.error = q.col_text();
  m.constraints = uint32_t(q.col_int());
  m.wires = uint32_t(q.col_int());
  m.public_signals = uint32_t(q.col_int());
  m.log_domain = uint32_t(q.col_int());
  m.onnx_sha256 = q.col_text();
  m.r1cs_sha256 = q.col_text();
  m.zkey_sha256 = q.col_text();
  m.verification_key_json = q.col_text();
  m.model_json = q.col_text();
  m.owner = q.col_text();
  m.created_unix_ms = uint64_t(q.col_int());
  return m;
}

void bind_fields(Query& q, const JobRow& j) {
  q.text(j.model_id).text(j.owner).integer(j.state).text(j.error).integer(j.priority).integer(i64(j.deadline_unix_ms));
  q.integer(j.split_into).text(j.input_json).text(j.witness_sha256).integer(i64(j.submitted_unix_ms));
  q.integer(i64(j.started_unix_ms)).integer(i64(j.finished_unix_ms)).integer(j.shards_total).integer(j.shards_done);
  q.text(j.output_json).text(j.proof_json).text(j.public_json);
}
JobRow read_job(Query& q) {
  JobRow j;
  j.job_id = q.col_text();
  j.seq = uint64_t(q.col_int());
  j.model_id = q.col_text();
  j.owner = q.col_text();
  j.state = int(q.col_int());
  j.error = q.col_text();
  j.priority = int32_t(q.col_int());
  j.deadline_unix_ms = uint64_t(q.col_int());
  j.split_into = uint32_t(q.col_int());
  j.input_json = q.col_text();
  j.witness_sha256 = q.col_text();
  j.submitted_unix_ms = uint64_t(q.col_int());
  j.started_unix_ms = uint64_t(q.col_int());
  j.finished_unix_ms = uint64_t(q.col_int());
  j.shards_total = uint32_t(q.col_int());
  j.shards_done = uint32_t(q.col_int());
  j.output_json = q.col_text();
  j.proof_json = q.col_text();
  j.public_json = q.col_text();
  return j;
}

void bind_fields(Query& q, const ShardRow& s) {
  q.text(s.job_id).integer(s.kind).integer(s.msm).integer(i64(s.first)).integer(i64(s.count)).integer(s.state);
  q.integer(s.lost_retries).integer(s.failed_retries).text(s.last_error).text(s.proof_json).text(s.public_json);
  q.text(s.output_json).text(s.witness_sha256).text(s.h_sha256).blob(s.point).integer(i64(s.finished_unix_ms));
}
ShardRow read_shard(Query& q) {
  ShardRow s;
  s.shard_id = q.col_text();
  s.job_id = q.col_text();
  s.kind = int(q.col_int());
  s.msm = int(q.col_int());
  s.first = uint64_t(q.col_int());
  s.count = uint64_t(q.col_int());
  s.state = int(q.col_int());
  s.lost_retries = uint32_t(q.col_int());
  s.failed_retries = uint32_t(q.col_int());
  s.last_error = q.col_text();
  s.proof_json = q.col_text();
  s.public_json = q.col_text();
  s.output_json = q.col_text();
  s.witness_sha256 = q.col_text();
  s.h_sha256 = q.col_text();
  s.point = q.col_blob();
  s.finished_unix_ms = uint64_t(q.col_int());
  return s;
}

// SQLite's LIMIT: a negative value means no limit.
int64_t sql_limit(uint32_t limit) { return limit == 0 ? -1 : int64_t(limit); }

void update_job_row(Db& db, const JobRow& j) {
  Query q(db, kUpdateJob, "update job '" + j.job_id + "'");
  bind_fields(q, j);
  q.text(j.job_id).done();
  if (q.changes() == 0) throw std::invalid_argument("update of job '" + j.job_id + "': no such job in " + db.path);
}

void update_shard_row(Db& db, const ShardRow& s) {
  Query q(db, kUpdateShard, "update shard '" + s.shard_id + "'");
  bind_fields(q, s);
  q.text(s.shard_id).done();
  if (q.changes() == 0) throw std::invalid_argument("update of shard '" + s.shard_id + "': no such shard in " + db.path);
}

Db::Db(const std::string& data_dir) : path(data_dir + "/zkinfer.db") {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) throw std::runtime_error(data_dir + ": cannot create the data directory: " + ec.message());
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  db.reset(raw);  // a failed open may still return a handle that carries the message
  if (rc != SQLITE_OK) fail("cannot open");
  sqlite3_busy_timeout(db.get(), 5000);
  exec("PRAGMA foreign_keys = ON", "cannot enable foreign keys");
  {
    Query q(*this, "PRAGMA journal_mode = WAL", "cannot switch to WAL mode");
    const std::string mode = q.row() ? q.col_text() : std::string();
    if (mode != "wal")
      throw std::runtime_error(path + ": cannot switch to WAL mode (journal mode is '" + mode + "')");
  }
  exec("PRAGMA synchronous = FULL", "cannot set synchronous = FULL");

  // Read the version inside the write transaction, so two processes opening one new file do not
  // both create the schema.
  Transaction t(*this);
  int version = 0;
  {
    Query q(*this, "PRAGMA user_version", "cannot read the schema version");
    if (q.row()) version = int(q.col_int());
  }
  if (version < 0 || version > kSchemaVersion)
    throw std::runtime_error(path + ": schema version " + std::to_string(version) + " is not one this coordinator knows (0 to " +
                             std::to_string(kSchemaVersion) + "): a newer zkinfer's database?");
  for (int v = version; v < kSchemaVersion; ++v)
    exec(kMigrations[v], ("cannot migrate the schema to version " + std::to_string(v + 1)).c_str());
  t.commit();
}

}  // namespace

struct Store::Impl {
  explicit Impl(const std::string& data_dir) : db(data_dir) {}
  Db db;
};

Store::Store(const std::string& data_dir) : impl_(std::make_unique<Impl>(data_dir)) {}
Store::~Store() = default;

void Store::put_model(const ModelRow& m) {
  Query q(impl_->db, kPutModel, "put model '" + m.model_id + "'");
  q.text(m.model_id);
  bind_fields(q, m);
  q.done();
}

std::optional<ModelRow> Store::get_model(const std::string& model_id) const {
  Query q(impl_->db, kSelectModel + "WHERE model_id = ?", "get model '" + model_id + "'");
  q.text(model_id);
  if (!q.row()) return std::nullopt;
  return read_model(q);
}

std::vector<ModelRow> Store::list_models(uint32_t limit, const std::string& after_model_id) const {
  uint64_t after_created = 0;
  if (!after_model_id.empty()) {
    auto after = get_model(after_model_id);
    if (!after) throw std::invalid_argument("list models: unknown after_model_id '" + after_model_id + "'");
    after_created = after->created_unix_ms;
  }
  Query q(impl_->db,
          kSelectModel + "WHERE ?1 = '' OR (created_unix_ms, model_id) > (?2, ?1) ORDER BY created_unix_ms, model_id LIMIT ?3",
          "list models");
  q.text(after_model_id).integer(i64(after_created)).integer(sql_limit(limit));
  std::vector<ModelRow> out;
  while (q.row()) out.push_back(read_model(q));
  return out;
}

JobRow Store::insert_job(JobRow j) {
  Query q(impl_->db, kInsertJob, "insert job '" + j.job_id + "'");
  q.text(j.job_id);
  bind_fields(q, j);
  if (!q.row()) impl_->db.fail("insert job '" + j.job_id + "': no seq returned");
  j.seq = uint64_t(q.col_int());
  q.done();
  return j;
}

void Store::update_job(const JobRow& j) { update_job_row(impl_->db, j); }

std::optional<JobRow> Store::get_job(const std::string& job_id) const {
  Query q(impl_->db, kSelectJob + "WHERE job_id = ?", "get job '" + job_id + "'");
  q.text(job_id);
  if (!q.row()) return std::nullopt;
  return read_job(q);
}

std::vector<JobRow> Store::list_jobs(int state, const std::string& owner, uint32_t limit, const std::string& after_job_id) const {
  int64_t after_seq = 0;
  if (!after_job_id.empty()) {
    Query q(impl_->db, "SELECT seq FROM jobs WHERE job_id = ?", "list jobs");
    q.text(after_job_id);
    if (!q.row()) throw std::invalid_argument("list jobs: unknown after_job_id '" + after_job_id + "'");
    after_seq = q.col_int();
  }
  Query q(impl_->db,
          kSelectJob + "WHERE seq > ?1 AND (?2 = 0 OR state = ?2) AND (?3 = '' OR owner = ?3) ORDER BY seq LIMIT ?4",
          "list jobs");
  q.integer(after_seq).integer(state).text(owner).integer(sql_limit(limit));
  std::vector<JobRow> out;
  while (q.row()) out.push_back(read_job(q));
  return out;
}

std::vector<JobRow> Store::unfinished_jobs() const {
  Query q(impl_->db, kSelectJob + "WHERE state IN (?1, ?2) ORDER BY seq", "list unfinished jobs");
  q.integer(v1::JOB_STATE_QUEUED).integer(v1::JOB_STATE_RUNNING);
  std::vector<JobRow> out;
  while (q.row()) out.push_back(read_job(q));
  return out;
}

void Store::plan_job(const JobRow& j, const std::vector<ShardRow>& shards) {
  Transaction t(impl_->db);
  update_job_row(impl_->db, j);
  for (const auto& s : shards) {
    Query q(impl_->db, kInsertShard, "plan job '" + j.job_id + "': insert shard '" + s.shard_id + "'");
    q.text(s.shard_id);
    bind_fields(q, s);
    q.done();
  }
  t.commit();
}

void Store::update_shard(const ShardRow& s) { update_shard_row(impl_->db, s); }

void Store::update_shard_and_job(const ShardRow& s, const JobRow& j) {
  Transaction t(impl_->db);
  update_shard_row(impl_->db, s);
  update_job_row(impl_->db, j);
  t.commit();
}

std::vector<ShardRow> Store::shards_of(const std::string& job_id) const {
  Query q(impl_->db, kSelectShard + "WHERE job_id = ? ORDER BY shard_id", "shards of job '" + job_id + "'");
  q.text(job_id);
  std::vector<ShardRow> out;
  while (q.row()) out.push_back(read_shard(q));
  return out;
}

uint64_t Store::count_jobs(int state) const {
  Query q(impl_->db, "SELECT COUNT(*) FROM jobs WHERE ?1 = 0 OR state = ?1", "count jobs");
  q.integer(state);
  return q.row() ? uint64_t(q.col_int()) : 0;
}

}  // namespace zkinfer::coordinator
