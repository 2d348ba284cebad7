#include "collector/ingest/ingest_queue.h"

#include "gtest/gtest.h"
#include "tests/testing/recording_link.h"

namespace accord::collector {
namespace {

using accord::testing::RecordingLink;

IngestItem Item(std::shared_ptr<StreamLink> link) {
  IngestItem i;
  i.kind = IngestItem::Kind::kHeartbeat;
  i.link = std::move(link);
  return i;
}

TEST(IngestQueueTest, FullQueueParksAndDrainResumes) {
  IngestQueue q(4);
  auto link = std::make_shared<RecordingLink>();
  EXPECT_TRUE(q.PushOrPark(Item(link)));
  EXPECT_TRUE(q.PushOrPark(Item(link)));
  EXPECT_TRUE(q.PushOrPark(Item(link)));
  EXPECT_FALSE(q.PushOrPark(Item(link)));  // 4th item reaches capacity: parked, not dropped
  EXPECT_EQ(q.depth(), 4u);
  EXPECT_EQ(q.parked(), 1u);
  IngestItem out;
  ASSERT_TRUE(q.Pop(&out, absl::ZeroDuration()));
  EXPECT_EQ(link->resumes, 0);  // 3 left > half
  ASSERT_TRUE(q.Pop(&out, absl::ZeroDuration()));
  EXPECT_EQ(link->resumes, 1);  // 2 left == half: resumed
  EXPECT_EQ(q.parked(), 0u);
}

TEST(IngestQueueTest, PushAlwaysIgnoresCapacity) {
  IngestQueue q(2);
  auto link = std::make_shared<RecordingLink>();
  for (int i = 0; i < 5; ++i) q.PushAlways(Item(link));
  EXPECT_EQ(q.depth(), 5u);
}

TEST(IngestQueueTest, PopTimesOutWhenEmptyAndStopsAfterShutdown) {
  IngestQueue q(2);
  IngestItem out;
  EXPECT_FALSE(q.Pop(&out, absl::Milliseconds(1)));
  q.Shutdown();
  EXPECT_FALSE(q.Pop(&out, absl::Seconds(10)));  // returns at once
}

TEST(IngestQueueTest, OldestEnqueuedCoversTheItemBeingProcessed) {
  IngestQueue q(8);
  auto link = std::make_shared<RecordingLink>();
  EXPECT_FALSE(q.OldestEnqueued().has_value());
  IngestItem a = Item(link);
  a.enqueued_at = absl::Seconds(10);
  IngestItem b = Item(link);
  b.enqueued_at = absl::Seconds(11);
  q.PushOrPark(std::move(a));
  q.PushOrPark(std::move(b));
  EXPECT_EQ(q.OldestEnqueued(), absl::Seconds(10));
  IngestItem popped;
  ASSERT_TRUE(q.Pop(&popped, absl::ZeroDuration()));
  EXPECT_EQ(q.OldestEnqueued(), absl::Seconds(10));  // popped but not done
  q.Done();
  EXPECT_EQ(q.OldestEnqueued(), absl::Seconds(11));
  ASSERT_TRUE(q.Pop(&popped, absl::ZeroDuration()));
  q.Done();
  EXPECT_FALSE(q.OldestEnqueued().has_value());
}

}  // namespace
}  // namespace accord::collector
