#include "collector/availability/backfill.h"

#include "collector/availability/evaluation.h"
#include "gtest/gtest.h"
#include "tests/collector/availability/test_util.h"

namespace accord::collector::availability {
namespace {

using testing::Log;
using testing::Secs;
using testing::T;

// A host up at 10:00, unreachable (stream broken) at 11:00, back at 12:00 with the same boot.
std::vector<Transition> PartitionLog() {
  return Log({{"2026-03-02T10:00:00Z", HostState::kUp, "first_seen"},
              {"2026-03-02T11:00:00Z", HostState::kUnreachable, "stream_broken"},
              {"2026-03-02T12:00:00Z", HostState::kUp, "connected"}});
}

TEST(BackfillTest, AliveSpansTurnAPartitionGapIntoUptime) {
  Timeline t =
      BuildHostTimeline("h", PartitionLog(), T("2026-03-02T10:00:00Z"), T("2026-03-02T13:00:00Z"));
  // Evidence for 11:00-11:59:59 (the last heartbeat before reconnecting).
  OverlayAlive(&t, {Interval{T("2026-03-02T11:00:00Z"), T("2026-03-02T11:59:59Z")}});
  // Left: one second of Unknown (11:59:59-12:00:00) between evidence and the reconnect.
  ASSERT_EQ(t.segments.size(), 3u);
  EXPECT_EQ(t.segments[0].condition, Condition::kUp);
  EXPECT_EQ(t.segments[0].end, T("2026-03-02T11:59:59Z"));
  EXPECT_EQ(t.segments[1].condition, Condition::kUnknown);
  EXPECT_EQ(Secs(t.segments[1].end - t.segments[1].start), 1.0);
  EXPECT_EQ(t.segments[2].condition, Condition::kUp);
}

TEST(BackfillTest, BackfilledHostHasNoDowntimeUnderTheDownPolicy) {
  Timeline t =
      BuildHostTimeline("h", PartitionLog(), T("2026-03-02T00:00:00Z"), T("2026-03-02T13:00:00Z"));
  OverlayAlive(&t, {Interval{T("2026-03-02T10:59:59Z"), T("2026-03-02T12:00:00Z")}});
  SlaTerms terms;
  terms.target = 0.99;
  terms.unknown_policy = UnknownPolicy::kDown;
  terms.burn_windows = {absl::Minutes(5)};
  ServiceHours always;
  auto e =
      Evaluate(t, always, {}, terms, Interval{T("2026-03-02T10:00:00Z"), T("2026-03-02T13:00:00Z")},
               T("2026-03-02T13:00:00Z"));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(Secs(e->downtime), 0.0);
  EXPECT_TRUE(e->incidents.empty());
  EXPECT_EQ(e->availability, 1.0);
}

TEST(BackfillTest, RebootGapIsUpOnlyWhereEvidenceCoversIt) {
  // Unreachable at 11:00; evidence (old boot) until 11:30; reboot seen at 12:00.
  auto log = Log({{"2026-03-02T10:00:00Z", HostState::kUp, "first_seen", 1000},
                  {"2026-03-02T11:00:00Z", HostState::kUnreachable, "stream_broken", 1000},
                  {"2026-03-02T12:00:00Z", HostState::kUp, "reboot", 2000}});
  Timeline t = BuildHostTimeline("h", log, T("2026-03-02T10:00:00Z"), T("2026-03-02T13:00:00Z"));
  OverlayAlive(&t, {Interval{T("2026-03-02T11:00:00Z"), T("2026-03-02T11:30:00Z")}});
  ASSERT_EQ(t.segments.size(), 3u);
  EXPECT_EQ(t.segments[1].condition, Condition::kDown);
  EXPECT_EQ(t.segments[1].cause, "reboot");
  EXPECT_EQ(t.segments[1].start, T("2026-03-02T11:30:00Z"));
  EXPECT_EQ(t.segments[1].end, T("2026-03-02T12:00:00Z"));
}

TEST(BackfillTest, AnnouncedShutdownAndUnmonitoredTimeAreNotRewritten) {
  auto log = Log({{"2026-03-02T10:00:00Z", HostState::kUp, "first_seen"},
                  {"2026-03-02T11:00:00Z", HostState::kDown, "host_shutdown"},
                  {"2026-03-02T12:00:00Z", HostState::kUp, "connected"}});
  Timeline t = BuildHostTimeline("h", log, T("2026-03-02T09:00:00Z"), T("2026-03-02T13:00:00Z"));
  Timeline before = t;
  OverlayAlive(&t, {Interval{T("2026-03-02T09:00:00Z"), T("2026-03-02T13:00:00Z")}});
  ASSERT_EQ(t.segments.size(), before.segments.size());
  for (size_t i = 0; i < t.segments.size(); ++i) {
    if (before.segments[i].condition == Condition::kUp) continue;
    EXPECT_EQ(t.segments[i].condition, before.segments[i].condition) << i;
  }
}

}  // namespace
}  // namespace accord::collector::availability

namespace accord::collector::availability {
namespace {

TEST(BackfillBridgeTest, TheSeamBeforeAReconnectIsBridgedButRealGapsAreNot) {
  auto log = testing::Log({{"2026-03-02T10:00:00Z", HostState::kUp, "first_seen"},
                           {"2026-03-02T11:00:00Z", HostState::kUnreachable, "stream_broken"},
                           {"2026-03-02T12:00:00Z", HostState::kUp, "connected"}});
  // Evidence ends 0.5 s before the reconnect: bridged.
  Timeline t = BuildHostTimeline("h", log, testing::T("2026-03-02T10:00:00Z"),
                                 testing::T("2026-03-02T13:00:00Z"));
  OverlayAlive(&t,
               {Interval{testing::T("2026-03-02T11:00:00Z"), testing::T("2026-03-02T11:59:59.5Z")}},
               absl::Seconds(2));
  ASSERT_EQ(t.segments.size(), 1u);
  EXPECT_EQ(t.segments[0].condition, Condition::kUp);
  // Evidence ends 10 s before: a real gap stays.
  Timeline u = BuildHostTimeline("h", log, testing::T("2026-03-02T10:00:00Z"),
                                 testing::T("2026-03-02T13:00:00Z"));
  OverlayAlive(&u,
               {Interval{testing::T("2026-03-02T11:00:00Z"), testing::T("2026-03-02T11:59:50Z")}},
               absl::Seconds(2));
  ASSERT_EQ(u.segments.size(), 3u);
  EXPECT_EQ(u.segments[1].condition, Condition::kUnknown);
}

// The range of a query can end inside the seam: the reconnect is after `to`. The seam is
// judged on the log around the range (found by test_continuity, where `to`, truncated to the
// second, fell 83 ms before the reconnect and the 15 ms of seam inside the range counted as
// an incident).
TEST(BackfillBridgeTest, ARangeEndingOrBeginningInsideTheSeamIsBridgedToo) {
  auto log = testing::Log({{"2026-03-02T10:00:00Z", HostState::kUp, "first_seen"},
                           {"2026-03-02T11:00:00Z", HostState::kUnreachable, "stream_broken"},
                           {"2026-03-02T12:00:00Z", HostState::kUp, "connected"}});
  const std::vector<Interval> alive = {
      Interval{testing::T("2026-03-02T11:00:00Z"), testing::T("2026-03-02T11:59:59.5Z")}};
  // The plain overlay of a range cut inside the seam sees no Up after it: Unknown is left.
  Timeline plain = BuildHostTimeline("h", log, testing::T("2026-03-02T10:00:00Z"),
                                     testing::T("2026-03-02T11:59:59.8Z"));
  OverlayAlive(&plain, alive, absl::Seconds(2));
  ASSERT_EQ(plain.segments.size(), 2u);
  EXPECT_EQ(plain.segments[1].condition, Condition::kUnknown);

  Timeline ends =
      BuildBackfilledHostTimeline("h", log, alive, testing::T("2026-03-02T10:00:00Z"),
                                  testing::T("2026-03-02T11:59:59.8Z"), absl::Seconds(2));
  ASSERT_EQ(ends.segments.size(), 1u);
  EXPECT_EQ(ends.segments[0].condition, Condition::kUp);
  EXPECT_EQ(ends.start, testing::T("2026-03-02T10:00:00Z"));
  EXPECT_EQ(ends.end, testing::T("2026-03-02T11:59:59.8Z"));
  EXPECT_EQ(ends.segments[0].end, ends.end);

  Timeline begins =
      BuildBackfilledHostTimeline("h", log, alive, testing::T("2026-03-02T11:59:59.7Z"),
                                  testing::T("2026-03-02T13:00:00Z"), absl::Seconds(2));
  ASSERT_EQ(begins.segments.size(), 1u);
  EXPECT_EQ(begins.segments[0].condition, Condition::kUp);
  EXPECT_EQ(begins.segments[0].start, testing::T("2026-03-02T11:59:59.7Z"));
  EXPECT_EQ(begins.segments[0].end, testing::T("2026-03-02T13:00:00Z"));
}

TEST(BackfillBridgeTest, WideningTheRangeBridgesNoRealGapAndNoOngoingOne) {
  // Evidence ends 10 s before the reconnect; the range ends 5 s into that gap.
  auto log = testing::Log({{"2026-03-02T10:00:00Z", HostState::kUp, "first_seen"},
                           {"2026-03-02T11:00:00Z", HostState::kUnreachable, "stream_broken"},
                           {"2026-03-02T12:00:00Z", HostState::kUp, "connected"}});
  Timeline gap = BuildBackfilledHostTimeline(
      "h", log, {Interval{testing::T("2026-03-02T11:00:00Z"), testing::T("2026-03-02T11:59:50Z")}},
      testing::T("2026-03-02T10:00:00Z"), testing::T("2026-03-02T11:59:55Z"), absl::Seconds(2));
  ASSERT_EQ(gap.segments.size(), 2u);
  EXPECT_EQ(gap.segments[1].condition, Condition::kUnknown);
  EXPECT_EQ(gap.segments[1].end, testing::T("2026-03-02T11:59:55Z"));
  // No reconnect yet: the seam after the evidence is not bridged, however short.
  auto open = testing::Log({{"2026-03-02T10:00:00Z", HostState::kUp, "first_seen"},
                            {"2026-03-02T11:00:00Z", HostState::kUnreachable, "stream_broken"}});
  Timeline ongoing = BuildBackfilledHostTimeline(
      "h", open,
      {Interval{testing::T("2026-03-02T11:00:00Z"), testing::T("2026-03-02T11:59:59.5Z")}},
      testing::T("2026-03-02T10:00:00Z"), testing::T("2026-03-02T11:59:59.8Z"), absl::Seconds(2));
  ASSERT_EQ(ongoing.segments.size(), 2u);
  EXPECT_EQ(ongoing.segments[1].condition, Condition::kUnknown);
}

}  // namespace
}  // namespace accord::collector::availability
