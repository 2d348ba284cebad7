// SqliteStore: the collector's durable state in one SQLite file (WAL mode) under
// --storage.path: the host transition log, host records (last sighting, sequence, counters),
// catalogue versions and closed-period results. The only code that includes sqlite3.h.
//
// Writes from the registry (HostLogSink) are only enqueued; one writer thread commits them in
// batches every `commit_interval` (synchronous=FULL: a committed batch survives a crash or a
// power loss). Flush() waits for everything enqueued so far. Reads are synchronous on the
// caller's thread through a second connection.
//
// Schema changes are numbered migrations applied in order at Open (schema_migrations table).
// Thread-safe.
#ifndef ACCORD_COLLECTOR_STORE_SQLITE_STORE_H_
#define ACCORD_COLLECTOR_STORE_SQLITE_STORE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/capacity/rollup_store.h"
#include "collector/hosts/host_registry.h"

struct sqlite3;

namespace accord::collector {

struct StoreOptions {
  // The database file; its directory must exist.
  std::string path = "./var/collector/accord.db";
  // Transitions older than this are deleted (the newest older one per host is kept, since it
  // gives the state at the horizon). Default 400 days.
  absl::Duration retention = absl::Hours(24 * 400);
  // How long writes may wait to be grouped into one transaction.
  absl::Duration commit_interval = absl::Milliseconds(50);
  // Capacity rollups older than these are deleted.
  absl::Duration capacity_minute_retention = absl::Hours(24 * 7);
  absl::Duration capacity_hour_retention = absl::Hours(24 * 400);
  // Open for reading only (e.g. --check-config beside a running collector): no migration,
  // no pruning, no writer thread; the file must exist and be current.
  bool read_only = false;
};

struct StoreStats {
  uint64_t transitions_written = 0;
  uint64_t hosts_written = 0;
  uint64_t rollups_written = 0;  // capacity minute rows merged
  uint64_t rollup_errors = 0;    // capacity minute rows refused or lost to a write error
  uint64_t rollups_dropped = 0;  // capacity writes dropped because the queue held too many
  uint64_t commits = 0;
  uint64_t errors = 0;
  uint64_t queue_depth = 0;
  double last_commit_seconds = 0;
  double commit_seconds_sum = 0;
};

struct CatalogueVersion {
  std::string version;  // content hash
  std::string source;   // file name
  absl::Time loaded_at;
};

class SqliteStore final : public HostLogSink, public capacity::RollupStore {
 public:
  // Opens (creating if needed) and migrates the database. Errors: Unavailable if the file
  // cannot be opened; DataLoss if it is not a database or fails its integrity check;
  // FailedPrecondition if its schema is newer than this binary knows.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const StoreOptions& options);
  ~SqliteStore() override;  // flushes and closes

  // HostLogSink (enqueue only).
  void AppendTransition(const std::string& host_id, const Transition& t) override;
  void UpdateHost(const HostRecord& record) override;
  void AppendAliveSpan(const std::string& host_id, const AliveSpan& span) override;
  void AppendRevision(const std::string& host_id, const Revision& revision) override;
  uint64_t Mark() override;
  uint64_t Durable() override;

  // capacity::RollupStore. MergeMinutes is enqueued like the host log.
  void MergeMinutes(std::vector<capacity::MinuteWrite> writes, absl::Time now) override;
  absl::StatusOr<std::vector<capacity::RollupRow>> LoadMinutes(const std::string& host,
                                                               const capacity::SeriesRef& series,
                                                               absl::Time from,
                                                               absl::Time to) override;
  absl::StatusOr<std::vector<capacity::RollupRow>> LoadHours(const std::string& host,
                                                             const capacity::SeriesRef& series,
                                                             absl::Time from,
                                                             absl::Time to) override;

  // Waits until everything enqueued before the call is committed, or until a write fails
  // (failed batches are kept and retried with backoff, never dropped). Returns the first
  // write error since the last Flush, if any.
  absl::Status Flush();

  // Every host with its transitions since `since` (and the newest one before it).
  absl::StatusOr<std::vector<RestoredHost>> LoadHosts(absl::Time since);

  // Records that catalogue `version` became active at `loaded_at` (idempotent per version
  // and time). Synchronous.
  absl::Status RecordCatalogueVersion(const CatalogueVersion& version, const std::string& content);
  // The catalogue versions that were active during [from, to), oldest first.
  absl::StatusOr<std::vector<CatalogueVersion>> CatalogueVersions(absl::Time from, absl::Time to);

  // Stores the result of a closed period for a service (JSON); replaces an earlier one.
  absl::Status SavePeriodResult(const std::string& service_id, absl::Time period_start,
                                absl::Time period_end, const std::string& catalogue_version,
                                const std::string& json);
  absl::StatusOr<std::string> PeriodResult(const std::string& service_id, absl::Time period_start);

  // Writes a consistent copy of the database to `dest_path` (SQLite's online backup: the
  // collector keeps running). Errors: Unavailable when `dest_path` cannot be written.
  absl::Status Backup(const std::string& dest_path);

  int schema_version() const { return schema_version_; }
  StoreStats Stats() const;

 private:
  struct TransitionOp {
    std::string host_id;
    Transition t;
  };
  struct AliveOp {
    std::string host_id;
    AliveSpan span;
  };
  struct RevisionOp {
    std::string host_id;
    Revision revision;
  };
  struct RollupOp {
    std::vector<capacity::MinuteWrite> writes;
    int64_t now;  // unix seconds
  };
  using Op = std::variant<TransitionOp, HostRecord, AliveOp, RevisionOp, RollupOp>;
  // Writer thread: merges one RollupOp inside the open transaction (under a savepoint:
  // a failure loses only the rollups, counted in rollup_errors).
  absl::Status WriteRollups(const RollupOp& op);
  absl::Status MergeRollups(const RollupOp& op);
  // Writer thread: the hour row of `series` at `hour_start` from its minutes.
  absl::Status DeriveHour(int64_t series, int64_t hour_start, bool ratio);
  // The capacity_series id (created when `create`), or 0 when absent.
  absl::StatusOr<int64_t> SeriesId(sqlite3* db, const std::string& host,
                                   const capacity::SeriesRef& series, bool create);
  absl::StatusOr<std::vector<capacity::RollupRow>> LoadRollups(const char* table,
                                                               const std::string& host,
                                                               const capacity::SeriesRef& series,
                                                               absl::Time from, absl::Time to);
  void Enqueue(Op op);

  explicit SqliteStore(StoreOptions options) : options_(std::move(options)) {}
  absl::Status Migrate();
  void WriterLoop();
  absl::Status WriteBatch(std::deque<Op>& ops);
  void Prune();

  const StoreOptions options_;
  sqlite3* write_db_ = nullptr;  // writer thread (and Open) only
  sqlite3* read_db_ = nullptr;   // guarded by read_mu_
  std::mutex read_mu_;
  int schema_version_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable flushed_cv_;
  std::deque<Op> queue_;
  uint64_t enqueued_ = 0;
  uint64_t committed_ = 0;
  uint64_t failures_ = 0;  // failed write attempts, ever
  bool stop_ = false;
  absl::Status first_error_;
  StoreStats stats_;
  absl::Time last_prune_;
  std::thread writer_;
  // Writer thread only: hours that received minutes and await derivation, by series id, and
  // whether each series holds ratios.
  std::map<int64_t, std::set<int64_t>> pending_hours_;
  std::map<int64_t, bool> series_ratio_;
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_STORE_SQLITE_STORE_H_
