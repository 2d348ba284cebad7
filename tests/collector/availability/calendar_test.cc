#include "collector/availability/calendar.h"

#include "gtest/gtest.h"
#include "tests/collector/availability/test_util.h"

namespace accord::collector::availability {
namespace {

using testing::T;

PeriodSpec Spec(PeriodSpec::Kind kind, const std::string& zone = "UTC") {
  PeriodSpec spec;
  spec.kind = kind;
  spec.time_zone = zone;
  return spec;
}

Interval Range(const std::string& a, const std::string& b) { return {T(a), T(b)}; }

TEST(PeriodBoundsTest, CalendarMonthInUtc) {
  // April 2026: 30 days = 720 h.
  auto p = PeriodBounds(Spec(PeriodSpec::Kind::kMonth), T("2026-04-15T12:00:00Z"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, Range("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"));
  EXPECT_EQ(p->length(), absl::Hours(720));
}

TEST(PeriodBoundsTest, MarchInLondonHas743HoursAndOctober745) {
  // Clocks go forward on Sunday 29 March 2026 01:00 UTC: March starts at 00:00 GMT (00:00Z)
  // and ends at 1 April 00:00 BST (31 March 23:00Z): 31 × 24 − 1 = 743 h.
  auto march =
      PeriodBounds(Spec(PeriodSpec::Kind::kMonth, "Europe/London"), T("2026-03-29T12:00:00Z"));
  ASSERT_TRUE(march.ok());
  EXPECT_EQ(*march, Range("2026-03-01T00:00:00Z", "2026-03-31T23:00:00Z"));
  EXPECT_EQ(march->length(), absl::Hours(743));
  // Back on Sunday 25 October 2026: 1 October 00:00 BST (30 Sep 23:00Z) to 1 November 00:00
  // GMT: 31 × 24 + 1 = 745 h.
  auto october =
      PeriodBounds(Spec(PeriodSpec::Kind::kMonth, "Europe/London"), T("2026-10-10T00:00:00Z"));
  ASSERT_TRUE(october.ok());
  EXPECT_EQ(*october, Range("2026-09-30T23:00:00Z", "2026-11-01T00:00:00Z"));
  EXPECT_EQ(october->length(), absl::Hours(745));
}

TEST(PeriodBoundsTest, MonthStartsAtLocalMidnightOfTheZone) {
  // Tokyo is UTC+9 all year: April 2026 starts at 31 March 15:00Z. 2026-03-31T16:00Z is
  // already 1 April 01:00 in Tokyo.
  auto p = PeriodBounds(Spec(PeriodSpec::Kind::kMonth, "Asia/Tokyo"), T("2026-03-31T16:00:00Z"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, Range("2026-03-31T15:00:00Z", "2026-04-30T15:00:00Z"));
}

TEST(PeriodBoundsTest, FebruaryOfLeapAndCommonYears) {
  // 2028 is a leap year: 29 × 24 = 696 h; 2027 is not: 28 × 24 = 672 h.
  auto leap = PeriodBounds(Spec(PeriodSpec::Kind::kMonth), T("2028-02-29T23:59:59Z"));
  ASSERT_TRUE(leap.ok());
  EXPECT_EQ(*leap, Range("2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"));
  EXPECT_EQ(leap->length(), absl::Hours(696));
  auto common = PeriodBounds(Spec(PeriodSpec::Kind::kMonth), T("2027-02-10T00:00:00Z"));
  ASSERT_TRUE(common.ok());
  EXPECT_EQ(common->length(), absl::Hours(672));
}

TEST(PeriodBoundsTest, QuartersAndTheirPredecessors) {
  // 20 May 2026 is in Q2: April 30 + May 31 + June 30 = 91 days.
  auto q2 = PeriodBounds(Spec(PeriodSpec::Kind::kQuarter), T("2026-05-20T00:00:00Z"));
  ASSERT_TRUE(q2.ok());
  EXPECT_EQ(*q2, Range("2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z"));
  EXPECT_EQ(q2->length(), absl::Hours(91 * 24));
  // Q1 2026: 31 + 28 + 31 = 90 days.
  auto q1 = PreviousPeriod(Spec(PeriodSpec::Kind::kQuarter), T("2026-05-20T00:00:00Z"));
  ASSERT_TRUE(q1.ok());
  EXPECT_EQ(*q1, Range("2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z"));
  EXPECT_EQ(q1->length(), absl::Hours(90 * 24));
  // Before Q1 2026 comes Q4 2025: 31 + 30 + 31 = 92 days.
  auto q4 = PreviousPeriod(Spec(PeriodSpec::Kind::kQuarter), T("2026-02-01T00:00:00Z"));
  ASSERT_TRUE(q4.ok());
  EXPECT_EQ(*q4, Range("2025-10-01T00:00:00Z", "2026-01-01T00:00:00Z"));
  EXPECT_EQ(q4->length(), absl::Hours(92 * 24));
}

TEST(PeriodBoundsTest, YearsLeapAndCommon) {
  // 2028: 366 days; 2027: 365 days.
  auto y = PeriodBounds(Spec(PeriodSpec::Kind::kYear), T("2028-07-01T00:00:00Z"));
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(*y, Range("2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z"));
  EXPECT_EQ(y->length(), absl::Hours(366 * 24));
  auto prev = PreviousPeriod(Spec(PeriodSpec::Kind::kYear), T("2028-07-01T00:00:00Z"));
  ASSERT_TRUE(prev.ok());
  EXPECT_EQ(prev->length(), absl::Hours(365 * 24));
}

TEST(PeriodBoundsTest, PreviousMonthOfJanuaryIsLastDecember) {
  auto p = PreviousPeriod(Spec(PeriodSpec::Kind::kMonth), T("2026-01-05T00:00:00Z"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, Range("2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z"));
}

TEST(PeriodBoundsTest, Rolling28DaysEndsAtNow) {
  PeriodSpec spec = Spec(PeriodSpec::Kind::kRolling);
  spec.rolling = absl::Hours(24 * 28);
  const absl::Time now = T("2026-04-15T12:34:56Z");
  auto p = PeriodBounds(spec, now);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, Range("2026-03-18T12:34:56Z", "2026-04-15T12:34:56Z"));
  auto prev = PreviousPeriod(spec, now);
  ASSERT_TRUE(prev.ok());
  EXPECT_EQ(*prev, Range("2026-02-18T12:34:56Z", "2026-03-18T12:34:56Z"));
}

TEST(PeriodBoundsTest, RejectsUnknownZonesAndEmptyRollingPeriods) {
  EXPECT_EQ(
      PeriodBounds(Spec(PeriodSpec::Kind::kMonth, "Mars/Olympus"), absl::Now()).status().code(),
      absl::StatusCode::kInvalidArgument);
  PeriodSpec spec = Spec(PeriodSpec::Kind::kRolling);
  spec.rolling = absl::ZeroDuration();
  EXPECT_EQ(PeriodBounds(spec, absl::Now()).status().code(), absl::StatusCode::kInvalidArgument);
}

ServiceHours WeekdaysLondon(int start_minute, int end_minute) {
  ServiceHours h;
  h.always = false;
  h.time_zone = "Europe/London";
  for (int d = 1; d <= 5; ++d) h.windows.push_back({d, start_minute, end_minute});
  return h;
}

TEST(ServiceHoursTest, WeekdayOfficeHoursAcrossTheSpringChangeInLondon) {
  // Thu 26 March to Thu 2 April 2026; clocks go forward on Sunday 29 March. 08:00-18:00 is
  // 08-18Z in GMT (Thu, Fri) and 07-17Z in BST (Mon, Tue, Wed): 5 × 10 h = 50 h.
  auto s = ServiceHoursIntervals(WeekdaysLondon(8 * 60, 18 * 60),
                                 Range("2026-03-26T00:00:00Z", "2026-04-02T00:00:00Z"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, (IntervalSet{Range("2026-03-26T08:00:00Z", "2026-03-26T18:00:00Z"),
                             Range("2026-03-27T08:00:00Z", "2026-03-27T18:00:00Z"),
                             Range("2026-03-30T07:00:00Z", "2026-03-30T17:00:00Z"),
                             Range("2026-03-31T07:00:00Z", "2026-03-31T17:00:00Z"),
                             Range("2026-04-01T07:00:00Z", "2026-04-01T17:00:00Z")}));
  EXPECT_EQ(TotalLength(*s), absl::Hours(50));
}

TEST(ServiceHoursTest, WindowsOverNonexistentAndRepeatedLocalTimes) {
  ServiceHours h;
  h.always = false;
  h.time_zone = "Europe/London";
  // Sunday 00:00-03:00 on 29 March 2026: 00:00 GMT (00:00Z) to 03:00 BST (02:00Z) = 2 h.
  h.windows = {{0, 0, 180}};
  auto spring = ServiceHoursIntervals(h, Range("2026-03-29T00:00:00Z", "2026-03-30T00:00:00Z"));
  ASSERT_TRUE(spring.ok());
  EXPECT_EQ(*spring, (IntervalSet{Range("2026-03-29T00:00:00Z", "2026-03-29T02:00:00Z")}));
  // On 25 October 2026: 00:00 BST (24 Oct 23:00Z) to 03:00 GMT (03:00Z) = 4 h.
  auto autumn = ServiceHoursIntervals(h, Range("2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z"));
  ASSERT_TRUE(autumn.ok());
  EXPECT_EQ(*autumn, (IntervalSet{Range("2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z")}));
  // Start 01:30 does not exist on 29 March (01:00 GMT jumps to 02:00 BST): the window starts
  // at the jump, 01:00Z, and ends at 03:00 BST = 02:00Z: 1 h.
  h.windows = {{0, 90, 180}};
  auto skipped = ServiceHoursIntervals(h, Range("2026-03-29T00:00:00Z", "2026-03-30T00:00:00Z"));
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(*skipped, (IntervalSet{Range("2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z")}));
  // End 01:30 happens twice on 25 October: its first occurrence (BST, 00:30Z) counts, so
  // 00:00-01:30 is 24 Oct 23:00Z to 00:30Z = 1.5 h.
  h.windows = {{0, 0, 90}};
  auto repeated = ServiceHoursIntervals(h, Range("2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z"));
  ASSERT_TRUE(repeated.ok());
  EXPECT_EQ(*repeated, (IntervalSet{Range("2026-10-24T23:00:00Z", "2026-10-25T00:30:00Z")}));
}

TEST(ServiceHoursTest, TouchingWindowsMergeAndAlwaysIsTheRange) {
  ServiceHours h;
  h.always = false;
  h.windows = {{5, 22 * 60, 1440}, {6, 0, 120}};  // Fri 22:00-24:00, Sat 00:00-02:00 UTC
  // Fri 27 March 2026 22:00Z to Sat 28 March 02:00Z: one 4 h interval.
  auto s = ServiceHoursIntervals(h, Range("2026-03-23T00:00:00Z", "2026-03-30T00:00:00Z"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (IntervalSet{Range("2026-03-27T22:00:00Z", "2026-03-28T02:00:00Z")}));
  auto always =
      ServiceHoursIntervals(ServiceHours{}, Range("2026-03-23T00:00:00Z", "2026-03-30T00:00:00Z"));
  ASSERT_TRUE(always.ok());
  EXPECT_EQ(*always, (IntervalSet{Range("2026-03-23T00:00:00Z", "2026-03-30T00:00:00Z")}));
}

TEST(ServiceHoursTest, RejectsBadWindows) {
  const Interval r = Range("2026-03-23T00:00:00Z", "2026-03-30T00:00:00Z");
  ServiceHours h;
  h.always = false;
  h.windows = {{7, 0, 60}};
  EXPECT_EQ(ServiceHoursIntervals(h, r).status().code(), absl::StatusCode::kInvalidArgument);
  h.windows = {{1, 600, 600}};
  EXPECT_EQ(ServiceHoursIntervals(h, r).status().code(), absl::StatusCode::kInvalidArgument);
  h.windows = {{1, 0, 1441}};
  EXPECT_EQ(ServiceHoursIntervals(h, r).status().code(), absl::StatusCode::kInvalidArgument);
  h.windows = {{1, 0, 60}};
  h.time_zone = "Nowhere/Nothing";
  EXPECT_EQ(ServiceHoursIntervals(h, r).status().code(), absl::StatusCode::kInvalidArgument);
}

MaintenanceWindow OneOff(const std::string& a, const std::string& b) {
  MaintenanceWindow w;
  w.kind = MaintenanceWindow::Kind::kOneOff;
  w.start = T(a);
  w.end = T(b);
  return w;
}

MaintenanceWindow Monthly(int nth, WeekdayIndex weekday, int start_minute, absl::Duration d,
                          const std::string& zone = "UTC") {
  MaintenanceWindow w;
  w.kind = MaintenanceWindow::Kind::kMonthly;
  w.nth = nth;
  w.weekday = weekday;
  w.start_minute = start_minute;
  w.duration = d;
  w.time_zone = zone;
  return w;
}

TEST(MaintenanceTest, OverlappingWindowsMerge) {
  // 10:00-12:00 and 11:00-13:00 plus a weekly Wednesday 12:30 for 1 h: one 10:00-13:30 block.
  MaintenanceWindow weekly;
  weekly.kind = MaintenanceWindow::Kind::kWeekly;
  weekly.weekday = 3;
  weekly.start_minute = 12 * 60 + 30;
  weekly.duration = absl::Hours(1);
  std::vector<MaintenanceWindow> windows = {OneOff("2026-04-01T10:00:00Z", "2026-04-01T12:00:00Z"),
                                            OneOff("2026-04-01T11:00:00Z", "2026-04-01T13:00:00Z"),
                                            weekly};
  auto s = MaintenanceIntervals(windows, Range("2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, (IntervalSet{Range("2026-04-01T10:00:00Z", "2026-04-01T13:30:00Z")}));
}

TEST(MaintenanceTest, MonthlyFirstSundayAndLastFriday) {
  // First Sunday 02:00-04:00: 1 March, 5 April, 3 May 2026. Last Friday 22:00 for 3 h:
  // 27 March (31 March is a Tuesday), 24 April (30 April is a Thursday).
  std::vector<MaintenanceWindow> windows = {Monthly(1, 0, 120, absl::Hours(2)),
                                            Monthly(-1, 5, 22 * 60, absl::Hours(3))};
  auto s = MaintenanceIntervals(windows, Range("2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s, (IntervalSet{Range("2026-03-01T02:00:00Z", "2026-03-01T04:00:00Z"),
                             Range("2026-03-27T22:00:00Z", "2026-03-28T01:00:00Z"),
                             Range("2026-04-05T02:00:00Z", "2026-04-05T04:00:00Z"),
                             Range("2026-04-24T22:00:00Z", "2026-04-25T01:00:00Z")}));
}

TEST(MaintenanceTest, FifthWeekdayOnlyInMonthsThatHaveOne) {
  // Fridays of January 2026: 2, 9, 16, 23, 30; February 2026 has only four.
  auto s = MaintenanceIntervals({Monthly(5, 5, 0, absl::Hours(1))},
                                Range("2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (IntervalSet{Range("2026-01-30T00:00:00Z", "2026-01-30T01:00:00Z")}));
}

TEST(MaintenanceTest, LocalTimeInADaylightSavingZoneAndClippingAtTheRangeStart) {
  // First Sunday of April 2026 in London is 5 April, 02:00 BST = 01:00Z.
  auto s = MaintenanceIntervals({Monthly(1, 0, 120, absl::Hours(2), "Europe/London")},
                                Range("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (IntervalSet{Range("2026-04-05T01:00:00Z", "2026-04-05T03:00:00Z")}));
  // Last Friday of March 2026 (27th) 22:00Z for 3 h, seen from a range that starts inside it
  // at 28 March 00:00Z: only 00:00-01:00Z remains.
  auto clipped = MaintenanceIntervals({Monthly(-1, 5, 22 * 60, absl::Hours(3))},
                                      Range("2026-03-28T00:00:00Z", "2026-03-29T00:00:00Z"));
  ASSERT_TRUE(clipped.ok());
  EXPECT_EQ(*clipped, (IntervalSet{Range("2026-03-28T00:00:00Z", "2026-03-28T01:00:00Z")}));
}

TEST(MaintenanceTest, RejectsBadWindows) {
  const Interval r = Range("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z");
  EXPECT_FALSE(MaintenanceIntervals({Monthly(0, 0, 0, absl::Hours(1))}, r).ok());
  EXPECT_FALSE(MaintenanceIntervals({Monthly(6, 0, 0, absl::Hours(1))}, r).ok());
  EXPECT_FALSE(MaintenanceIntervals({Monthly(1, 7, 0, absl::Hours(1))}, r).ok());
  EXPECT_FALSE(MaintenanceIntervals({Monthly(1, 0, 1440, absl::Hours(1))}, r).ok());
  EXPECT_FALSE(MaintenanceIntervals({Monthly(1, 0, 0, absl::Hours(-1))}, r).ok());
  EXPECT_FALSE(MaintenanceIntervals({Monthly(1, 0, 0, absl::Hours(1), "X/Y")}, r).ok());
  EXPECT_FALSE(
      MaintenanceIntervals({OneOff("2026-04-02T00:00:00Z", "2026-04-01T00:00:00Z")}, r).ok());
}

}  // namespace
}  // namespace accord::collector::availability
