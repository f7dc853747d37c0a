#include "storage/meta/sqlite_meta_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <unordered_map>
#include <utility>

#include "common/check.h"
#include "common/logging.h"

namespace tessera::storage {
namespace internal {
namespace {

// "TESS" as a big-endian int; stored in the SQLite header (PRAGMA application_id).
constexpr int64_t kApplicationId = 0x54455353;
constexpr int64_t kFormatVersion = 1;  // PRAGMA user_version

StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StatusCode::kDataLoss;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_PROTOCOL:
      return StatusCode::kUnavailable;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return StatusCode::kResourceExhausted;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return StatusCode::kFailedPrecondition;
    case SQLITE_TOOBIG:
      return StatusCode::kInvalidArgument;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

// A cached prepared statement in use: reset and unbound when it goes out of scope, so a
// statement is never left mid-step holding a read lock.
class Query {
 public:
  Query(class SqliteDb* db, sqlite3_stmt* stmt, std::string_view op) : db_(db), stmt_(stmt), op_(op) {}
  Query(Query&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), op_(other.op_) {}
  Query& operator=(Query&&) = delete;
  ~Query() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  Query& Bind(int index, int64_t value) {
    Check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  // Binds bytes as a BLOB (never NULL, also when empty). The bytes must outlive the query.
  Query& BindBlob(int index, std::string_view value) {
    if (value.empty()) {
      Check(sqlite3_bind_zeroblob(stmt_, index, 0));
    } else {
      Check(sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_STATIC));
    }
    return *this;
  }
  Query& BindText(int index, std::string_view value) {
    Check(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8));
    return *this;
  }

  // True when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, expecting no rows.
  Status Run() {
    auto row = Step();
    if (!row.ok()) return row.status();
    return Status::OK();
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Blob(int col) const {
    const void* data = sqlite3_column_blob(stmt_, col);
    const int size = sqlite3_column_bytes(stmt_, col);
    if (data == nullptr || size <= 0) return {};
    return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
  }
  std::string Text(int col) const {
    const unsigned char* data = sqlite3_column_text(stmt_, col);
    const int size = sqlite3_column_bytes(stmt_, col);
    if (data == nullptr || size <= 0) return {};
    return std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  SqliteDb* db_;
  sqlite3_stmt* stmt_;
  std::string_view op_;
  int bind_rc_ = SQLITE_OK;
};

// One SQLite connection with a cache of prepared statements. Thread-compatible: the owner
// serialises use (the store's mu_, or a watch's own thread).
class SqliteDb {
 public:
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, int flags,
                                                std::chrono::milliseconds busy_timeout) {
    sqlite3* handle = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &handle, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    auto db = std::unique_ptr<SqliteDb>(new SqliteDb(path, handle));
    if (rc != SQLITE_OK) return db->Error(rc, "open");
    sqlite3_extended_result_codes(handle, 1);
    sqlite3_busy_timeout(handle, static_cast<int>(busy_timeout.count()));
    return db;
  }

  ~SqliteDb() {
    statements_.clear();  // finalize before close
    sqlite3_close_v2(db_);
  }

  Status Error(int rc, std::string_view op) const {
    const char* msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    return Status(CodeFor(rc), path_ + ": " + std::string(op) + ": " + msg + " (sqlite code " +
                                   std::to_string(rc) + ")");
  }

  Result<Query> Prepare(const char* sql, std::string_view op) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return Error(rc, std::string(op) + " (prepare)");
      }
      it = statements_.emplace(sql, StatementPtr(stmt)).first;
    }
    return Query(this, it->second.get(), op);
  }

  // Runs SQL without results (or ignoring them).
  Status Exec(const char* sql, std::string_view op) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return Error(rc, op);
    return Status::OK();
  }

  const std::string& path() const { return path_; }

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };
  using StatementPtr = std::unique_ptr<sqlite3_stmt, Finalizer>;

  SqliteDb(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  const std::string path_;
  sqlite3* db_;
  // Keyed by the SQL text's address: callers pass string literals.
  std::unordered_map<const char*, StatementPtr> statements_;
};

Result<bool> Query::Step() {
  if (bind_rc_ != SQLITE_OK) return db_->Error(bind_rc_, std::string(op_) + " (bind)");
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, op_);
}

// Best effort: a failed ROLLBACK leaves nothing more to undo, and the original error is
// what the caller reports.
void IgnoreError(const Status& status) { static_cast<void>(status); }

// Rolls back a transaction unless it was committed.
class TxnGuard {
 public:
  explicit TxnGuard(SqliteDb& db) : db_(db) {}
  ~TxnGuard() {
    if (!done_) IgnoreError(db_.Exec("ROLLBACK", "rollback"));
  }
  Status Commit() {
    done_ = true;
    Status s = db_.Exec("COMMIT", "commit");
    if (!s.ok()) IgnoreError(db_.Exec("ROLLBACK", "rollback"));
    return s;
  }
  void Rollback() {
    done_ = true;
    IgnoreError(db_.Exec("ROLLBACK", "rollback"));
  }

 private:
  SqliteDb& db_;
  bool done_ = false;
};

struct WatchNotifier {
  std::mutex mu;
  std::condition_variable cv;
  int64_t revision = 0;  // latest committed revision; guarded by mu
  bool closing = false;  // guarded by mu
};

struct SqliteWatchState {
  std::shared_ptr<WatchNotifier> notifier;
  std::unique_ptr<SqliteDb> db;  // used only on the watch thread
  std::string prefix;
  std::optional<std::string> prefix_end;
  int64_t next_revision = 0;
  int64_t batch_revisions = 256;
  WatchCallback callback;
  bool cancelled = false;  // guarded by notifier->mu
  std::atomic<bool> finished{false};
  std::mutex join_mu;
  std::thread thread;  // guarded by join_mu after start
};

namespace {

thread_local const SqliteWatchState* t_current_watch = nullptr;

void CancelWatch(SqliteWatchState& state) {
  {
    std::lock_guard<std::mutex> lock(state.notifier->mu);
    state.cancelled = true;
  }
  state.notifier->cv.notify_all();
  if (t_current_watch == &state) return;  // inside our own callback: the loop ends after it
  std::lock_guard<std::mutex> lock(state.join_mu);
  if (state.thread.joinable()) state.thread.join();
}

class SqliteWatchHandle final : public WatchHandle {
 public:
  explicit SqliteWatchHandle(std::shared_ptr<SqliteWatchState> state) : state_(std::move(state)) {}
  ~SqliteWatchHandle() override { Cancel(); }
  void Cancel() override { CancelWatch(*state_); }

 private:
  std::shared_ptr<SqliteWatchState> state_;
};

std::optional<std::string> PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) end.pop_back();
  if (end.empty()) return std::nullopt;  // no upper bound
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

Status ValidateKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("meta store: empty key");
  if (key.size() > kMaxMetaKeySize) {
    return Status::InvalidArgument("meta store: key of " + std::to_string(key.size()) +
                                   " bytes exceeds the limit of " + std::to_string(kMaxMetaKeySize));
  }
  return Status::OK();
}

Status ValidateValue(std::string_view key, std::string_view value) {
  if (value.size() > kMaxMetaValueSize) {
    return Status::InvalidArgument("meta store: value of " + std::to_string(value.size()) +
                                   " bytes for key '" + std::string(key.substr(0, 64)) +
                                   "' exceeds the limit of " + std::to_string(kMaxMetaValueSize));
  }
  return Status::OK();
}

Status ValidateOps(const std::vector<TxnOp>& ops) {
  std::set<std::string_view> keys;
  for (const TxnOp& op : ops) {
    TESSERA_RETURN_IF_ERROR(ValidateKey(op.key));
    if (op.type == TxnOp::Type::kPut) TESSERA_RETURN_IF_ERROR(ValidateValue(op.key, op.value));
    if (!keys.insert(op.key).second) {
      return Status::InvalidArgument("meta store: key '" + op.key.substr(0, 64) +
                                     "' appears more than once in one transaction branch");
    }
  }
  return Status::OK();
}

template <typename T>
bool Holds(CompareOp op, const T& actual, const T& expected) {
  switch (op) {
    case CompareOp::kEqual:
      return actual == expected;
    case CompareOp::kNotEqual:
      return actual != expected;
    case CompareOp::kLess:
      return actual < expected;
    case CompareOp::kGreater:
      return actual > expected;
  }
  return false;
}

bool Evaluate(const Compare& compare, const std::optional<KeyValue>& kv) {
  switch (compare.target) {
    case Compare::Target::kExists:
      return kv.has_value();
    case Compare::Target::kNotExists:
      return !kv.has_value();
    case Compare::Target::kModRevision:
      return Holds<int64_t>(compare.op, kv ? kv->mod_revision : 0, compare.revision);
    case Compare::Target::kValue:
      return kv.has_value() && Holds<std::string_view>(compare.op, kv->value, compare.value);
  }
  return false;
}

int64_t ToMillis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Result<std::optional<KeyValue>> ReadKv(SqliteDb& db, std::string_view key) {
  TESSERA_ASSIGN_OR_RETURN(Query q, db.Prepare("SELECT value, create_revision, mod_revision, version, "
                                               "lease FROM kv WHERE key = ?1",
                                               "get"));
  q.BindBlob(1, key);
  TESSERA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<KeyValue>();
  return std::optional<KeyValue>(KeyValue{std::string(key), q.Blob(0), q.Int(1), q.Int(2), q.Int(3),
                                          LeaseId{q.Int(4)}});
}

Status SetMeta(SqliteDb& db, const char* name, int64_t value) {
  TESSERA_ASSIGN_OR_RETURN(Query q, db.Prepare("INSERT INTO meta(name, value) VALUES (?1, ?2) "
                                               "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                                               "update meta"));
  q.BindText(1, name).Bind(2, value);
  return q.Run();
}

Result<int64_t> GetMeta(SqliteDb& db, const char* name) {
  TESSERA_ASSIGN_OR_RETURN(Query q, db.Prepare("SELECT value FROM meta WHERE name = ?1", "read meta"));
  q.BindText(1, name);
  TESSERA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::DataLoss(db.path() + ": meta row '" + name + "' is missing");
  return q.Int(0);
}

// Applies puts and deletes at one revision inside an open write transaction, recording
// every change in the history table.
class Writer {
 public:
  Writer(SqliteDb& db, int64_t revision) : db_(db), revision_(revision) {}

  Status Put(const std::string& key, const std::string& value, LeaseId lease) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<KeyValue> prev, ReadKv(db_, key));
    KeyValue kv{key, value, prev ? prev->create_revision : revision_, revision_,
                prev ? prev->version + 1 : 1, lease};
    {
      TESSERA_ASSIGN_OR_RETURN(
          Query q, db_.Prepare("INSERT INTO kv(key, value, create_revision, mod_revision, version, lease) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(key) DO UPDATE SET "
                               "value = excluded.value, mod_revision = excluded.mod_revision, "
                               "version = excluded.version, lease = excluded.lease",
                               "put"));
      q.BindBlob(1, kv.key).BindBlob(2, kv.value).Bind(3, kv.create_revision).Bind(4, kv.mod_revision);
      q.Bind(5, kv.version).Bind(6, static_cast<int64_t>(kv.lease));
      TESSERA_RETURN_IF_ERROR(q.Run());
    }
    return Record(EventType::kPut, kv, prev);
  }

  Status Delete(const std::string& key) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<KeyValue> prev, ReadKv(db_, key));
    if (!prev) return Status::OK();
    {
      TESSERA_ASSIGN_OR_RETURN(Query q, db_.Prepare("DELETE FROM kv WHERE key = ?1", "delete"));
      q.BindBlob(1, key);
      TESSERA_RETURN_IF_ERROR(q.Run());
    }
    KeyValue kv;
    kv.key = key;
    kv.mod_revision = revision_;
    return Record(EventType::kDelete, kv, prev);
  }

  int64_t changes() const { return sub_; }

 private:
  Status Record(EventType type, const KeyValue& kv, const std::optional<KeyValue>& prev) {
    TESSERA_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("INSERT INTO history(revision, sub, type, key, value, create_revision, "
                             "version, lease, prev_value, prev_create_revision, prev_mod_revision, "
                             "prev_version, prev_lease) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                             "record history"));
    q.Bind(1, revision_).Bind(2, sub_).Bind(3, type == EventType::kPut ? 0 : 1);
    q.BindBlob(4, kv.key).BindBlob(5, kv.value).Bind(6, kv.create_revision).Bind(7, kv.version);
    q.Bind(8, static_cast<int64_t>(kv.lease));
    if (prev) {
      q.BindBlob(9, prev->value).Bind(10, prev->create_revision).Bind(11, prev->mod_revision);
      q.Bind(12, prev->version).Bind(13, static_cast<int64_t>(prev->lease));
    }  // else: the prev_* columns stay NULL
    TESSERA_RETURN_IF_ERROR(q.Run());
    ++sub_;
    return Status::OK();
  }

  SqliteDb& db_;
  const int64_t revision_;
  int64_t sub_ = 0;
};

constexpr const char* kSchema = R"sql(
CREATE TABLE meta(
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE kv(
  key             BLOB NOT NULL PRIMARY KEY,
  value           BLOB NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision    INTEGER NOT NULL,
  version         INTEGER NOT NULL,
  lease           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX kv_by_lease ON kv(lease) WHERE lease != 0;
CREATE TABLE history(
  revision             INTEGER NOT NULL,
  sub                  INTEGER NOT NULL,
  type                 INTEGER NOT NULL,
  key                  BLOB NOT NULL,
  value                BLOB NOT NULL,
  create_revision      INTEGER NOT NULL,
  version              INTEGER NOT NULL,
  lease                INTEGER NOT NULL,
  prev_value           BLOB,
  prev_create_revision INTEGER,
  prev_mod_revision    INTEGER,
  prev_version         INTEGER,
  prev_lease           INTEGER,
  PRIMARY KEY (revision, sub)
);
CREATE TABLE lease(
  id            INTEGER PRIMARY KEY,
  ttl_ms        INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL
);
INSERT INTO meta(name, value) VALUES ('revision', 0), ('compact_revision', 0), ('next_lease_id', 1);
)sql";

// Reads the history rows of revisions [from, to] matching the watch's prefix, together with
// the compaction point, in one read transaction (one snapshot).
struct HistoryBatch {
  int64_t compact_revision = 0;
  std::vector<WatchResponse> responses;
};

Result<HistoryBatch> ReadHistory(SqliteWatchState& w, int64_t from, int64_t to) {
  SqliteDb& db = *w.db;
  TESSERA_RETURN_IF_ERROR(db.Exec("BEGIN", "watch: begin read transaction"));
  TxnGuard guard(db);
  HistoryBatch batch;
  TESSERA_ASSIGN_OR_RETURN(batch.compact_revision, GetMeta(db, "compact_revision"));
  if (from < batch.compact_revision) return batch;
  constexpr const char* kColumns =
      "SELECT revision, type, key, value, create_revision, version, lease, prev_value, "
      "prev_create_revision, prev_mod_revision, prev_version, prev_lease FROM history ";
  static const std::string kBounded =
      std::string(kColumns) + "WHERE revision >= ?1 AND revision <= ?2 AND key >= ?3 AND key < ?4 "
                              "ORDER BY revision, sub";
  static const std::string kUnbounded =
      std::string(kColumns) + "WHERE revision >= ?1 AND revision <= ?2 AND key >= ?3 "
                              "ORDER BY revision, sub";
  TESSERA_ASSIGN_OR_RETURN(
      Query q, db.Prepare(w.prefix_end ? kBounded.c_str() : kUnbounded.c_str(), "watch: read history"));
  q.Bind(1, from).Bind(2, to).BindBlob(3, w.prefix);
  if (w.prefix_end) q.BindBlob(4, *w.prefix_end);
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    const int64_t revision = q.Int(0);
    if (batch.responses.empty() || batch.responses.back().revision != revision) {
      batch.responses.emplace_back();
      batch.responses.back().revision = revision;
    }
    WatchEvent event;
    event.type = q.Int(1) == 0 ? EventType::kPut : EventType::kDelete;
    event.kv = KeyValue{q.Blob(2), q.Blob(3), q.Int(4), revision, q.Int(5), LeaseId{q.Int(6)}};
    if (!q.IsNull(9)) {
      event.prev_kv = KeyValue{event.kv.key, q.Blob(7), q.Int(8), q.Int(9), q.Int(10), LeaseId{q.Int(11)}};
    }
    batch.responses.back().events.push_back(std::move(event));
  }
  guard.Rollback();  // read-only: nothing to commit
  return batch;
}

void RunWatch(SqliteWatchState* w) {
  t_current_watch = w;
  WatchNotifier& n = *w->notifier;
  auto deliver = [&](const WatchResponse& response) {
    {
      std::lock_guard<std::mutex> lock(n.mu);
      if (w->cancelled || n.closing) return false;
    }
    w->callback(response);
    return true;
  };
  int64_t next = w->next_revision;
  while (true) {
    int64_t committed = 0;
    {
      std::unique_lock<std::mutex> lock(n.mu);
      n.cv.wait(lock, [&] { return w->cancelled || n.closing || n.revision >= next; });
      if (w->cancelled || n.closing) break;
      committed = n.revision;
    }
    const int64_t to = std::min(committed, next + w->batch_revisions - 1);
    Result<HistoryBatch> batch = ReadHistory(*w, next, to);
    if (!batch.ok()) {
      WatchResponse error;
      error.status = batch.status().WithContext("watch");
      deliver(error);
      break;
    }
    if (next < batch->compact_revision) {
      WatchResponse error;
      error.compact_revision = batch->compact_revision;
      error.status = Status::OutOfRange(
          "watch fell behind: revision " + std::to_string(next) + " has been compacted (oldest retained "
          "revision is " + std::to_string(batch->compact_revision) +
          "); re-list with Range and watch from its revision + 1");
      deliver(error);
      break;
    }
    bool stop = false;
    for (const WatchResponse& response : batch->responses) {
      if (!deliver(response)) {
        stop = true;
        break;
      }
    }
    if (stop) break;
    next = to + 1;
  }
  w->db.reset();
  w->finished = true;
}

}  // namespace
}  // namespace internal

using internal::Query;
using internal::SqliteDb;
using internal::TxnGuard;

Result<std::unique_ptr<SqliteMetaStore>> SqliteMetaStore::Open(const std::filesystem::path& path,
                                                               const SqliteMetaStoreOptions& options) {
  if (options.history_retention_revisions < 0 || options.watch_batch_revisions <= 0) {
    return Status::InvalidArgument("sqlite meta store: history_retention_revisions must be >= 0 and "
                                   "watch_batch_revisions > 0");
  }
  const std::string lock_path = path.string() + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::FailedPrecondition(path.string() + ": cannot open lock file " + lock_path + ": " +
                                      std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::FailedPrecondition(path.string() + ": the meta store is already open (lock " +
                                      lock_path + ": " + std::strerror(err) + ")");
  }
  std::unique_ptr<SqliteMetaStore> store(new SqliteMetaStore(path, options, fd));
  TESSERA_RETURN_IF_ERROR(store->Init());
  return store;
}

SqliteMetaStore::SqliteMetaStore(std::filesystem::path path, SqliteMetaStoreOptions options, int lock_fd)
    : path_(std::move(path)),
      options_(options),
      lock_fd_(lock_fd),
      notifier_(std::make_shared<internal::WatchNotifier>()) {}

SqliteMetaStore::~SqliteMetaStore() {
  TESSERA_CHECK(internal::t_current_watch == nullptr || internal::t_current_watch->notifier != notifier_)
      << "SqliteMetaStore " << path_.string() << " destroyed from inside one of its watch callbacks";
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  lease_cv_.notify_all();
  if (lease_thread_.joinable()) lease_thread_.join();
  {
    std::lock_guard<std::mutex> lock(notifier_->mu);
    notifier_->closing = true;
  }
  notifier_->cv.notify_all();
  std::vector<std::shared_ptr<internal::SqliteWatchState>> watches;
  {
    std::lock_guard<std::mutex> lock(watches_mu_);
    watches.swap(watches_);
  }
  for (auto& w : watches) internal::CancelWatch(*w);
  db_.reset();
  ::close(lock_fd_);
}

Status SqliteMetaStore::Init() {
  std::lock_guard<std::mutex> lock(mu_);
  TESSERA_ASSIGN_OR_RETURN(db_, SqliteDb::Open(path_.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                               options_.busy_timeout));
  SqliteDb& db = *db_;
  {
    TESSERA_ASSIGN_OR_RETURN(Query q, db.Prepare("PRAGMA journal_mode=WAL", "set journal_mode=WAL"));
    TESSERA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || q.Text(0) != "wal") {
      return Status::FailedPrecondition(path_.string() + ": SQLite refused WAL journal mode");
    }
  }
  TESSERA_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=FULL", "set synchronous=FULL"));
  int64_t application_id = 0;
  int64_t user_version = 0;
  int64_t tables = 0;
  {
    TESSERA_ASSIGN_OR_RETURN(Query q, db.Prepare("PRAGMA application_id", "read application_id"));
    TESSERA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) application_id = q.Int(0);
  }
  {
    TESSERA_ASSIGN_OR_RETURN(Query q, db.Prepare("PRAGMA user_version", "read user_version"));
    TESSERA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) user_version = q.Int(0);
  }
  {
    TESSERA_ASSIGN_OR_RETURN(Query q, db.Prepare("SELECT count(*) FROM sqlite_schema", "read schema"));
    TESSERA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) tables = q.Int(0);
  }
  if (application_id == 0 && tables == 0) {
    TESSERA_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "begin schema creation"));
    TxnGuard guard(db);
    TESSERA_RETURN_IF_ERROR(db.Exec(internal::kSchema, "create schema"));
    const std::string pragmas = "PRAGMA application_id=" + std::to_string(internal::kApplicationId) +
                                "; PRAGMA user_version=" + std::to_string(internal::kFormatVersion) + ";";
    TESSERA_RETURN_IF_ERROR(db.Exec(pragmas.c_str(), "set application_id"));
    TESSERA_RETURN_IF_ERROR(guard.Commit());
  } else if (application_id != internal::kApplicationId) {
    return Status::FailedPrecondition(path_.string() + ": a SQLite database but not a Tessera meta store "
                                      "(application_id " + std::to_string(application_id) + ")");
  } else if (user_version != internal::kFormatVersion) {
    return Status::FailedPrecondition(path_.string() + ": meta store format version " +
                                      std::to_string(user_version) + " is not supported (this build reads " +
                                      std::to_string(internal::kFormatVersion) + ")");
  }
  {
    TESSERA_ASSIGN_OR_RETURN(Query q, db.Prepare("PRAGMA quick_check", "integrity check"));
    TESSERA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row && q.Text(0) != "ok") {
      std::string finding = q.Text(0);
      std::replace(finding.begin(), finding.end(), '\n', ' ');
      return Status::DataLoss(path_.string() + ": integrity check failed: " + finding);
    }
  }
  TESSERA_ASSIGN_OR_RETURN(revision_, internal::GetMeta(db, "revision"));
  TESSERA_ASSIGN_OR_RETURN(compact_revision_, internal::GetMeta(db, "compact_revision"));
  TESSERA_ASSIGN_OR_RETURN(next_lease_id_, internal::GetMeta(db, "next_lease_id"));
  {
    TESSERA_ASSIGN_OR_RETURN(Query q, db.Prepare("SELECT id, ttl_ms, expires_at_ms FROM lease", "load leases"));
    while (true) {
      TESSERA_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      leases_[LeaseId{q.Int(0)}] =
          LeaseInfo{std::chrono::milliseconds(q.Int(1)), Clock::time_point(std::chrono::milliseconds(q.Int(2)))};
    }
  }
  // Leases whose deadline passed while the store was closed expire now, before Open returns.
  const auto now = Clock::now();
  std::vector<LeaseId> expired;
  for (const auto& [id, info] : leases_) {
    if (info.expires_at <= now) expired.push_back(id);
  }
  for (LeaseId id : expired) TESSERA_RETURN_IF_ERROR(RevokeLocked(id));
  {
    std::lock_guard<std::mutex> nlock(notifier_->mu);
    notifier_->revision = revision_;
  }
  lease_thread_ = std::thread([this] { LeaseLoop(); });
  return Status::OK();
}

void SqliteMetaStore::PublishLocked(int64_t revision) {
  {
    std::lock_guard<std::mutex> lock(notifier_->mu);
    notifier_->revision = revision;
  }
  notifier_->cv.notify_all();
}

Result<TxnResult> SqliteMetaStore::ApplyLocked(const std::vector<Compare>& compares,
                                               const std::vector<TxnOp>& success,
                                               const std::vector<TxnOp>& failure) {
  SqliteDb& db = *db_;
  TESSERA_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "begin write transaction"));
  TxnGuard guard(db);
  bool succeeded = true;
  for (const Compare& compare : compares) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<KeyValue> kv, internal::ReadKv(db, compare.key));
    if (!internal::Evaluate(compare, kv)) {
      succeeded = false;
      break;
    }
  }
  const int64_t revision = revision_ + 1;
  internal::Writer writer(db, revision);
  for (const TxnOp& op : succeeded ? success : failure) {
    if (op.type == TxnOp::Type::kPut) {
      if (op.lease != kNoLease && !leases_.contains(op.lease)) {
        return Status::NotFound("meta store: lease " + std::to_string(static_cast<int64_t>(op.lease)) +
                                " not found (expired or revoked)");
      }
      TESSERA_RETURN_IF_ERROR(writer.Put(op.key, op.value, op.lease));
    } else {
      TESSERA_RETURN_IF_ERROR(writer.Delete(op.key));
    }
  }
  if (writer.changes() == 0) {
    guard.Rollback();
    return TxnResult{succeeded, revision_};
  }
  TESSERA_RETURN_IF_ERROR(internal::SetMeta(db, "revision", revision));
  // Bounded history: compact in chunks of 1/16 of the retention so it is not every write.
  int64_t compact_to = compact_revision_;
  const int64_t retention = options_.history_retention_revisions;
  if (retention > 0) {
    const int64_t target = revision - retention + 1;
    if (target > compact_revision_ + std::max<int64_t>(1, retention / 16)) {
      TESSERA_ASSIGN_OR_RETURN(Query q, db.Prepare("DELETE FROM history WHERE revision < ?1", "compact history"));
      q.Bind(1, target);
      TESSERA_RETURN_IF_ERROR(q.Run());
      TESSERA_RETURN_IF_ERROR(internal::SetMeta(db, "compact_revision", target));
      compact_to = target;
    }
  }
  TESSERA_RETURN_IF_ERROR(guard.Commit());
  revision_ = revision;
  compact_revision_ = compact_to;
  PublishLocked(revision);
  return TxnResult{succeeded, revision};
}

Result<std::optional<KeyValue>> SqliteMetaStore::Get(std::string_view key) {
  TESSERA_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  return internal::ReadKv(*db_, key);
}

Result<int64_t> SqliteMetaStore::Put(std::string_view key, std::string_view value, LeaseId lease) {
  std::vector<TxnOp> ops{TxnOp::Put(std::string(key), std::string(value), lease)};
  TESSERA_RETURN_IF_ERROR(internal::ValidateOps(ops));
  std::lock_guard<std::mutex> lock(mu_);
  TESSERA_ASSIGN_OR_RETURN(TxnResult result, ApplyLocked({}, ops, {}));
  return result.revision;
}

Result<DeleteResult> SqliteMetaStore::Delete(std::string_view key) {
  std::vector<TxnOp> ops{TxnOp::Delete(std::string(key))};
  TESSERA_RETURN_IF_ERROR(internal::ValidateOps(ops));
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t before = revision_;
  TESSERA_ASSIGN_OR_RETURN(TxnResult result, ApplyLocked({}, ops, {}));
  return DeleteResult{result.revision != before ? 1 : 0, result.revision};
}

Result<RangeResult> SqliteMetaStore::Range(std::string_view prefix, int64_t limit) {
  if (limit < 0) return Status::InvalidArgument("meta store: negative range limit");
  if (prefix.size() > kMaxMetaKeySize) return internal::ValidateKey(prefix);
  const std::optional<std::string> end = internal::PrefixEnd(prefix);
  std::lock_guard<std::mutex> lock(mu_);
  constexpr const char* kBounded =
      "SELECT key, value, create_revision, mod_revision, version, lease FROM kv "
      "WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3";
  constexpr const char* kUnbounded =
      "SELECT key, value, create_revision, mod_revision, version, lease FROM kv "
      "WHERE key >= ?1 ORDER BY key LIMIT ?3";
  TESSERA_ASSIGN_OR_RETURN(Query q, db_->Prepare(end ? kBounded : kUnbounded, "range"));
  // One extra row tells whether the limit cut the result short; -1 is "no limit".
  const bool unlimited = limit == 0 || limit == std::numeric_limits<int64_t>::max();
  q.BindBlob(1, prefix).Bind(3, unlimited ? -1 : limit + 1);
  if (end) q.BindBlob(2, *end);
  RangeResult result;
  result.revision = revision_;
  while (true) {
    TESSERA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (limit > 0 && static_cast<int64_t>(result.kvs.size()) == limit) {
      result.more = true;
      break;
    }
    result.kvs.push_back(KeyValue{q.Blob(0), q.Blob(1), q.Int(2), q.Int(3), q.Int(4), LeaseId{q.Int(5)}});
  }
  return result;
}

Result<TxnResult> SqliteMetaStore::Commit(const Txn& txn) {
  for (const Compare& compare : txn.compares()) TESSERA_RETURN_IF_ERROR(internal::ValidateKey(compare.key));
  TESSERA_RETURN_IF_ERROR(internal::ValidateOps(txn.success()));
  TESSERA_RETURN_IF_ERROR(internal::ValidateOps(txn.failure()));
  std::lock_guard<std::mutex> lock(mu_);
  return ApplyLocked(txn.compares(), txn.success(), txn.failure());
}

void SqliteMetaStore::ReapWatches() {
  std::lock_guard<std::mutex> lock(watches_mu_);
  std::erase_if(watches_, [](const std::shared_ptr<internal::SqliteWatchState>& w) {
    if (!w->finished) return false;
    std::lock_guard<std::mutex> join_lock(w->join_mu);
    if (w->thread.joinable()) w->thread.join();
    return true;
  });
}

Result<std::unique_ptr<WatchHandle>> SqliteMetaStore::Watch(std::string_view prefix, int64_t from_revision,
                                                            WatchCallback callback) {
  if (from_revision < 0) return Status::InvalidArgument("meta store: negative watch revision");
  if (prefix.size() > kMaxMetaKeySize) return internal::ValidateKey(prefix);
  if (!callback) return Status::InvalidArgument("meta store: watch without a callback");
  ReapWatches();
  auto state = std::make_shared<internal::SqliteWatchState>();
  state->notifier = notifier_;
  state->prefix = std::string(prefix);
  state->prefix_end = internal::PrefixEnd(prefix);
  state->batch_revisions = options_.watch_batch_revisions;
  state->callback = std::move(callback);
  TESSERA_ASSIGN_OR_RETURN(state->db, SqliteDb::Open(path_.string(), SQLITE_OPEN_READWRITE, options_.busy_timeout));
  TESSERA_RETURN_IF_ERROR(state->db->Exec("PRAGMA query_only=1", "watch: set query_only"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return Status::FailedPrecondition(path_.string() + ": meta store is closing");
    if (from_revision == 0) {
      from_revision = revision_ + 1;
    } else if (from_revision < compact_revision_) {
      return Status::OutOfRange("meta store " + path_.string() + ": cannot watch from revision " +
                                std::to_string(from_revision) + ": it has been compacted (oldest "
                                "retained revision is " + std::to_string(compact_revision_) +
                                "); re-list with Range and watch from its revision + 1");
    }
  }
  state->next_revision = from_revision;
  {
    std::lock_guard<std::mutex> join_lock(state->join_mu);
    state->thread = std::thread(internal::RunWatch, state.get());
  }
  {
    std::lock_guard<std::mutex> lock(watches_mu_);
    watches_.push_back(state);
  }
  return std::unique_ptr<WatchHandle>(new internal::SqliteWatchHandle(std::move(state)));
}

Result<LeaseId> SqliteMetaStore::Grant(std::chrono::milliseconds ttl) {
  if (ttl.count() <= 0) return Status::InvalidArgument("meta store: lease TTL must be positive");
  std::lock_guard<std::mutex> lock(mu_);
  const LeaseId id{next_lease_id_};
  const auto expires_at = Clock::now() + ttl;
  TESSERA_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE", "grant: begin"));
  TxnGuard guard(*db_);
  {
    TESSERA_ASSIGN_OR_RETURN(Query q, db_->Prepare("INSERT INTO lease(id, ttl_ms, expires_at_ms) VALUES (?1, ?2, ?3)",
                                                   "grant lease"));
    q.Bind(1, static_cast<int64_t>(id)).Bind(2, ttl.count()).Bind(3, internal::ToMillis(expires_at));
    TESSERA_RETURN_IF_ERROR(q.Run());
  }
  TESSERA_RETURN_IF_ERROR(internal::SetMeta(*db_, "next_lease_id", next_lease_id_ + 1));
  TESSERA_RETURN_IF_ERROR(guard.Commit());
  ++next_lease_id_;
  leases_[id] = LeaseInfo{ttl, expires_at};
  lease_cv_.notify_all();
  return id;
}

Status SqliteMetaStore::KeepAlive(LeaseId lease) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(lease);
  const auto now = Clock::now();
  if (it == leases_.end() || it->second.expires_at <= now) {
    if (it != leases_.end()) TESSERA_RETURN_IF_ERROR(RevokeLocked(lease));
    return Status::NotFound("meta store: lease " + std::to_string(static_cast<int64_t>(lease)) +
                            " not found (expired or revoked)");
  }
  const auto expires_at = now + it->second.ttl;
  TESSERA_ASSIGN_OR_RETURN(Query q, db_->Prepare("UPDATE lease SET expires_at_ms = ?2 WHERE id = ?1", "keep lease alive"));
  q.Bind(1, static_cast<int64_t>(lease)).Bind(2, internal::ToMillis(expires_at));
  TESSERA_RETURN_IF_ERROR(q.Run());
  it->second.expires_at = expires_at;
  return Status::OK();
}

Status SqliteMetaStore::RevokeLocked(LeaseId lease) {
  SqliteDb& db = *db_;
  // The lease row and its keys go in one write transaction; the keys at one revision.
  TESSERA_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", "revoke: begin"));
  TxnGuard guard(db);
  std::vector<std::string> keys;
  {
    TESSERA_ASSIGN_OR_RETURN(Query q, db.Prepare("SELECT key FROM kv WHERE lease = ?1 AND lease != 0 ORDER BY key",
                                                 "revoke: list keys"));
    q.Bind(1, static_cast<int64_t>(lease));
    while (true) {
      TESSERA_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      keys.push_back(q.Blob(0));
    }
  }
  {
    TESSERA_ASSIGN_OR_RETURN(Query q, db.Prepare("DELETE FROM lease WHERE id = ?1", "revoke lease"));
    q.Bind(1, static_cast<int64_t>(lease));
    TESSERA_RETURN_IF_ERROR(q.Run());
  }
  const int64_t revision = revision_ + 1;
  internal::Writer writer(db, revision);
  for (const std::string& key : keys) TESSERA_RETURN_IF_ERROR(writer.Delete(key));
  if (writer.changes() > 0) TESSERA_RETURN_IF_ERROR(internal::SetMeta(db, "revision", revision));
  TESSERA_RETURN_IF_ERROR(guard.Commit());
  leases_.erase(lease);
  if (writer.changes() > 0) {
    revision_ = revision;
    PublishLocked(revision);
  }
  return Status::OK();
}

Status SqliteMetaStore::Revoke(LeaseId lease) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!leases_.contains(lease)) {
    return Status::NotFound("meta store: lease " + std::to_string(static_cast<int64_t>(lease)) +
                            " not found (expired or revoked)");
  }
  return RevokeLocked(lease);
}

Result<std::chrono::milliseconds> SqliteMetaStore::TimeToLive(LeaseId lease) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(lease);
  const auto now = Clock::now();
  if (it == leases_.end() || it->second.expires_at <= now) {
    return Status::NotFound("meta store: lease " + std::to_string(static_cast<int64_t>(lease)) +
                            " not found (expired or revoked)");
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(it->second.expires_at - now);
}

void SqliteMetaStore::LeaseLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!closing_) {
    std::optional<std::pair<LeaseId, Clock::time_point>> earliest;
    for (const auto& [id, info] : leases_) {
      if (!earliest || info.expires_at < earliest->second) earliest = std::make_pair(id, info.expires_at);
    }
    if (!earliest) {
      lease_cv_.wait(lock);
      continue;
    }
    if (earliest->second > Clock::now()) {
      lease_cv_.wait_until(lock, earliest->second);
      continue;
    }
    Status s = RevokeLocked(earliest->first);
    if (!s.ok()) {
      TESSERA_LOG_WARN("meta store {}: revoking expired lease {} failed, retrying: {}", path_.string(),
                       static_cast<int64_t>(earliest->first), s.ToString());
      lease_cv_.wait_for(lock, std::chrono::seconds(1));
    }
  }
}

Status SqliteMetaStore::CompactLocked(int64_t revision) {
  if (revision > revision_) {
    return Status::OutOfRange("meta store " + path_.string() + ": cannot compact to revision " +
                              std::to_string(revision) + ", the store is at revision " +
                              std::to_string(revision_));
  }
  if (revision <= compact_revision_) return Status::OK();
  TESSERA_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE", "compact: begin"));
  TxnGuard guard(*db_);
  {
    TESSERA_ASSIGN_OR_RETURN(Query q, db_->Prepare("DELETE FROM history WHERE revision < ?1", "compact history"));
    q.Bind(1, revision);
    TESSERA_RETURN_IF_ERROR(q.Run());
  }
  TESSERA_RETURN_IF_ERROR(internal::SetMeta(*db_, "compact_revision", revision));
  TESSERA_RETURN_IF_ERROR(guard.Commit());
  compact_revision_ = revision;
  return Status::OK();
}

Status SqliteMetaStore::Compact(int64_t revision) {
  std::lock_guard<std::mutex> lock(mu_);
  return CompactLocked(revision);
}

Result<int64_t> SqliteMetaStore::CurrentRevision() {
  std::lock_guard<std::mutex> lock(mu_);
  return revision_;
}

}  // namespace tessera::storage
