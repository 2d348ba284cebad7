#include "collector/ingest/ingestor.h"

#include "gtest/gtest.h"
#include "tests/testing/recording_link.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/series_descriptor.h"

namespace accord::collector {
namespace {

using accord::testing::RecordingLink;

class IngestorTest : public ::testing::Test {
 protected:
  IngestItem Make(IngestItem::Kind kind) {
    IngestItem i;
    i.kind = kind;
    i.link = link_;
    i.enqueued_at = clock_.Monotonic();
    return i;
  }
  IngestItem HelloItem(const std::string& id) {
    IngestItem i = Make(IngestItem::Kind::kHello);
    i.hello.host_id = id;
    i.hello.heartbeat_interval = absl::Seconds(1);
    return i;
  }
  accord::testing::FakeClock clock_;
  HostRegistry registry_{clock_};
  IngestQueue queue_{16};
  Ingestor ingestor_{queue_, registry_, clock_};
  std::shared_ptr<RecordingLink> link_ = std::make_shared<RecordingLink>();
};

TEST_F(IngestorTest, HelloIsAnsweredWithLastAcceptedSequence) {
  ingestor_.Process(HelloItem("h1"));
  ASSERT_EQ(link_->acks.size(), 1u);
  EXPECT_EQ(link_->acks[0], 0u);
  EXPECT_EQ(registry_.Host("h1")->state, HostState::kUp);
}

TEST_F(IngestorTest, FirstMessageMustBeHello) {
  ingestor_.Process(Make(IngestItem::Kind::kHeartbeat));
  EXPECT_EQ(link_->finishes, 1);
  EXPECT_EQ(link_->finished_with.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_.Stats().rejected[static_cast<int>(RejectReason::kNotHello)], 1u);
}

TEST_F(IngestorTest, RejectedBatchEndsStreamNamingItsSequence) {
  ingestor_.Process(HelloItem("h1"));
  IngestItem b = Make(IngestItem::Kind::kBatch);
  b.batch.sequence = 9;
  b.batch.series_ids = {3};
  b.batch.values = {1};
  ingestor_.Process(b);
  EXPECT_EQ(link_->finished_with.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(link_->rejected_sequence, 9u);
  // Later items of the finished stream are ignored; the end closes the session.
  ingestor_.Process(Make(IngestItem::Kind::kHeartbeat));
  ingestor_.Process(Make(IngestItem::Kind::kEnd));
  EXPECT_EQ(link_->finishes, 1);
  EXPECT_EQ(registry_.Host("h1")->state, HostState::kUnreachable);
}

TEST_F(IngestorTest, GoodbyeThenEndIsStoppedAndFinishedOk) {
  ingestor_.Process(HelloItem("h1"));
  IngestItem g = Make(IngestItem::Kind::kGoodbye);
  g.goodbye = GoodbyeReason::kAgentStopping;
  ingestor_.Process(g);
  ingestor_.Process(Make(IngestItem::Kind::kEnd));
  EXPECT_TRUE(link_->finished_with.ok());
  EXPECT_EQ(registry_.Host("h1")->state, HostState::kStopped);
}

TEST_F(IngestorTest, QueueWaitIsMeasured) {
  IngestItem h = HelloItem("h1");
  clock_.Advance(absl::Milliseconds(3));
  ingestor_.Process(h);
  IngestorStats s = ingestor_.Stats();
  EXPECT_EQ(s.items, 1u);
  EXPECT_NEAR(s.wait_sum_seconds, 0.003, 1e-9);
  EXPECT_EQ(s.wait_buckets[2], 1u);  // (0.001, 0.005]
}

TEST_F(IngestorTest, HeartbeatsWaitingInTheQueueAreNotSilence) {
  ingestor_.Process(HelloItem("h1"));
  // Heartbeats keep arriving every second, but the consumer is stuck (a long scrape holding
  // the registry): they wait in the queue.
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Seconds(1));
    queue_.PushOrPark(Make(IngestItem::Kind::kHeartbeat));
  }
  // Judged as of now, the host looks silent for 5 s; as of what was applied, it is not.
  const absl::Duration now = clock_.Monotonic();
  EXPECT_EQ(ingestor_.AppliedUpTo(now), now - absl::Seconds(4));
  EXPECT_EQ(registry_.CheckTimeouts(ingestor_.AppliedUpTo(now)), 0);
  EXPECT_EQ(registry_.Host("h1")->state, HostState::kUp);
  // Once drained, nothing waits: as of now, and still up.
  IngestItem item;
  while (queue_.Pop(&item, absl::ZeroDuration())) {
    ingestor_.Process(std::move(item));
    queue_.Done();
    item = IngestItem();
  }
  EXPECT_EQ(ingestor_.AppliedUpTo(now), now);
  EXPECT_EQ(registry_.CheckTimeouts(ingestor_.AppliedUpTo(now)), 0);
  EXPECT_EQ(registry_.Host("h1")->state, HostState::kUp);
  // Real silence is still seen.
  clock_.Advance(absl::Seconds(4));
  EXPECT_EQ(registry_.CheckTimeouts(ingestor_.AppliedUpTo(clock_.Monotonic())), 1);
  EXPECT_EQ(registry_.Host("h1")->state, HostState::kUnreachable);
}

IngestItem ItemFor(IngestItem::Kind kind, const std::shared_ptr<RecordingLink>& link,
                   accord::testing::FakeClock& clock) {
  IngestItem i;
  i.kind = kind;
  i.link = link;
  i.enqueued_at = clock.Monotonic();
  return i;
}

// A Hello from host `id` on `link`.
IngestItem HelloFor(const std::shared_ptr<RecordingLink>& link, const std::string& id,
                    accord::testing::FakeClock& clock) {
  IngestItem i = ItemFor(IngestItem::Kind::kHello, link, clock);
  i.hello.host_id = id;
  i.hello.heartbeat_interval = absl::Seconds(1);
  return i;
}

// Batch `sequence` on `link`: one value of one series, which batch 1 describes.
IngestItem BatchFor(const std::shared_ptr<RecordingLink>& link, uint64_t sequence,
                    accord::testing::FakeClock& clock) {
  IngestItem i = ItemFor(IngestItem::Kind::kBatch, link, clock);
  i.batch.sequence = sequence;
  i.batch.timestamp_ms = absl::ToUnixMillis(clock.Now());
  if (sequence == 1) i.batch.new_series = {accord::testing::Desc(0, "accord_host_load1")};
  i.batch.series_ids = {0};
  i.batch.values = {1};
  return i;
}

// Ack coalescing: a stream is acknowledged at most once per ack interval.
class IngestorAckIntervalTest : public ::testing::Test {
 protected:
  IngestItem Make(IngestItem::Kind kind, const std::shared_ptr<RecordingLink>& link) {
    return ItemFor(kind, link, clock_);
  }
  void Hello(const std::string& id, const std::shared_ptr<RecordingLink>& link) {
    ingestor_.Process(HelloFor(link, id, clock_));
  }
  void Batch(uint64_t sequence, const std::shared_ptr<RecordingLink>& link) {
    ingestor_.Process(BatchFor(link, sequence, clock_));
  }
  // One batch a second from `first` to `last`.
  void BatchesEverySecond(uint64_t first, uint64_t last) {
    for (uint64_t seq = first; seq <= last; ++seq) {
      clock_.Advance(absl::Seconds(1));
      Batch(seq, link_);
    }
  }
  accord::testing::FakeClock clock_;
  HostRegistry registry_{clock_};
  IngestQueue queue_{16};
  Ingestor ingestor_{queue_, registry_, clock_, absl::Seconds(5)};
  std::shared_ptr<RecordingLink> link_ = std::make_shared<RecordingLink>();
};

TEST_F(IngestorAckIntervalTest, OneAckPerIntervalCoversTheBatchesHeldBack) {
  Hello("h1", link_);
  ASSERT_EQ(link_->acks, std::vector<uint64_t>({0}));  // the Hello's answer: at once
  BatchesEverySecond(1, 4);
  EXPECT_EQ(link_->acks, std::vector<uint64_t>({0})) << "held within 5 s of the last ack";
  BatchesEverySecond(5, 5);  // 5 s after the last ack
  EXPECT_EQ(link_->acks, std::vector<uint64_t>({0, 5}));
  BatchesEverySecond(6, 10);
  EXPECT_EQ(link_->acks, std::vector<uint64_t>({0, 5, 10}));
  IngestorStats s = ingestor_.Stats();
  EXPECT_EQ(s.acks_sent, 3u);
  EXPECT_EQ(s.acks_held, 8u);  // 1-4 and 6-9
  EXPECT_EQ(registry_.Stats().batches_accepted, 10u);
}

TEST_F(IngestorAckIntervalTest, AHeldAckGoesOutOneIntervalAfterTheLastWhenNothingFollows) {
  Hello("h1", link_);
  BatchesEverySecond(1, 2);  // held: the Hello was answered 1 and 2 s ago
  clock_.Advance(absl::Seconds(2));  // 4 s after the last ack
  ingestor_.FlushAcks();
  EXPECT_EQ(link_->acks, std::vector<uint64_t>({0}));
  clock_.Advance(absl::Seconds(1));  // 5 s: the interval
  ingestor_.FlushAcks();
  EXPECT_EQ(link_->acks, std::vector<uint64_t>({0, 2}));
  clock_.Advance(absl::Seconds(30));
  ingestor_.FlushAcks();
  EXPECT_EQ(link_->acks, std::vector<uint64_t>({0, 2})) << "nothing held, nothing sent";
}

TEST_F(IngestorAckIntervalTest, BatchesFurtherApartThanTheIntervalAreEachAckedAtOnce) {
  Hello("h1", link_);
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    clock_.Advance(absl::Seconds(10));  // the agent's default sample interval
    Batch(seq, link_);
    EXPECT_EQ(link_->acks.back(), seq);
  }
  EXPECT_EQ(ingestor_.Stats().acks_held, 0u);
}

TEST_F(IngestorAckIntervalTest, AGoodbyeSendsTheHeldAckAndLaterOnesAtOnce) {
  Hello("h1", link_);
  BatchesEverySecond(1, 2);
  IngestItem g = Make(IngestItem::Kind::kGoodbye, link_);
  g.goodbye = GoodbyeReason::kAgentStopping;
  ingestor_.Process(std::move(g));
  EXPECT_EQ(link_->acks, std::vector<uint64_t>({0, 2}));
  // A batch still in flight behind the goodbye is acknowledged at once too.
  BatchesEverySecond(3, 3);
  EXPECT_EQ(link_->acks, std::vector<uint64_t>({0, 2, 3}));
}

TEST_F(IngestorAckIntervalTest, AliveSpansAreAnsweredAtOnceWithTheHeldSequence) {
  Hello("h1", link_);
  BatchesEverySecond(1, 2);
  IngestItem a = Make(IngestItem::Kind::kAlive, link_);
  a.alive = {{clock_.Now() - absl::Hours(1), clock_.Now() - absl::Minutes(30), 1000}};
  ingestor_.Process(std::move(a));
  ASSERT_EQ(link_->acks, std::vector<uint64_t>({0, 2}));
  EXPECT_NE(link_->alive_acks.back(), 0);
}

TEST_F(IngestorAckIntervalTest, StreamsAreHeldApart) {
  auto other = std::make_shared<RecordingLink>();
  Hello("h1", link_);
  clock_.Advance(absl::Seconds(3));
  Hello("h2", other);
  BatchesEverySecond(1, 2);  // h1 at 4 and 5 s: acked at 5
  EXPECT_EQ(link_->acks, std::vector<uint64_t>({0, 2}));
  EXPECT_EQ(other->acks, std::vector<uint64_t>({0}));
}

// A sink whose writes become durable when the test says so (a commit).
class ManualCommitSink : public HostLogSink {
 public:
  void AppendTransition(const std::string&, const Transition&) override {}
  void UpdateHost(const HostRecord&) override {}
  void AppendAliveSpan(const std::string&, const AliveSpan&) override {}
  void AppendRevision(const std::string&, const Revision&) override {}
  uint64_t Mark() override { return ++marks_; }
  uint64_t Durable() override { return durable_; }
  void CommitAll() { durable_ = marks_; }

 private:
  uint64_t marks_ = 0;
  uint64_t durable_ = 0;
};

// A 5 s ack interval over a sink committed by hand; `link` has sent its hello.
class IngestorAckIntervalCommitTest : public ::testing::Test {
 protected:
  void SetUp() override { ingestor.Process(HelloFor(link, "h1", clock)); }
  accord::testing::FakeClock clock;
  ManualCommitSink sink;
  HostRegistry registry{clock, {}, &sink};
  IngestQueue queue{16};
  Ingestor ingestor{queue, registry, clock, absl::Seconds(5)};
  std::shared_ptr<RecordingLink> link = std::make_shared<RecordingLink>();
};

TEST_F(IngestorAckIntervalCommitTest, AcksDurableInOneCommitGoOutAsOneTheNewest) {
  EXPECT_TRUE(link->acks.empty()) << "not before the commit";
  sink.CommitAll();
  ingestor.FlushAcks();
  ASSERT_EQ(link->acks, std::vector<uint64_t>({0}));
  // Three batches, 6 to 8 s after the Hello's answer, made durable by one commit: one ack.
  clock.Advance(absl::Seconds(5));
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    clock.Advance(absl::Seconds(1));
    ingestor.Process(BatchFor(link, seq, clock));
  }
  EXPECT_EQ(link->acks, std::vector<uint64_t>({0})) << "nothing durable yet";
  sink.CommitAll();
  ingestor.FlushAcks();
  EXPECT_EQ(link->acks, std::vector<uint64_t>({0, 3}));
  EXPECT_EQ(ingestor.Stats().acks_held, 2u);  // 1 and 2, covered by 3
}

TEST_F(IngestorAckIntervalCommitTest, TheHelloIsAnsweredOnItsOwnWhenBatchesShareItsCommit) {
  // An agent back after an outage: its hello and the first batches of its backlog become
  // durable in one commit. The answer to the hello is what the collector had before (the
  // agent settles against it which batches of its last stream arrived), so it is not folded
  // into the acks of the batches sent since.
  for (uint64_t seq = 15; seq <= 17; ++seq) {
    clock.Advance(absl::Milliseconds(1));
    IngestItem b = BatchFor(link, seq, clock);
    if (seq == 15) b.batch.new_series = {accord::testing::Desc(0, "accord_host_load1")};
    ingestor.Process(std::move(b));
  }
  sink.CommitAll();
  ingestor.FlushAcks();
  EXPECT_EQ(link->acks, std::vector<uint64_t>({0})) << "the batches' ack is held";
  clock.Advance(absl::Seconds(5));
  ingestor.FlushAcks();
  EXPECT_EQ(link->acks, std::vector<uint64_t>({0, 17}));
}

TEST(IngestorNoAckInterval, EveryBatchIsAckedWhenDurable) {
  accord::testing::FakeClock clock;
  HostRegistry registry{clock};
  IngestQueue queue{16};
  Ingestor ingestor{queue, registry, clock};
  auto link = std::make_shared<RecordingLink>();
  ingestor.Process(HelloFor(link, "h1", clock));
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    clock.Advance(absl::Milliseconds(100));
    ingestor.Process(BatchFor(link, seq, clock));
  }
  EXPECT_EQ(link->acks, std::vector<uint64_t>({0, 1, 2, 3}));
  EXPECT_EQ(ingestor.Stats().acks_held, 0u);
}

}  // namespace
}  // namespace accord::collector
