#include "agent/spool/segment_format.h"

#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "agent/spool/coding.h"
#include "agent/spool/crc32c.h"

namespace accord::agent {
namespace {

using spool_coding::DecodeFixed32;
using spool_coding::DecodeFixed64;
using spool_coding::EncodeFixed32;
using spool_coding::EncodeFixed64;

constexpr uint8_t kBatchRecordType = 1;

bool AllZero(absl::string_view bytes) {
  for (char c : bytes) {
    if (c != 0) return false;
  }
  return true;
}

// The payload fields without the vectors; false if the payload is malformed.
struct PayloadHead {
  uint64_t sequence;
  int64_t timestamp_ms;
  uint32_t n_series;
  uint32_t n_values;
};

bool ParsePayloadHead(absl::string_view payload, PayloadHead* head) {
  if (payload.size() < kBatchPayloadFixedBytes) return false;
  if (static_cast<uint8_t>(payload[0]) != kBatchRecordType) return false;
  head->sequence = DecodeFixed64(payload.data() + 1);
  head->timestamp_ms = static_cast<int64_t>(DecodeFixed64(payload.data() + 9));
  head->n_series = DecodeFixed32(payload.data() + 17);
  head->n_values = DecodeFixed32(payload.data() + 21);
  uint64_t expect = kBatchPayloadFixedBytes + 4ull * head->n_series + 8ull * head->n_values;
  return expect == payload.size();
}

uint32_t RecordCrc(const char* length_field, absl::string_view payload) {
  uint32_t crc = crc32c::Value(length_field, 4);
  return crc32c::Extend(crc, payload.data(), payload.size());
}

}  // namespace

std::string EncodeSegmentHeader(uint64_t first_sequence) {
  std::string out(kSegmentMagic, sizeof(kSegmentMagic));
  spool_coding::PutFixed32(&out, kSegmentVersion);
  spool_coding::PutFixed64(&out, first_sequence);
  return out;
}

size_t BatchRecordBytes(const PendingBatch& batch) {
  return kRecordHeaderBytes + kBatchPayloadFixedBytes + 4 * batch.series_ids.size() +
         8 * batch.values.size();
}

void AppendBatchRecord(const PendingBatch& batch, std::string* out) {
  const size_t start = out->size();
  const size_t total = BatchRecordBytes(batch);
  out->resize(start + total);
  char* p = out->data() + start;
  const uint32_t length = static_cast<uint32_t>(total - kRecordHeaderBytes);
  EncodeFixed32(p, length);
  char* payload = p + kRecordHeaderBytes;
  payload[0] = static_cast<char>(kBatchRecordType);
  EncodeFixed64(payload + 1, batch.sequence);
  EncodeFixed64(payload + 9, static_cast<uint64_t>(batch.timestamp_ms));
  EncodeFixed32(payload + 17, static_cast<uint32_t>(batch.series_ids.size()));
  EncodeFixed32(payload + 21, static_cast<uint32_t>(batch.values.size()));
  char* q = payload + kBatchPayloadFixedBytes;
  for (uint32_t id : batch.series_ids) {
    EncodeFixed32(q, id);
    q += 4;
  }
  for (double v : batch.values) {
    EncodeFixed64(q, spool_coding::DoubleBits(v));
    q += 8;
  }
  EncodeFixed32(p + 4, crc32c::Mask(RecordCrc(p, absl::string_view(payload, length))));
}

absl::StatusOr<PendingBatch> DecodeBatchRecord(absl::string_view record) {
  if (record.size() < kRecordHeaderBytes) return absl::DataLossError("spool record: short header");
  const uint32_t length = DecodeFixed32(record.data());
  if (record.size() != kRecordHeaderBytes + length) {
    return absl::DataLossError("spool record: length mismatch");
  }
  absl::string_view payload = record.substr(kRecordHeaderBytes);
  if (crc32c::Unmask(DecodeFixed32(record.data() + 4)) != RecordCrc(record.data(), payload)) {
    return absl::DataLossError("spool record: CRC mismatch");
  }
  PayloadHead head;
  if (!ParsePayloadHead(payload, &head)) return absl::DataLossError("spool record: bad payload");
  PendingBatch batch;
  batch.sequence = head.sequence;
  batch.timestamp_ms = head.timestamp_ms;
  batch.series_ids.resize(head.n_series);
  batch.values.resize(head.n_values);
  const char* q = payload.data() + kBatchPayloadFixedBytes;
  for (uint32_t i = 0; i < head.n_series; ++i, q += 4) batch.series_ids[i] = DecodeFixed32(q);
  for (uint32_t i = 0; i < head.n_values; ++i, q += 8) {
    batch.values[i] = spool_coding::BitsToDouble(DecodeFixed64(q));
  }
  return batch;
}

SegmentScan ScanSegment(absl::string_view content) {
  SegmentScan scan;
  if (content.size() < kSegmentHeaderBytes) {
    scan.tail = SegmentTail::kTorn;
    scan.problem = absl::StrCat("incomplete header (", content.size(), " bytes)");
    return scan;
  }
  if (std::memcmp(content.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0 ||
      DecodeFixed32(content.data() + 4) != kSegmentVersion) {
    scan.tail = AllZero(content) ? SegmentTail::kTorn : SegmentTail::kCorrupt;
    scan.problem = "bad magic or version";
    return scan;
  }
  scan.header_ok = true;
  scan.first_sequence = DecodeFixed64(content.data() + 8);
  uint64_t pos = kSegmentHeaderBytes;
  scan.valid_bytes = pos;

  // Marks the damage at `pos`: torn if it reaches EOF without valid data after it.
  auto damaged = [&](bool reaches_eof, std::string problem) {
    scan.tail =
        (reaches_eof || AllZero(content.substr(pos))) ? SegmentTail::kTorn : SegmentTail::kCorrupt;
    scan.problem = absl::StrCat(std::move(problem), " at offset ", pos);
    return scan;
  };

  uint64_t previous = 0;
  while (pos < content.size()) {
    const uint64_t left = content.size() - pos;
    if (left < kRecordHeaderBytes) return damaged(true, "incomplete record header");
    const char* p = content.data() + pos;
    const uint32_t length = DecodeFixed32(p);
    if (length == 0 || length > kMaxRecordPayloadBytes) return damaged(false, "bad record length");
    if (left < kRecordHeaderBytes + length) return damaged(true, "incomplete record");
    const uint64_t end = pos + kRecordHeaderBytes + length;
    absl::string_view payload(p + kRecordHeaderBytes, length);
    if (crc32c::Unmask(DecodeFixed32(p + 4)) != RecordCrc(p, payload)) {
      return damaged(end == content.size(), "record CRC mismatch");
    }
    PayloadHead head;
    if (!ParsePayloadHead(payload, &head)) return damaged(false, "malformed record payload");
    const bool first = scan.records.empty();
    if ((first && head.sequence != scan.first_sequence) || (!first && head.sequence <= previous)) {
      return damaged(false, "record sequence out of order");
    }
    previous = head.sequence;
    scan.records.push_back(RecordInfo{pos, static_cast<uint32_t>(kRecordHeaderBytes + length),
                                      head.sequence, head.timestamp_ms, head.n_values});
    pos = end;
    scan.valid_bytes = pos;
  }
  return scan;
}

}  // namespace accord::agent
