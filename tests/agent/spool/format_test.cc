// Tests of the spool's pure pieces: CRC-32C, the segment format, the state file.
#include <cmath>
#include <string>

#include "absl/strings/string_view.h"
#include "agent/spool/crc32c.h"
#include "agent/spool/segment_format.h"
#include "agent/spool/spool_state.h"
#include "gtest/gtest.h"
#include "tests/agent/spool/spool_test_util.h"

namespace accord::agent {
namespace {

using testing::MakeBatch;
using testing::SameBatch;

TEST(Crc32cTest, MatchesKnownVectors) {
  EXPECT_EQ(crc32c::Value("123456789", 9), 0xe3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c::Value(zeros.data(), zeros.size()), 0x8a9136aau);  // RFC 3720 B.4
  std::string ones(32, '\xff');
  EXPECT_EQ(crc32c::Value(ones.data(), ones.size()), 0x62a8ab43u);
  EXPECT_EQ(crc32c::Value("", 0), 0u);
}

TEST(Crc32cTest, ExtendEqualsWholeAndMaskRoundTrips) {
  std::string text = "hello spool, a longer string than eight bytes";
  uint32_t whole = crc32c::Value(text.data(), text.size());
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    EXPECT_EQ(crc32c::Extend(crc32c::Value(text.data(), cut), text.data() + cut, text.size() - cut),
              whole);
  }
  EXPECT_NE(crc32c::Mask(whole), whole);
  EXPECT_EQ(crc32c::Unmask(crc32c::Mask(whole)), whole);
}

std::string SegmentWith(std::initializer_list<uint64_t> seqs, size_t values = 3) {
  std::string out = EncodeSegmentHeader(*seqs.begin());
  for (uint64_t s : seqs) AppendBatchRecord(MakeBatch(s, values), &out);
  return out;
}

TEST(SegmentFormatTest, RecordRoundTripsIncludingSpecialDoubles) {
  PendingBatch b = MakeBatch(42, 4);
  b.values[1] = -0.0;
  b.values[2] = 1e308;
  b.series_ids.push_back(99);  // ids and values may differ in count
  std::string rec;
  AppendBatchRecord(b, &rec);
  EXPECT_EQ(rec.size(), BatchRecordBytes(b));
  absl::StatusOr<PendingBatch> back = DecodeBatchRecord(rec);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(SameBatch(*back, b));
  EXPECT_TRUE(std::signbit(back->values[1]));
}

TEST(SegmentFormatTest, NinetyValueRecordIsAbout1100Bytes) {
  EXPECT_EQ(BatchRecordBytes(MakeBatch(1, 90)), 8u + 25u + 90u * 12u);
}

TEST(SegmentFormatTest, DecodeRejectsAFlippedBit) {
  std::string rec;
  AppendBatchRecord(MakeBatch(7, 5), &rec);
  rec[20] ^= 0x10;
  EXPECT_EQ(DecodeBatchRecord(rec).status().code(), absl::StatusCode::kDataLoss);
}

TEST(SegmentFormatTest, CleanSegmentScansAllRecords) {
  std::string seg = SegmentWith({5, 6, 9});
  SegmentScan scan = ScanSegment(seg);
  EXPECT_EQ(scan.tail, SegmentTail::kClean);
  EXPECT_TRUE(scan.header_ok);
  EXPECT_EQ(scan.first_sequence, 5u);
  ASSERT_EQ(scan.records.size(), 3u);
  EXPECT_EQ(scan.records[2].sequence, 9u);
  EXPECT_EQ(scan.records[2].values, 3u);
  EXPECT_EQ(scan.valid_bytes, seg.size());
  EXPECT_EQ(scan.records[0].offset, kSegmentHeaderBytes);
}

TEST(SegmentFormatTest, IncompleteLastRecordIsATornTail) {
  std::string seg = SegmentWith({1, 2, 3});
  const size_t two = kSegmentHeaderBytes + 2 * BatchRecordBytes(MakeBatch(1, 3));
  for (size_t cut = 1; cut < BatchRecordBytes(MakeBatch(3, 3)); cut += 7) {
    SegmentScan scan = ScanSegment(absl::string_view(seg).substr(0, seg.size() - cut));
    EXPECT_EQ(scan.tail, SegmentTail::kTorn) << cut;
    EXPECT_EQ(scan.records.size(), 2u);
    EXPECT_EQ(scan.valid_bytes, two);
  }
}

TEST(SegmentFormatTest, BadCrcOfTheFinalRecordIsTornButMidFileIsCorrupt) {
  std::string seg = SegmentWith({1, 2, 3});
  const size_t rec = BatchRecordBytes(MakeBatch(1, 3));
  std::string last = seg;
  last[seg.size() - 3] ^= 1;
  EXPECT_EQ(ScanSegment(last).tail, SegmentTail::kTorn);
  std::string mid = seg;
  mid[kSegmentHeaderBytes + rec + 30] ^= 1;  // inside record 2
  SegmentScan scan = ScanSegment(mid);
  EXPECT_EQ(scan.tail, SegmentTail::kCorrupt);
  EXPECT_EQ(scan.records.size(), 1u);
  EXPECT_EQ(scan.valid_bytes, kSegmentHeaderBytes + rec);
  EXPECT_NE(scan.problem.find("CRC"), std::string::npos);
}

TEST(SegmentFormatTest, ZeroFilledTailIsTorn) {
  std::string seg = SegmentWith({1, 2}) + std::string(100, '\0');
  SegmentScan scan = ScanSegment(seg);
  EXPECT_EQ(scan.tail, SegmentTail::kTorn);
  EXPECT_EQ(scan.records.size(), 2u);
}

TEST(SegmentFormatTest, HeaderProblems) {
  EXPECT_EQ(ScanSegment("ASP").tail, SegmentTail::kTorn);
  EXPECT_EQ(ScanSegment("").tail, SegmentTail::kTorn);
  EXPECT_EQ(ScanSegment(std::string(40, '\0')).tail, SegmentTail::kTorn);
  SegmentScan garbage = ScanSegment("this is not a spool segment at all");
  EXPECT_EQ(garbage.tail, SegmentTail::kCorrupt);
  EXPECT_FALSE(garbage.header_ok);
  std::string v2 = SegmentWith({1});
  v2[4] = 2;  // version 2
  EXPECT_EQ(ScanSegment(v2).tail, SegmentTail::kCorrupt);
}

TEST(SegmentFormatTest, OutOfOrderSequenceIsCorrupt) {
  std::string seg = EncodeSegmentHeader(5);
  AppendBatchRecord(MakeBatch(5, 1), &seg);
  AppendBatchRecord(MakeBatch(4, 1), &seg);
  AppendBatchRecord(MakeBatch(6, 1), &seg);
  SegmentScan scan = ScanSegment(seg);
  EXPECT_EQ(scan.tail, SegmentTail::kCorrupt);
  EXPECT_EQ(scan.records.size(), 1u);
}

TEST(SpoolStateTest, RoundTrips) {
  SpoolState s;
  s.acked_sequence = 100;
  s.dropped_through = 50;
  s.last_sequence = 120;
  s.dropped_batches = 3;
  s.dropped_samples = 270;
  s.acked_samples = 9000;
  s.corrupt_segments = 1;
  s.acked_batches = 90;
  s.appended_batches = 114;
  s.appended_samples = 11500;
  s.rejected = {105, 110};
  s.alive.push_back(AliveSpan{absl::FromUnixMillis(1000), absl::FromUnixMillis(61000), 77});
  std::string bytes = EncodeSpoolState(s);
  EXPECT_EQ(bytes.size(), 104u + 2 * 8 + 24);
  absl::StatusOr<SpoolState> back = ParseSpoolState(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
}

// A state file written before the append counters existed (version 1) is still read: an
// agent upgraded in place keeps its ack mark and spans.
TEST(SpoolStateTest, VersionOneIsReadWithoutAppendCounters) {
  std::string body;
  for (uint64_t v : {100, 50, 120, 3, 270, 9000, 1}) {
    for (int i = 0; i < 8; ++i) body.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  body.append("\x01\x00\x00\x00", 4);                  // one rejected sequence
  body.append("\x69\x00\x00\x00\x00\x00\x00\x00", 8);  // 105
  body.append("\x00\x00\x00\x00", 4);                  // no spans
  std::string bytes = "ASST";
  bytes.append("\x01\x00\x00\x00", 4);  // version 1
  const uint32_t n = static_cast<uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  bytes += body;
  const uint32_t crc = crc32c::Mask(crc32c::Value(bytes.data(), bytes.size()));
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  ASSERT_EQ(bytes.size(), 80u + 8);
  absl::StatusOr<SpoolState> back = ParseSpoolState(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->acked_sequence, 100u);
  EXPECT_EQ(back->acked_samples, 9000u);
  EXPECT_EQ(back->corrupt_segments, 1u);
  EXPECT_EQ(back->rejected, std::vector<uint64_t>{105});
  EXPECT_FALSE(back->has_appended);
  EXPECT_EQ(back->appended_samples, 0u);
  // Written back as the current version, with the counters.
  back->has_appended = true;
  back->appended_samples = 9270;
  absl::StatusOr<SpoolState> again = ParseSpoolState(EncodeSpoolState(*back));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *back);
}

TEST(AppendJournalTest, TheLastIntactMarkWins) {
  EXPECT_FALSE(LastAppendMark("").has_value());
  std::string journal;
  for (uint64_t s = 1; s <= 3; ++s) journal += EncodeAppendMark(AppendMark{s, s, 10 * s});
  EXPECT_EQ(journal.size(), 3 * kAppendMarkBytes);
  EXPECT_EQ(LastAppendMark(journal), (AppendMark{3, 3, 30}));
  // A torn last mark (an interrupted write, a power loss) is ignored.
  EXPECT_EQ(LastAppendMark(journal.substr(0, journal.size() - 1)), (AppendMark{2, 2, 20}));
  std::string flipped = journal;
  flipped[2 * kAppendMarkBytes + 9] ^= 1;
  EXPECT_EQ(LastAppendMark(flipped), (AppendMark{2, 2, 20}));
  // Zeros (a power loss can leave a file's unwritten tail as zeros) are no mark.
  EXPECT_EQ(LastAppendMark(journal + std::string(kAppendMarkBytes, '\0')), (AppendMark{3, 3, 30}));
  EXPECT_FALSE(LastAppendMark(std::string(kAppendMarkBytes, '\0')).has_value());
}

TEST(StateLogTest, TheLastIntactRecordOnTheSameBaseWins) {
  const std::string state_file = EncodeSpoolState(SpoolState{});
  const uint32_t base = StateFileId(state_file);
  SpoolState other;
  other.acked_sequence = 1;
  EXPECT_NE(base, StateFileId(EncodeSpoolState(other)));
  EXPECT_FALSE(LastLoggedState("", base).has_value());
  std::string log;
  for (uint64_t acked = 1; acked <= 3; ++acked) {
    SpoolState s;
    s.acked_sequence = acked;
    s.alive.push_back(AliveSpan{absl::FromUnixMillis(1000), absl::FromUnixMillis(2000), 7});
    log += EncodeStateLogRecord(base, s);
  }
  ASSERT_TRUE(LastLoggedState(log, base).has_value());
  EXPECT_EQ(LastLoggedState(log, base)->acked_sequence, 3u);
  EXPECT_EQ(LastLoggedState(log, base)->alive.size(), 1u);
  // A log that continues another state file is not used.
  EXPECT_FALSE(LastLoggedState(log, base + 1).has_value());
  // A torn or damaged last record (a power loss, a kill mid-write) ends the log.
  EXPECT_EQ(LastLoggedState(log.substr(0, log.size() - 1), base)->acked_sequence, 2u);
  std::string flipped = log;
  flipped[flipped.size() - 20] ^= 1;
  EXPECT_EQ(LastLoggedState(flipped, base)->acked_sequence, 2u);
  EXPECT_EQ(LastLoggedState(log + std::string(200, '\0'), base)->acked_sequence, 3u);
  EXPECT_FALSE(LastLoggedState(std::string(200, '\0'), base).has_value());
}

TEST(SpoolStateTest, DamageIsDataLoss) {
  SpoolState s;
  s.acked_sequence = 9;
  std::string bytes = EncodeSpoolState(s);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x40;
    EXPECT_EQ(ParseSpoolState(bad).status().code(), absl::StatusCode::kDataLoss) << i;
  }
  EXPECT_FALSE(ParseSpoolState(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(ParseSpoolState("").ok());
}

}  // namespace
}  // namespace accord::agent
