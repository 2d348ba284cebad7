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

IngestItem BigBatch(std::shared_ptr<StreamLink> link, size_t values) {
  IngestItem i;
  i.kind = IngestItem::Kind::kBatch;
  i.link = std::move(link);
  i.batch.values.assign(values, 1.0);
  i.batch.series_ids.assign(values, 1);
  return i;
}

TEST(IngestQueueTest, ApproxBytesCountsWhatTheItemPointsTo) {
  IngestItem small = Item(nullptr);
  IngestItem big = BigBatch(nullptr, 1000);
  EXPECT_GE(ApproxBytes(big), ApproxBytes(small) + 1000 * (sizeof(double) + sizeof(uint32_t)));
  SeriesDescriptor d;
  d.name = std::string(1000, 'x');
  d.labels.push_back({std::string(2000, 'n'), std::string(3000, 'v')});
  big.batch.new_series.push_back(d);
  EXPECT_GE(ApproxBytes(big), ApproxBytes(BigBatch(nullptr, 1000)) + 6000);
}

TEST(IngestQueueTest, ByteCapacityParksWhateverTheMessageCount) {
  IngestQueue q(/*capacity=*/1000, /*byte_capacity=*/64 << 10, /*stream_byte_limit=*/1 << 30);
  auto a = std::make_shared<RecordingLink>();
  auto b = std::make_shared<RecordingLink>();
  EXPECT_TRUE(q.PushOrPark(BigBatch(a, 2000)));   // ~24 KiB
  EXPECT_TRUE(q.PushOrPark(BigBatch(b, 2000)));   // ~48 KiB
  EXPECT_FALSE(q.PushOrPark(BigBatch(a, 2000)));  // ~72 KiB >= 64: parked, not dropped
  EXPECT_EQ(q.depth(), 3u);
  EXPECT_GE(q.bytes(), size_t{64} << 10);
  IngestItem out;
  ASSERT_TRUE(q.Pop(&out, absl::ZeroDuration()));
  EXPECT_EQ(a->resumes, 0);  // ~48 KiB left, above half the capacity
  ASSERT_TRUE(q.Pop(&out, absl::ZeroDuration()));
  EXPECT_EQ(a->resumes, 1);  // ~24 KiB: resumed
  ASSERT_TRUE(q.Pop(&out, absl::ZeroDuration()));
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(a->queued_bytes, 0u);
  EXPECT_EQ(b->queued_bytes, 0u);
}

TEST(IngestQueueTest, OneStreamAtItsByteLimitIsParkedAloneAndResumedAtHalf) {
  IngestQueue q(/*capacity=*/1000, /*byte_capacity=*/1 << 30, /*stream_byte_limit=*/40 << 10);
  auto greedy = std::make_shared<RecordingLink>();
  auto other = std::make_shared<RecordingLink>();
  EXPECT_TRUE(q.PushOrPark(BigBatch(greedy, 2000)));   // ~24 KiB
  EXPECT_FALSE(q.PushOrPark(BigBatch(greedy, 2000)));  // ~48 KiB >= 40: this stream waits
  EXPECT_EQ(q.parked(), 1u);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(q.PushOrPark(Item(other)));  // others go on
  IngestItem out;
  ASSERT_TRUE(q.Pop(&out, absl::ZeroDuration()));  // greedy's first: ~24 KiB left, above 20
  EXPECT_EQ(greedy->resumes, 0);
  ASSERT_TRUE(q.Pop(&out, absl::ZeroDuration()));  // greedy's second: nothing left
  EXPECT_EQ(greedy->resumes, 1);
  EXPECT_EQ(q.parked(), 0u);
  EXPECT_EQ(other->resumes, 0);
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
