#include "collector/ingest/ingest_queue.h"

#include "gtest/gtest.h"

namespace accord::collector {
namespace {

class RecordingLink : public StreamLink {
 public:
  void SendAck(uint64_t sequence) override { acks.push_back(sequence); }
  void Finish(const absl::Status& status, uint64_t rejected) override {
    finished_with = status;
    rejected_sequence = rejected;
    ++finishes;
  }
  void ResumeReading() override { ++resumes; }
  std::vector<uint64_t> acks;
  absl::Status finished_with;
  uint64_t rejected_sequence = 0;
  int finishes = 0;
  int resumes = 0;
};

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

}  // namespace
}  // namespace accord::collector
