// SeriesTable: gives each distinct series (name + labels) a small id, and remembers its
// description so each stream can describe it once. With a journal (OpenJournal) the ids are
// durable: spooled batches name series by id, and a restarted agent resolves them as the
// process that spooled them did.
// Thread-safe.
#ifndef ACCORD_AGENT_TRANSPORT_SERIES_TABLE_H_
#define ACCORD_AGENT_TRANSPORT_SERIES_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/status/status.h"
#include "agent/sources/sample.h"
#include "agent/transport/series_journal.h"

namespace accord::agent {


class SeriesTable {
 public:
  // Loads the series recorded at `path` (ids as before) and records every new series there
  // from now on. `reset`: start empty (when no spooled batch refers to an old id, so the
  // table does not grow forever). Call before the first Intern. Errors: Unavailable.
  absl::Status OpenJournal(const std::string& path, bool reset);
  // Returns the id of the sample's series, adding it if new.
  uint32_t Intern(const Sample& sample);
  // Makes the series interned since the last call durable (one fsync), before a batch that
  // uses them is spooled. A no-op without a journal or new series. On error the new series
  // are kept and tried again at the next call.
  absl::Status Sync();
  // The description of `id`; nullopt for an id this table does not know (a batch spooled by
  // a process whose series were not all made durable).
  std::optional<SeriesInfo> Find(uint32_t id) const;
  size_t size() const;

 private:
  // The map key of a series: name and labels joined with NULs.
  static void KeyOf(const std::string& name, const Labels& labels, std::string* key);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint32_t> ids_ ABSL_GUARDED_BY(mu_);
  std::vector<SeriesInfo> series_ ABSL_GUARDED_BY(mu_);
  std::string key_ ABSL_GUARDED_BY(mu_);  // scratch
  std::optional<SeriesJournal> journal_ ABSL_GUARDED_BY(mu_);
  uint32_t synced_ ABSL_GUARDED_BY(mu_) = 0;  // ids below are in the journal
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_TRANSPORT_SERIES_TABLE_H_
