#include "collector/availability/timeline.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/collector/availability/test_util.h"

namespace accord::collector::availability {
namespace {

using ::testing::ElementsAre;
using testing::Log;
using testing::T;
using testing::UpExcept;

struct Expected {
  std::string start;
  std::string end;
  Condition condition;
  std::string cause;
};

void ExpectSegments(const Timeline& t, const std::vector<Expected>& expected) {
  ASSERT_EQ(t.segments.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(t.segments[i].start, T(expected[i].start));
    EXPECT_EQ(t.segments[i].end, T(expected[i].end));
    EXPECT_EQ(t.segments[i].condition, expected[i].condition);
    if (expected[i].condition != Condition::kUp) {
      EXPECT_EQ(t.segments[i].cause, expected[i].cause);
    }
  }
}

constexpr auto kUp = Condition::kUp;
constexpr auto kDown = Condition::kDown;
constexpr auto kUnknown = Condition::kUnknown;

TEST(HostTimelineTest, StreamBrokenThenResumedIsAnUnknownGap) {
  auto log = Log({{"2026-04-01T00:00:00Z", HostState::kUp, "first_seen"},
                  {"2026-04-01T10:00:00Z", HostState::kUnreachable, "stream_broken"},
                  {"2026-04-01T10:05:00Z", HostState::kUp, "connected"}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-04-01T00:00:00Z"), T("2026-04-02T00:00:00Z"));
  ExpectSegments(t, {{"2026-04-01T00:00:00Z", "2026-04-01T10:00:00Z", kUp, ""},
                     {"2026-04-01T10:00:00Z", "2026-04-01T10:05:00Z", kUnknown, "stream_broken"},
                     {"2026-04-01T10:05:00Z", "2026-04-02T00:00:00Z", kUp, ""}});
  EXPECT_THAT(t.segments[1].not_up, ElementsAre(0u));
  EXPECT_THAT(t.component_ids, ElementsAre("h1"));
}

TEST(HostTimelineTest, GapEndedByARebootIsDownUntilTheFirstMessageAfterBoot) {
  // Stream broke at 10:00; it came back at 10:07 with a new boot time: down 10:00-10:07.
  auto log = Log({{"2026-04-01T00:00:00Z", HostState::kUp, "first_seen", 1000},
                  {"2026-04-01T10:00:00Z", HostState::kUnreachable, "stream_broken", 1000},
                  {"2026-04-01T10:07:00Z", HostState::kUp, "reboot", 5000}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-04-01T00:00:00Z"), T("2026-04-01T12:00:00Z"));
  ExpectSegments(t, {{"2026-04-01T00:00:00Z", "2026-04-01T10:00:00Z", kUp, ""},
                     {"2026-04-01T10:00:00Z", "2026-04-01T10:07:00Z", kDown, "reboot"},
                     {"2026-04-01T10:07:00Z", "2026-04-01T12:00:00Z", kUp, ""}});
}

TEST(HostTimelineTest, HeartbeatTimeoutThenConnectedWithSameBootIsUnknown) {
  auto log = Log({{"2026-04-01T00:00:00Z", HostState::kUp, "first_seen"},
                  {"2026-04-01T10:00:00Z", HostState::kUnreachable, "heartbeat_timeout"},
                  {"2026-04-01T10:30:00Z", HostState::kUp, "connected"}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-04-01T00:00:00Z"), T("2026-04-01T12:00:00Z"));
  ExpectSegments(t,
                 {{"2026-04-01T00:00:00Z", "2026-04-01T10:00:00Z", kUp, ""},
                  {"2026-04-01T10:00:00Z", "2026-04-01T10:30:00Z", kUnknown, "heartbeat_timeout"},
                  {"2026-04-01T10:30:00Z", "2026-04-01T12:00:00Z", kUp, ""}});
}

TEST(HostTimelineTest, AgentStoppedThenReconnectIsUnknownButThenRebootIsDown) {
  auto log = Log({{"2026-04-01T00:00:00Z", HostState::kUp, "first_seen", 1000},
                  {"2026-04-01T02:00:00Z", HostState::kStopped, "agent_stopping", 1000},
                  {"2026-04-01T02:10:00Z", HostState::kUp, "connected", 1000},
                  {"2026-04-01T03:00:00Z", HostState::kStopped, "agent_stopping", 1000},
                  {"2026-04-01T03:20:00Z", HostState::kUp, "reboot", 9000}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-04-01T00:00:00Z"), T("2026-04-01T04:00:00Z"));
  ExpectSegments(t, {{"2026-04-01T00:00:00Z", "2026-04-01T02:00:00Z", kUp, ""},
                     {"2026-04-01T02:00:00Z", "2026-04-01T02:10:00Z", kUnknown, "agent_stopped"},
                     {"2026-04-01T02:10:00Z", "2026-04-01T03:00:00Z", kUp, ""},
                     {"2026-04-01T03:00:00Z", "2026-04-01T03:20:00Z", kDown, "reboot"},
                     {"2026-04-01T03:20:00Z", "2026-04-01T04:00:00Z", kUp, ""}});
}

TEST(HostTimelineTest, HostShutdownStaysDownUntilTheRebootTransition) {
  auto log = Log({{"2026-04-01T00:00:00Z", HostState::kUp, "first_seen", 1000},
                  {"2026-04-01T01:00:00Z", HostState::kDown, "host_shutdown", 1000},
                  {"2026-04-01T01:45:00Z", HostState::kUp, "reboot", 7000}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-04-01T00:00:00Z"), T("2026-04-01T02:00:00Z"));
  ExpectSegments(t, {{"2026-04-01T00:00:00Z", "2026-04-01T01:00:00Z", kUp, ""},
                     {"2026-04-01T01:00:00Z", "2026-04-01T01:45:00Z", kDown, "host_shutdown"},
                     {"2026-04-01T01:45:00Z", "2026-04-01T02:00:00Z", kUp, ""}});
}

TEST(HostTimelineTest, TimeBeforeFirstSeenIsNotMonitoredAndATruncatedLogIsNoData) {
  auto first_seen = Log({{"2026-04-10T00:00:00Z", HostState::kUp, "first_seen"}});
  ExpectSegments(
      BuildHostTimeline("h1", first_seen, T("2026-04-01T00:00:00Z"), T("2026-04-11T00:00:00Z")),
      {{"2026-04-01T00:00:00Z", "2026-04-10T00:00:00Z", kUnknown, "not_monitored"},
       {"2026-04-10T00:00:00Z", "2026-04-11T00:00:00Z", kUp, ""}});
  auto truncated = Log({{"2026-04-10T00:00:00Z", HostState::kUp, "connected"}});
  ExpectSegments(
      BuildHostTimeline("h1", truncated, T("2026-04-01T00:00:00Z"), T("2026-04-11T00:00:00Z")),
      {{"2026-04-01T00:00:00Z", "2026-04-10T00:00:00Z", kUnknown, "no_data"},
       {"2026-04-10T00:00:00Z", "2026-04-11T00:00:00Z", kUp, ""}});
  ExpectSegments(BuildHostTimeline("h1", {}, T("2026-04-01T00:00:00Z"), T("2026-04-02T00:00:00Z")),
                 {{"2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z", kUnknown, "no_data"}});
}

TEST(HostTimelineTest, StateBeforeTheRangeCarriesIntoItAndLaterTransitionsAreCut) {
  // Unreachable since March 31 23:00, reboot at April 1 00:30: the April range starts down.
  auto log = Log({{"2026-03-01T00:00:00Z", HostState::kUp, "first_seen", 1000},
                  {"2026-03-31T23:00:00Z", HostState::kUnreachable, "stream_broken", 1000},
                  {"2026-04-01T00:30:00Z", HostState::kUp, "reboot", 2000},
                  {"2026-04-01T05:00:00Z", HostState::kUnreachable, "heartbeat_timeout", 2000}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-04-01T00:00:00Z"), T("2026-04-01T02:00:00Z"));
  ExpectSegments(t, {{"2026-04-01T00:00:00Z", "2026-04-01T00:30:00Z", kDown, "reboot"},
                     {"2026-04-01T00:30:00Z", "2026-04-01T02:00:00Z", kUp, ""}});
}

TEST(HostTimelineTest, ARebootAfterTheRangeStillMakesTheGapDown) {
  // Re-evaluating March after the fact: the gap from March 31 23:00 ended with a reboot in
  // April, so the last hour of March is down, not unknown.
  auto log = Log({{"2026-03-01T00:00:00Z", HostState::kUp, "first_seen", 1000},
                  {"2026-03-31T23:00:00Z", HostState::kUnreachable, "stream_broken", 1000},
                  {"2026-04-01T00:30:00Z", HostState::kUp, "reboot", 2000}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-03-31T00:00:00Z"), T("2026-04-01T00:00:00Z"));
  ExpectSegments(t, {{"2026-03-31T00:00:00Z", "2026-03-31T23:00:00Z", kUp, ""},
                     {"2026-03-31T23:00:00Z", "2026-04-01T00:00:00Z", kDown, "reboot"}});
}

TEST(HostTimelineTest, UnsortedLogIsSortedFirst) {
  auto log = Log({{"2026-04-01T10:00:00Z", HostState::kUnreachable, "stream_broken"},
                  {"2026-04-01T00:00:00Z", HostState::kUp, "first_seen"},
                  {"2026-04-01T10:05:00Z", HostState::kUp, "connected"}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-04-01T00:00:00Z"), T("2026-04-01T11:00:00Z"));
  ExpectSegments(t, {{"2026-04-01T00:00:00Z", "2026-04-01T10:00:00Z", kUp, ""},
                     {"2026-04-01T10:00:00Z", "2026-04-01T10:05:00Z", kUnknown, "stream_broken"},
                     {"2026-04-01T10:05:00Z", "2026-04-01T11:00:00Z", kUp, ""}});
}

TEST(HostTimelineTest, AdjacentUpSegmentsMerge) {
  // connected → resumed with no gap in between is one Up segment.
  auto log = Log({{"2026-04-01T00:00:00Z", HostState::kUp, "first_seen"},
                  {"2026-04-01T01:00:00Z", HostState::kUnreachable, "heartbeat_timeout"},
                  {"2026-04-01T01:00:00Z", HostState::kUp, "resumed"}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-04-01T00:00:00Z"), T("2026-04-01T02:00:00Z"));
  ExpectSegments(t, {{"2026-04-01T00:00:00Z", "2026-04-01T02:00:00Z", kUp, ""}});
}

// --- Combination ---------------------------------------------------------------------------

const char* kFrom = "2026-04-01T10:00:00Z";
const char* kTo = "2026-04-01T12:00:00Z";

TEST(CombineTimelinesTest, AllOfThreeIsDownWhenAnyIsDownAndRemembersWhich) {
  // A down 10:10-10:20 (stream_broken), B down 10:15-10:30 (reboot), C unknown 11:00-11:05.
  Timeline a = UpExcept("a", kFrom, kTo, {{"2026-04-01T10:10:00Z", "2026-04-01T10:20:00Z"}});
  Timeline b = UpExcept("b", kFrom, kTo,
                        {{"2026-04-01T10:15:00Z", "2026-04-01T10:30:00Z", kDown, "reboot"}});
  Timeline c =
      UpExcept("c", kFrom, kTo,
               {{"2026-04-01T11:00:00Z", "2026-04-01T11:05:00Z", kUnknown, "heartbeat_timeout"}});
  const Timeline* parts[] = {&a, &b, &c};
  absl::StatusOr<Timeline> s = CombineTimelines("svc", parts, {AvailabilityRule::Kind::kAll});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->component_ids, ElementsAre("a", "b", "c"));
  // 10:15-10:20 both down; the cause stays A's (not up the longest).
  ExpectSegments(*s,
                 {{kFrom, "2026-04-01T10:10:00Z", kUp, ""},
                  {"2026-04-01T10:10:00Z", "2026-04-01T10:15:00Z", kDown, "stream_broken"},
                  {"2026-04-01T10:15:00Z", "2026-04-01T10:20:00Z", kDown, "stream_broken"},
                  {"2026-04-01T10:20:00Z", "2026-04-01T10:30:00Z", kDown, "reboot"},
                  {"2026-04-01T10:30:00Z", "2026-04-01T11:00:00Z", kUp, ""},
                  {"2026-04-01T11:00:00Z", "2026-04-01T11:05:00Z", kUnknown, "heartbeat_timeout"},
                  {"2026-04-01T11:05:00Z", kTo, kUp, ""}});
  EXPECT_THAT(s->segments[1].not_up, ElementsAre(0u));
  EXPECT_THAT(s->segments[2].not_up, ElementsAre(0u, 1u));
  EXPECT_THAT(s->segments[3].not_up, ElementsAre(1u));
  EXPECT_THAT(s->segments[5].not_up, ElementsAre(2u));
}

TEST(CombineTimelinesTest, AnyOfTwoIsDownOnlyWhileBothAreDown) {
  // A down 10:00-11:00, B down 10:30-11:30 → service down 10:30-11:00 only.
  Timeline a = UpExcept("a", kFrom, kTo, {{"2026-04-01T10:00:00Z", "2026-04-01T11:00:00Z"}});
  Timeline b = UpExcept("b", kFrom, kTo, {{"2026-04-01T10:30:00Z", "2026-04-01T11:30:00Z"}});
  const Timeline* parts[] = {&a, &b};
  absl::StatusOr<Timeline> s = CombineTimelines("svc", parts, {AvailabilityRule::Kind::kAny});
  ASSERT_TRUE(s.ok());
  ExpectSegments(*s, {{kFrom, "2026-04-01T10:30:00Z", kUp, ""},
                      {"2026-04-01T10:30:00Z", "2026-04-01T11:00:00Z", kDown, "stream_broken"},
                      {"2026-04-01T11:00:00Z", kTo, kUp, ""}});
  EXPECT_THAT(s->segments[1].not_up, ElementsAre(0u, 1u));
}

TEST(CombineTimelinesTest, AnyOfTwoWithOneDownAndOneUnknownIsUnknown) {
  Timeline a = UpExcept("a", kFrom, kTo, {{"2026-04-01T10:00:00Z", "2026-04-01T11:00:00Z"}});
  Timeline b =
      UpExcept("b", kFrom, kTo,
               {{"2026-04-01T10:30:00Z", "2026-04-01T11:30:00Z", kUnknown, "heartbeat_timeout"}});
  const Timeline* parts[] = {&a, &b};
  absl::StatusOr<Timeline> s = CombineTimelines("svc", parts, {AvailabilityRule::Kind::kAny});
  ASSERT_TRUE(s.ok());
  ExpectSegments(*s, {{kFrom, "2026-04-01T10:30:00Z", kUp, ""},
                      {"2026-04-01T10:30:00Z", "2026-04-01T11:00:00Z", kUnknown, "stream_broken"},
                      {"2026-04-01T11:00:00Z", kTo, kUp, ""}});
}

TEST(CombineTimelinesTest, TwoOfThreeCountsOnlyTheOverlapOfTwoFailures) {
  // A down 10:00-10:30, B down 10:20-10:50, C unknown 10:40-11:00.
  //   10:20-10:30: up = {C} → 1 < 2, up+unknown = 1 < 2 → Down.
  //   10:40-10:50: up = {A}, unknown = {C} → 1 + 1 = 2, not < 2 → Unknown.
  Timeline a = UpExcept("a", kFrom, kTo, {{"2026-04-01T10:00:00Z", "2026-04-01T10:30:00Z"}});
  Timeline b = UpExcept("b", kFrom, kTo,
                        {{"2026-04-01T10:20:00Z", "2026-04-01T10:50:00Z", kDown, "reboot"}});
  Timeline c =
      UpExcept("c", kFrom, kTo,
               {{"2026-04-01T10:40:00Z", "2026-04-01T11:00:00Z", kUnknown, "heartbeat_timeout"}});
  const Timeline* parts[] = {&a, &b, &c};
  absl::StatusOr<Timeline> s =
      CombineTimelines("svc", parts, {AvailabilityRule::Kind::kAtLeast, 2});
  ASSERT_TRUE(s.ok());
  ExpectSegments(*s, {{kFrom, "2026-04-01T10:20:00Z", kUp, ""},
                      {"2026-04-01T10:20:00Z", "2026-04-01T10:30:00Z", kDown, "stream_broken"},
                      {"2026-04-01T10:30:00Z", "2026-04-01T10:40:00Z", kUp, ""},
                      {"2026-04-01T10:40:00Z", "2026-04-01T10:50:00Z", kUnknown, "reboot"},
                      {"2026-04-01T10:50:00Z", kTo, kUp, ""}});
  EXPECT_THAT(s->segments[1].not_up, ElementsAre(0u, 1u));
  EXPECT_THAT(s->segments[3].not_up, ElementsAre(1u, 2u));
}

TEST(CombineTimelinesTest, ComponentsWithShorterRangesCountAsNoData) {
  Timeline a = UpExcept("a", kFrom, kTo, {});
  Timeline b = UpExcept("b", "2026-04-01T11:00:00Z", kTo, {});
  const Timeline* parts[] = {&a, &b};
  absl::StatusOr<Timeline> s = CombineTimelines("svc", parts, {AvailabilityRule::Kind::kAll});
  ASSERT_TRUE(s.ok());
  ExpectSegments(*s, {{kFrom, "2026-04-01T11:00:00Z", kUnknown, "no_data"},
                      {"2026-04-01T11:00:00Z", kTo, kUp, ""}});
}

TEST(CombineTimelinesTest, RejectsBadRules) {
  Timeline a = UpExcept("a", kFrom, kTo, {});
  const Timeline* parts[] = {&a};
  EXPECT_EQ(CombineTimelines("svc", parts, {AvailabilityRule::Kind::kAtLeast, 2}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CombineTimelines("svc", parts, {AvailabilityRule::Kind::kAtLeast, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CombineTimelines("svc", {}, {AvailabilityRule::Kind::kAll}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ClipTimelineTest, CutsToTheRangeAndKeepsTheInvariants) {
  Timeline t =
      BuildHostTimeline("h",
                        Log({{"2026-03-02T10:00:00Z", HostState::kUp, "first_seen"},
                             {"2026-03-02T11:00:00Z", HostState::kUnreachable, "stream_broken"},
                             {"2026-03-02T12:00:00Z", HostState::kUp, "connected"}}),
                        T("2026-03-02T09:00:00Z"), T("2026-03-02T13:00:00Z"));
  ASSERT_EQ(t.segments.size(), 4u);
  ClipTimeline(&t, T("2026-03-02T10:30:00Z"), T("2026-03-02T11:30:00Z"));
  EXPECT_EQ(t.start, T("2026-03-02T10:30:00Z"));
  EXPECT_EQ(t.end, T("2026-03-02T11:30:00Z"));
  ASSERT_EQ(t.segments.size(), 2u);
  EXPECT_EQ(t.segments[0].start, T("2026-03-02T10:30:00Z"));
  EXPECT_EQ(t.segments[0].condition, Condition::kUp);
  EXPECT_EQ(t.segments[0].end, t.segments[1].start);
  EXPECT_EQ(t.segments[1].condition, Condition::kUnknown);
  EXPECT_EQ(t.segments[1].end, T("2026-03-02T11:30:00Z"));
  // A range outside the timeline leaves it empty; a wider one changes nothing.
  Timeline outside = t;
  ClipTimeline(&outside, T("2026-03-03T00:00:00Z"), T("2026-03-03T01:00:00Z"));
  EXPECT_TRUE(outside.segments.empty());
  EXPECT_EQ(outside.start, outside.end);
  Timeline wider = t;
  ClipTimeline(&wider, T("2026-03-01T00:00:00Z"), T("2026-03-04T00:00:00Z"));
  EXPECT_EQ(wider.segments.size(), 2u);
  EXPECT_EQ(wider.start, t.start);
  EXPECT_EQ(wider.end, t.end);
}

}  // namespace
}  // namespace accord::collector::availability
