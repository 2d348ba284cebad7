#include "agent/transport/spool.h"

#include "gtest/gtest.h"

namespace accord::agent {
namespace {

PendingBatch Batch(uint64_t seq, size_t n) {
  PendingBatch b;
  b.sequence = seq;
  b.series_ids.assign(n, 0);
  b.values.assign(n, 1.0);
  return b;
}

TEST(MemorySpoolTest, AckRemovesCumulatively) {
  MemorySpool spool(1 << 20);
  for (uint64_t s = 1; s <= 5; ++s) spool.Append(Batch(s, 10));
  PendingBatch out;
  ASSERT_TRUE(spool.NextAfter(0, &out));
  EXPECT_EQ(out.sequence, 1u);
  ASSERT_TRUE(spool.NextAfter(3, &out));
  EXPECT_EQ(out.sequence, 4u);
  spool.Ack(3);
  SpoolStats st = spool.Stats();
  EXPECT_EQ(st.batches, 2u);
  EXPECT_EQ(st.acked_samples, 30u);
  ASSERT_TRUE(spool.NextAfter(0, &out));
  EXPECT_EQ(out.sequence, 4u);
  EXPECT_FALSE(spool.NextAfter(5, &out));
}

TEST(MemorySpoolTest, FullSpoolDropsOldestAndCounts) {
  size_t one = Batch(1, 100).ByteSize();
  MemorySpool spool(one * 3);
  for (uint64_t s = 1; s <= 5; ++s) spool.Append(Batch(s, 100));
  SpoolStats st = spool.Stats();
  EXPECT_EQ(st.batches, 3u);
  EXPECT_EQ(st.dropped_batches, 2u);
  EXPECT_EQ(st.dropped_samples, 200u);
  PendingBatch out;
  ASSERT_TRUE(spool.NextAfter(0, &out));
  EXPECT_EQ(out.sequence, 3u);  // newest kept
}

TEST(MemorySpoolTest, RejectDropsOneBatch) {
  MemorySpool spool(1 << 20);
  for (uint64_t s = 1; s <= 3; ++s) spool.Append(Batch(s, 10));
  spool.Reject(2);
  SpoolStats st = spool.Stats();
  EXPECT_EQ(st.batches, 2u);
  EXPECT_EQ(st.dropped_samples, 10u);
  PendingBatch out;
  ASSERT_TRUE(spool.NextAfter(1, &out));
  EXPECT_EQ(out.sequence, 3u);
}

}  // namespace
}  // namespace accord::agent
