#include "collector/ingest/ingestor.h"

#include "gtest/gtest.h"
#include "tests/testing/recording_link.h"
#include "tests/testing/fake_clock.h"

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

}  // namespace
}  // namespace accord::collector
