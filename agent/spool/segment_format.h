// The on-disk format of a spool segment, as pure functions over bytes (reading a file and
// parsing it are separate steps). Used by DiskSpool; tests feed literals.
//
// A segment file `seg-<first sequence, 20 digits>.log` is a header and records:
//
//   header (16 bytes):  magic "ASPL" | version u32 (=1) | first_sequence u64
//   record:             length u32 | masked crc32c u32 | payload[length]
//   payload:            type u8 (=1, batch) | sequence u64 | timestamp_ms i64 |
//                       n_series u32 | n_values u32 | series_ids u32[n_series] |
//                       values f64-bits u64[n_values]
//
// Integers are little-endian. The CRC covers the length field and the payload, so a damaged
// length is caught too. Sequences increase strictly within a segment, and the first record's
// sequence equals the header's first_sequence.
//
// Thread safety: pure functions, thread-safe.
#ifndef ACCORD_AGENT_SPOOL_SEGMENT_FORMAT_H_
#define ACCORD_AGENT_SPOOL_SEGMENT_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/transport/spool.h"

namespace accord::agent {

inline constexpr char kSegmentMagic[4] = {'A', 'S', 'P', 'L'};
inline constexpr uint32_t kSegmentVersion = 1;
inline constexpr size_t kSegmentHeaderBytes = 16;
inline constexpr size_t kRecordHeaderBytes = 8;
inline constexpr size_t kBatchPayloadFixedBytes = 1 + 8 + 8 + 4 + 4;
// Larger lengths are treated as damage (no batch comes near it).
inline constexpr uint32_t kMaxRecordPayloadBytes = 64u << 20;

// The 16-byte header of a segment whose first record has `first_sequence`.
std::string EncodeSegmentHeader(uint64_t first_sequence);

// The bytes BatchRecord would append for `batch`: 8 + 25 + 4 * ids + 8 * values.
size_t BatchRecordBytes(const PendingBatch& batch);

// Appends the record (header and payload) of `batch` to *out. REQUIRES: out != nullptr.
void AppendBatchRecord(const PendingBatch& batch, std::string* out);

// Decodes one whole record as stored (its 8-byte header and payload).
// Success: the batch. Failure: kDataLoss (short, length mismatch, CRC mismatch, bad payload).
absl::StatusOr<PendingBatch> DecodeBatchRecord(absl::string_view record);

// Where one record sits in a segment, and what the index needs of it.
struct RecordInfo {
  uint64_t offset = 0;  // of the record header, from the start of the file
  uint32_t length = 0;  // header + payload bytes
  uint64_t sequence = 0;
  int64_t timestamp_ms = 0;
  uint32_t values = 0;
};

// How a segment's bytes end.
enum class SegmentTail {
  kClean,    // header and whole, valid records up to the end of the file
  kTorn,     // the damage is confined to the end: an incomplete header or record at EOF, a
             // final record whose CRC fails, or zero bytes from the damage to EOF. What an
             // interrupted append leaves; in the LAST segment it is truncated, not a corruption.
  kCorrupt,  // bad magic or version, or a bad record followed by more data
};

struct SegmentScan {
  SegmentTail tail = SegmentTail::kClean;
  bool header_ok = false;
  uint64_t first_sequence = 0;      // from the header (0 if !header_ok)
  std::vector<RecordInfo> records;  // the valid records before any damage, in file order
  uint64_t valid_bytes = 0;         // header + those records (0 if !header_ok)
  std::string problem;              // what was wrong, for the log ("" when kClean)
};

// Scans a whole segment file's contents. Never fails: damage is described in the result.
SegmentScan ScanSegment(absl::string_view content);

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SPOOL_SEGMENT_FORMAT_H_
