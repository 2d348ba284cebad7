// SeriesJournal: the SeriesTable's ids made durable. Spooled batches name their series by
// SeriesTable id; a restarted agent must resolve those ids as the process that spooled them
// did, or it would describe old values under the wrong names (or none at all). The journal is
// an append-only file of records
//   u32 payload length | u64 FNV-1a of the payload | payload
//   payload: u32 id | u8 kind | u16 name length | name | u16 label count |
//            (u16 length | bytes) for each label name and value
// in id order. Loading stops at the first torn or damaged record (a crash mid-append), which is
// cut off; ids after it are assigned again.
//
// Durability: Append writes and fsyncs before returning, so a series is durable before any
// batch that uses it reaches the spool. New series are rare (the first cycle, a new disk or
// interface), so this costs one fsync in a cycle that has new series.
//
// Not thread-safe: SeriesTable serialises calls.
#ifndef ACCORD_AGENT_TRANSPORT_SERIES_JOURNAL_H_
#define ACCORD_AGENT_TRANSPORT_SERIES_JOURNAL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/sources/sample.h"

namespace accord::agent {

struct SeriesInfo {
  std::string name;
  Labels labels;
  MetricKind kind;
};

class SeriesJournal {
 public:
  // Opens (creating) the journal at `path` and returns the series it holds, id 0 first.
  // `reset`: start empty (no spooled batch refers to an old id). Errors: Unavailable when the
  // file cannot be opened or written.
  static absl::StatusOr<SeriesJournal> Open(const std::string& path, bool reset,
                                            std::vector<SeriesInfo>* loaded);
  SeriesJournal(SeriesJournal&& other) noexcept;
  SeriesJournal& operator=(SeriesJournal&& other) noexcept;
  SeriesJournal(const SeriesJournal&) = delete;
  ~SeriesJournal();

  // Appends the series with ids first_id, first_id + 1, ... and fsyncs. Errors: Unavailable
  // (the disk is full or gone); nothing partial is left behind (the file is cut back).
  absl::Status Append(uint32_t first_id, const std::vector<SeriesInfo>& series);

 private:
  SeriesJournal(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;  // bytes of whole records
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_TRANSPORT_SERIES_JOURNAL_H_
