// RollupStore: the seam between capacity management and durable storage of its rollups
// (implemented by SqliteStore; tests use an in-memory fake).
//
// Thread safety: implementations are thread-safe.
#ifndef ACCORD_COLLECTOR_CAPACITY_ROLLUP_STORE_H_
#define ACCORD_COLLECTOR_CAPACITY_ROLLUP_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/capacity/rollup.h"
#include "collector/capacity/utilisation.h"

namespace accord::collector::capacity {

// Minute rollups of one series to be merged into the store.
struct MinuteWrite {
  std::string host;
  SeriesRef series;
  std::vector<RollupRow> minutes;  // distinct starts, each a multiple of 60
};

class RollupStore {
 public:
  virtual ~RollupStore() = default;

  // Merges minute rows into the stored ones (a minute already stored gets the counts and
  // sums added: late samples of a backfill join their minute). Hour rows of every hour
  // that ended at or before `now` and received a minute are (re)derived from their minutes.
  // Asynchronous: the rows are durable soon after; a failed write is retried.
  virtual void MergeMinutes(std::vector<MinuteWrite> writes, absl::Time now) = 0;

  // Stored minute (or hour) rows of a series with from <= start < to, oldest first.
  // Errors: Unavailable when the store cannot be read.
  virtual absl::StatusOr<std::vector<RollupRow>> LoadMinutes(const std::string& host,
                                                             const SeriesRef& series,
                                                             absl::Time from, absl::Time to) = 0;
  virtual absl::StatusOr<std::vector<RollupRow>> LoadHours(const std::string& host,
                                                           const SeriesRef& series,
                                                           absl::Time from, absl::Time to) = 0;
};

}  // namespace accord::collector::capacity

#endif  // ACCORD_COLLECTOR_CAPACITY_ROLLUP_STORE_H_
