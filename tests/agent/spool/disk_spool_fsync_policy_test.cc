// Tests of DiskSpool's FSYNC POLICY (disk_spool.h): durability is paid for only where a power
// loss would lose what the collector does not have. Connected and acked, a cycle makes no
// fsync; an unacknowledged batch is synced within sync_interval, by a heartbeat if no Append
// comes; alive evidence is durable within sync_interval only while no ack confirms the
// stream. On the fault-injecting env (power loss, kill -9) and a FakeClock: no sleeps.
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "agent/spool/disk_spool.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/spool/fault_injection_env.h"
#include "tests/agent/spool/spool_test_util.h"
#include "tests/testing/fake_clock.h"

namespace accord::agent {
namespace {

using ::testing::ElementsAre;
using testing::FaultInjectionEnv;
using testing::MakeBatch;
using testing::SameBatch;
using testing::Sequences;

constexpr char kDir[] = "/spool";
constexpr int64_t kBoot = 1767000000;

class DiskSpoolFsyncPolicyTest : public ::testing::Test {
 protected:
  DiskSpoolOptions Options(FaultInjectionEnv* env) {
    DiskSpoolOptions o;
    o.dir = kDir;
    o.env = env;
    o.clock = &clock_;
    o.segment_bytes = 1 << 20;  // no roll in these tests
    o.max_bytes = 4 << 20;
    return o;
  }
  std::unique_ptr<DiskSpool> MustOpen(const DiskSpoolOptions& o) {
    absl::StatusOr<std::unique_ptr<DiskSpool>> spool = DiskSpool::Open(o);
    EXPECT_TRUE(spool.ok()) << spool.status();
    return spool.ok() ? std::move(*spool) : nullptr;
  }
  // One agent cycle at 1 s sampling while connected: the batch is appended, sent and acked
  // within milliseconds; the heartbeat records the agent alive.
  void ConnectedCycle(DiskSpool& spool, uint64_t seq) {
    spool.Append(MakeBatch(seq, 90, absl::ToUnixMillis(clock_.Now())));
    clock_.Advance(absl::Milliseconds(5));
    spool.Ack(seq);
    clock_.Advance(absl::Milliseconds(495));
    spool.RecordAlive(clock_.Now(), kBoot);
    clock_.Advance(absl::Milliseconds(500));
  }
  static void ExpectAccountingHolds(DiskSpool& spool) {
    const DiskSpoolStats st = spool.DiskStats();
    EXPECT_EQ(st.appended_batches, st.acked_batches + st.spool.dropped_batches + st.spool.batches);
    EXPECT_EQ(st.appended_samples,
              st.spool.acked_samples + st.spool.dropped_samples + st.spool.samples);
  }

  accord::testing::FakeClock clock_;
};

TEST_F(DiskSpoolFsyncPolicyTest, ConnectedSteadyStateMakesNoFsyncPerCycle) {
  FaultInjectionEnv env;
  DiskSpoolOptions o = Options(&env);
  o.state_sync_interval = absl::InfiniteDuration();
  auto spool = MustOpen(o);
  ConnectedCycle(*spool, 1);
  ConnectedCycle(*spool, 2);
  const uint64_t fsyncs = spool->DiskStats().fsyncs;
  for (uint64_t seq = 3; seq <= 300; ++seq) ConnectedCycle(*spool, seq);
  spool->RecordAlive(clock_.Now(), kBoot);  // a sync point after the last ack
  EXPECT_EQ(spool->DiskStats().fsyncs, fsyncs) << "a connected cycle must not fsync";
  // Yet a kill -9 forgets nothing up to the last sync point: no batch comes back, the counts
  // are exact (the state log carries them).
  auto killed = env.ProcessCrashCopy();
  auto reopened = MustOpen(Options(killed.get()));
  EXPECT_THAT(Sequences(*reopened), ElementsAre());
  const DiskSpoolStats st = reopened->DiskStats();
  EXPECT_EQ(st.appended_batches, 300u);
  EXPECT_EQ(st.acked_batches, 300u);
  EXPECT_EQ(st.spool.dropped_batches, 0u);
  EXPECT_EQ(st.missing_batches, 0u);
  EXPECT_EQ(reopened->LastSequence(), 300u);
}

TEST_F(DiskSpoolFsyncPolicyTest, ConnectedSteadyStateWritesTheStateOncePerStateSyncInterval) {
  FaultInjectionEnv env;
  DiskSpoolOptions o = Options(&env);
  o.state_sync_interval = absl::Minutes(1);
  auto spool = MustOpen(o);
  ConnectedCycle(*spool, 1);
  const uint64_t fsyncs = spool->DiskStats().fsyncs;
  for (uint64_t seq = 2; seq <= 601; ++seq) ConnectedCycle(*spool, seq);  // 10 minutes
  // One `state` write (state.tmp and the directory: two fsyncs) a minute, none for records.
  EXPECT_LE(spool->DiskStats().fsyncs - fsyncs, 2u * 10);
  EXPECT_GE(spool->DiskStats().fsyncs - fsyncs, 2u * 9);
  // A power loss now forgets at most a minute of acks: those batches come back (resent),
  // the rest are durably acknowledged; nothing is counted twice or lost uncounted.
  const DiskSpoolStats before = spool->DiskStats();
  EXPECT_GE(before.synced_sequence + 62, 601u);
  auto lost = env.PowerLossCopy();
  auto reopened = MustOpen(Options(lost.get()));
  ExpectAccountingHolds(*reopened);
  const DiskSpoolStats st = reopened->DiskStats();
  EXPECT_GE(st.acked_batches, before.durable_floor);
  EXPECT_EQ(st.corrupt_segments, 0u);
}

TEST_F(DiskSpoolFsyncPolicyTest, AnUnackedBatchIsSyncedWithinTheIntervalByTheNextHeartbeat) {
  FaultInjectionEnv env;
  auto spool = MustOpen(Options(&env));  // sync_interval 1 s
  // 10 s sampling: one Append, then only heartbeats. The collector does not ack.
  spool->Append(MakeBatch(1, 90));
  const uint64_t fsyncs = spool->DiskStats().fsyncs;
  EXPECT_EQ(spool->DiskStats().synced_sequence, 0u);
  clock_.Advance(absl::Milliseconds(600));
  spool->RecordAlive(clock_.Now(), kBoot);
  EXPECT_EQ(spool->DiskStats().synced_sequence, 0u);  // younger than sync_interval
  clock_.Advance(absl::Milliseconds(400));
  spool->RecordAlive(clock_.Now(), kBoot);
  EXPECT_EQ(spool->DiskStats().synced_sequence, 1u);
  EXPECT_GT(spool->DiskStats().fsyncs, fsyncs);
  auto lost = env.PowerLossCopy();
  auto reopened = MustOpen(Options(lost.get()));
  std::vector<PendingBatch> got = testing::Drain(*reopened);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(SameBatch(got[0], MakeBatch(1, 90)));
  ExpectAccountingHolds(*reopened);
}

TEST_F(DiskSpoolFsyncPolicyTest, ABatchAckedWithinTheIntervalIsNeverSynced) {
  FaultInjectionEnv env;
  auto spool = MustOpen(Options(&env));
  spool->Ack(0);  // the hello's ack: the stream is confirmed
  spool->RecordAlive(clock_.Now(), kBoot);
  spool->Append(MakeBatch(1, 90));
  const uint64_t fsyncs = spool->DiskStats().fsyncs;
  clock_.Advance(absl::Milliseconds(10));
  spool->Ack(1);
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(absl::Seconds(1));
    spool->RecordAlive(clock_.Now(), kBoot);
  }
  EXPECT_EQ(spool->DiskStats().fsyncs, fsyncs);
}

// 1 s sampling against a collector that acknowledges every `ack_every` s (its ack interval):
// each second a batch and a heartbeat; returns the fsyncs made over `seconds`.
uint64_t HeldAckCycles(DiskSpool& spool, accord::testing::FakeClock& clock, uint64_t* seq,
                       int seconds, int ack_every) {
  const uint64_t before = spool.DiskStats().fsyncs;
  for (int i = 1; i <= seconds; ++i) {
    spool.Append(MakeBatch(++*seq, 90, absl::ToUnixMillis(clock.Now())));
    clock.Advance(absl::Milliseconds(50));
    if (ack_every > 0 && i % ack_every == 0) spool.Ack(*seq);
    clock.Advance(absl::Milliseconds(450));
    spool.RecordAlive(clock.Now(), kBoot);
    clock.Advance(absl::Milliseconds(500));
  }
  return spool.DiskStats().fsyncs - before;
}

TEST_F(DiskSpoolFsyncPolicyTest, ACollectorHoldingAcksGetsItsHoldWhileItAcknowledges) {
  FaultInjectionEnv env;
  DiskSpoolOptions o = Options(&env);
  o.state_sync_interval = absl::InfiniteDuration();
  auto spool = MustOpen(o);  // sync_interval 1 s
  spool->Ack(0);  // the hello's answer: the stream is confirmed
  uint64_t seq = 0;
  // Acks every 5 s without the hold announced: each batch waits more than 1 s, so synced.
  EXPECT_GE(HeldAckCycles(*spool, clock_, &seq, 60, 5), 10u);
  // Announced (Ack.ack_interval_ms): no fsync while acks keep coming.
  spool->SetAckHold(absl::Seconds(5));
  HeldAckCycles(*spool, clock_, &seq, 5, 5);
  EXPECT_EQ(HeldAckCycles(*spool, clock_, &seq, 300, 5), 0u);
  // The acks stop (the stream still open): what waits is synced within sync_interval + hold
  // after the last ack, not before.
  const uint64_t last_acked = seq;
  HeldAckCycles(*spool, clock_, &seq, 5, 0);
  EXPECT_LT(spool->DiskStats().synced_sequence, seq) << "within the hold";
  HeldAckCycles(*spool, clock_, &seq, 3, 0);
  EXPECT_GT(spool->DiskStats().synced_sequence, last_acked) << "after sync_interval + hold";
  // Disconnected, the hold no longer applies: 1 s again.
  spool->Ack(seq);
  spool->StreamEnded();
  EXPECT_GE(HeldAckCycles(*spool, clock_, &seq, 10, 0), 5u);
  EXPECT_GE(spool->DiskStats().synced_sequence, seq - 1);  // the newest is half a second old
}

TEST_F(DiskSpoolFsyncPolicyTest, ARecordTheHeldAcksDoNotReachIsStillSyncedWithinTheHold) {
  FaultInjectionEnv env;
  DiskSpoolOptions o = Options(&env);
  o.state_sync_interval = absl::InfiniteDuration();
  auto spool = MustOpen(o);
  // A backlog from an outage, being resent; the collector acks it every 5 s, a part at a
  // time, while the live batches appended meanwhile wait behind it.
  uint64_t seq = 0;
  for (; seq < 100; ++seq) spool->Append(MakeBatch(seq + 1, 90));
  ASSERT_TRUE(spool->Sync().ok());
  spool->Ack(0);
  spool->SetAckHold(absl::Seconds(5));
  const uint64_t first_live = seq + 1;
  for (int i = 1; i <= 7; ++i) {
    spool->Append(MakeBatch(++seq, 90));
    clock_.Advance(absl::Milliseconds(500));
    spool->RecordAlive(clock_.Now(), kBoot);
    clock_.Advance(absl::Milliseconds(500));
    if (i % 5 == 0) spool->Ack(static_cast<uint64_t>(10 * i));  // backlog progress only
  }
  // The first live batch is 7 s old (over 1 s + the 5 s hold) and never acknowledged.
  EXPECT_GE(spool->DiskStats().synced_sequence, first_live);
}

TEST_F(DiskSpoolFsyncPolicyTest, AfterADisconnectUnackedBatchesAreSyncedAgain) {
  FaultInjectionEnv env;
  auto spool = MustOpen(Options(&env));
  for (uint64_t seq = 1; seq <= 5; ++seq) ConnectedCycle(*spool, seq);
  spool->StreamEnded();
  const uint64_t fsyncs = spool->DiskStats().fsyncs;
  for (uint64_t seq = 6; seq <= 10; ++seq) {
    spool->Append(MakeBatch(seq, 90));
    clock_.Advance(absl::Seconds(1));
    spool->RecordAlive(clock_.Now(), kBoot);
  }
  const DiskSpoolStats st = spool->DiskStats();
  EXPECT_EQ(st.synced_sequence, 10u);
  // A record and a state write (alive evidence while disconnected) per second at most.
  EXPECT_GE(st.fsyncs - fsyncs, 5u);
  EXPECT_LE(st.fsyncs - fsyncs, 5u * 3);
  std::mt19937 rng(7);
  auto lost = env.PowerLossCopy(&rng);
  auto reopened = MustOpen(Options(lost.get()));
  EXPECT_THAT(Sequences(*reopened), ElementsAre(6, 7, 8, 9, 10));
  ExpectAccountingHolds(*reopened);
  // The evidence of the disconnected time is durable up to the last heartbeat.
  std::vector<AliveSpan> spans = reopened->PendingAliveSpans();
  ASSERT_FALSE(spans.empty());
  EXPECT_EQ(spans.back().last, clock_.Now());
}

TEST_F(DiskSpoolFsyncPolicyTest, PowerLossAtAnyCycleKeepsEverythingUpToSyncedSequence) {
  // Connected cycles with the ack sometimes late or missing, and disconnects; a power loss
  // (with torn unsynced bytes) after every cycle of the run, checked on a copy.
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 rng(seed);
    FaultInjectionEnv env;
    DiskSpoolOptions o = Options(&env);
    o.state_sync_interval = absl::Seconds(20);
    auto spool = MustOpen(o);
    uint64_t acked = 0;
    for (uint64_t seq = 1; seq <= 150; ++seq) {
      spool->Append(MakeBatch(seq, 10, absl::ToUnixMillis(clock_.Now())));
      const int r = std::uniform_int_distribution<int>(0, 9)(rng);
      if (r < 7) {
        acked = seq;
        spool->Ack(acked);
      } else if (r == 9) {
        spool->StreamEnded();
      }
      clock_.Advance(absl::Milliseconds(std::uniform_int_distribution<int>(100, 1500)(rng)));
      spool->RecordAlive(clock_.Now(), kBoot);
      const DiskSpoolStats st = spool->DiskStats();
      auto lost = env.PowerLossCopy(&rng);
      auto reopened = MustOpen(Options(lost.get()));
      ASSERT_NE(reopened, nullptr);
      std::vector<uint64_t> back = Sequences(*reopened);
      // Every unacknowledged batch up to synced_sequence survived.
      for (uint64_t s = acked + 1; s <= st.synced_sequence; ++s) {
        ASSERT_TRUE(std::find(back.begin(), back.end(), s) != back.end())
            << "lost synced batch " << s << " (synced_sequence " << st.synced_sequence << ", acked "
            << acked << ")";
      }
      // Nothing durably acknowledged comes back.
      for (uint64_t s : back) ASSERT_GT(s, st.durable_floor);
      const DiskSpoolStats rs = reopened->DiskStats();
      EXPECT_EQ(rs.appended_batches,
                rs.acked_batches + rs.spool.dropped_batches + rs.spool.batches);
      EXPECT_GE(rs.appended_batches, st.synced_sequence);
      EXPECT_EQ(rs.corrupt_segments, 0u);
    }
  }
}

}  // namespace
}  // namespace accord::agent
