#include "collector/catalogue/time_spec.h"

#include <tuple>

#include "gtest/gtest.h"

namespace accord::collector {
namespace {

// Windows as (weekday, start, end) tuples for readable expectations.
using W = std::tuple<int, int, int>;
std::vector<W> AsTuples(const std::vector<WeeklyWindow>& windows) {
  std::vector<W> out;
  for (const WeeklyWindow& w : windows) out.emplace_back(w.weekday, w.start_minute, w.end_minute);
  return out;
}

TEST(TimeSpecTest, WeekdaysInShortAndLongFormAnyCase) {
  EXPECT_EQ(*ParseWeekday("Sun"), 0);
  EXPECT_EQ(*ParseWeekday("monday"), 1);
  EXPECT_EQ(*ParseWeekday("SAT"), 6);
  EXPECT_EQ(ParseWeekday("Fro").status().message(),
            "bad weekday \"Fro\" (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)");
}

TEST(TimeSpecTest, WeekdaySetsWithRangesListsAndWrapAround) {
  EXPECT_EQ(*ParseWeekdaySet("Mon-Fri"), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(*ParseWeekdaySet("Mon,Wed, Fri"), (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(*ParseWeekdaySet("Fri-Mon"), (std::vector<int>{0, 1, 5, 6}));
  EXPECT_EQ(*ParseWeekdaySet("Mon-Wed,Tue,Sun"), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_FALSE(ParseWeekdaySet("Mon-Tue-Wed").ok());
  EXPECT_EQ(ParseWeekdaySet("Mon-Fry").status().message(),
            "bad weekday \"Fry\" (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)");
}

TEST(TimeSpecTest, TimesOfDayAllow2400OnlyAsAnEnd) {
  EXPECT_EQ(*ParseTimeOfDay("08:30", false), 510);
  EXPECT_EQ(*ParseTimeOfDay("8:05", false), 485);
  EXPECT_EQ(*ParseTimeOfDay("24:00", true), 1440);
  EXPECT_EQ(ParseTimeOfDay("24:00", false).status().message(),
            "invalid time of day \"24:00\" (want HH:MM, 00:00 to 23:59)");
  EXPECT_EQ(ParseTimeOfDay("25:00", true).status().message(),
            "invalid time of day \"25:00\" (want HH:MM, 00:00 to 24:00)");
  EXPECT_FALSE(ParseTimeOfDay("12:60", true).ok());
  EXPECT_FALSE(ParseTimeOfDay("1200", true).ok());
  EXPECT_FALSE(ParseTimeOfDay("12:5", true).ok());
  EXPECT_FALSE(ParseTimeOfDay("-1:00", true).ok());
}

TEST(TimeSpecTest, ServiceWindowOnSeveralDays) {
  EXPECT_EQ(AsTuples(*ParseServiceWindow("Mon-Fri 08:00-18:00")),
            (std::vector<W>{
                {1, 480, 1080}, {2, 480, 1080}, {3, 480, 1080}, {4, 480, 1080}, {5, 480, 1080}}));
  EXPECT_EQ(AsTuples(*ParseServiceWindow("Sat 09:00 - 24:00")), (std::vector<W>{{6, 540, 1440}}));
}

TEST(TimeSpecTest, ServiceWindowEndingBeforeItStartsCrossesMidnight) {
  EXPECT_EQ(AsTuples(*ParseServiceWindow("Fri 22:00-02:00")),
            (std::vector<W>{{5, 1320, 1440}, {6, 0, 120}}));
  // Saturday night wraps to Sunday (weekday 0).
  EXPECT_EQ(AsTuples(*ParseServiceWindow("Sat 23:00-01:30")),
            (std::vector<W>{{6, 1380, 1440}, {0, 0, 90}}));
  // Ending at 00:00 is ending at midnight: nothing on the next day.
  EXPECT_EQ(AsTuples(*ParseServiceWindow("Sun 20:00-00:00")), (std::vector<W>{{0, 1200, 1440}}));
}

TEST(TimeSpecTest, ServiceWindowErrors) {
  EXPECT_EQ(ParseServiceWindow("Mon 08:00-08:00").status().message(),
            "window \"Mon 08:00-08:00\" is empty");
  EXPECT_EQ(ParseServiceWindow("Mon-Fri").status().message(),
            "invalid window \"Mon-Fri\" (want days and times, e.g. \"Mon-Fri 08:00-18:00\")");
  EXPECT_EQ(ParseServiceWindow("Mon 08:00").status().message(),
            "invalid window \"Mon 08:00\" (want days and times, e.g. \"Mon-Fri 08:00-18:00\")");
  EXPECT_EQ(ParseServiceWindow("08:00-18:00").status().message(),
            "invalid window \"08:00-18:00\" (want days and times, e.g. \"Mon-Fri 08:00-18:00\")");
  EXPECT_EQ(ParseServiceWindow("Mon 08:00-18:00-19:00").status().message(),
            "invalid time range \"08:00-18:00-19:00\" (want HH:MM-HH:MM)");
}

TEST(TimeSpecTest, NormalizeSortsAndMergesOverlappingAndTouchingWindows) {
  std::vector<WeeklyWindow> in = {
      {1, 600, 700}, {0, 0, 60}, {1, 480, 620}, {1, 700, 800}, {1, 900, 1000}};
  EXPECT_EQ(AsTuples(NormalizeWindows(in)),
            (std::vector<W>{{0, 0, 60}, {1, 480, 800}, {1, 900, 1000}}));
}

TEST(TimeSpecTest, WeeklySchedules) {
  WeeklySchedule s = *ParseWeeklySchedule("Sun 02:00");
  EXPECT_EQ(s.weekdays, (std::vector<int>{0}));
  EXPECT_EQ(s.start_minute, 120);
  EXPECT_FALSE(s.length.has_value());
  s = *ParseWeeklySchedule("Mon,Thu 23:00-01:00");
  EXPECT_EQ(s.weekdays, (std::vector<int>{1, 4}));
  EXPECT_EQ(s.start_minute, 1380);
  EXPECT_EQ(s.length, absl::Hours(2));
  EXPECT_EQ(ParseWeeklySchedule("Sunday").status().message(),
            "invalid weekly schedule \"Sunday\" (want days and a start, e.g. \"Sun 02:00\" or "
            "\"Sun 02:00-04:00\")");
}

TEST(TimeSpecTest, MonthlySchedules) {
  MonthlySchedule m = *ParseMonthlySchedule("first Sunday 02:00-04:00");
  EXPECT_EQ(m.nth, 1);
  EXPECT_EQ(m.weekday, 0);
  EXPECT_EQ(m.start_minute, 120);
  EXPECT_EQ(m.length, absl::Hours(2));
  m = *ParseMonthlySchedule("Last fri 22:30");
  EXPECT_EQ(m.nth, -1);
  EXPECT_EQ(m.weekday, 5);
  EXPECT_EQ(m.start_minute, 1350);
  EXPECT_FALSE(m.length.has_value());
  EXPECT_EQ(ParseMonthlySchedule("fifth Wed 01:00").value().nth, 5);
  EXPECT_EQ(ParseMonthlySchedule("sixth Sunday 02:00").status().message(),
            "bad occurrence \"sixth\" (want first, second, third, fourth, fifth or last)");
  EXPECT_EQ(ParseMonthlySchedule("Sunday 02:00").status().message(),
            "invalid monthly schedule \"Sunday 02:00\" (want e.g. \"first Sunday 02:00-04:00\")");
  EXPECT_EQ(ParseMonthlySchedule("first Sunday 02:00-02:00").status().message(),
            "window \"first Sunday 02:00-02:00\" is empty");
}

TEST(TimeSpecTest, Periods) {
  EXPECT_EQ(ParsePeriod("month")->kind, PeriodSpec::Kind::kMonth);
  EXPECT_EQ(ParsePeriod("Quarter")->kind, PeriodSpec::Kind::kQuarter);
  EXPECT_EQ(ParsePeriod("year")->kind, PeriodSpec::Kind::kYear);
  PeriodSpec p = *ParsePeriod("rolling 28d");
  EXPECT_EQ(p.kind, PeriodSpec::Kind::kRolling);
  EXPECT_EQ(p.rolling, absl::Hours(24 * 28));
  EXPECT_EQ(ParsePeriod("rolling 168h")->rolling, absl::Hours(24 * 7));
  EXPECT_EQ(ParsePeriod("rolling 5d").status().message(),
            "rolling period 5d is not 7d, 28d or 30d");
  EXPECT_EQ(ParsePeriod("week").status().message(),
            "unknown period \"week\" (want month, quarter, year, rolling 7d, rolling 28d or "
            "rolling 30d)");
  EXPECT_FALSE(ParsePeriod("rolling").ok());
  EXPECT_FALSE(ParsePeriod("rollingx 7d").ok());
}

TEST(TimeSpecTest, AvailabilityRules) {
  EXPECT_EQ(ParseAvailabilityRule("all")->rule.kind, AvailabilityRule::Kind::kAll);
  EXPECT_EQ(ParseAvailabilityRule("ANY")->rule.kind, AvailabilityRule::Kind::kAny);
  RuleSpec r = *ParseAvailabilityRule("2 of 3");
  EXPECT_EQ(r.rule.kind, AvailabilityRule::Kind::kAtLeast);
  EXPECT_EQ(r.rule.k, 2);
  EXPECT_EQ(r.n, 3);
  EXPECT_EQ(ParseAvailabilityRule("4 of 3").status().message(), "K 4 is greater than N 3");
  EXPECT_EQ(ParseAvailabilityRule("0 of 3").status().message(), "K must be at least 1, got 0");
  EXPECT_EQ(ParseAvailabilityRule("most").status().message(),
            "invalid rule \"most\" (want all, any, \"K of N\" or at_least: K)");
}

}  // namespace
}  // namespace accord::collector
