#include "collector/store/sqlite_store.h"

#include <sqlite3.h>

#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace accord::collector {
namespace {

// Numbered migrations; entry i brings the schema from version i to i + 1. Never edit one
// that has shipped: append a new one.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE hosts(
  id TEXT PRIMARY KEY,
  hostname TEXT NOT NULL DEFAULT '',
  agent_version TEXT NOT NULL DEFAULT '',
  boot_time INTEGER NOT NULL DEFAULT 0,
  last_seen_us INTEGER NOT NULL DEFAULT 0,
  last_sequence INTEGER NOT NULL DEFAULT 0,
  samples_accepted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE host_labels(
  host_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(host_id, name));
CREATE TABLE transitions(
  id INTEGER PRIMARY KEY,
  host_id TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  recorded_at_us INTEGER NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  cause TEXT NOT NULL,
  boot_time INTEGER NOT NULL);
CREATE INDEX transitions_host_at ON transitions(host_id, at_us);
CREATE TABLE catalogue_versions(
  version TEXT NOT NULL, source TEXT NOT NULL, loaded_at_us INTEGER NOT NULL,
  content TEXT NOT NULL, PRIMARY KEY(version, loaded_at_us));
CREATE TABLE period_results(
  service_id TEXT NOT NULL, period_start_us INTEGER NOT NULL, period_end_us INTEGER NOT NULL,
  catalogue_version TEXT NOT NULL, result_json TEXT NOT NULL, saved_at_us INTEGER NOT NULL,
  PRIMARY KEY(service_id, period_start_us));
)sql",
    // 2: backfill evidence and the audit trail of revisions.
    R"sql(
CREATE TABLE alive_spans(
  id INTEGER PRIMARY KEY, host_id TEXT NOT NULL, first_us INTEGER NOT NULL,
  last_us INTEGER NOT NULL, boot_time INTEGER NOT NULL);
CREATE INDEX alive_spans_host ON alive_spans(host_id, first_us);
CREATE TABLE revisions(
  id INTEGER PRIMARY KEY, host_id TEXT NOT NULL, recorded_at_us INTEGER NOT NULL,
  from_us INTEGER NOT NULL, to_us INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE INDEX revisions_host ON revisions(host_id, recorded_at_us);
)sql",
    // 3: capacity rollups (collector/capacity/rollup.h).
    R"sql(
CREATE TABLE capacity_series(
  id INTEGER PRIMARY KEY, host_id TEXT NOT NULL, kind TEXT NOT NULL, instance TEXT NOT NULL,
  UNIQUE(host_id, kind, instance));
CREATE TABLE capacity_minutes(
  series INTEGER NOT NULL, start INTEGER NOT NULL, count INTEGER NOT NULL, sum REAL NOT NULL,
  min REAL NOT NULL, max REAL NOT NULL, capacity_sum REAL NOT NULL,
  PRIMARY KEY(series, start)) WITHOUT ROWID;
CREATE TABLE capacity_hours(
  series INTEGER NOT NULL, start INTEGER NOT NULL, count INTEGER NOT NULL, sum REAL NOT NULL,
  min REAL NOT NULL, max REAL NOT NULL, capacity_sum REAL NOT NULL, histogram BLOB NOT NULL,
  PRIMARY KEY(series, start)) WITHOUT ROWID;
)sql",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

absl::Status SqlError(sqlite3* db, absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", sqlite3_errmsg(db)));
}

absl::Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return absl::InternalError(
        absl::StrCat("sqlite: ", msg, " in: ", std::string(sql).substr(0, 80)));
  }
  return absl::OkStatus();
}

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& BindDouble(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Stmt& BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  double Double(int col) { return sqlite3_column_double(stmt_, col); }
  std::string Blob(int col) {
    const void* p = sqlite3_column_blob(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, col))
             : std::string();
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col))
             : std::string();
  }
  absl::Status Error(absl::string_view what) { return SqlError(db_, what); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// A rollup row from the columns start, count, sum, min, max, capacity_sum (0..5).
capacity::RollupRow RollupFromRow(Stmt& q) {
  capacity::RollupRow r;
  r.start = q.Int(0);
  r.count = static_cast<uint32_t>(q.Int(1));
  r.sum = q.Double(2);
  r.min = q.Double(3);
  r.max = q.Double(4);
  r.capacity_sum = q.Double(5);
  return r;
}

int64_t Us(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromUs(int64_t us) { return absl::FromUnixMicros(us); }

HostState StateFromName(const std::string& name) {
  for (HostState s :
       {HostState::kUp, HostState::kUnreachable, HostState::kStopped, HostState::kDown}) {
    if (name == HostStateName(s)) return s;
  }
  return HostState::kUnknown;
}

absl::StatusOr<sqlite3*> OpenConnection(const std::string& path, bool read_only = false) {
  sqlite3* db = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat("cannot open database \"", path, "\": ", msg));
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const StoreOptions& options) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(options));
  if (options.read_only) {
    auto r = OpenConnection(options.path, /*read_only=*/true);
    if (!r.ok()) return r.status();
    store->read_db_ = *r;
    Stmt q(store->read_db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!q.ok() || q.Step() != SQLITE_ROW) {
      return absl::DataLossError(absl::StrCat("\"", options.path, "\" is not an Accord database"));
    }
    store->schema_version_ = static_cast<int>(q.Int(0));
    if (store->schema_version_ != kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat("database schema version ",
                                                        store->schema_version_,
                                                        ", this binary has ", kSchemaVersion));
    }
    return store;
  }
  auto w = OpenConnection(options.path);
  if (!w.ok()) return w.status();
  store->write_db_ = *w;
  // A file that is not a database fails here.
  absl::Status st = Exec(store->write_db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  if (!st.ok()) {
    return absl::DataLossError(
        absl::StrCat("\"", options.path, "\" is not a usable database: ", st.message()));
  }
  {
    Stmt check(store->write_db_, "PRAGMA quick_check");
    if (!check.ok() || check.Step() != SQLITE_ROW || check.Text(0) != "ok") {
      return absl::DataLossError(absl::StrCat("\"", options.path, "\" failed its integrity check"));
    }
  }
  st = store->Migrate();
  if (!st.ok()) return st;
  auto r = OpenConnection(options.path);
  if (!r.ok()) return r.status();
  store->read_db_ = *r;
  store->Prune();  // at startup, synchronously; then hourly on the writer thread
  // Hours whose derivation a crash may have cut short: the last two of every series are
  // derived again by the first rollup write.
  {
    const int64_t since = (absl::ToUnixSeconds(absl::Now()) / 3600 - 2) * 3600;
    Stmt series(store->write_db_, "SELECT id, kind FROM capacity_series");
    Stmt recent(store->write_db_,
                "SELECT DISTINCT start - start % 3600 FROM capacity_minutes "
                "WHERE series = ? AND start >= ?");
    while (series.Step() == SQLITE_ROW) {
      const int64_t id = series.Int(0);
      store->series_ratio_[id] = series.Text(1) != "demand";
      recent.Bind(1, id).Bind(2, since);
      while (recent.Step() == SQLITE_ROW) store->pending_hours_[id].insert(recent.Int(0));
      recent.Reset();
    }
  }
  store->last_prune_ = absl::Now();
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

absl::Status SqliteStore::Migrate() {
  absl::Status st = Exec(write_db_,
                         "CREATE TABLE IF NOT EXISTS schema_migrations("
                         "version INTEGER PRIMARY KEY, applied_at_us INTEGER NOT NULL)");
  if (!st.ok()) return st;
  int current = 0;
  {
    Stmt q(write_db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (q.Step() == SQLITE_ROW) current = static_cast<int>(q.Int(0));
  }
  if (current > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("database schema version ", current, " is newer than this collector's ",
                     kSchemaVersion, "; use a newer accord-collector"));
  }
  for (int v = current; v < kSchemaVersion; ++v) {
    st = Exec(write_db_, "BEGIN");
    if (st.ok()) st = Exec(write_db_, kMigrations[v]);
    if (st.ok()) {
      Stmt ins(write_db_, "INSERT INTO schema_migrations(version, applied_at_us) VALUES(?, ?)");
      ins.Bind(1, v + 1).Bind(2, Us(absl::Now()));
      if (ins.Step() != SQLITE_DONE) st = ins.Error("record migration");
    }
    if (st.ok()) st = Exec(write_db_, "COMMIT");
    if (!st.ok()) {
      Exec(write_db_, "ROLLBACK").IgnoreError();
      return st;
    }
    Log(LogLevel::kInfo, "database migrated", {{"version", absl::StrCat(v + 1)}});
  }
  schema_version_ = kSchemaVersion;
  return absl::OkStatus();
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  sqlite3_close(read_db_);
  if (write_db_ != nullptr) sqlite3_close(write_db_);
}

void SqliteStore::Enqueue(Op op) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(op));
    ++enqueued_;
  }
  cv_.notify_one();
}

uint64_t SqliteStore::Mark() {
  std::lock_guard<std::mutex> lock(mu_);
  return enqueued_;
}

uint64_t SqliteStore::Durable() {
  std::lock_guard<std::mutex> lock(mu_);
  return committed_;
}

void SqliteStore::AppendTransition(const std::string& host_id, const Transition& t) {
  Enqueue(TransitionOp{host_id, t});
}

void SqliteStore::UpdateHost(const HostRecord& record) { Enqueue(record); }

void SqliteStore::AppendAliveSpan(const std::string& host_id, const AliveSpan& span) {
  Enqueue(AliveOp{host_id, span});
}

void SqliteStore::AppendRevision(const std::string& host_id, const Revision& revision) {
  Enqueue(RevisionOp{host_id, revision});
}

absl::Status SqliteStore::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!writer_.joinable()) return absl::OkStatus();  // read-only
  uint64_t target = enqueued_;
  uint64_t failures = failures_;
  cv_.notify_one();
  flushed_cv_.wait(lock, [&] { return committed_ >= target || stop_ || failures_ > failures; });
  absl::Status st = first_error_;
  first_error_ = absl::OkStatus();
  return st;
}

void SqliteStore::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  absl::Duration retry_delay = absl::Milliseconds(100);
  while (true) {
    cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.commit_interval),
                 [&] { return stop_ || !queue_.empty(); });
    if (!queue_.empty()) {
      // Let more writes gather (unless stopping), then take them all.
      if (!stop_) {
        lock.unlock();
        absl::SleepFor(options_.commit_interval);
        lock.lock();
      }
      std::deque<Op> ops;
      ops.swap(queue_);
      uint64_t n = ops.size();
      lock.unlock();
      absl::Time start = absl::Now();
      absl::Status st = WriteBatch(ops);
      double seconds = absl::ToDoubleSeconds(absl::Now() - start);
      lock.lock();
      stats_.last_commit_seconds = seconds;
      stats_.commit_seconds_sum += seconds;
      if (st.ok()) {
        committed_ += n;
        ++stats_.commits;
        retry_delay = absl::Milliseconds(100);
      } else {
        // Nothing of the batch was kept (rolled back): put it back in front and retry later,
        // so a full disk or a locked file loses no transition.
        ++stats_.errors;
        ++failures_;
        if (first_error_.ok()) first_error_ = st;
        Log(LogLevel::kError, "database write failed; will retry",
            {{"error", std::string(st.message())},
             {"pending", absl::StrCat(n + queue_.size())},
             {"retry_in", absl::FormatDuration(retry_delay)}});
        for (auto it = ops.rbegin(); it != ops.rend(); ++it) queue_.push_front(std::move(*it));
        flushed_cv_.notify_all();
        if (!stop_) {
          cv_.wait_for(lock, absl::ToChronoNanoseconds(retry_delay), [&] { return stop_; });
          retry_delay = std::min(retry_delay * 2, absl::Seconds(30));
        }
        if (stop_) {
          flushed_cv_.notify_all();
          return;  // shutting down with a failing database: logged above
        }
        continue;
      }
      flushed_cv_.notify_all();
    }
    if (absl::Now() - last_prune_ > absl::Hours(1)) {
      last_prune_ = absl::Now();
      lock.unlock();
      Prune();
      lock.lock();
    }
    if (stop_ && queue_.empty()) {
      flushed_cv_.notify_all();
      return;
    }
  }
}

absl::Status SqliteStore::WriteBatch(std::deque<Op>& ops) {
  absl::Status st = Exec(write_db_, "BEGIN IMMEDIATE");
  if (!st.ok()) return st;
  Stmt ins_t(write_db_,
             "INSERT INTO transitions(host_id, at_us, recorded_at_us, from_state, to_state, "
             "cause, boot_time) VALUES(?, ?, ?, ?, ?, ?, ?)");
  Stmt ins_h(write_db_,
             "INSERT INTO hosts(id, hostname, agent_version, boot_time, last_seen_us, "
             "last_sequence, samples_accepted) VALUES(?, ?, ?, ?, ?, ?, ?) "
             "ON CONFLICT(id) DO UPDATE SET hostname=excluded.hostname, "
             "agent_version=excluded.agent_version, boot_time=excluded.boot_time, "
             "last_seen_us=excluded.last_seen_us, last_sequence=excluded.last_sequence, "
             "samples_accepted=excluded.samples_accepted");
  Stmt del_l(write_db_, "DELETE FROM host_labels WHERE host_id = ?");
  Stmt ins_l(write_db_, "INSERT INTO host_labels(host_id, name, value) VALUES(?, ?, ?)");
  Stmt ins_a(write_db_,
             "INSERT INTO alive_spans(host_id, first_us, last_us, boot_time) VALUES(?, ?, ?, ?)");
  Stmt ins_r(write_db_,
             "INSERT INTO revisions(host_id, recorded_at_us, from_us, to_us, reason) "
             "VALUES(?, ?, ?, ?, ?)");
  uint64_t transitions = 0, hosts = 0;
  for (auto& op : ops) {
    if (auto* ro = std::get_if<RollupOp>(&op)) {
      st.Update(WriteRollups(*ro));
    } else if (auto* a = std::get_if<AliveOp>(&op)) {
      ins_a.Bind(1, a->host_id).Bind(2, Us(a->span.first)).Bind(3, Us(a->span.last));
      ins_a.Bind(4, a->span.boot_time_seconds);
      if (ins_a.Step() != SQLITE_DONE) st.Update(ins_a.Error("insert alive span"));
      ins_a.Reset();
    } else if (auto* r = std::get_if<RevisionOp>(&op)) {
      ins_r.Bind(1, r->host_id).Bind(2, Us(r->revision.recorded_at)).Bind(3, Us(r->revision.from));
      ins_r.Bind(4, Us(r->revision.to)).Bind(5, r->revision.reason);
      if (ins_r.Step() != SQLITE_DONE) st.Update(ins_r.Error("insert revision"));
      ins_r.Reset();
    } else if (auto* t = std::get_if<TransitionOp>(&op)) {
      ins_t.Bind(1, t->host_id)
          .Bind(2, Us(t->t.at))
          .Bind(3, Us(t->t.recorded_at))
          .Bind(4, std::string(HostStateName(t->t.from)))
          .Bind(5, std::string(HostStateName(t->t.to)))
          .Bind(6, t->t.cause)
          .Bind(7, t->t.boot_time_seconds);
      if (ins_t.Step() != SQLITE_DONE) st.Update(ins_t.Error("insert transition"));
      ins_t.Reset();
      ++transitions;
    } else {
      const HostRecord& h = std::get<HostRecord>(op);
      ins_h.Bind(1, h.id)
          .Bind(2, h.hostname)
          .Bind(3, h.agent_version)
          .Bind(4, h.boot_time_seconds)
          .Bind(5, Us(h.last_seen))
          .Bind(6, static_cast<int64_t>(h.last_sequence))
          .Bind(7, static_cast<int64_t>(h.samples_accepted));
      if (ins_h.Step() != SQLITE_DONE) st.Update(ins_h.Error("upsert host"));
      ins_h.Reset();
      if (h.labels_changed) {
        del_l.Bind(1, h.id);
        del_l.Step();
        del_l.Reset();
        for (const auto& [k, v] : h.labels) {
          ins_l.Bind(1, h.id).Bind(2, k).Bind(3, v);
          if (ins_l.Step() != SQLITE_DONE) st.Update(ins_l.Error("insert label"));
          ins_l.Reset();
        }
      }
      ++hosts;
    }
  }
  if (!st.ok()) {
    Exec(write_db_, "ROLLBACK").IgnoreError();
    return st;
  }
  absl::Status commit = Exec(write_db_, "COMMIT");
  if (!commit.ok()) {
    Exec(write_db_, "ROLLBACK").IgnoreError();
    return commit;
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.transitions_written += transitions;
  stats_.hosts_written += hosts;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteStore::SeriesId(sqlite3* db, const std::string& host,
                                               const capacity::SeriesRef& series, bool create) {
  const std::string kind = capacity::KindName(series.kind);
  if (create) {
    Stmt ins(db, "INSERT OR IGNORE INTO capacity_series(host_id, kind, instance) VALUES(?, ?, ?)");
    ins.Bind(1, host).Bind(2, kind).Bind(3, series.instance);
    if (ins.Step() != SQLITE_DONE) return ins.Error("insert capacity series");
  }
  Stmt q(db, "SELECT id FROM capacity_series WHERE host_id = ? AND kind = ? AND instance = ?");
  q.Bind(1, host).Bind(2, kind).Bind(3, series.instance);
  int rc = q.Step();
  if (rc == SQLITE_ROW) return q.Int(0);
  if (rc == SQLITE_DONE) return 0;
  return q.Error("find capacity series");
}

absl::Status SqliteStore::DeriveHour(int64_t series, int64_t hour_start, bool ratio) {
  Stmt minutes(write_db_,
               "SELECT start, count, sum, min, max, capacity_sum FROM capacity_minutes "
               "WHERE series = ? AND start >= ? AND start < ? ORDER BY start");
  std::vector<capacity::RollupRow> rows;
  minutes.Bind(1, series).Bind(2, hour_start).Bind(3, hour_start + 3600);
  int rc;
  while ((rc = minutes.Step()) == SQLITE_ROW) rows.push_back(RollupFromRow(minutes));
  if (rc != SQLITE_DONE) return SqlError(write_db_, "read capacity minutes");
  if (rows.empty()) return absl::OkStatus();
  capacity::RollupRow row = capacity::HourFromMinutes(hour_start, rows, ratio);
  Stmt hour(write_db_,
            "INSERT OR REPLACE INTO capacity_hours(series, start, count, sum, min, max, "
            "capacity_sum, histogram) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
  hour.Bind(1, series).Bind(2, hour_start).Bind(3, static_cast<int64_t>(row.count));
  hour.BindDouble(4, row.sum).BindDouble(5, row.min).BindDouble(6, row.max);
  hour.BindDouble(7, row.capacity_sum).BindBlob(8, row.histogram);
  if (hour.Step() != SQLITE_DONE) return hour.Error("write capacity hour");
  return absl::OkStatus();
}

absl::Status SqliteStore::WriteRollups(const RollupOp& op) {
  // Capacity rollups are best effort next to the SLA's state in the same transaction: a
  // failure here is rolled back to the savepoint, logged and counted, never retried forever
  // and never taking the host records and transitions with it.
  absl::Status st = Exec(write_db_, "SAVEPOINT rollups");
  if (!st.ok()) return st;
  st = MergeRollups(op);
  if (!st.ok()) {
    Exec(write_db_, "ROLLBACK TO rollups").IgnoreError();
    size_t rows = 0;
    for (const auto& w : op.writes) rows += w.minutes.size();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.rollup_errors += rows;
    }
    Log(LogLevel::kWarn, "capacity rollups not written",
        {{"error", std::string(st.message())}, {"minutes", absl::StrCat(rows)}});
  }
  return Exec(write_db_, "RELEASE rollups");
}

absl::Status SqliteStore::MergeRollups(const RollupOp& op) {
  Stmt merge(write_db_,
             "INSERT INTO capacity_minutes(series, start, count, sum, min, max, capacity_sum) "
             "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(series, start) DO UPDATE SET "
             "count = count + excluded.count, sum = sum + excluded.sum, "
             "min = MIN(min, excluded.min), max = MAX(max, excluded.max), "
             "capacity_sum = capacity_sum + excluded.capacity_sum");
  uint64_t written = 0, refused = 0;
  for (const capacity::MinuteWrite& w : op.writes) {
    auto id = SeriesId(write_db_, w.host, w.series, /*create=*/true);
    if (!id.ok()) return id.status();
    series_ratio_[*id] = capacity::IsRatio(w.series.kind);
    for (const capacity::RollupRow& r : w.minutes) {
      if (!std::isfinite(r.sum) || !std::isfinite(r.min) || !std::isfinite(r.max) ||
          !std::isfinite(r.capacity_sum)) {
        ++refused;  // SQLite would store NULL and fail the NOT NULL constraint
        continue;
      }
      merge.Bind(1, *id).Bind(2, r.start).Bind(3, static_cast<int64_t>(r.count));
      merge.BindDouble(4, r.sum).BindDouble(5, r.min).BindDouble(6, r.max);
      merge.BindDouble(7, r.capacity_sum);
      if (merge.Step() != SQLITE_DONE) return merge.Error("merge capacity minute");
      merge.Reset();
      ++written;
      pending_hours_[*id].insert(r.start - ((r.start % 3600) + 3600) % 3600);
    }
  }
  // Every hour that has ended and received minutes since it was last derived, of any series
  // (a host that went silent at 10:30 gets its 10:00 hour once the hour is over).
  for (auto it = pending_hours_.begin(); it != pending_hours_.end();) {
    auto& hours = it->second;
    while (!hours.empty() && *hours.begin() + 3600 <= op.now) {
      auto ratio = series_ratio_.find(it->first);
      absl::Status st = DeriveHour(it->first, *hours.begin(),
                                   ratio == series_ratio_.end() || ratio->second);
      if (!st.ok()) return st;
      hours.erase(hours.begin());
    }
    it = hours.empty() ? pending_hours_.erase(it) : std::next(it);
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.rollups_written += written;
  stats_.rollup_errors += refused;
  return absl::OkStatus();
}

void SqliteStore::MergeMinutes(std::vector<capacity::MinuteWrite> writes, absl::Time now) {
  if (options_.read_only) return;
  {
    // While the database cannot be written (a full disk), the host log is kept and retried;
    // capacity rollups are bounded: about ten minutes of them (one write a second).
    constexpr size_t kMaxQueuedRollups = 600;
    std::lock_guard<std::mutex> lock(mu_);
    size_t queued = 0;
    for (const Op& op : queue_) queued += std::holds_alternative<RollupOp>(op) ? 1 : 0;
    if (queued >= kMaxQueuedRollups) {
      for (const auto& w : writes) stats_.rollups_dropped += w.minutes.size();
      return;
    }
  }
  Enqueue(RollupOp{std::move(writes), absl::ToUnixSeconds(now)});
}

absl::StatusOr<std::vector<capacity::RollupRow>> SqliteStore::LoadRollups(
    const char* table, const std::string& host, const capacity::SeriesRef& series,
    absl::Time from, absl::Time to) {
  std::lock_guard<std::mutex> lock(read_mu_);
  auto id = SeriesId(read_db_, host, series, /*create=*/false);
  if (!id.ok()) return absl::UnavailableError(id.status().message());
  std::vector<capacity::RollupRow> rows;
  if (*id == 0) return rows;
  const bool hours = std::string(table) == "capacity_hours";
  std::string sql = absl::StrCat("SELECT start, count, sum, min, max, capacity_sum",
                                 hours ? ", histogram" : "", " FROM ", table,
                                 " WHERE series = ? AND start >= ? AND start < ? ORDER BY start");
  Stmt q(read_db_, sql.c_str());
  q.Bind(1, *id).Bind(2, absl::ToUnixSeconds(from)).Bind(3, absl::ToUnixSeconds(to));
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    capacity::RollupRow r = RollupFromRow(q);
    if (hours) r.histogram = q.Blob(6);
    rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return absl::UnavailableError(q.Error("load capacity rollups").message());
  return rows;
}

absl::StatusOr<std::vector<capacity::RollupRow>> SqliteStore::LoadMinutes(
    const std::string& host, const capacity::SeriesRef& series, absl::Time from, absl::Time to) {
  return LoadRollups("capacity_minutes", host, series, from, to);
}

absl::StatusOr<std::vector<capacity::RollupRow>> SqliteStore::LoadHours(
    const std::string& host, const capacity::SeriesRef& series, absl::Time from, absl::Time to) {
  return LoadRollups("capacity_hours", host, series, from, to);
}

void SqliteStore::Prune() {
  {
    Stmt m(write_db_, "DELETE FROM capacity_minutes WHERE start < ?");
    m.Bind(1, absl::ToUnixSeconds(absl::Now() - options_.capacity_minute_retention));
    Stmt h(write_db_, "DELETE FROM capacity_hours WHERE start < ?");
    h.Bind(1, absl::ToUnixSeconds(absl::Now() - options_.capacity_hour_retention));
    if (m.Step() != SQLITE_DONE || h.Step() != SQLITE_DONE) {
      Log(LogLevel::kWarn, "pruning capacity rollups failed",
          {{"error", std::string(sqlite3_errmsg(write_db_))}});
    }
  }
  int64_t horizon = Us(absl::Now() - options_.retention);
  Stmt del(write_db_,
           "DELETE FROM transitions WHERE at_us < ?1 AND id NOT IN "
           "(SELECT MAX(id) FROM transitions WHERE at_us < ?1 GROUP BY host_id)");
  del.Bind(1, horizon);
  Stmt del_a(write_db_, "DELETE FROM alive_spans WHERE last_us < ?1");
  del_a.Bind(1, horizon);
  del_a.Step();
  if (del.Step() != SQLITE_DONE) {
    Log(LogLevel::kWarn, "pruning old transitions failed",
        {{"error", std::string(del.Error("prune").message())}});
  }
}

absl::StatusOr<std::vector<RestoredHost>> SqliteStore::LoadHosts(absl::Time since) {
  std::lock_guard<std::mutex> lock(read_mu_);
  std::map<std::string, RestoredHost> hosts;
  Stmt q(read_db_,
         "SELECT id, hostname, agent_version, boot_time, last_seen_us, last_sequence, "
         "samples_accepted FROM hosts");
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    RestoredHost& h = hosts[q.Text(0)];
    h.record.id = q.Text(0);
    h.record.hostname = q.Text(1);
    h.record.agent_version = q.Text(2);
    h.record.boot_time_seconds = q.Int(3);
    h.record.last_seen = FromUs(q.Int(4));
    h.record.last_sequence = static_cast<uint64_t>(q.Int(5));
    h.record.samples_accepted = static_cast<uint64_t>(q.Int(6));
  }
  if (rc != SQLITE_DONE) return q.Error("load hosts");
  Stmt l(read_db_, "SELECT host_id, name, value FROM host_labels");
  while ((rc = l.Step()) == SQLITE_ROW) {
    auto it = hosts.find(l.Text(0));
    if (it != hosts.end()) it->second.record.labels[l.Text(1)] = l.Text(2);
  }
  Stmt t(read_db_,
         "SELECT host_id, at_us, recorded_at_us, from_state, to_state, cause, boot_time "
         "FROM transitions WHERE at_us >= ?1 OR id IN "
         "(SELECT MAX(id) FROM transitions WHERE at_us < ?1 GROUP BY host_id) "
         "ORDER BY host_id, at_us, id");
  t.Bind(1, Us(since));
  while ((rc = t.Step()) == SQLITE_ROW) {
    RestoredHost& h = hosts[t.Text(0)];
    if (h.record.id.empty()) h.record.id = t.Text(0);  // transitions of a host never upserted
    h.transitions.push_back(Transition{FromUs(t.Int(1)), FromUs(t.Int(2)), StateFromName(t.Text(3)),
                                       StateFromName(t.Text(4)), t.Text(5), t.Int(6)});
  }
  if (rc != SQLITE_DONE) return t.Error("load transitions");
  Stmt a(read_db_,
         "SELECT host_id, first_us, last_us, boot_time FROM alive_spans WHERE last_us >= ? "
         "ORDER BY host_id, first_us");
  a.Bind(1, Us(since));
  while ((rc = a.Step()) == SQLITE_ROW) {
    auto it = hosts.find(a.Text(0));
    if (it == hosts.end()) continue;
    auto& list = it->second.alive;
    AliveSpan span{FromUs(a.Int(1)), FromUs(a.Int(2)), a.Int(3)};
    // Stored as received; merge overlapping spans of one boot again.
    if (!list.empty() && list.back().boot_time_seconds == span.boot_time_seconds &&
        list.back().last >= span.first) {
      list.back().last = std::max(list.back().last, span.last);
    } else {
      list.push_back(span);
    }
  }
  if (rc != SQLITE_DONE) return a.Error("load alive spans");
  Stmt r(read_db_,
         "SELECT host_id, recorded_at_us, from_us, to_us, reason FROM revisions "
         "WHERE recorded_at_us >= ? ORDER BY host_id, recorded_at_us, id");
  r.Bind(1, Us(since));
  while ((rc = r.Step()) == SQLITE_ROW) {
    auto it = hosts.find(r.Text(0));
    if (it == hosts.end()) continue;
    it->second.revisions.push_back(
        {FromUs(r.Int(1)), FromUs(r.Int(2)), FromUs(r.Int(3)), r.Text(4)});
  }
  if (rc != SQLITE_DONE) return r.Error("load revisions");
  std::vector<RestoredHost> out;
  out.reserve(hosts.size());
  for (auto& [id, h] : hosts) out.push_back(std::move(h));
  return out;
}

absl::Status SqliteStore::RecordCatalogueVersion(const CatalogueVersion& version,
                                                 const std::string& content) {
  std::lock_guard<std::mutex> lock(read_mu_);
  Stmt ins(read_db_,
           "INSERT OR IGNORE INTO catalogue_versions(version, source, loaded_at_us, content) "
           "VALUES(?, ?, ?, ?)");
  ins.Bind(1, version.version).Bind(2, version.source).Bind(3, Us(version.loaded_at));
  ins.Bind(4, content);
  if (ins.Step() != SQLITE_DONE) return ins.Error("record catalogue version");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<CatalogueVersion>> SqliteStore::CatalogueVersions(absl::Time from,
                                                                             absl::Time to) {
  std::lock_guard<std::mutex> lock(read_mu_);
  // The version active at `from` (newest loaded before it) and every one loaded in range.
  Stmt q(read_db_,
         "SELECT version, source, loaded_at_us FROM catalogue_versions WHERE "
         "(loaded_at_us >= ?1 AND loaded_at_us < ?2) OR loaded_at_us = "
         "(SELECT MAX(loaded_at_us) FROM catalogue_versions WHERE loaded_at_us < ?1) "
         "ORDER BY loaded_at_us");
  q.Bind(1, Us(from)).Bind(2, Us(to));
  std::vector<CatalogueVersion> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back({q.Text(0), q.Text(1), FromUs(q.Int(2))});
  }
  if (rc != SQLITE_DONE) return q.Error("catalogue versions");
  return out;
}

absl::Status SqliteStore::SavePeriodResult(const std::string& service_id, absl::Time start,
                                           absl::Time end, const std::string& version,
                                           const std::string& json) {
  std::lock_guard<std::mutex> lock(read_mu_);
  Stmt ins(read_db_,
           "INSERT OR REPLACE INTO period_results(service_id, period_start_us, period_end_us, "
           "catalogue_version, result_json, saved_at_us) VALUES(?, ?, ?, ?, ?, ?)");
  ins.Bind(1, service_id).Bind(2, Us(start)).Bind(3, Us(end)).Bind(4, version).Bind(5, json);
  ins.Bind(6, Us(absl::Now()));
  if (ins.Step() != SQLITE_DONE) return ins.Error("save period result");
  return absl::OkStatus();
}

absl::StatusOr<std::string> SqliteStore::PeriodResult(const std::string& service_id,
                                                      absl::Time period_start) {
  std::lock_guard<std::mutex> lock(read_mu_);
  Stmt q(read_db_,
         "SELECT result_json FROM period_results WHERE service_id = ? AND period_start_us = ?");
  q.Bind(1, service_id).Bind(2, Us(period_start));
  int rc = q.Step();
  if (rc == SQLITE_ROW) return q.Text(0);
  if (rc == SQLITE_DONE) return absl::NotFoundError("no stored result for that period");
  return q.Error("period result");
}

absl::Status SqliteStore::Backup(const std::string& dest_path) {
  std::lock_guard<std::mutex> lock(read_mu_);
  sqlite3* dest = nullptr;
  if (sqlite3_open_v2(dest_path.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    std::string msg = dest ? sqlite3_errmsg(dest) : "out of memory";
    sqlite3_close(dest);
    return absl::UnavailableError(absl::StrCat("cannot write \"", dest_path, "\": ", msg));
  }
  sqlite3_backup* backup = sqlite3_backup_init(dest, "main", read_db_, "main");
  if (backup == nullptr) {
    absl::Status st = SqlError(dest, absl::StrCat("backup to \"", dest_path, "\""));
    sqlite3_close(dest);
    return st;
  }
  int rc = sqlite3_backup_step(backup, -1);  // the whole database in one consistent step
  sqlite3_backup_finish(backup);
  absl::Status st = rc == SQLITE_DONE
                        ? absl::OkStatus()
                        : SqlError(dest, absl::StrCat("backup to \"", dest_path, "\""));
  sqlite3_close(dest);
  return st;
}

StoreStats SqliteStore::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  StoreStats s = stats_;
  s.queue_depth = queue_.size();
  return s;
}

}  // namespace accord::collector
