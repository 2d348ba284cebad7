#include "agent/spool/alive_spans.h"

#include "gtest/gtest.h"

namespace accord::agent {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);

TEST(AliveSpansTest, HeartbeatsWithinTheGapExtendOneSpan) {
  AliveSpans spans(absl::Seconds(5), 100);
  for (int i = 0; i < 600; ++i) spans.Record(kT0 + absl::Seconds(i), 1);
  ASSERT_EQ(spans.spans().size(), 1u);
  EXPECT_EQ(spans.spans()[0], (AliveSpan{kT0, kT0 + absl::Seconds(599), 1}));
}

TEST(AliveSpansTest, GapOrNewBootOpensASpan) {
  AliveSpans spans(absl::Seconds(5), 100);
  spans.Record(kT0, 1);
  spans.Record(kT0 + absl::Seconds(5), 1);   // exactly max_gap: extends
  spans.Record(kT0 + absl::Seconds(11), 1);  // 6 s gap: new span
  spans.Record(kT0 + absl::Seconds(12), 2);  // reboot: new span
  ASSERT_EQ(spans.spans().size(), 3u);
  EXPECT_EQ(spans.spans()[0].last, kT0 + absl::Seconds(5));
  EXPECT_EQ(spans.spans()[1], (AliveSpan{kT0 + absl::Seconds(11), kT0 + absl::Seconds(11), 1}));
  EXPECT_EQ(spans.spans()[2].boot_time, 2);
}

TEST(AliveSpansTest, RepeatsChangeNothingAndAClockStepBackOpensASpan) {
  AliveSpans spans(absl::Seconds(5), 100);
  EXPECT_TRUE(spans.Record(kT0, 1));
  EXPECT_TRUE(spans.Record(kT0 + absl::Seconds(2), 1));
  EXPECT_FALSE(spans.Record(kT0 + absl::Seconds(1), 1));  // inside the span
  EXPECT_TRUE(spans.Record(kT0 - absl::Hours(1), 1));     // clock stepped back
  EXPECT_EQ(spans.spans().size(), 2u);
}

TEST(AliveSpansTest, AckRemovesCoveredSpansAndTrimsTheStraddlingOne) {
  AliveSpans spans(absl::Seconds(5), 100);
  spans.Record(kT0, 1);
  spans.Record(kT0 + absl::Seconds(3), 1);
  spans.Record(kT0 + absl::Seconds(20), 1);
  spans.Record(kT0 + absl::Seconds(24), 1);
  EXPECT_TRUE(spans.Ack(kT0 + absl::Seconds(22)));
  ASSERT_EQ(spans.spans().size(), 1u);
  EXPECT_EQ(spans.spans()[0], (AliveSpan{kT0 + absl::Seconds(22), kT0 + absl::Seconds(24), 1}));
  EXPECT_FALSE(spans.Ack(kT0));
  // Wholly acknowledged, the newest span stays as the point it was acknowledged at.
  EXPECT_TRUE(spans.Ack(kT0 + absl::Seconds(24)));
  ASSERT_EQ(spans.spans().size(), 1u);
  EXPECT_EQ(spans.spans()[0], (AliveSpan{kT0 + absl::Seconds(24), kT0 + absl::Seconds(24), 1}));
  EXPECT_FALSE(spans.Ack(kT0 + absl::Seconds(30)));  // nothing left to change
}

// The hole behind issue #4's "kill soon after a reconnect": the agent reconnects, its spans are
// acknowledged, and the collector dies before its next sighting is saved. The evidence must
// run on from the acknowledged point to the next heartbeat without a gap.
TEST(AliveSpansTest, AckKeepsTheNewestSpanAsAnAnchorTheNextHeartbeatExtends) {
  AliveSpans spans(absl::Seconds(5), 100);
  spans.Record(kT0, 1);
  spans.Record(kT0 + absl::Seconds(10), 1);  // a second span (after a gap)
  spans.Record(kT0 + absl::Seconds(12), 1);
  EXPECT_TRUE(spans.Ack(kT0 + absl::Seconds(12)));  // all of it held by the collector
  ASSERT_EQ(spans.spans().size(), 1u);
  EXPECT_EQ(spans.spans()[0], (AliveSpan{kT0 + absl::Seconds(12), kT0 + absl::Seconds(12), 1}));
  // The stream breaks 1.5 s later: that heartbeat extends the anchor, no hole before it.
  EXPECT_TRUE(spans.Record(kT0 + absl::Milliseconds(13500), 1));
  ASSERT_EQ(spans.spans().size(), 1u);
  EXPECT_EQ(spans.spans()[0],
            (AliveSpan{kT0 + absl::Seconds(12), kT0 + absl::Milliseconds(13500), 1}));
  // A heartbeat beyond max_gap, or from another boot, still opens a new span; a later ack
  // then removes the old anchor, which is no longer the newest.
  spans.Record(kT0 + absl::Seconds(30), 1);
  spans.Record(kT0 + absl::Seconds(31), 2);
  ASSERT_EQ(spans.spans().size(), 3u);
  EXPECT_TRUE(spans.Ack(kT0 + absl::Seconds(31)));
  ASSERT_EQ(spans.spans().size(), 1u);
  EXPECT_EQ(spans.spans()[0], (AliveSpan{kT0 + absl::Seconds(31), kT0 + absl::Seconds(31), 2}));
}

TEST(AliveSpansTest, AckBeforeTheNewestSpanLeavesItAlone) {
  AliveSpans spans(absl::Seconds(5), 100);
  spans.Record(kT0, 1);
  spans.Record(kT0 + absl::Seconds(20), 1);
  spans.Record(kT0 + absl::Seconds(22), 1);
  EXPECT_TRUE(spans.Ack(kT0 + absl::Seconds(1)));
  ASSERT_EQ(spans.spans().size(), 1u);
  EXPECT_EQ(spans.spans()[0], (AliveSpan{kT0 + absl::Seconds(20), kT0 + absl::Seconds(22), 1}));
}

TEST(AliveSpansTest, KeepsTheNewestMaxSpansAndCountsTheRest) {
  AliveSpans spans(absl::Seconds(1), 3);
  for (int i = 0; i < 5; ++i) spans.Record(kT0 + absl::Seconds(10 * i), 1);
  ASSERT_EQ(spans.spans().size(), 3u);
  EXPECT_EQ(spans.spans()[0].first, kT0 + absl::Seconds(20));
  EXPECT_EQ(spans.dropped(), 2u);
}

TEST(AliveSpansTest, TimesAreKeptInMilliseconds) {
  AliveSpans spans(absl::Seconds(5), 10);
  spans.Record(kT0 + absl::Microseconds(1500), 1);
  EXPECT_EQ(spans.spans()[0].first, kT0 + absl::Milliseconds(1));
}

}  // namespace
}  // namespace accord::agent
