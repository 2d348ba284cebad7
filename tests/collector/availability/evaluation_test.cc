// Golden cases for Evaluate(): every expected figure is worked out by hand in the comment
// above it. Times are UTC unless a zone is named. Seconds: 1 h = 3,600; 1 d = 86,400;
// 30 d = 2,592,000; 31 d = 2,678,400.
#include "collector/availability/evaluation.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "collector/availability/calendar.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/collector/availability/test_util.h"

namespace accord::collector::availability {
namespace {

using ::testing::ElementsAre;
using testing::Log;
using testing::Secs;
using testing::Stretch;
using testing::T;
using testing::UpExcept;

constexpr auto kDownC = Condition::kDown;
constexpr auto kUnknownC = Condition::kUnknown;

SlaTerms Terms(UnknownPolicy policy = UnknownPolicy::kExcluded, double target = 0.999) {
  SlaTerms terms;
  terms.unknown_policy = policy;
  terms.target = target;
  return terms;
}

Interval Range(const std::string& a, const std::string& b) { return {T(a), T(b)}; }

Evaluation Eval(const Timeline& timeline, const ServiceHours& hours,
                const std::vector<MaintenanceWindow>& maintenance, const SlaTerms& terms,
                Interval period, absl::Time now) {
  absl::StatusOr<Evaluation> ev = Evaluate(timeline, hours, maintenance, terms, period, now);
  EXPECT_TRUE(ev.ok()) << ev.status();
  return ev.ok() ? *std::move(ev) : Evaluation();
}

ServiceHours Weekdays(int start_hour, int end_hour, const std::string& zone = "UTC") {
  ServiceHours h;
  h.always = false;
  h.time_zone = zone;
  for (int d = 1; d <= 5; ++d) h.windows.push_back({d, start_hour * 60, end_hour * 60});
  return h;
}

MaintenanceWindow OneOff(const std::string& a, const std::string& b) {
  MaintenanceWindow w;
  w.kind = MaintenanceWindow::Kind::kOneOff;
  w.start = T(a);
  w.end = T(b);
  return w;
}

// April 2026, evaluated once it is over.
const char* kApr = "2026-04-01T00:00:00Z";
const char* kMay = "2026-05-01T00:00:00Z";

TEST(EvaluateTest, OutageAcrossAMonthBoundaryIsSplitBetweenTheTwoMonths) {
  // Unreachable from 31 Jan 23:00, back after a reboot at 1 Feb 01:00: down 2 h, 1 h each side.
  auto log = Log({{"2025-12-01T00:00:00Z", HostState::kUp, "first_seen", 1000},
                  {"2026-01-31T23:00:00Z", HostState::kUnreachable, "stream_broken", 1000},
                  {"2026-02-01T01:00:00Z", HostState::kUp, "reboot", 2000}});
  const absl::Time now = T("2026-03-01T00:00:00Z");
  Timeline t = BuildHostTimeline("h1", log, T("2025-12-01T00:00:00Z"), now);
  // January: AST = 31 d = 2,678,400 s; downtime 3,600; availability = 2,674,800 / 2,678,400.
  Evaluation jan = Eval(t, ServiceHours{}, {}, Terms(),
                        Range("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"), now);
  EXPECT_EQ(Secs(jan.agreed_service_time), 2'678'400);
  EXPECT_EQ(Secs(jan.downtime), 3'600);
  EXPECT_DOUBLE_EQ(jan.availability, 2'674'800.0 / 2'678'400.0);
  ASSERT_EQ(jan.incidents.size(), 1u);
  EXPECT_EQ(jan.incidents[0].start, T("2026-01-31T23:00:00Z"));
  EXPECT_EQ(jan.incidents[0].end, T("2026-02-01T00:00:00Z"));
  EXPECT_EQ(jan.incidents[0].cause, "reboot");
  EXPECT_TRUE(jan.incidents[0].continues_after_range);
  EXPECT_FALSE(jan.incidents[0].started_before_range);
  // February 2026: AST = 28 d = 2,419,200 s; downtime 3,600 (00:00-01:00).
  Evaluation feb = Eval(t, ServiceHours{}, {}, Terms(),
                        Range("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"), now);
  EXPECT_EQ(Secs(feb.agreed_service_time), 2'419'200);
  EXPECT_EQ(Secs(feb.downtime), 3'600);
  EXPECT_DOUBLE_EQ(feb.availability, 2'415'600.0 / 2'419'200.0);
  ASSERT_EQ(feb.incidents.size(), 1u);
  EXPECT_EQ(feb.incidents[0].start, T("2026-02-01T00:00:00Z"));
  EXPECT_EQ(feb.incidents[0].end, T("2026-02-01T01:00:00Z"));
  EXPECT_EQ(feb.incidents[0].cause, "reboot");
  EXPECT_TRUE(feb.incidents[0].started_before_range);
}

TEST(EvaluateTest, OfficeHoursInLondonAcrossTheSpringDaylightSavingChange) {
  // Mon-Fri 08:00-18:00 Europe/London over Thu 26 March - Thu 2 April 2026 (clocks go forward
  // on Sun 29 March): AST = 5 weekdays × 10 h = 50 h = 180,000 s.
  // Outage Fri 27 March 07:00-08:00Z = 07:00-08:00 GMT: before opening, not counted.
  // Outage Mon 30 March 07:00-08:00Z = 08:00-09:00 BST: all inside, 3,600 s.
  // availability = (180,000 − 3,600) / 180,000 = 0.98.
  Timeline t = UpExcept("h1", "2026-03-20T00:00:00Z", "2026-04-02T00:00:00Z",
                        {{"2026-03-27T07:00:00Z", "2026-03-27T08:00:00Z"},
                         {"2026-03-30T07:00:00Z", "2026-03-30T08:00:00Z"}});
  Evaluation ev =
      Eval(t, Weekdays(8, 18, "Europe/London"), {}, Terms(),
           Range("2026-03-26T00:00:00Z", "2026-04-02T00:00:00Z"), T("2026-04-02T00:00:00Z"));
  EXPECT_EQ(Secs(ev.agreed_service_time), 180'000);
  EXPECT_EQ(Secs(ev.downtime), 3'600);
  EXPECT_DOUBLE_EQ(ev.availability, 0.98);
  ASSERT_EQ(ev.incidents.size(), 1u);
  EXPECT_EQ(ev.incidents[0].start, T("2026-03-30T07:00:00Z"));
  EXPECT_EQ(Secs(ev.incidents[0].duration), 3'600);
}

TEST(EvaluateTest, WholeMonthInLondonWithTheSpringChangeHas743Hours) {
  // 24x7, calendar month in Europe/London: March 2026 = 743 h = 2,674,800 s of AST.
  // One 1 h outage: availability = 2,671,200 / 2,674,800; budget at 99.9 % = 2,674.8 s.
  PeriodSpec spec;
  spec.time_zone = "Europe/London";
  auto period = PeriodBounds(spec, T("2026-03-15T00:00:00Z"));
  ASSERT_TRUE(period.ok());
  Timeline t = UpExcept("h1", "2026-02-20T00:00:00Z", "2026-04-01T00:00:00Z",
                        {{"2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"}});
  Evaluation ev = Eval(t, ServiceHours{}, {}, Terms(), *period, T("2026-04-01T00:00:00Z"));
  EXPECT_EQ(Secs(ev.agreed_service_time), 2'674'800);
  EXPECT_EQ(Secs(ev.agreed_service_time_whole_period), 2'674'800);
  EXPECT_DOUBLE_EQ(ev.availability, 2'671'200.0 / 2'674'800.0);
  EXPECT_NEAR(Secs(ev.error_budget.total), 2'674.8, 1e-6);
}

TEST(EvaluateTest, FebruaryInALeapYearAndInACommonYear) {
  // 30 min outage each February, target 99.9 %.
  // 2028 (leap): AST = 29 d = 2,505,600 s; budget 2,505.6 s; remaining 2,505.6 − 1,800 =
  //   705.6 s; ratio 705.6 / 2,505.6; availability = 2,503,800 / 2,505,600.
  // 2027: AST = 28 d = 2,419,200 s; budget 2,419.2 s; remaining 619.2 s.
  Timeline leap = UpExcept("h1", "2028-01-25T00:00:00Z", "2028-03-01T00:00:00Z",
                           {{"2028-02-29T12:00:00Z", "2028-02-29T12:30:00Z"}});
  Evaluation l =
      Eval(leap, ServiceHours{}, {}, Terms(), Range("2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"),
           T("2028-03-01T00:00:00Z"));
  EXPECT_EQ(Secs(l.agreed_service_time), 2'505'600);
  EXPECT_DOUBLE_EQ(l.availability, 2'503'800.0 / 2'505'600.0);
  EXPECT_NEAR(Secs(l.error_budget.total), 2'505.6, 1e-6);
  EXPECT_NEAR(Secs(l.error_budget.remaining), 705.6, 1e-6);
  EXPECT_NEAR(l.error_budget.remaining_ratio, 705.6 / 2'505.6, 1e-9);
  Timeline common = UpExcept("h1", "2027-01-25T00:00:00Z", "2027-03-01T00:00:00Z",
                             {{"2027-02-28T12:00:00Z", "2027-02-28T12:30:00Z"}});
  Evaluation c =
      Eval(common, ServiceHours{}, {}, Terms(),
           Range("2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z"), T("2027-03-01T00:00:00Z"));
  EXPECT_EQ(Secs(c.agreed_service_time), 2'419'200);
  EXPECT_NEAR(Secs(c.error_budget.remaining), 619.2, 1e-6);
}

TEST(EvaluateTest, QuarterEvaluatedPartWayAndAWholeLeapYear) {
  // Q2 2026 at 1 May: elapsed AST = April = 2,592,000 s; whole quarter = 91 d = 7,862,400 s;
  // budget at 99.9 % = 7,862.4 s; a 2 h outage (7,200 s) leaves 662.4 s.
  Timeline t = UpExcept("h1", "2026-03-20T00:00:00Z", kMay,
                        {{"2026-04-10T00:00:00Z", "2026-04-10T02:00:00Z"}});
  auto q2 = PeriodBounds(PeriodSpec{PeriodSpec::Kind::kQuarter}, T(kMay));
  ASSERT_TRUE(q2.ok());
  Evaluation ev = Eval(t, ServiceHours{}, {}, Terms(), *q2, T(kMay));
  EXPECT_EQ(ev.evaluated, Range(kApr, kMay));
  EXPECT_EQ(Secs(ev.agreed_service_time), 2'592'000);
  EXPECT_EQ(Secs(ev.agreed_service_time_whole_period), 7'862'400);
  EXPECT_NEAR(Secs(ev.error_budget.total), 7'862.4, 1e-6);
  EXPECT_NEAR(Secs(ev.error_budget.remaining), 662.4, 1e-6);
  // 2028: 366 d = 31,622,400 s; at 99.99 % the budget is 3,162.24 s; 1 h outage leaves
  // −437.76 s (overspent), ratio −437.76 / 3,162.24.
  Timeline y = UpExcept("h1", "2027-12-20T00:00:00Z", "2029-01-01T00:00:00Z",
                        {{"2028-06-01T00:00:00Z", "2028-06-01T01:00:00Z"}});
  auto year = PeriodBounds(PeriodSpec{PeriodSpec::Kind::kYear}, T("2028-06-01T00:00:00Z"));
  ASSERT_TRUE(year.ok());
  Evaluation ye = Eval(y, ServiceHours{}, {}, Terms(UnknownPolicy::kExcluded, 0.9999), *year,
                       T("2029-01-01T00:00:00Z"));
  EXPECT_EQ(Secs(ye.agreed_service_time), 31'622'400);
  EXPECT_NEAR(Secs(ye.error_budget.total), 3'162.24, 1e-6);
  EXPECT_NEAR(Secs(ye.error_budget.remaining), -437.76, 1e-6);
  EXPECT_NEAR(ye.error_budget.remaining_ratio, -437.76 / 3'162.24, 1e-9);
}

TEST(EvaluateTest, Rolling28DaysCountsOnlyThePartOfAnOutageInsideTheWindow) {
  // now = 15 April 12:00; window [18 March 12:00, 15 April 12:00) = 2,419,200 s.
  // Outage 18 March 11:00-13:00: 1 h inside. Outage from 15 April 11:00, still down at now:
  // 1 h. availability = (2,419,200 − 7,200) / 2,419,200.
  const absl::Time now = T("2026-04-15T12:00:00Z");
  Timeline t = UpExcept("h1", "2026-03-01T00:00:00Z", "2026-04-15T12:00:00Z",
                        {{"2026-03-18T11:00:00Z", "2026-03-18T13:00:00Z"},
                         {"2026-04-15T11:00:00Z", "2026-04-15T12:00:00Z"}});
  PeriodSpec spec{PeriodSpec::Kind::kRolling};
  spec.rolling = absl::Hours(24 * 28);
  auto period = PeriodBounds(spec, now);
  ASSERT_TRUE(period.ok());
  Evaluation ev = Eval(t, ServiceHours{}, {}, Terms(), *period, now);
  EXPECT_EQ(Secs(ev.agreed_service_time), 2'419'200);
  EXPECT_EQ(Secs(ev.downtime), 7'200);
  EXPECT_DOUBLE_EQ(ev.availability, 2'412'000.0 / 2'419'200.0);
  ASSERT_EQ(ev.incidents.size(), 2u);
  EXPECT_EQ(ev.incidents[0].start, T("2026-03-18T12:00:00Z"));
  EXPECT_TRUE(ev.incidents[0].started_before_range);
  EXPECT_TRUE(ev.incidents[1].continues_after_range);  // ongoing at now
}

TEST(EvaluateTest, OverlappingMaintenanceWindowsAreSubtractedOnce) {
  // 1 April, 24x7, maintenance 10:00-12:00 and 11:00-13:00 → merged 10:00-13:00 = 3 h.
  // AST = 86,400 − 10,800 = 75,600 (not 86,400 − 14,400 if subtracted twice).
  // Outage 12:30-13:30: only 13:00-13:30 is in AST → downtime 1,800;
  // availability = 73,800 / 75,600.
  Timeline t = UpExcept("h1", "2026-03-28T00:00:00Z", "2026-04-02T00:00:00Z",
                        {{"2026-04-01T12:30:00Z", "2026-04-01T13:30:00Z"}});
  Evaluation ev = Eval(t, ServiceHours{},
                       {OneOff("2026-04-01T10:00:00Z", "2026-04-01T12:00:00Z"),
                        OneOff("2026-04-01T11:00:00Z", "2026-04-01T13:00:00Z")},
                       Terms(), Range("2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z"),
                       T("2026-04-02T00:00:00Z"));
  EXPECT_EQ(Secs(ev.maintenance), 10'800);
  EXPECT_EQ(Secs(ev.agreed_service_time), 75'600);
  EXPECT_EQ(Secs(ev.downtime), 1'800);
  EXPECT_DOUBLE_EQ(ev.availability, 73'800.0 / 75'600.0);
  ASSERT_EQ(ev.incidents.size(), 1u);
  EXPECT_EQ(ev.incidents[0].start, T("2026-04-01T12:30:00Z"));  // real time, not AST
  EXPECT_EQ(ev.incidents[0].end, T("2026-04-01T13:30:00Z"));
  EXPECT_EQ(Secs(ev.incidents[0].duration), 1'800);
}

TEST(EvaluateTest, MonthlyFirstSundayAndLastFridayMaintenance) {
  // April 2026, 24x7. First Sunday 02:00-04:00 = 5 April; last Friday 22:00 for 2 h =
  // 24 April 22:00-24:00. Maintenance 4 h = 14,400 s; AST = 2,592,000 − 14,400 = 2,577,600.
  // Outage 5 April 02:30-03:30: inside maintenance, no incident.
  // Outage 24 April 21:00-23:00: 21:00-22:00 counts, 3,600 s.
  // availability = 2,574,000 / 2,577,600.
  MaintenanceWindow first_sunday;
  first_sunday.kind = MaintenanceWindow::Kind::kMonthly;
  first_sunday.nth = 1;
  first_sunday.weekday = 0;
  first_sunday.start_minute = 120;
  first_sunday.duration = absl::Hours(2);
  MaintenanceWindow last_friday = first_sunday;
  last_friday.nth = -1;
  last_friday.weekday = 5;
  last_friday.start_minute = 22 * 60;
  Timeline t = UpExcept("h1", "2026-03-20T00:00:00Z", kMay,
                        {{"2026-04-05T02:30:00Z", "2026-04-05T03:30:00Z"},
                         {"2026-04-24T21:00:00Z", "2026-04-24T23:00:00Z"}});
  Evaluation ev =
      Eval(t, ServiceHours{}, {first_sunday, last_friday}, Terms(), Range(kApr, kMay), T(kMay));
  EXPECT_EQ(Secs(ev.maintenance), 14'400);
  EXPECT_EQ(Secs(ev.agreed_service_time), 2'577'600);
  EXPECT_EQ(Secs(ev.downtime), 3'600);
  EXPECT_DOUBLE_EQ(ev.availability, 2'574'000.0 / 2'577'600.0);
  ASSERT_EQ(ev.incidents.size(), 1u);
  EXPECT_EQ(ev.incidents[0].start, T("2026-04-24T21:00:00Z"));
  EXPECT_EQ(ev.incidents[0].end, T("2026-04-24T23:00:00Z"));
}

TEST(EvaluateTest, OutageStartingBeforeServiceHoursCountsFromOpening) {
  // Mon-Fri 08-18 UTC, week of Mon 6 April 2026: AST = 50 h = 180,000 s.
  // Outage Mon 07:00-09:00: 08:00-09:00 counts = 3,600 s → availability 0.98.
  Timeline t = UpExcept("h1", "2026-04-01T00:00:00Z", "2026-04-13T00:00:00Z",
                        {{"2026-04-06T07:00:00Z", "2026-04-06T09:00:00Z"}});
  Evaluation ev =
      Eval(t, Weekdays(8, 18), {}, Terms(), Range("2026-04-06T00:00:00Z", "2026-04-13T00:00:00Z"),
           T("2026-04-13T00:00:00Z"));
  EXPECT_EQ(Secs(ev.agreed_service_time), 180'000);
  EXPECT_EQ(Secs(ev.downtime), 3'600);
  EXPECT_DOUBLE_EQ(ev.availability, 0.98);
  ASSERT_EQ(ev.incidents.size(), 1u);
  EXPECT_EQ(ev.incidents[0].start, T("2026-04-06T07:00:00Z"));
  EXPECT_EQ(Secs(ev.incidents[0].duration), 3'600);
}

TEST(EvaluateTest, OutageEntirelyOutsideServiceHoursIsNoIncident) {
  // Tue 7 April 19:00-23:00, service hours 08-18: no AST touched → downtime 0, no incident,
  // availability 1, and no MTBF/MTRS/MTBSI.
  Timeline t = UpExcept("h1", "2026-04-01T00:00:00Z", "2026-04-13T00:00:00Z",
                        {{"2026-04-07T19:00:00Z", "2026-04-07T23:00:00Z"}});
  Evaluation ev =
      Eval(t, Weekdays(8, 18), {}, Terms(), Range("2026-04-06T00:00:00Z", "2026-04-13T00:00:00Z"),
           T("2026-04-13T00:00:00Z"));
  EXPECT_EQ(Secs(ev.downtime), 0);
  EXPECT_TRUE(ev.incidents.empty());
  EXPECT_EQ(ev.availability, 1.0);
  EXPECT_FALSE(ev.mtbf.has_value());
  EXPECT_FALSE(ev.mtrs.has_value());
  EXPECT_FALSE(ev.mtbsi.has_value());
}

TEST(EvaluateTest, OvernightOutageIsOneIncidentWithOnlyItsServiceHoursAsDuration) {
  // Mon-Fri 08-18. Outage Tue 7 April 17:00 to Wed 8 April 10:00: in AST 17-18 (1 h) and
  // 08-10 (2 h) = 10,800 s, one incident (real time is continuous). Restore target 4 h:
  // 3 h < 4 h, no breach even though 17 h passed.
  Timeline t = UpExcept("h1", "2026-04-01T00:00:00Z", "2026-04-13T00:00:00Z",
                        {{"2026-04-07T17:00:00Z", "2026-04-08T10:00:00Z"}});
  SlaTerms terms = Terms();
  terms.restore_target = absl::Hours(4);
  Evaluation ev =
      Eval(t, Weekdays(8, 18), {}, terms, Range("2026-04-06T00:00:00Z", "2026-04-13T00:00:00Z"),
           T("2026-04-13T00:00:00Z"));
  ASSERT_EQ(ev.incidents.size(), 1u);
  EXPECT_EQ(Secs(ev.incidents[0].duration), 10'800);
  EXPECT_EQ(Secs(ev.downtime), 10'800);
  EXPECT_TRUE(ev.ola_breaches.empty());
}

TEST(EvaluateTest, OutageInsideMaintenanceIsNoIncident) {
  // Weekly maintenance Sunday 00:00-06:00; outage Sun 5 April 01:00-05:00 → nothing counts.
  // AST for 1 week = 604,800 − 21,600 = 583,200; availability 1.
  MaintenanceWindow sunday;
  sunday.kind = MaintenanceWindow::Kind::kWeekly;
  sunday.weekday = 0;
  sunday.start_minute = 0;
  sunday.duration = absl::Hours(6);
  Timeline t = UpExcept("h1", "2026-03-25T00:00:00Z", "2026-04-06T00:00:00Z",
                        {{"2026-04-05T01:00:00Z", "2026-04-05T05:00:00Z", kDownC, "reboot"}});
  Evaluation ev =
      Eval(t, ServiceHours{}, {sunday}, Terms(),
           Range("2026-03-30T00:00:00Z", "2026-04-06T00:00:00Z"), T("2026-04-06T00:00:00Z"));
  EXPECT_EQ(Secs(ev.agreed_service_time), 583'200);
  EXPECT_EQ(Secs(ev.downtime), 0);
  EXPECT_TRUE(ev.incidents.empty());
  EXPECT_EQ(ev.availability, 1.0);
}

// --- Services ------------------------------------------------------------------------------

const char* kFrom = "2026-04-01T10:00:00Z";
const char* kTo = "2026-04-01T12:00:00Z";

SlaTerms NoBurn(UnknownPolicy policy = UnknownPolicy::kExcluded) {
  SlaTerms terms = Terms(policy);
  terms.burn_windows.clear();
  return terms;
}

TEST(EvaluateServiceTest, TwoOfThreeWithStaggeredFailuresCountsOnlyTheOverlap) {
  // A down 10:00-10:30, B down 10:20-10:50, C unknown 10:40-11:00, over 10:00-12:00 (7,200 s).
  // Down only 10:20-10:30 (two down) = 600 s; 10:40-10:50 is Unknown (A up, C unknown).
  // kExcluded: AST = 7,200 − 600 = 6,600; availability = 6,000 / 6,600.
  // kDown: AST 7,200; downtime 600 + 600 = 1,200 in two incidents; availability 6,000 / 7,200.
  Timeline a = UpExcept("a", kFrom, kTo, {{"2026-04-01T10:00:00Z", "2026-04-01T10:30:00Z"}});
  Timeline b = UpExcept("b", kFrom, kTo,
                        {{"2026-04-01T10:20:00Z", "2026-04-01T10:50:00Z", kDownC, "reboot"}});
  Timeline c =
      UpExcept("c", kFrom, kTo,
               {{"2026-04-01T10:40:00Z", "2026-04-01T11:00:00Z", kUnknownC, "heartbeat_timeout"}});
  const Timeline* parts[] = {&a, &b, &c};
  auto s = CombineTimelines("svc", parts, {AvailabilityRule::Kind::kAtLeast, 2});
  ASSERT_TRUE(s.ok());
  Evaluation ex = Eval(*s, ServiceHours{}, {}, NoBurn(), Range(kFrom, kTo), T(kTo));
  EXPECT_EQ(Secs(ex.agreed_service_time), 6'600);
  EXPECT_EQ(Secs(ex.downtime), 600);
  EXPECT_EQ(Secs(ex.unknown), 600);
  EXPECT_DOUBLE_EQ(ex.availability, 6'000.0 / 6'600.0);
  ASSERT_EQ(ex.incidents.size(), 1u);
  EXPECT_EQ(ex.incidents[0].start, T("2026-04-01T10:20:00Z"));
  EXPECT_EQ(ex.incidents[0].end, T("2026-04-01T10:30:00Z"));
  EXPECT_EQ(ex.incidents[0].cause, "stream_broken");  // A failed first
  EXPECT_THAT(ex.incidents[0].components, ElementsAre("a", "b"));
  Evaluation ed =
      Eval(*s, ServiceHours{}, {}, NoBurn(UnknownPolicy::kDown), Range(kFrom, kTo), T(kTo));
  EXPECT_EQ(Secs(ed.agreed_service_time), 7'200);
  EXPECT_EQ(Secs(ed.downtime), 1'200);
  EXPECT_DOUBLE_EQ(ed.availability, 6'000.0 / 7'200.0);
  ASSERT_EQ(ed.incidents.size(), 2u);
  EXPECT_EQ(ed.incidents[1].cause, "reboot");  // B (since 10:20) before C (since 10:40)
  EXPECT_THAT(ed.incidents[1].components, ElementsAre("b", "c"));
}

TEST(EvaluateServiceTest, AnyOfTwoIsDownOnlyWhileBothAre) {
  // A down 10:00-11:00, B down 10:30-11:30 → down 10:30-11:00 = 1,800 s of 7,200;
  // availability = 5,400 / 7,200 = 0.75.
  Timeline a = UpExcept("a", kFrom, kTo, {{"2026-04-01T10:00:00Z", "2026-04-01T11:00:00Z"}});
  Timeline b = UpExcept("b", kFrom, kTo, {{"2026-04-01T10:30:00Z", "2026-04-01T11:30:00Z"}});
  const Timeline* parts[] = {&a, &b};
  auto s = CombineTimelines("svc", parts, {AvailabilityRule::Kind::kAny});
  ASSERT_TRUE(s.ok());
  Evaluation ev = Eval(*s, ServiceHours{}, {}, NoBurn(), Range(kFrom, kTo), T(kTo));
  EXPECT_EQ(Secs(ev.downtime), 1'800);
  EXPECT_DOUBLE_EQ(ev.availability, 0.75);
  ASSERT_EQ(ev.incidents.size(), 1u);
  EXPECT_THAT(ev.incidents[0].components, ElementsAre("a", "b"));
}

TEST(EvaluateServiceTest, AllOfThreeJoinsOverlappingFailuresIntoOneIncident) {
  // A 10:00-10:10 (stream_broken), B 10:05-10:20 (reboot), C 11:00-11:05 (host_shutdown).
  // Incidents: 10:00-10:20 (1,200 s; cause stream_broken; a, b) and 11:00-11:05 (300 s; c).
  // downtime 1,500; availability = 5,700 / 7,200; MTRS 750 s; MTBF 5,700 / 2 = 2,850 s;
  // MTBSI 3,600 s.
  Timeline a = UpExcept("a", kFrom, kTo, {{"2026-04-01T10:00:00Z", "2026-04-01T10:10:00Z"}});
  Timeline b = UpExcept("b", kFrom, kTo,
                        {{"2026-04-01T10:05:00Z", "2026-04-01T10:20:00Z", kDownC, "reboot"}});
  Timeline c = UpExcept(
      "c", kFrom, kTo, {{"2026-04-01T11:00:00Z", "2026-04-01T11:05:00Z", kDownC, "host_shutdown"}});
  const Timeline* parts[] = {&a, &b, &c};
  auto s = CombineTimelines("svc", parts, {AvailabilityRule::Kind::kAll});
  ASSERT_TRUE(s.ok());
  Evaluation ev = Eval(*s, ServiceHours{}, {}, NoBurn(), Range(kFrom, kTo), T(kTo));
  EXPECT_EQ(Secs(ev.downtime), 1'500);
  EXPECT_DOUBLE_EQ(ev.availability, 5'700.0 / 7'200.0);
  ASSERT_EQ(ev.incidents.size(), 2u);
  EXPECT_EQ(ev.incidents[0].cause, "stream_broken");
  EXPECT_THAT(ev.incidents[0].components, ElementsAre("a", "b"));
  EXPECT_EQ(Secs(ev.incidents[0].duration), 1'200);
  EXPECT_EQ(ev.incidents[1].cause, "host_shutdown");
  EXPECT_THAT(ev.incidents[1].components, ElementsAre("c"));
  EXPECT_EQ(Secs(*ev.mtrs), 750);
  EXPECT_EQ(Secs(*ev.mtbf), 2'850);
  EXPECT_EQ(Secs(*ev.mtbsi), 3'600);
}

// --- Unknown time and host liveness --------------------------------------------------------

// 1 April 2026, 24x7: unknown 10:00-12:00 (stream broken, reconnected with the same boot time)
// and down 15:00-16:00 (stream broken, came back rebooted).
Timeline UnknownAndRebootDay() {
  auto log = Log({{"2026-03-01T00:00:00Z", HostState::kUp, "first_seen", 1000},
                  {"2026-04-01T10:00:00Z", HostState::kUnreachable, "stream_broken", 1000},
                  {"2026-04-01T12:00:00Z", HostState::kUp, "connected", 1000},
                  {"2026-04-01T15:00:00Z", HostState::kUnreachable, "stream_broken", 1000},
                  {"2026-04-01T16:00:00Z", HostState::kUp, "reboot", 3000}});
  return BuildHostTimeline("h1", log, T("2026-03-01T00:00:00Z"), T("2026-04-02T00:00:00Z"));
}

const Interval kDay = {absl::FromUnixSeconds(1775001600), absl::FromUnixSeconds(1775088000)};

TEST(EvaluateTest, UnknownPolicyDownCountsTheGapAsDowntime) {
  ASSERT_EQ(kDay.start, T("2026-04-01T00:00:00Z"));
  // downtime = 7,200 + 3,600 = 10,800 of 86,400 → 0.875; two incidents.
  Evaluation ev =
      Eval(UnknownAndRebootDay(), ServiceHours{}, {}, Terms(UnknownPolicy::kDown), kDay, kDay.end);
  EXPECT_EQ(Secs(ev.agreed_service_time), 86'400);
  EXPECT_EQ(Secs(ev.downtime), 10'800);
  EXPECT_EQ(Secs(ev.unknown), 7'200);
  EXPECT_DOUBLE_EQ(ev.availability, 0.875);
  ASSERT_EQ(ev.incidents.size(), 2u);
  EXPECT_EQ(ev.incidents[0].cause, "stream_broken");
  EXPECT_EQ(ev.incidents[1].cause, "reboot");
}

TEST(EvaluateTest, UnknownPolicyUpCountsTheGapAsUptime) {
  // downtime = 3,600 of 86,400 → 82,800 / 86,400; unknown still reported: 7,200.
  Evaluation ev =
      Eval(UnknownAndRebootDay(), ServiceHours{}, {}, Terms(UnknownPolicy::kUp), kDay, kDay.end);
  EXPECT_EQ(Secs(ev.agreed_service_time), 86'400);
  EXPECT_EQ(Secs(ev.downtime), 3'600);
  EXPECT_EQ(Secs(ev.unknown), 7'200);
  EXPECT_DOUBLE_EQ(ev.availability, 82'800.0 / 86'400.0);
  ASSERT_EQ(ev.incidents.size(), 1u);
}

TEST(EvaluateTest, UnknownPolicyExcludedRemovesTheGapFromAgreedTime) {
  // AST = 86,400 − 7,200 = 79,200; downtime 3,600 → 75,600 / 79,200.
  // Whole-period AST also loses the known unknown: 79,200; budget 79.2 s.
  Evaluation ev = Eval(UnknownAndRebootDay(), ServiceHours{}, {}, Terms(UnknownPolicy::kExcluded),
                       kDay, kDay.end);
  EXPECT_EQ(Secs(ev.agreed_service_time), 79'200);
  EXPECT_EQ(Secs(ev.agreed_service_time_whole_period), 79'200);
  EXPECT_EQ(Secs(ev.downtime), 3'600);
  EXPECT_EQ(Secs(ev.unknown), 7'200);
  EXPECT_DOUBLE_EQ(ev.availability, 75'600.0 / 79'200.0);
  EXPECT_NEAR(Secs(ev.error_budget.total), 79.2, 1e-6);
}

TEST(EvaluateTest, RebootGapCountsAsDowntime) {
  // Stream broke 10:00, back at 10:07 with a new boot time: 420 s down, cause reboot.
  auto log = Log({{"2026-03-01T00:00:00Z", HostState::kUp, "first_seen", 1000},
                  {"2026-04-01T10:00:00Z", HostState::kUnreachable, "stream_broken", 1000},
                  {"2026-04-01T10:07:00Z", HostState::kUp, "reboot", 9000}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-03-01T00:00:00Z"), kDay.end);
  Evaluation ev = Eval(t, ServiceHours{}, {}, Terms(), kDay, kDay.end);
  EXPECT_EQ(Secs(ev.downtime), 420);
  EXPECT_EQ(Secs(ev.unknown), 0);
  ASSERT_EQ(ev.incidents.size(), 1u);
  EXPECT_EQ(ev.incidents[0].cause, "reboot");
  EXPECT_THAT(ev.incidents[0].components, ElementsAre("h1"));
}

TEST(EvaluateTest, HeartbeatTimeoutThenConnectedWithSameBootIsUnknownNotDown) {
  // Silent from 10:00 (backdated), reconnects 10:30 with the same boot time: 1,800 s
  // unknown, 0 down; kExcluded AST = 86,400 − 1,800 = 84,600; availability 1.
  auto log = Log({{"2026-03-01T00:00:00Z", HostState::kUp, "first_seen", 1000},
                  {"2026-04-01T10:00:00Z", HostState::kUnreachable, "heartbeat_timeout", 1000},
                  {"2026-04-01T10:30:00Z", HostState::kUp, "connected", 1000}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-03-01T00:00:00Z"), kDay.end);
  Evaluation ev = Eval(t, ServiceHours{}, {}, Terms(), kDay, kDay.end);
  EXPECT_EQ(Secs(ev.downtime), 0);
  EXPECT_EQ(Secs(ev.unknown), 1'800);
  EXPECT_EQ(Secs(ev.agreed_service_time), 84'600);
  EXPECT_EQ(ev.availability, 1.0);
  EXPECT_TRUE(ev.incidents.empty());
}

TEST(EvaluateTest, AgentStoppedThenReconnectedIsUnknown) {
  // Agent stopped cleanly 02:00, started again 02:20 (same boot): 1,200 s unknown; under
  // kDown it is one 1,200 s incident with cause agent_stopped.
  auto log = Log({{"2026-03-01T00:00:00Z", HostState::kUp, "first_seen", 1000},
                  {"2026-04-01T02:00:00Z", HostState::kStopped, "agent_stopping", 1000},
                  {"2026-04-01T02:20:00Z", HostState::kUp, "connected", 1000}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-03-01T00:00:00Z"), kDay.end);
  Evaluation ev = Eval(t, ServiceHours{}, {}, Terms(), kDay, kDay.end);
  EXPECT_EQ(Secs(ev.downtime), 0);
  EXPECT_EQ(Secs(ev.unknown), 1'200);
  Evaluation down = Eval(t, ServiceHours{}, {}, Terms(UnknownPolicy::kDown), kDay, kDay.end);
  ASSERT_EQ(down.incidents.size(), 1u);
  EXPECT_EQ(down.incidents[0].cause, "agent_stopped");
  EXPECT_EQ(Secs(down.downtime), 1'200);
}

TEST(EvaluateTest, TimeBeforeAHostWasFirstSeenIsLeftOutUnderEveryPolicy) {
  // First seen 16 April 00:00; April evaluated at 1 May under kDown: AST = 15 d = 1,296,000,
  // downtime 0, availability 1; not_monitored = 1,296,000; unknown 0.
  auto log = Log({{"2026-04-16T00:00:00Z", HostState::kUp, "first_seen"}});
  Timeline t = BuildHostTimeline("h1", log, T("2026-03-20T00:00:00Z"), T(kMay));
  Evaluation ev =
      Eval(t, ServiceHours{}, {}, Terms(UnknownPolicy::kDown), Range(kApr, kMay), T(kMay));
  EXPECT_EQ(Secs(ev.agreed_service_time), 1'296'000);
  EXPECT_EQ(Secs(ev.downtime), 0);
  EXPECT_EQ(Secs(ev.not_monitored), 1'296'000);
  EXPECT_EQ(Secs(ev.unknown), 0);
  EXPECT_EQ(ev.availability, 1.0);
  EXPECT_TRUE(ev.incidents.empty());
}

// --- ITIL figures, budget, burn, OLA -------------------------------------------------------

TEST(EvaluateTest, MtbfMtrsAndMtbsi) {
  // April 2026, 24x7: three outages of 10, 20 and 30 min = 3,600 s.
  // MTRS = 3,600 / 3 = 1,200 s; MTBF = (2,592,000 − 3,600) / 3 = 862,800 s;
  // MTBSI = 862,800 + 1,200 = 864,000 s (10 days).
  Timeline t = UpExcept("h1", "2026-03-20T00:00:00Z", kMay,
                        {{"2026-04-03T10:00:00Z", "2026-04-03T10:10:00Z"},
                         {"2026-04-13T10:00:00Z", "2026-04-13T10:20:00Z"},
                         {"2026-04-23T10:00:00Z", "2026-04-23T10:30:00Z"}});
  Evaluation ev = Eval(t, ServiceHours{}, {}, Terms(), Range(kApr, kMay), T(kMay));
  ASSERT_EQ(ev.incidents.size(), 3u);
  EXPECT_EQ(Secs(*ev.mtrs), 1'200);
  EXPECT_EQ(Secs(*ev.mtbf), 862'800);
  EXPECT_EQ(Secs(*ev.mtbsi), 864'000);
}

TEST(EvaluateTest, ErrorBudgetConsumedAndRemaining) {
  // April 2026 at 99.9 %: budget = 0.001 × 2,592,000 = 2,592 s.
  // At 16 April (15 days elapsed) with a 30 min outage: consumed 1,800, remaining 792,
  // ratio 792 / 2,592 = 0.30556; AST so far 1,296,000, whole period 2,592,000.
  // At 1 May with another 30 min outage on 20 April: consumed 3,600, remaining −1,008,
  // ratio −1,008 / 2,592 = −0.38889.
  Timeline t = UpExcept("h1", "2026-03-20T00:00:00Z", kMay,
                        {{"2026-04-10T00:00:00Z", "2026-04-10T00:30:00Z"},
                         {"2026-04-20T00:00:00Z", "2026-04-20T00:30:00Z"}});
  Evaluation mid =
      Eval(t, ServiceHours{}, {}, Terms(), Range(kApr, kMay), T("2026-04-16T00:00:00Z"));
  EXPECT_EQ(Secs(mid.agreed_service_time), 1'296'000);
  EXPECT_EQ(Secs(mid.agreed_service_time_whole_period), 2'592'000);
  EXPECT_NEAR(Secs(mid.error_budget.total), 2'592, 1e-6);
  EXPECT_EQ(Secs(mid.error_budget.consumed), 1'800);
  EXPECT_NEAR(Secs(mid.error_budget.remaining), 792, 1e-6);
  EXPECT_NEAR(mid.error_budget.remaining_ratio, 792.0 / 2'592.0, 1e-9);
  Evaluation end = Eval(t, ServiceHours{}, {}, Terms(), Range(kApr, kMay), T(kMay));
  EXPECT_EQ(Secs(end.error_budget.consumed), 3'600);
  EXPECT_NEAR(Secs(end.error_budget.remaining), -1'008, 1e-6);
  EXPECT_NEAR(end.error_budget.remaining_ratio, -1'008.0 / 2'592.0, 1e-9);
}

TEST(EvaluateTest, BurnRatesForAKnownOutage) {
  // now = 10 April 12:00; outage 11:30-11:36 = 360 s; target 99.9 % (budget fraction 0.001).
  //   5m  [11:55, 12:00): 0
  //   30m: 360 / 1,800 / 0.001 = 200      1h: 360 / 3,600 / 0.001 = 100
  //   2h:  360 / 7,200 / 0.001 = 50       6h: 360 / 21,600 / 0.001 = 16.667
  //   1d:  360 / 86,400 / 0.001 = 4.1667  3d: 360 / 259,200 / 0.001 = 1.3889
  Timeline t = UpExcept("h1", "2026-03-20T00:00:00Z", "2026-04-10T12:00:00Z",
                        {{"2026-04-10T11:30:00Z", "2026-04-10T11:36:00Z"}});
  Evaluation ev =
      Eval(t, ServiceHours{}, {}, Terms(), Range(kApr, kMay), T("2026-04-10T12:00:00Z"));
  ASSERT_EQ(ev.burn_rates.size(), 7u);
  const double expected[] = {0,
                             360.0 / 1'800 / 0.001,
                             360.0 / 3'600 / 0.001,
                             360.0 / 7'200 / 0.001,
                             360.0 / 21'600 / 0.001,
                             360.0 / 86'400 / 0.001,
                             360.0 / 259'200 / 0.001};
  for (int i = 0; i < 7; ++i) {
    EXPECT_NEAR(ev.burn_rates[i].rate, expected[i], 1e-9) << i;
    EXPECT_EQ(ev.burn_rates[i].window, DefaultBurnWindows()[i]);
  }
  EXPECT_NEAR(ev.burn_rates[1].rate, 200, 1e-9);
}

TEST(EvaluateTest, OlaBreachesOfRestoreTargetAndMaxSingleOutage) {
  // Restore target 4 h, max single outage 1 h. Outages of 30 min, 2 h and 5 h:
  //   30 min: none; 2 h: max_single_outage; 5 h: restore_target and max_single_outage.
  Timeline t = UpExcept("h1", "2026-03-20T00:00:00Z", kMay,
                        {{"2026-04-02T00:00:00Z", "2026-04-02T00:30:00Z"},
                         {"2026-04-03T00:00:00Z", "2026-04-03T02:00:00Z"},
                         {"2026-04-04T00:00:00Z", "2026-04-04T05:00:00Z"}});
  SlaTerms terms = Terms();
  terms.restore_target = absl::Hours(4);
  terms.max_single_outage = absl::Hours(1);
  Evaluation ev = Eval(t, ServiceHours{}, {}, terms, Range(kApr, kMay), T(kMay));
  ASSERT_EQ(ev.ola_breaches.size(), 3u);
  EXPECT_EQ(ev.ola_breaches[0].incident, 1u);
  EXPECT_EQ(ev.ola_breaches[0].kind, "max_single_outage");
  EXPECT_EQ(ev.ola_breaches[0].limit, absl::Hours(1));
  EXPECT_EQ(ev.ola_breaches[1].incident, 2u);
  EXPECT_EQ(ev.ola_breaches[1].kind, "restore_target");
  EXPECT_EQ(ev.ola_breaches[1].duration, absl::Hours(5));
  EXPECT_EQ(ev.ola_breaches[2].incident, 2u);
  EXPECT_EQ(ev.ola_breaches[2].kind, "max_single_outage");
}

TEST(EvaluateTest, ZeroAgreedServiceTimeMeansFullAvailability) {
  // Mon-Fri hours over the weekend of Sat 4 - Mon 6 April: AST 0 → availability 1.0 (nothing
  // was agreed), budget 0 with ratio 1.0, no incidents, burn rates 0 for windows without AST.
  Timeline t = UpExcept("h1", "2026-04-01T00:00:00Z", "2026-04-06T00:00:00Z",
                        {{"2026-04-04T10:00:00Z", "2026-04-05T10:00:00Z"}});
  Evaluation ev =
      Eval(t, Weekdays(8, 18), {}, Terms(UnknownPolicy::kDown),
           Range("2026-04-04T00:00:00Z", "2026-04-06T00:00:00Z"), T("2026-04-06T00:00:00Z"));
  EXPECT_EQ(Secs(ev.agreed_service_time), 0);
  EXPECT_EQ(ev.availability, 1.0);
  EXPECT_TRUE(ev.incidents.empty());
  EXPECT_EQ(Secs(ev.error_budget.total), 0);
  EXPECT_EQ(ev.error_budget.remaining_ratio, 1.0);
  EXPECT_EQ(ev.burn_rates[0].rate, 0);  // 5m before Monday 00:00: Sunday night
}

TEST(EvaluateTest, PeriodNotStartedYetHasNothingElapsed) {
  Timeline t = UpExcept("h1", "2026-03-20T00:00:00Z", "2026-03-31T00:00:00Z", {});
  Evaluation ev =
      Eval(t, ServiceHours{}, {}, Terms(), Range(kApr, kMay), T("2026-03-31T00:00:00Z"));
  EXPECT_TRUE(ev.evaluated.empty());
  EXPECT_EQ(Secs(ev.agreed_service_time), 0);
  EXPECT_EQ(Secs(ev.agreed_service_time_whole_period), 2'592'000);
  EXPECT_EQ(ev.availability, 1.0);
}

TEST(EvaluateTest, TimeTheTimelineDoesNotCoverIsUnknownNoData) {
  // Timeline only from 1 April 12:00; the day before it counts as unknown: kDown → 12 h down
  // of 24 h, one incident with cause no_data.
  Timeline t = UpExcept("h1", "2026-04-01T12:00:00Z", "2026-04-02T00:00:00Z", {});
  Evaluation ev = Eval(t, ServiceHours{}, {}, NoBurn(UnknownPolicy::kDown), kDay, kDay.end);
  EXPECT_EQ(Secs(ev.downtime), 43'200);
  ASSERT_EQ(ev.incidents.size(), 1u);
  EXPECT_EQ(ev.incidents[0].cause, "no_data");
}

TEST(EvaluateTest, RejectsBadTermsAndRanges) {
  Timeline t = UpExcept("h1", kApr, kMay, {});
  const Interval period = Range(kApr, kMay);
  SlaTerms hundred = Terms();
  hundred.target = 1.0;
  EXPECT_EQ(Evaluate(t, ServiceHours{}, {}, hundred, period, T(kMay)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Evaluate(t, ServiceHours{}, {}, Terms(), Range(kMay, kApr), T(kMay)).status().code(),
            absl::StatusCode::kInvalidArgument);
  SlaTerms zero_window = Terms();
  zero_window.burn_windows = {absl::ZeroDuration()};
  EXPECT_EQ(Evaluate(t, ServiceHours{}, {}, zero_window, period, T(kMay)).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto short_hours = ResolveAgreedHours(ServiceHours{}, {}, Range(kApr, "2026-04-15T00:00:00Z"));
  ASSERT_TRUE(short_hours.ok());
  EXPECT_EQ(Evaluate(t, *short_hours, Terms(), period, T(kMay)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- Properties ----------------------------------------------------------------------------

// A random host log over April 2026 on whole minutes.
std::vector<Transition> RandomLog(std::mt19937* rng) {
  static const std::pair<HostState, const char*> kSteps[] = {
      {HostState::kUnreachable, "stream_broken"},
      {HostState::kUnreachable, "heartbeat_timeout"},
      {HostState::kStopped, "agent_stopping"},
      {HostState::kDown, "host_shutdown"},
      {HostState::kUp, "connected"},
      {HostState::kUp, "reboot"},
      {HostState::kUp, "resumed"}};
  std::vector<Transition> log;
  absl::Time at = T("2026-03-25T00:00:00Z") + absl::Minutes((*rng)() % 20000);
  log.push_back({at, at, HostState::kUnknown, HostState::kUp, "first_seen", 1});
  int n = (*rng)() % 60;
  for (int i = 0; i < n; ++i) {
    at += absl::Minutes(1 + (*rng)() % 2000);
    auto [state, cause] = kSteps[(*rng)() % 7];
    log.push_back({at, at, log.back().to, state, cause, 1});
  }
  return log;
}

SlaTerms RandomTerms(std::mt19937* rng) {
  SlaTerms terms;
  terms.unknown_policy = static_cast<UnknownPolicy>((*rng)() % 3);
  terms.target = 0.99;
  return terms;
}

ServiceHours RandomHours(std::mt19937* rng) {
  switch ((*rng)() % 3) {
    case 0:
      return ServiceHours{};
    case 1:
      return Weekdays(8, 18, "Europe/London");
    default:
      return Weekdays(0, 12, "America/New_York");
  }
}

std::vector<MaintenanceWindow> RandomMaintenance(std::mt19937* rng) {
  std::vector<MaintenanceWindow> out;
  int n = (*rng)() % 4;
  for (int i = 0; i < n; ++i) {
    absl::Time start = T(kApr) + absl::Minutes((*rng)() % (30 * 1440));
    MaintenanceWindow w;
    w.start = start;
    w.end = start + absl::Minutes((*rng)() % 600);
    out.push_back(w);
  }
  MaintenanceWindow monthly;
  monthly.kind = MaintenanceWindow::Kind::kMonthly;
  monthly.nth = -1;
  monthly.weekday = 5;
  monthly.start_minute = 600;
  monthly.duration = absl::Hours(3);
  out.push_back(monthly);
  return out;
}

TEST(EvaluatePropertyTest, FiguresStayInRangeAndIncidentsSumToDowntime) {
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    SCOPED_TRACE(round);
    std::vector<Transition> log = RandomLog(&rng);
    Timeline t = BuildHostTimeline("h", log, T("2026-03-20T00:00:00Z"), T(kMay));
    SlaTerms terms = RandomTerms(&rng);
    const absl::Time now = T(kApr) + absl::Minutes(rng() % (31 * 1440));
    Evaluation ev =
        Eval(t, RandomHours(&rng), RandomMaintenance(&rng), terms, Range(kApr, kMay), now);
    ASSERT_GE(ev.availability, 0.0);
    ASSERT_LE(ev.availability, 1.0);
    ASSERT_LE(ev.downtime, ev.agreed_service_time);
    ASSERT_LE(ev.agreed_service_time, ev.agreed_service_time_whole_period);
    absl::Duration sum;
    for (const Incident& i : ev.incidents) {
      ASSERT_GT(i.duration, absl::ZeroDuration());
      ASSERT_LE(i.duration, i.end - i.start);
      sum += i.duration;
    }
    ASSERT_EQ(sum, ev.downtime);
    for (const BurnRate& b : ev.burn_rates) {
      ASSERT_GE(b.rate, 0.0);
      ASSERT_LE(b.rate, 1.0 / (1.0 - terms.target) + 1e-9);
    }
  }
}

TEST(EvaluatePropertyTest, SplittingARangeInTwoGivesSumsEqualToTheWhole) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 300; ++round) {
    SCOPED_TRACE(round);
    Timeline t = BuildHostTimeline("h", RandomLog(&rng), T("2026-03-20T00:00:00Z"), T(kMay));
    SlaTerms terms = RandomTerms(&rng);
    ServiceHours hours = RandomHours(&rng);
    std::vector<MaintenanceWindow> maint = RandomMaintenance(&rng);
    const absl::Time split = T(kApr) + absl::Seconds(rng() % (30 * 86400));
    const absl::Time now = T(kMay);
    Evaluation whole = Eval(t, hours, maint, terms, Range(kApr, kMay), now);
    Evaluation first = Eval(t, hours, maint, terms, {T(kApr), split}, now);
    Evaluation second = Eval(t, hours, maint, terms, {split, T(kMay)}, now);
    ASSERT_EQ(first.agreed_service_time + second.agreed_service_time, whole.agreed_service_time);
    ASSERT_EQ(first.downtime + second.downtime, whole.downtime);
    ASSERT_EQ(first.unknown + second.unknown, whole.unknown);
    ASSERT_EQ(first.maintenance + second.maintenance, whole.maintenance);
    ASSERT_EQ(first.not_monitored + second.not_monitored, whole.not_monitored);
    // An incident crossing the split is counted in both halves, never lost.
    ASSERT_GE(first.incidents.size() + second.incidents.size(), whole.incidents.size());
    ASSERT_LE(first.incidents.size() + second.incidents.size(), whole.incidents.size() + 1);
  }
}

// A service of random hosts against a minute-by-minute model of the definitions.
TEST(EvaluatePropertyTest, ServiceFiguresMatchAMinuteByMinuteModel) {
  std::mt19937 rng(99);
  const Interval period = Range(kApr, "2026-04-08T00:00:00Z");
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE(round);
    const int n = 1 + rng() % 4;
    std::vector<Timeline> hosts;
    for (int i = 0; i < n; ++i) {
      hosts.push_back(BuildHostTimeline(absl::StrCat("h", i), RandomLog(&rng),
                                        T("2026-03-20T00:00:00Z"), period.end));
    }
    std::vector<const Timeline*> parts;
    for (const Timeline& h : hosts) parts.push_back(&h);
    AvailabilityRule rule;
    rule.kind = static_cast<AvailabilityRule::Kind>(rng() % 3);
    rule.k = 1 + rng() % n;
    auto service = CombineTimelines("svc", parts, rule);
    ASSERT_TRUE(service.ok());
    SlaTerms terms = RandomTerms(&rng);
    terms.burn_windows.clear();
    ServiceHours hours = RandomHours(&rng);
    std::vector<MaintenanceWindow> maint = RandomMaintenance(&rng);
    Evaluation ev = Eval(*service, hours, maint, terms, period, period.end);

    auto sh = ServiceHoursIntervals(hours, period);
    auto mw = MaintenanceIntervals(maint, period);
    ASSERT_TRUE(sh.ok() && mw.ok());
    auto in_set = [](const IntervalSet& s, absl::Time t) {
      for (const Interval& i : s) {
        if (i.start <= t && t < i.end) return true;
      }
      return false;
    };
    auto host_condition = [](const Timeline& h, absl::Time t) {
      for (const Segment& s : h.segments) {
        if (s.start <= t && t < s.end) return s;
      }
      Segment none;
      none.cause = kCauseNoData;
      return none;
    };
    int64_t ast = 0, down = 0, unknown = 0;
    for (absl::Time m = period.start; m < period.end; m += absl::Minutes(1)) {
      if (!in_set(*sh, m) || in_set(*mw, m)) continue;
      int up = 0, dn = 0, unk = 0;
      for (const Timeline& h : hosts) {
        Segment s = host_condition(h, m);
        up += s.condition == Condition::kUp;
        dn += s.condition == Condition::kDown;
        unk += s.condition == Condition::kUnknown;
      }
      Condition c;
      if (rule.kind == AvailabilityRule::Kind::kAll) {
        c = up == n ? Condition::kUp : dn > 0 ? Condition::kDown : Condition::kUnknown;
      } else if (rule.kind == AvailabilityRule::Kind::kAny) {
        c = up > 0 ? Condition::kUp : dn == n ? Condition::kDown : Condition::kUnknown;
      } else {
        c = up >= rule.k        ? Condition::kUp
            : up + unk < rule.k ? Condition::kDown
                                : Condition::kUnknown;
      }
      // The service segment's cause decides "not_monitored"; read it from the combined timeline.
      Segment svc = host_condition(*service, m);
      ASSERT_EQ(svc.condition, c);
      const bool not_monitored = c == Condition::kUnknown && svc.cause == kCauseNotMonitored;
      if (c == Condition::kUnknown && !not_monitored) ++unknown;
      if (not_monitored) continue;
      if (c == Condition::kUnknown && terms.unknown_policy == UnknownPolicy::kExcluded) continue;
      ++ast;
      if (c == Condition::kDown ||
          (c == Condition::kUnknown && terms.unknown_policy == UnknownPolicy::kDown)) {
        ++down;
      }
    }
    ASSERT_EQ(ev.agreed_service_time, absl::Minutes(ast));
    ASSERT_EQ(ev.downtime, absl::Minutes(down));
    ASSERT_EQ(ev.unknown, absl::Minutes(unknown));
  }
}

}  // namespace
}  // namespace accord::collector::availability
