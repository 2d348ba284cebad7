// Parsers for the small text grammars of the catalogue file: weekdays, times of day, service
// hours windows, recurring maintenance schedules, SLA periods and availability rules. They take
// text and return values (or InvalidArgument with a one-line message the loader places at the
// YAML node). Pure functions, thread-safe. The grammar is documented in docs/catalogue.md.
#ifndef ACCORD_COLLECTOR_CATALOGUE_TIME_SPEC_H_
#define ACCORD_COLLECTOR_CATALOGUE_TIME_SPEC_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "collector/availability/sla_types.h"

namespace accord::collector {

// "Mon" or "Monday", any case -> 0 (Sunday) ... 6 (Saturday).
absl::StatusOr<WeekdayIndex> ParseWeekday(absl::string_view text);

// A set of days: comma-separated days and ranges, e.g. "Mon-Fri", "Mon,Wed,Fri", "Mon-Wed,Sat",
// "Fri-Mon" (a range wraps over the week end). Returns the days without duplicates in ascending
// WeekdayIndex order (Sunday first).
absl::StatusOr<std::vector<WeekdayIndex>> ParseWeekdaySet(absl::string_view text);

// "HH:MM" (hour may be one digit) -> minutes since midnight, 0..1439; also "24:00" -> 1440 when
// `allow_end_of_day`.
absl::StatusOr<int> ParseTimeOfDay(absl::string_view text, bool allow_end_of_day);

// One service-hours entry: "<days> HH:MM-HH:MM", e.g. "Mon-Fri 08:00-18:00". The end may be
// 24:00. An end before the start crosses midnight: "Fri 22:00-02:00" is Fri 22:00-24:00 plus
// Sat 00:00-02:00. Start == end is an error (empty window). Returns the windows unsorted.
absl::StatusOr<std::vector<WeeklyWindow>> ParseServiceWindow(absl::string_view text);

// Sorts by (weekday, start_minute) and merges the windows of one weekday that overlap or touch.
std::vector<WeeklyWindow> NormalizeWindows(std::vector<WeeklyWindow> windows);

// A weekly maintenance schedule: "<days> HH:MM" (the length comes from a separate duration) or
// "<days> HH:MM-HH:MM" (end before start crosses midnight; start == end is an error).
struct WeeklySchedule {
  std::vector<WeekdayIndex> weekdays;    // as ParseWeekdaySet
  int start_minute = 0;                  // 0..1439
  std::optional<absl::Duration> length;  // set when the text gave an end time
};
absl::StatusOr<WeeklySchedule> ParseWeeklySchedule(absl::string_view text);

// A monthly maintenance schedule: "<nth> <weekday> HH:MM[-HH:MM]", nth one of first, second,
// third, fourth, fifth, last; e.g. "first Sunday 02:00-04:00".
struct MonthlySchedule {
  int nth = 1;  // 1..5, or -1 for last
  WeekdayIndex weekday = 0;
  int start_minute = 0;
  std::optional<absl::Duration> length;
};
absl::StatusOr<MonthlySchedule> ParseMonthlySchedule(absl::string_view text);

// "month", "quarter", "year", "rolling 7d", "rolling 28d", "rolling 30d" (the rolling length
// may be written as any duration equal to one of these, e.g. "rolling 168h"). time_zone is left
// at its default.
absl::StatusOr<PeriodSpec> ParsePeriod(absl::string_view text);

// "all", "any" or "K of N" (kAtLeast with k = K; `n` is N). Checks 1 <= K <= N.
struct RuleSpec {
  AvailabilityRule rule;
  std::optional<int> n;
};
absl::StatusOr<RuleSpec> ParseAvailabilityRule(absl::string_view text);

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_CATALOGUE_TIME_SPEC_H_
