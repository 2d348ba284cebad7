// SpoolState: the spool's small "index" file `state`, as pure encode/parse functions; and the
// append journal `appended`, which carries the lifetime append counters between two writes of
// the state.
//
// The state holds what the segments cannot tell: how far the collector acknowledged, how far
// whole segments were dropped, the lifetime counters, rejected sequences not yet passed by the
// ack mark, and the alive spans. DiskSpool rewrites it whole (write `state.tmp`, fsync, rename,
// fsync the directory) before it unlinks any segment, so a crash between the two leaves
// segments the state already covers, which Open removes.
//
// Format (little-endian): magic "ASST" | version u32 (=2) | body_length u32 | body | masked
// crc32c u32 of everything before it. Body: acked_sequence u64 | dropped_through u64 |
// last_sequence u64 | dropped_batches u64 | dropped_samples u64 | acked_samples u64 |
// corrupt_segments u64 | acked_batches u64 | appended_batches u64 | appended_samples u64 |
// n_rejected u32 | rejected u64[n] | n_spans u32 | spans {first_ms i64, last_ms i64,
// boot_time i64}[n].
// 104 bytes plus 8 per rejected sequence and 24 per alive span. Version 1 (written before the
// append counters existed) is the same without acked_batches, appended_batches and
// appended_samples; it is still read (has_appended = false).
//
// The append journal: a sequence of 28-byte marks {sequence u64 | appended_batches u64 |
// appended_samples u64 | masked crc32c u32 of the 24 bytes before it}, each holding the
// lifetime totals after one Append. DiskSpool appends a mark (one write(2), no fsync) BEFORE
// it writes the batch's record, so the counters reach the kernel no later than the data they
// count, and starts the journal afresh after every state write (the state then holds the same
// totals). A torn last mark (an interrupted write, or a power loss) fails its CRC and is
// ignored.
//
// The state log `state.log`: the state as it was at later sync points, appended (one write(2),
// no fsync) between two writes of `state`, so that a kill -9 forgets nothing of it while only
// changes that matter after a power loss pay for an fsync (see the FSYNC POLICY in
// disk_spool.h). A sequence of records {base u32 | length u32 | an encoded state (length
// bytes, as above) | masked crc32c u32 of everything before it}. `base` is StateFileId of the
// `state` file the record continues: a record is used only on top of that very file, so a log
// left over from before the last write of `state` is ignored. DiskSpool starts the log afresh
// after every write of `state`. A torn or damaged record ends the log.
//
// Thread safety: pure functions, thread-safe.
#ifndef ACCORD_AGENT_SPOOL_SPOOL_STATE_H_
#define ACCORD_AGENT_SPOOL_SPOOL_STATE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/spool/alive_spans.h"

namespace accord::agent {

struct SpoolState {
  uint64_t acked_sequence = 0;   // cumulative ack from the collector
  uint64_t dropped_through = 0;  // every sequence <= this was dropped with its segment (caps)
  uint64_t last_sequence = 0;    // the highest sequence ever appended
  uint64_t dropped_batches = 0;  // lifetime counters (see DiskSpoolStats)
  uint64_t dropped_samples = 0;
  uint64_t acked_samples = 0;
  uint64_t corrupt_segments = 0;
  uint64_t acked_batches = 0;
  // Every batch (and its samples) ever given to Append, whether it was written or dropped:
  // appended = acked + dropped + waiting.
  uint64_t appended_batches = 0;
  uint64_t appended_samples = 0;
  // False when parsed from a version-1 file: acked_batches and appended_* are unknown (0).
  bool has_appended = true;
  std::vector<uint64_t> rejected;  // ascending, all > max(acked_sequence, dropped_through)
  std::vector<AliveSpan> alive;    // millisecond resolution

  bool operator==(const SpoolState& o) const;
};

// Always writes the current version (2).
std::string EncodeSpoolState(const SpoolState& state);

// Success: the state (version 1 or 2). Failure: kDataLoss (bad magic, version, length or CRC;
// trailing bytes).
absl::StatusOr<SpoolState> ParseSpoolState(absl::string_view content);

// One mark of the append journal: the lifetime totals after the Append of `sequence`.
struct AppendMark {
  uint64_t sequence = 0;
  uint64_t appended_batches = 0;
  uint64_t appended_samples = 0;

  bool operator==(const AppendMark& o) const {
    return sequence == o.sequence && appended_batches == o.appended_batches &&
           appended_samples == o.appended_samples;
  }
};

inline constexpr size_t kAppendMarkBytes = 28;

// The 28 bytes of one mark.
std::string EncodeAppendMark(const AppendMark& mark);

// The last intact mark of a journal's contents, reading from the start and stopping at the
// first mark that is short or fails its CRC. nullopt if there is none.
std::optional<AppendMark> LastAppendMark(absl::string_view journal);

// The identity of a `state` file's contents (its CRC), for StateLogRecord's `base`.
uint32_t StateFileId(absl::string_view state_file);

// One record of the state log.
std::string EncodeStateLogRecord(uint32_t base, const SpoolState& state);

// The state of the last intact record of a state log whose base is `base`, reading from the
// start and stopping at the first record that is short or fails its CRC. nullopt if none.
std::optional<SpoolState> LastLoggedState(absl::string_view log, uint32_t base);

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SPOOL_SPOOL_STATE_H_
