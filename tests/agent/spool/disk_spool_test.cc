// Unit tests of DiskSpool: the Spool contract, segments, caps, reopening, damage, errors,
// alive spans. The POSIX env runs against a temp directory per test; the fault-injecting env
// simulates power loss and I/O errors. Time is a FakeClock: no sleeps.
#include "agent/spool/disk_spool.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/spool/crc32c.h"
#include "agent/spool/segment_format.h"
#include "agent/spool/spool_state.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/spool/fault_injection_env.h"
#include "tests/agent/spool/spool_test_util.h"
#include "tests/testing/fake_clock.h"

namespace accord::agent {
namespace {

using testing::Drain;
using ::testing::ElementsAre;
using testing::FaultInjectionEnv;
using testing::MakeBatch;
using testing::SameBatch;
using testing::ScratchDir;
using testing::Sequences;

namespace fs = std::filesystem;

constexpr char kDir[] = "/spool";                             // in the fault-injecting env
const size_t kRecord90 = BatchRecordBytes(MakeBatch(1, 90));  // 1113 bytes: 3 per 4 KiB segment

std::string SegName(uint64_t first) { return absl::StrFormat("seg-%020d.log", first); }

std::vector<std::string> DirNames(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

class DiskSpoolTest : public ::testing::Test {
 protected:
  DiskSpoolOptions PosixOptions() {
    DiskSpoolOptions o;
    o.dir = scratch_.path();
    o.segment_bytes = 4096;
    o.max_bytes = 1 << 20;
    o.clock = &clock_;
    return o;
  }
  // A spool capped at 3 segments of 3 batches holding batches 1..n, of which 1 and 2 went out
  // on a stream and are not acknowledged yet.
  std::unique_ptr<DiskSpool> OpenCappedWithTwoSent(uint64_t n) {
    DiskSpoolOptions o = PosixOptions();
    o.max_bytes = 3 * 4096;
    auto spool = MustOpen(o);
    for (uint64_t s = 1; s <= n; ++s) spool->Append(MakeBatch(s, 90));
    PendingBatch out;
    EXPECT_TRUE(spool->NextAfter(0, &out));
    EXPECT_TRUE(spool->NextAfter(1, &out));
    return spool;
  }
  DiskSpoolOptions MemOptions(FaultInjectionEnv* env) {
    DiskSpoolOptions o = PosixOptions();
    o.dir = kDir;
    o.env = env;
    return o;
  }
  std::unique_ptr<DiskSpool> MustOpen(const DiskSpoolOptions& o) {
    absl::StatusOr<std::unique_ptr<DiskSpool>> spool = DiskSpool::Open(o);
    EXPECT_TRUE(spool.ok()) << spool.status();
    return spool.ok() ? std::move(*spool) : nullptr;
  }

  ScratchDir scratch_;
  accord::testing::FakeClock clock_;
};

TEST_F(DiskSpoolTest, AppendNextAckRejectFollowTheSpoolContract) {
  auto spool = MustOpen(PosixOptions());
  for (uint64_t s = 1; s <= 5; ++s) spool->Append(MakeBatch(s, 10));
  PendingBatch out;
  ASSERT_TRUE(spool->NextAfter(0, &out));
  EXPECT_TRUE(SameBatch(out, MakeBatch(1, 10)));
  ASSERT_TRUE(spool->NextAfter(3, &out));
  EXPECT_EQ(out.sequence, 4u);
  spool->Ack(3);
  SpoolStats st = spool->Stats();
  EXPECT_EQ(st.batches, 2u);
  EXPECT_EQ(st.acked_samples, 30u);
  EXPECT_EQ(st.bytes, 2 * BatchRecordBytes(MakeBatch(1, 10)));
  ASSERT_TRUE(spool->NextAfter(0, &out));  // starts after the ack mark
  EXPECT_EQ(out.sequence, 4u);
  spool->Reject(4);
  spool->Reject(4);   // once only
  spool->Reject(99);  // not waiting: no-op
  st = spool->Stats();
  EXPECT_EQ(st.batches, 1u);
  EXPECT_EQ(st.dropped_batches, 1u);
  EXPECT_EQ(st.dropped_samples, 10u);
  EXPECT_THAT(Sequences(*spool), ElementsAre(5));
  EXPECT_FALSE(spool->NextAfter(5, &out));
  spool->Ack(2);  // an older ack changes nothing
  EXPECT_EQ(spool->Stats().acked_samples, 30u);
}

TEST_F(DiskSpoolTest, SegmentsRollAndAreNamedByTheirFirstSequence) {
  auto spool = MustOpen(PosixOptions());
  for (uint64_t s = 1; s <= 10; ++s) spool->Append(MakeBatch(s, 90));
  EXPECT_THAT(DirNames(scratch_.path()),
              ElementsAre("LOCK", "appended", SegName(1), SegName(4), SegName(7), SegName(10),
                          "state", "state.log"));
  EXPECT_EQ(fs::file_size(scratch_.Sub(SegName(1))), kSegmentHeaderBytes + 3 * kRecord90);
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.segments, 4u);
  EXPECT_EQ(st.disk_bytes, 4 * kSegmentHeaderBytes + 10 * kRecord90);
  EXPECT_EQ(st.synced_sequence, 9u);  // segments are synced when they roll
  EXPECT_EQ(Drain(*spool).size(), 10u);
}

TEST_F(DiskSpoolTest, AckedSegmentsAreDeletedOnlyAfterTheStateIsDurable) {
  FaultInjectionEnv env;
  auto spool = MustOpen(MemOptions(&env));
  for (uint64_t s = 1; s <= 10; ++s) spool->Append(MakeBatch(s, 90));
  spool->Ack(6);
  // Not yet: acks become durable, and segments go, at the next sync point.
  EXPECT_TRUE(env.Exists(absl::StrCat(kDir, "/", SegName(1))));
  auto before_sync = env.PowerLossCopy();
  ASSERT_TRUE(spool->Sync().ok());
  EXPECT_THAT(env.Names(kDir),
              ElementsAre("appended", SegName(7), SegName(10), "state", "state.log"));
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.durable_floor, 6u);
  EXPECT_EQ(st.segments, 2u);

  // A power loss before the sync point: the acks are forgotten, the batches come back.
  DiskSpoolOptions o = MemOptions(before_sync.get());
  auto early = MustOpen(o);
  EXPECT_EQ(Sequences(*early).size(), 9u);  // 1..9 (10 was not synced yet)

  // After it: the spool resumes after the durable ack mark.
  auto after_sync = env.PowerLossCopy();
  auto later = MustOpen(MemOptions(after_sync.get()));
  EXPECT_THAT(Sequences(*later), ElementsAre(7, 8, 9, 10));
}

TEST_F(DiskSpoolTest, FullSpoolDropsTheOldestWholeSegmentAndCountsIt) {
  DiskSpoolOptions o = PosixOptions();
  o.max_bytes = 3 * 4096;
  auto spool = MustOpen(o);
  uint64_t seq = 0;
  while (spool->Stats().dropped_batches == 0 && seq < 100) spool->Append(MakeBatch(++seq, 90));
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.spool.dropped_batches, 3u);  // the whole first segment, nothing less
  EXPECT_EQ(st.spool.dropped_samples, 270u);
  EXPECT_EQ(st.dropped_segments, 1u);
  EXPECT_LE(st.disk_bytes, o.max_bytes);
  EXPECT_FALSE(fs::exists(scratch_.Sub(SegName(1))));
  std::vector<uint64_t> seqs = Sequences(*spool);
  EXPECT_EQ(seqs.front(), 4u);
  EXPECT_EQ(seqs.back(), seq);
  EXPECT_EQ(st.oldest_sequence, 4u);
  // Keep going: the spool stays within the cap, always dropping whole segments.
  for (int i = 0; i < 50; ++i) spool->Append(MakeBatch(++seq, 90));
  st = spool->DiskStats();
  EXPECT_LE(st.disk_bytes, o.max_bytes);
  EXPECT_EQ(st.spool.dropped_batches % 3, 0u);
  EXPECT_EQ(st.spool.dropped_batches + st.spool.batches, seq);
  // The drop is remembered: after a restart nothing older comes back.
  ASSERT_TRUE(spool->Close().ok());
  spool.reset();
  auto again = MustOpen(o);
  EXPECT_EQ(again->Stats().dropped_batches, st.spool.dropped_batches);
  EXPECT_EQ(Sequences(*again).front(), st.oldest_sequence);
}

TEST_F(DiskSpoolTest, InFlightBatchesAreNotDroppedAndUnsettledDropsSettleOnTheNextHelloAck) {
  uint64_t seq = 6;
  auto spool = OpenCappedWithTwoSent(seq);
  // Sent and waiting only for the collector's ack: not backlog still to send.
  EXPECT_EQ(spool->Stats().batches, 6u);
  EXPECT_EQ(spool->Stats().unacked_batches, 2u);
  // Over the cap: the first segment holds batches in flight and stays (the collector may
  // accept them; dropping would count them twice).
  for (int i = 0; i < 6; ++i) spool->Append(MakeBatch(++seq, 90));
  EXPECT_EQ(spool->Stats().dropped_batches, 0u);
  EXPECT_EQ(Sequences(*spool).front(), 1u);
  EXPECT_EQ(spool->Stats().unacked_batches, 2u);
  // The stream breaks. Now the segment may go: its batches count as dropped for now.
  spool->StreamEnded();
  EXPECT_EQ(spool->Stats().unacked_batches, 0u) << "to be sent again";
  spool->Append(MakeBatch(++seq, 90));
  SpoolStats st = spool->Stats();
  EXPECT_GE(st.dropped_batches, 3u);
  const uint64_t dropped_before = st.dropped_samples;
  // The next stream's hello is answered: the collector had accepted up to batch 2. Those two
  // were accepted, not lost: they move from dropped to acked; batch 3 (never sent) stays lost.
  spool->Ack(2);
  st = spool->Stats();
  EXPECT_EQ(st.dropped_samples, dropped_before - 180);
  EXPECT_EQ(st.acked_samples, 180u);
  EXPECT_EQ(st.acked_samples + st.dropped_samples + st.samples, seq * 90);
  // Later acks settle nothing more.
  spool->Ack(seq);
  EXPECT_EQ(spool->Stats().dropped_samples, dropped_before - 180);
}

TEST_F(DiskSpoolTest, EveryBatchIsAckedDroppedOrWaitingAcrossAnOutageWithUnackedBatches) {
  // The collector holds acks back: batches 1 and 2 went out unacknowledged when it died
  // (it had committed batch 1 only); the spool then overflowed while it was away.
  DiskSpoolOptions o = PosixOptions();
  o.segment_bytes = 8192;  // 7 batches a segment
  o.max_bytes = 16384;
  auto spool = MustOpen(o);
  uint64_t seq = 0;
  PendingBatch out;
  spool->Append(MakeBatch(++seq, 90));
  spool->Ack(0);  // the hello answer
  ASSERT_TRUE(spool->NextAfter(0, &out));
  spool->Append(MakeBatch(++seq, 90));
  ASSERT_TRUE(spool->NextAfter(1, &out));
  spool->StreamEnded();
  for (int i = 0; i < 23; ++i) spool->Append(MakeBatch(++seq, 90));
  auto balanced = [&] {
    SpoolStats st = spool->Stats();
    return st.acked_samples + st.dropped_samples + st.samples == seq * 90;
  };
  EXPECT_TRUE(balanced());
  EXPECT_GT(spool->Stats().dropped_batches, 0u);
  spool->Ack(1);  // the next hello answer: the collector has batch 1
  EXPECT_TRUE(balanced());
  uint64_t after = 0;
  std::vector<uint64_t> sent;
  while (spool->NextAfter(after, &out)) {
    sent.push_back(out.sequence);
    after = out.sequence;
  }
  ASSERT_FALSE(sent.empty());
  spool->Ack(sent.back());
  EXPECT_TRUE(balanced());
  SpoolStats st = spool->Stats();
  // Accepted by the collector: batch 1 and everything sent now; the rest dropped.
  EXPECT_EQ(st.acked_samples, (1 + sent.size()) * 90) << "first sent " << sent.front();
  EXPECT_EQ(st.dropped_samples, (seq - 1 - sent.size()) * 90);
}

TEST_F(DiskSpoolTest, UnsettledDropsSettleAfterFailedReconnectAttempts) {
  uint64_t seq = 3;
  auto spool = OpenCappedWithTwoSent(seq);
  spool->StreamEnded();
  // The collector is away: the spool overflows, dropping 1..3 among others, and attempts to
  // reconnect end before any ack.
  for (int i = 0; i < 10; ++i) {
    spool->Append(MakeBatch(++seq, 90));
    spool->StreamEnded();
  }
  const uint64_t dropped = spool->Stats().dropped_samples;
  ASSERT_GE(dropped, 270u);
  spool->Ack(2);  // at last, the answer to a hello: the collector has 1 and 2
  EXPECT_EQ(spool->Stats().dropped_samples, dropped - 180);
  EXPECT_EQ(spool->Stats().acked_samples, 180u);
}

TEST_F(DiskSpoolTest, AStreamThatSentBatchesButLostItsHelloAnswerEndsEarlierSettlements) {
  uint64_t seq = 3;
  auto spool = OpenCappedWithTwoSent(seq);  // 1 and 2 out; the collector got only 1
  spool->StreamEnded();
  for (int i = 0; i < 10; ++i) spool->Append(MakeBatch(++seq, 90));  // 1..3 and more dropped
  const uint64_t dropped = spool->Stats().dropped_samples;
  ASSERT_GE(dropped, 270u);
  // The next stream sends its first batch, which the collector accepts, but breaks before
  // the agent reads the answer to its hello.
  PendingBatch out;
  ASSERT_TRUE(spool->NextAfter(0, &out));
  const uint64_t first = out.sequence;
  ASSERT_GT(first, 3u);
  spool->StreamEnded();
  // The answer on the stream after is the collector's highest sequence, `first`: it no
  // longer says whether 2 arrived. 1 and 2 stay dropped rather than hide a loss.
  spool->Ack(first);
  EXPECT_EQ(spool->Stats().dropped_samples, dropped);
  EXPECT_EQ(spool->Stats().acked_samples, 90u);  // `first` itself
}

TEST_F(DiskSpoolTest, UnsettledDropsTheCollectorNeverGotStayDropped) {
  DiskSpoolOptions o = PosixOptions();
  o.max_bytes = 3 * 4096;
  auto spool = MustOpen(o);
  uint64_t seq = 0;
  for (int i = 0; i < 6; ++i) spool->Append(MakeBatch(++seq, 90));
  PendingBatch out;
  ASSERT_TRUE(spool->NextAfter(0, &out));  // batch 1 sent, then the stream breaks
  spool->StreamEnded();
  for (int i = 0; i < 7; ++i) spool->Append(MakeBatch(++seq, 90));
  const uint64_t dropped = spool->Stats().dropped_samples;
  ASSERT_GE(dropped, 270u);
  spool->Ack(0);  // the hello answer: the collector has nothing from this host
  EXPECT_EQ(spool->Stats().dropped_samples, dropped);
  EXPECT_EQ(spool->Stats().acked_samples, 0u);
}

TEST_F(DiskSpoolTest, ExpiredSegmentsAreDroppedByAge) {
  DiskSpoolOptions o = PosixOptions();
  o.max_age = absl::Hours(1);
  auto spool = MustOpen(o);
  const int64_t now_ms = absl::ToUnixMillis(clock_.Now());
  for (uint64_t s = 1; s <= 6; ++s) spool->Append(MakeBatch(s, 90, now_ms));
  clock_.Advance(absl::Minutes(59));
  spool->Append(MakeBatch(7, 90, absl::ToUnixMillis(clock_.Now())));  // rolls: 4..6 closed
  EXPECT_EQ(spool->Stats().dropped_batches, 0u);
  clock_.Advance(absl::Minutes(2));  // 1..6 are now 61 min old
  spool->Append(MakeBatch(8, 90, absl::ToUnixMillis(clock_.Now())));
  SpoolStats st = spool->Stats();
  EXPECT_EQ(st.dropped_batches, 6u);
  EXPECT_EQ(st.dropped_samples, 540u);
  EXPECT_THAT(Sequences(*spool), ElementsAre(7, 8));
  // Age is also applied at Open.
  ASSERT_TRUE(spool->Close().ok());
  spool.reset();
  clock_.Advance(absl::Hours(2));
  auto again = MustOpen(o);
  EXPECT_TRUE(Sequences(*again).empty());
  EXPECT_EQ(again->Stats().dropped_batches, 8u);
}

TEST_F(DiskSpoolTest, ReopenAfterCleanCloseKeepsBatchesMarksAndCounters) {
  DiskSpoolOptions o = PosixOptions();
  {
    auto spool = MustOpen(o);
    for (uint64_t s = 1; s <= 10; ++s) spool->Append(MakeBatch(s, 90));
    spool->Ack(4);
    spool->Reject(6);
    ASSERT_TRUE(spool->Close().ok());
    ASSERT_TRUE(spool->Close().ok());  // idempotent
    spool->Append(MakeBatch(11, 90));  // after Close: dropped and counted
    EXPECT_EQ(spool->Stats().dropped_batches, 2u);
  }
  auto spool = MustOpen(o);
  std::vector<PendingBatch> got = Drain(*spool);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_TRUE(SameBatch(got[0], MakeBatch(5, 90)));
  EXPECT_EQ(got[1].sequence, 7u);  // 6 was rejected, and stays rejected
  SpoolStats st = spool->Stats();
  EXPECT_EQ(st.batches, 5u);
  EXPECT_EQ(st.acked_samples, 360u);
  EXPECT_EQ(st.dropped_batches, 1u);  // the append after Close was not persisted
  EXPECT_EQ(spool->LastSequence(), 10u);
  EXPECT_EQ(spool->DiskStats().synced_sequence, 10u);
  spool->Append(MakeBatch(11, 90));
  EXPECT_EQ(Sequences(*spool).back(), 11u);
}

TEST_F(DiskSpoolTest, KilledProcessLosesNothingAppended) {
  // kill -9 leaves what was written in the kernel: a copy of the directory taken while the
  // spool is open (nothing synced since the roll, no Close) is what a restart finds.
  DiskSpoolOptions o = PosixOptions();
  o.sync_interval = absl::InfiniteDuration();
  auto spool = MustOpen(o);
  for (uint64_t s = 1; s <= 10; ++s) spool->Append(MakeBatch(s, 90));
  spool->Ack(2);  // not durable yet: 1 and 2 come back (at-least-once)
  ScratchDir copy;
  fs::copy(scratch_.path(), copy.path(), fs::copy_options::recursive);
  DiskSpoolOptions oc = o;
  oc.dir = copy.path();
  auto reopened = MustOpen(oc);
  std::vector<PendingBatch> got = Drain(*reopened);
  ASSERT_EQ(got.size(), 10u);
  for (uint64_t s = 1; s <= 10; ++s) EXPECT_TRUE(SameBatch(got[s - 1], MakeBatch(s, 90)));
  EXPECT_EQ(reopened->DiskStats().corrupt_segments, 0u);
}

TEST_F(DiskSpoolTest, PowerLossLosesOnlyTheUnsyncedTail) {
  FaultInjectionEnv env;
  auto spool = MustOpen(MemOptions(&env));
  for (uint64_t s = 1; s <= 5; ++s) spool->Append(MakeBatch(s, 5));  // within 1 s: no sync
  EXPECT_EQ(spool->DiskStats().synced_sequence, 0u);
  clock_.Advance(absl::Seconds(1));
  spool->Append(MakeBatch(6, 5));  // sync point
  const uint64_t fsyncs = spool->DiskStats().fsyncs;
  spool->Append(MakeBatch(7, 5));
  spool->Append(MakeBatch(8, 5));
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.synced_sequence, 6u);
  EXPECT_EQ(st.fsyncs, fsyncs);  // at most one sync per interval

  auto lost = env.PowerLossCopy();
  auto reopened = MustOpen(MemOptions(lost.get()));
  EXPECT_THAT(Sequences(*reopened), ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_EQ(reopened->DiskStats().corrupt_segments, 0u);
  // The numbering goes on above what the spool knows.
  EXPECT_EQ(reopened->LastSequence(), 6u);
  // The lost tail never became durable, and its journal marks did not either: it counts as
  // neither appended nor dropped (see ACCOUNTING in disk_spool.h).
  DiskSpoolStats back = reopened->DiskStats();
  EXPECT_EQ(back.appended_batches, 6u);
  EXPECT_EQ(back.appended_samples, 30u);
  EXPECT_EQ(back.spool.dropped_batches, 0u);
}

TEST_F(DiskSpoolTest, TruncatedLastRecordIsCutSilently) {
  DiskSpoolOptions o = PosixOptions();
  {
    auto spool = MustOpen(o);
    for (uint64_t s = 1; s <= 5; ++s) spool->Append(MakeBatch(s, 90));  // seg-1: 1-3, seg-4: 4-5
  }
  const std::string last = scratch_.Sub(SegName(4));
  std::string content = ReadAll(last);
  WriteAll(last, content.substr(0, content.size() - 10));
  auto spool = MustOpen(o);
  EXPECT_THAT(Sequences(*spool), ElementsAre(1, 2, 3, 4));
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.corrupt_segments, 0u);
  EXPECT_EQ(fs::file_size(last), kSegmentHeaderBytes + kRecord90);
  EXPECT_FALSE(fs::exists(last + ".corrupt"));
  // Not a corruption, but batch 5 was appended and is gone: counted as dropped.
  EXPECT_EQ(st.missing_batches, 1u);
  EXPECT_EQ(st.spool.dropped_batches, 1u);
  EXPECT_EQ(st.spool.dropped_samples, 90u);
  EXPECT_EQ(spool->LastSequence(), 5u);  // from the state written at Close
  spool->Append(MakeBatch(6, 90));
  EXPECT_THAT(Sequences(*spool), ElementsAre(1, 2, 3, 4, 6));
}

TEST_F(DiskSpoolTest, BadCrcMidSegmentIsSetAsideCountedAndTheRestCarriesOn) {
  DiskSpoolOptions o = PosixOptions();
  {
    auto spool = MustOpen(o);
    for (uint64_t s = 1; s <= 10; ++s) spool->Append(MakeBatch(s, 90));
  }
  // Damage record 2 of seg-4 (sequence 5), in the middle of a segment that is not the last.
  const std::string seg = scratch_.Sub(SegName(4));
  std::string content = ReadAll(seg);
  const size_t original = content.size();
  content[kSegmentHeaderBytes + kRecord90 + 100] ^= 0x5a;
  WriteAll(seg, content);

  auto spool = MustOpen(o);
  EXPECT_THAT(Sequences(*spool), ElementsAre(1, 2, 3, 4, 7, 8, 9, 10));
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.corrupt_segments, 1u);
  EXPECT_EQ(fs::file_size(seg + ".corrupt"), original);  // the evidence, whole
  EXPECT_EQ(fs::file_size(seg), kSegmentHeaderBytes + kRecord90);
  spool.reset();
  // Counted once: the segment is clean now.
  auto again = MustOpen(o);
  EXPECT_EQ(again->DiskStats().corrupt_segments, 1u);
  EXPECT_EQ(Sequences(*again).size(), 8u);
}

TEST_F(DiskSpoolTest, BadCrcInTheLastSegmentWithDataAfterItIsACorruption) {
  DiskSpoolOptions o = PosixOptions();
  {
    auto spool = MustOpen(o);
    for (uint64_t s = 1; s <= 3; ++s) spool->Append(MakeBatch(s, 90));
  }
  const std::string seg = scratch_.Sub(SegName(1));
  std::string content = ReadAll(seg);
  content[kSegmentHeaderBytes + 50] ^= 1;  // record 1 of 3
  WriteAll(seg, content);
  auto spool = MustOpen(o);
  EXPECT_TRUE(Sequences(*spool).empty());
  EXPECT_EQ(spool->DiskStats().corrupt_segments, 1u);
  EXPECT_TRUE(fs::exists(seg + ".corrupt"));
  EXPECT_FALSE(fs::exists(seg));  // no valid record: renamed aside whole
}

TEST_F(DiskSpoolTest, GarbageFilesAreSetAsideAndOthersLeftAlone) {
  DiskSpoolOptions o = PosixOptions();
  fs::create_directories(scratch_.path());
  WriteAll(scratch_.Sub(SegName(50)), "GARBAGE, not a segment. GARBAGE, not a segment.");
  WriteAll(scratch_.Sub("seg-xyz.log"), "x");
  WriteAll(scratch_.Sub("notes.txt"), "an operator's file");
  auto spool = MustOpen(o);
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.corrupt_segments, 2u);
  EXPECT_EQ(st.segments, 0u);
  EXPECT_TRUE(fs::exists(scratch_.Sub(SegName(50) + ".corrupt")));
  EXPECT_TRUE(fs::exists(scratch_.Sub("seg-xyz.log.corrupt")));
  EXPECT_EQ(ReadAll(scratch_.Sub("notes.txt")), "an operator's file");
  spool->Append(MakeBatch(1, 3));
  EXPECT_THAT(Sequences(*spool), ElementsAre(1));
}

TEST_F(DiskSpoolTest, OnlyTheNewestCorruptFilesAreKept) {
  DiskSpoolOptions o = PosixOptions();
  o.keep_corrupt_files = 2;
  fs::create_directories(scratch_.path());
  for (uint64_t s : {10, 20, 30, 40}) WriteAll(scratch_.Sub(SegName(s)), "garbage garbage garbage");
  auto spool = MustOpen(o);
  EXPECT_EQ(spool->DiskStats().corrupt_segments, 4u);
  EXPECT_THAT(DirNames(scratch_.path()),
              ElementsAre("LOCK", "appended", SegName(30) + ".corrupt", SegName(40) + ".corrupt",
                          "state", "state.log"));
}

TEST_F(DiskSpoolTest, DamagedStateIsSetAsideAndEverythingIsResent) {
  DiskSpoolOptions o = PosixOptions();
  {
    auto spool = MustOpen(o);
    for (uint64_t s = 1; s <= 4; ++s) spool->Append(MakeBatch(s, 9));
    spool->Ack(2);
  }
  WriteAll(scratch_.Sub("state"), "scribbled");
  auto spool = MustOpen(o);
  EXPECT_THAT(Sequences(*spool), ElementsAre(1, 2, 3, 4));  // at-least-once
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.corrupt_state_files, 1u);
  EXPECT_TRUE(fs::exists(scratch_.Sub("state.corrupt")));
  // The counters start again from what is on disk; the journal of the old state is not used.
  EXPECT_EQ(st.appended_batches, 4u);
  EXPECT_EQ(st.appended_samples, 36u);
  EXPECT_EQ(st.spool.dropped_batches, 0u);
  EXPECT_EQ(st.missing_batches, 0u);
}

TEST_F(DiskSpoolTest, WriteErrorsDropTheBatchAndTheSpoolRecovers) {
  FaultInjectionEnv env;
  auto spool = MustOpen(MemOptions(&env));
  spool->Append(MakeBatch(1, 5));
  spool->Append(MakeBatch(2, 5));
  env.SetFailWrites(true);  // disk full
  spool->Append(MakeBatch(3, 5));
  spool->Append(MakeBatch(4, 5));
  env.SetFailWrites(false);
  spool->Append(MakeBatch(5, 5));
  EXPECT_THAT(Sequences(*spool), ElementsAre(1, 2, 5));
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.spool.dropped_batches, 2u);
  EXPECT_EQ(st.spool.dropped_samples, 10u);
  EXPECT_GE(st.write_errors, 2u);
  EXPECT_EQ(st.segments, 2u);  // a new segment after the failure
  ASSERT_TRUE(spool->Sync().ok());
  auto lost = env.PowerLossCopy();
  auto reopened = MustOpen(MemOptions(lost.get()));
  EXPECT_THAT(Sequences(*reopened), ElementsAre(1, 2, 5));
  EXPECT_EQ(reopened->DiskStats().corrupt_segments, 0u);
}

TEST_F(DiskSpoolTest, FsyncFailureIsReportedCountedAndTheSegmentAbandoned) {
  FaultInjectionEnv env;
  auto spool = MustOpen(MemOptions(&env));
  spool->Append(MakeBatch(1, 5));
  env.SetFailSyncs(true);
  EXPECT_FALSE(spool->Sync().ok());
  EXPECT_EQ(spool->DiskStats().synced_sequence, 0u);
  env.SetFailSyncs(false);
  spool->Append(MakeBatch(2, 5));
  ASSERT_TRUE(spool->Sync().ok());
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_GE(st.write_errors, 1u);
  EXPECT_EQ(st.segments, 2u);
  EXPECT_EQ(st.synced_sequence, 2u);
  EXPECT_THAT(Sequences(*spool), ElementsAre(1, 2));
}

TEST_F(DiskSpoolTest, RecordDamagedAfterOpenIsSkippedAndCounted) {
  FaultInjectionEnv env;
  auto spool = MustOpen(MemOptions(&env));
  for (uint64_t s = 1; s <= 3; ++s) spool->Append(MakeBatch(s, 5));
  const std::string path = absl::StrCat(kDir, "/", SegName(1));
  std::string content = env.Contents(path);
  content[kSegmentHeaderBytes + BatchRecordBytes(MakeBatch(1, 5)) + 20] ^= 1;
  env.SetContents(path, content);
  EXPECT_THAT(Sequences(*spool), ElementsAre(1, 3));
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.read_errors, 1u);
  EXPECT_EQ(st.spool.dropped_batches, 1u);
  EXPECT_EQ(st.spool.batches, 2u);
}

TEST_F(DiskSpoolTest, SecondOpenOfTheSameDirectoryFails) {
  DiskSpoolOptions o = PosixOptions();
  auto first = MustOpen(o);
  absl::StatusOr<std::unique_ptr<DiskSpool>> second = DiskSpool::Open(o);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(first->Close().ok());
  EXPECT_TRUE(DiskSpool::Open(o).ok());
}

TEST_F(DiskSpoolTest, NonIncreasingAndOversizedBatchesAreDroppedAndCounted) {
  auto spool = MustOpen(PosixOptions());
  spool->Append(MakeBatch(5, 3));
  spool->Append(MakeBatch(5, 3));
  spool->Append(MakeBatch(4, 3));
  spool->Append(MakeBatch(6, 400));  // 4,833 bytes > a 4 KiB segment
  spool->Append(MakeBatch(7, 3));
  EXPECT_THAT(Sequences(*spool), ElementsAre(5, 7));
  EXPECT_EQ(spool->Stats().dropped_batches, 3u);
  EXPECT_EQ(spool->Stats().dropped_samples, 406u);
}

TEST_F(DiskSpoolTest, InvalidOptionsAreAllReportedAtOnce) {
  DiskSpoolOptions o;
  o.segment_bytes = 100;
  o.max_bytes = 100;
  o.max_age = absl::ZeroDuration();
  o.sync_interval = -absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<DiskSpool>> spool = DiskSpool::Open(o);
  ASSERT_EQ(spool.status().code(), absl::StatusCode::kInvalidArgument);
  for (const char* what : {"dir", "segment_bytes", "max_bytes", "max_age", "sync_interval"}) {
    EXPECT_TRUE(absl::StrContains(spool.status().message(), what)) << what;
  }
}

TEST_F(DiskSpoolTest, StatsShowTheBacklog) {
  auto spool = MustOpen(PosixOptions());
  EXPECT_EQ(spool->DiskStats().oldest_sequence, 0u);
  const int64_t t0 = absl::ToUnixMillis(clock_.Now());
  for (uint64_t s = 1; s <= 7; ++s) {
    spool->Append(MakeBatch(s, 90, t0 + 1000 * static_cast<int64_t>(s)));
  }
  spool->Ack(2);
  spool->Reject(3);
  ASSERT_TRUE(spool->Sync().ok());
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.spool.batches, 4u);
  EXPECT_EQ(st.spool.bytes, 4 * kRecord90);
  EXPECT_EQ(st.oldest_sequence, 4u);
  EXPECT_EQ(st.oldest_timestamp_ms, t0 + 4000);
  EXPECT_EQ(st.last_sequence, 7u);
  EXPECT_EQ(st.acked_sequence, 2u);
  EXPECT_EQ(st.durable_floor, 2u);
  EXPECT_EQ(st.synced_sequence, 7u);
  EXPECT_EQ(st.segments, 3u);
  EXPECT_GT(st.fsyncs, 0u);
  EXPECT_GE(st.fsync_seconds, 0.0);
  EXPECT_EQ(st.spool.unacked_batches, 0u);
  // 4 and 5 go out (3 was rejected): sent, waiting only for the ack.
  PendingBatch out;
  ASSERT_TRUE(spool->NextAfter(2, &out));
  EXPECT_EQ(out.sequence, 4u);
  ASSERT_TRUE(spool->NextAfter(4, &out));
  EXPECT_EQ(spool->DiskStats().spool.unacked_batches, 2u);
  spool->Ack(4);
  EXPECT_EQ(spool->Stats().unacked_batches, 1u);
  EXPECT_EQ(spool->Stats().batches, 3u);
}

TEST_F(DiskSpoolTest, AWeekOfHeartbeatsCostsKilobytesAndSurvivesPowerLoss) {
  FaultInjectionEnv env;
  auto spool = MustOpen(MemOptions(&env));
  const int64_t boot1 = 1767000000;
  const int64_t boot2 = 1767500000;
  // A week of 1-second heartbeats while disconnected: a reboot after 3 days and, a day later,
  // a 1-minute stall.
  for (int i = 0; i < 7 * 86400; ++i) {
    clock_.Advance(absl::Seconds(1));
    if (i >= 4 * 86400 && i < 4 * 86400 + 60) continue;
    spool->RecordAlive(clock_.Now(), i < 3 * 86400 ? boot1 : boot2);
  }
  std::vector<AliveSpan> spans = spool->PendingAliveSpans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].boot_time, boot1);
  EXPECT_EQ(spans[1].boot_time, boot2);
  EXPECT_EQ(spans[2].last, clock_.Now());
  EXPECT_LT(env.DirBytes(kDir), 10 * 1024u);
  EXPECT_LT(env.DirBytes(kDir), 200u);

  // Persisted at most one sync interval behind.
  auto lost = env.PowerLossCopy();
  auto reopened = MustOpen(MemOptions(lost.get()));
  std::vector<AliveSpan> back = reopened->PendingAliveSpans();
  ASSERT_EQ(back.size(), 3u);
  EXPECT_GE(back[2].last, clock_.Now() - absl::Seconds(1));

  // Acknowledged spans are gone, durably.
  reopened->AckAliveSpans(back[1].last);
  EXPECT_EQ(reopened->PendingAliveSpans().size(), 1u);
  ASSERT_TRUE(reopened->Close().ok());
  reopened.reset();
  auto again = MustOpen(MemOptions(lost.get()));
  EXPECT_EQ(again->PendingAliveSpans().size(), 1u);
}

// Issue #4 scenario 5: the records after the damage in a set-aside segment are lost. They were
// appended, so they count as dropped, and appended = acked + dropped + waiting holds (the agent
// reports appended as its produced samples). Here after a kill -9 that left no state write
// since the appends: the journal knows them.
TEST_F(DiskSpoolTest, RecordsCutOffWithADamagedSegmentAreCountedAsDropped) {
  DiskSpoolOptions o = PosixOptions();
  o.sync_interval = absl::InfiniteDuration();  // no sync point: only the journal counts them
  auto spool = MustOpen(o);
  for (uint64_t s = 1; s <= 10; ++s) spool->Append(MakeBatch(s, 90));  // seg-1/4/7/10
  spool->Ack(2);  // in memory only: 1 and 2 come back
  DiskSpoolStats before = spool->DiskStats();
  EXPECT_EQ(before.appended_batches, 10u);
  EXPECT_EQ(before.appended_samples, 900u);
  ScratchDir copy;  // what kill -9 leaves
  fs::copy(scratch_.path(), copy.path(), fs::copy_options::recursive);
  // Damage record 2 of seg-4 (sequence 5) and cut seg-7 inside its first record.
  const std::string seg4 = copy.Sub(SegName(4));
  std::string content = ReadAll(seg4);
  content[kSegmentHeaderBytes + kRecord90 + 100] ^= 0x5a;
  WriteAll(seg4, content);
  WriteAll(copy.Sub(SegName(7)), ReadAll(copy.Sub(SegName(7))).substr(0, kSegmentHeaderBytes + 50));

  DiskSpoolOptions oc = o;
  oc.dir = copy.path();
  auto reopened = MustOpen(oc);
  EXPECT_THAT(Sequences(*reopened), ElementsAre(1, 2, 3, 4, 10));
  DiskSpoolStats st = reopened->DiskStats();
  EXPECT_EQ(st.corrupt_segments, 2u);
  EXPECT_EQ(st.appended_batches, 10u);
  EXPECT_EQ(st.appended_samples, 900u);
  EXPECT_EQ(st.missing_batches, 5u);  // 5, 6 and 7, 8, 9
  EXPECT_EQ(st.missing_samples, 450u);
  EXPECT_EQ(st.spool.dropped_batches, 5u);
  EXPECT_EQ(st.spool.dropped_samples, 450u);
  EXPECT_EQ(st.spool.acked_samples + st.spool.dropped_samples + st.spool.samples,
            st.appended_samples);
  // Counted once: the next start finds nothing missing, and the totals stay.
  reopened->Ack(4);
  ASSERT_TRUE(reopened->Close().ok());
  reopened.reset();
  auto again = MustOpen(oc);
  DiskSpoolStats st2 = again->DiskStats();
  EXPECT_EQ(st2.missing_batches, 0u);
  EXPECT_EQ(st2.spool.dropped_samples, 450u);
  EXPECT_EQ(st2.spool.acked_samples, 360u);
  EXPECT_EQ(st2.appended_samples, 900u);
  EXPECT_EQ(st2.acked_batches + st2.spool.dropped_batches + st2.spool.batches, 10u);
}

TEST_F(DiskSpoolTest, DamageFoundAfterACleanCloseIsCountedAsDropped) {
  DiskSpoolOptions o = PosixOptions();
  {
    auto spool = MustOpen(o);
    for (uint64_t s = 1; s <= 10; ++s) spool->Append(MakeBatch(s, 90));
    spool->Ack(3);
    spool->Reject(8);
  }
  const std::string seg = scratch_.Sub(SegName(7));
  std::string content = ReadAll(seg);
  content[kSegmentHeaderBytes + 40] ^= 1;  // record 1 of 3 (7; 8 was rejected; 9)
  WriteAll(seg, content);
  auto spool = MustOpen(o);
  EXPECT_THAT(Sequences(*spool), ElementsAre(4, 5, 6, 10));
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.missing_batches, 2u);  // 7 and 9; 8 was already counted when it was rejected
  EXPECT_EQ(st.spool.dropped_batches, 3u);
  EXPECT_EQ(st.spool.dropped_samples, 270u);
  EXPECT_EQ(st.acked_batches, 3u);
  EXPECT_EQ(st.appended_batches, 10u);
  EXPECT_EQ(st.acked_batches + st.spool.dropped_batches + st.spool.batches, 10u);
}

// A kill -9 between the journal mark and the record: the batch was appended and is nowhere.
TEST_F(DiskSpoolTest, AnAppendInterruptedByACrashCountsAsDropped) {
  FaultInjectionEnv env;
  DiskSpoolOptions o = MemOptions(&env);
  o.sync_interval = absl::InfiniteDuration();
  auto spool = MustOpen(o);
  spool->Append(MakeBatch(1, 7));
  env.ArmCrash(2, /*process_only=*/true, nullptr);  // before the record of 2 (after its mark)
  spool->Append(MakeBatch(2, 9));
  std::unique_ptr<FaultInjectionEnv> left = env.TakeCrashSnapshot();
  ASSERT_NE(left, nullptr);
  auto reopened = MustOpen(MemOptions(left.get()));
  EXPECT_THAT(Sequences(*reopened), ElementsAre(1));
  DiskSpoolStats st = reopened->DiskStats();
  EXPECT_EQ(st.appended_batches, 2u);
  EXPECT_EQ(st.appended_samples, 16u);
  EXPECT_EQ(st.missing_batches, 1u);
  EXPECT_EQ(st.spool.dropped_samples, 9u);
  EXPECT_EQ(reopened->LastSequence(), 2u);  // numbering goes on above it
}

// The journal continues the state it was started after: with that state damaged, its marks
// (counting batches acknowledged and deleted long ago) must not be taken for missing ones.
TEST_F(DiskSpoolTest, AJournalIsNotUsedWithoutItsState) {
  DiskSpoolOptions o = PosixOptions();
  o.sync_interval = absl::InfiniteDuration();
  auto spool = MustOpen(o);
  for (uint64_t s = 1; s <= 6; ++s) spool->Append(MakeBatch(s, 90));  // seg-1: 1-3, seg-4: 4-6
  spool->Ack(3);
  ASSERT_TRUE(spool->Sync().ok());  // seg-1 goes; the journal starts afresh
  spool->Append(MakeBatch(7, 90));  // its mark says 7 batches
  ScratchDir copy;                  // kill -9
  fs::copy(scratch_.path(), copy.path(), fs::copy_options::recursive);
  WriteAll(copy.Sub("state"), "scribbled");
  DiskSpoolOptions oc = o;
  oc.dir = copy.path();
  auto reopened = MustOpen(oc);
  EXPECT_THAT(Sequences(*reopened), ElementsAre(4, 5, 6, 7));
  DiskSpoolStats st = reopened->DiskStats();
  EXPECT_EQ(st.missing_batches, 0u);
  EXPECT_EQ(st.spool.dropped_batches, 0u);
  EXPECT_EQ(st.appended_batches, 4u);
  EXPECT_FALSE(fs::exists(copy.Sub("appended")) && ReadAll(copy.Sub("appended")).size() > 0);
}

TEST_F(DiskSpoolTest, AStateWithoutAppendCountersStartsThemFromTheDisk) {
  // What an agent from before the counters left: a version-1 state (here: acked through 2,
  // 180 samples) and segments; no journal.
  DiskSpoolOptions o = PosixOptions();
  {
    auto spool = MustOpen(o);
    for (uint64_t s = 1; s <= 5; ++s) spool->Append(MakeBatch(s, 90));
  }
  std::string body;
  for (uint64_t v : {2, 0, 5, 0, 0, 180, 0}) {
    for (int i = 0; i < 8; ++i) body.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  body.append(8, '\0');  // no rejected sequences, no spans
  std::string state = "ASST";
  state.append("\x01\x00\x00\x00", 4);
  state.push_back(static_cast<char>(body.size()));
  state.append(3, '\0');
  state += body;
  const uint32_t crc = crc32c::Mask(crc32c::Value(state.data(), state.size()));
  for (int i = 0; i < 4; ++i) state.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  WriteAll(scratch_.Sub("state"), state);
  fs::remove(scratch_.Sub("appended"));

  auto spool = MustOpen(o);
  EXPECT_THAT(Sequences(*spool), ElementsAre(3, 4, 5));
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.missing_batches, 0u);
  EXPECT_EQ(st.spool.dropped_batches, 0u);
  EXPECT_EQ(st.appended_samples, 180u + 270u);
  EXPECT_EQ(st.appended_batches, 3u);  // acked batches were not counted by version 1
  EXPECT_EQ(st.corrupt_state_files, 0u);
  // Rewritten as the current version at once.
  absl::StatusOr<SpoolState> now = ParseSpoolState(ReadAll(scratch_.Sub("state")));
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_TRUE(now->has_appended);
  EXPECT_EQ(now->appended_samples, 450u);
}

// Issue #4, "kill soon after a reconnect": after the collector acknowledged the spans, the
// newest stays as an anchor, durably, and the next heartbeat extends it without a hole.
TEST_F(DiskSpoolTest, AcknowledgedNewestAliveSpanStaysAnchoredAcrossARestart) {
  FaultInjectionEnv env;
  auto spool = MustOpen(MemOptions(&env));
  const absl::Time t0 = clock_.Now();
  for (int i = 0; i <= 10; ++i) spool->RecordAlive(t0 + absl::Seconds(i), 7);
  spool->AckAliveSpans(t0 + absl::Seconds(10));
  ASSERT_THAT(spool->PendingAliveSpans(),
              ElementsAre(AliveSpan{t0 + absl::Seconds(10), t0 + absl::Seconds(10), 7}));
  ASSERT_TRUE(spool->Sync().ok());
  auto lost = env.PowerLossCopy();
  auto reopened = MustOpen(MemOptions(lost.get()));
  ASSERT_THAT(reopened->PendingAliveSpans(),
              ElementsAre(AliveSpan{t0 + absl::Seconds(10), t0 + absl::Seconds(10), 7}));
  reopened->RecordAlive(t0 + absl::Milliseconds(11500), 7);
  EXPECT_THAT(reopened->PendingAliveSpans(),
              ElementsAre(AliveSpan{t0 + absl::Seconds(10), t0 + absl::Milliseconds(11500), 7}));
}

TEST(SegmentBytesForCapTest, AnEighthOfTheCapWithinBoundsAndTwoSegmentsAlwaysFit) {
  EXPECT_EQ(SegmentBytesForCap(uint64_t{256} << 20), uint64_t{4} << 20);  // the default
  EXPECT_EQ(SegmentBytesForCap(uint64_t{8} << 20), uint64_t{1} << 20);
  EXPECT_EQ(SegmentBytesForCap(uint64_t{1} << 20), uint64_t{128} << 10);
  EXPECT_EQ(SegmentBytesForCap(uint64_t{256} << 10), uint64_t{64} << 10);
  EXPECT_EQ(SegmentBytesForCap(uint64_t{100} << 10), uint64_t{50} << 10);
  EXPECT_EQ(SegmentBytesForCap(kMinSpoolMaxBytes), uint64_t{8} << 10);
  EXPECT_EQ(SegmentBytesForCap(uint64_t{1} << 40), uint64_t{4} << 20);
  // Every cap the agent accepts gives options DiskSpool accepts.
  for (uint64_t cap : {kMinSpoolMaxBytes, kMinSpoolMaxBytes + 1, uint64_t{20000}, uint64_t{1} << 17,
                       (uint64_t{1} << 17) + 7, uint64_t{1} << 19, uint64_t{3} << 20,
                       uint64_t{32} << 20, uint64_t{1} << 30, uint64_t{1} << 40}) {
    const uint64_t seg = SegmentBytesForCap(cap);
    EXPECT_GE(seg, 4096u) << cap;
    EXPECT_LE(2 * seg, cap) << cap;
    EXPECT_LE(seg, uint64_t{4} << 20) << cap;
  }
}

// Issue #4: a 16 KiB cap (an embedded host) is accepted and enforced.
TEST_F(DiskSpoolTest, TheSmallestCapIsAcceptedAndEnforced) {
  FaultInjectionEnv env;
  DiskSpoolOptions o = MemOptions(&env);
  o.max_bytes = kMinSpoolMaxBytes;
  o.segment_bytes = SegmentBytesForCap(o.max_bytes);
  auto spool = MustOpen(o);
  for (uint64_t s = 1; s <= 40; ++s) spool->Append(MakeBatch(s, 90));
  DiskSpoolStats st = spool->DiskStats();
  EXPECT_LE(st.disk_bytes, kMinSpoolMaxBytes);
  EXPECT_GT(st.spool.dropped_batches, 0u);
  EXPECT_EQ(st.spool.dropped_batches + st.spool.batches, 40u);
  EXPECT_EQ(Sequences(*spool).back(), 40u);
}

TEST_F(DiskSpoolTest, SamplerAndTransportThreadsShareTheSpool) {
  DiskSpoolOptions o = PosixOptions();
  o.clock = nullptr;  // real time: real fsyncs every second
  o.sync_interval = absl::Milliseconds(5);
  o.max_age = absl::InfiniteDuration();  // the batches carry fixed timestamps
  auto spool = MustOpen(o);
  constexpr uint64_t kBatches = 2000;
  std::thread sampler([&] {
    for (uint64_t s = 1; s <= kBatches; ++s) spool->Append(MakeBatch(s, 20));
  });
  std::vector<uint64_t> received;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  uint64_t sent = 0;
  PendingBatch b;
  bool intact = true;
  while (received.size() < kBatches && intact && absl::Now() < deadline) {
    if (spool->NextAfter(sent, &b)) {
      intact = SameBatch(b, MakeBatch(b.sequence, 20));
      sent = b.sequence;
      received.push_back(sent);
      if (sent % 7 == 0) spool->Ack(sent);
      if (sent % 100 == 0) (void)spool->DiskStats();
    } else {
      std::this_thread::yield();
    }
  }
  sampler.join();
  ASSERT_TRUE(intact) << "batch " << sent << " came back altered";
  ASSERT_EQ(received.size(), kBatches);
  for (uint64_t i = 0; i < kBatches; ++i) ASSERT_EQ(received[i], i + 1);
  spool->Ack(kBatches);
  ASSERT_TRUE(spool->Sync().ok());
  EXPECT_EQ(spool->Stats().batches, 0u);
  EXPECT_EQ(spool->Stats().acked_samples, kBatches * 20);
  EXPECT_LE(spool->DiskStats().segments, 1u);
}

}  // namespace
}  // namespace accord::agent
