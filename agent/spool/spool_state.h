// SpoolState: the spool's small "index" file `state`, as pure encode/parse functions.
//
// It holds what the segments cannot tell: how far the collector acknowledged, how far whole
// segments were dropped, the loss counters, rejected sequences not yet passed by the ack mark,
// and the alive spans. DiskSpool rewrites it whole (write `state.tmp`, fsync, rename, fsync
// the directory) before it unlinks any segment, so a crash between the two leaves segments
// the state already covers, which Open removes.
//
// Format (little-endian): magic "ASST" | version u32 (=1) | body_length u32 | body | masked
// crc32c u32 of everything before it. Body: acked_sequence u64 | dropped_through u64 |
// last_sequence u64 | dropped_batches u64 | dropped_samples u64 | acked_samples u64 |
// corrupt_segments u64 | n_rejected u32 | rejected u64[n] | n_spans u32 |
// spans {first_ms i64, last_ms i64, boot_time i64}[n].
// 80 bytes plus 8 per rejected sequence and 24 per alive span.
//
// Thread safety: pure functions, thread-safe.
#ifndef ACCORD_AGENT_SPOOL_SPOOL_STATE_H_
#define ACCORD_AGENT_SPOOL_SPOOL_STATE_H_

#include <cstdint>
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
  uint64_t dropped_batches = 0;  // lifetime loss counters (see DiskSpoolStats)
  uint64_t dropped_samples = 0;
  uint64_t acked_samples = 0;
  uint64_t corrupt_segments = 0;
  std::vector<uint64_t> rejected;  // ascending, all > max(acked_sequence, dropped_through)
  std::vector<AliveSpan> alive;    // millisecond resolution

  bool operator==(const SpoolState& o) const;
};

std::string EncodeSpoolState(const SpoolState& state);

// Success: the state. Failure: kDataLoss (bad magic, version, length or CRC; trailing bytes).
absl::StatusOr<SpoolState> ParseSpoolState(absl::string_view content);

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SPOOL_SPOOL_STATE_H_
