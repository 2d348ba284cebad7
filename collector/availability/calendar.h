// Calendar arithmetic for SLAs: period bounds, agreed service hours and planned maintenance as
// sets of absolute intervals, computed from local (civil) time in IANA time zones with absl's
// civil-time conversion, so daylight-saving changes are exact.
//
// Local times that do not map to exactly one instant (DST changes), everywhere in this file:
//   - a nonexistent local time (skipped by a spring-forward change) maps to the instant of the
//     change: a window starting at 01:30 on a night when 01:00 jumps to 02:00 starts at 02:00
//     local, and "local midnight" on a day that begins at 01:00 is that 01:00;
//   - a repeated local time (fall-back) maps to its first occurrence, for the start and the end
//     of a window alike (absl::FromCivil's rule).
// So a Mon-Fri 08:00-18:00 schedule in Europe/London is 10 hours every weekday, shifted by an
// hour in UTC across the change, and a local-midnight calendar month is 743 or 745 hours when
// it contains a change.
//
// Thread safety: pure functions; safe from any thread (absl's time-zone cache is thread-safe).
#ifndef ACCORD_COLLECTOR_AVAILABILITY_CALENDAR_H_
#define ACCORD_COLLECTOR_AVAILABILITY_CALENDAR_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "collector/availability/intervals.h"
#include "collector/availability/sla_types.h"

namespace accord::collector::availability {

// Loads an IANA zone ("Europe/London", "UTC"). Error: InvalidArgument for an unknown name.
absl::StatusOr<absl::TimeZone> LoadZone(const std::string& name);

// The instant of a local civil time in `zone`, by the rules at the top of this file.
absl::Time LocalToAbsolute(absl::CivilSecond local, absl::TimeZone zone);

// 0 = Sunday ... 6 = Saturday, as WeekdayIndex in sla_types.h.
WeekdayIndex WeekdayIndexOf(absl::CivilDay day);

// The SLA period that contains `now`: [start, end).
//   kMonth / kQuarter / kYear: from local midnight of the 1st of the month / of the quarter's
//     first month (Jan, Apr, Jul, Oct) / of January, in spec.time_zone, to the next one.
//   kRolling: [now - spec.rolling, now) (ends at now, so "the period containing now" is the
//     one ending at it).
// Errors: InvalidArgument for an unknown time zone or a non-positive rolling duration.
absl::StatusOr<Interval> PeriodBounds(const PeriodSpec& spec, absl::Time now);

// The period before PeriodBounds(spec, now): the previous calendar month/quarter/year, or
// [now - 2 × rolling, now - rolling). Errors: as PeriodBounds.
absl::StatusOr<Interval> PreviousPeriod(const PeriodSpec& spec, absl::Time now);

// Agreed service hours intersected with `range`, as a normalized set (overlapping or touching
// windows merge, so Fri 22:00-24:00 + Sat 00:00-02:00 is one interval). `always` gives
// {range}. Each WeeklyWindow is [start_minute, end_minute) local time on its weekday, each
// end converted on its own (so a 00:00-03:00 window on a spring-forward night is 2 hours).
// Errors: InvalidArgument for an unknown time zone, a weekday outside 0..6, or minutes not
// satisfying 0 <= start_minute < end_minute <= 1440.
absl::StatusOr<IntervalSet> ServiceHoursIntervals(const ServiceHours& hours, Interval range);

// Planned maintenance intersected with `range`, as a normalized set: overlapping windows
// merge, so time is never subtracted twice.
//   kOneOff:  [start, end).
//   kWeekly:  every `weekday` at local `start_minute`, lasting `duration` (elapsed time).
//   kMonthly: the `nth` (1..5; -1 = last) `weekday` of every month at local `start_minute`,
//             lasting `duration`; months without a 5th such weekday have no window.
// Occurrences starting before `range` but reaching into it are included (clipped).
// Errors: InvalidArgument for an unknown time zone, a weekday outside 0..6, start_minute
// outside 0..1439, a negative duration (or end < start for kOneOff), or nth not in {-1, 1..5}.
absl::StatusOr<IntervalSet> MaintenanceIntervals(absl::Span<const MaintenanceWindow> windows,
                                                 Interval range);

}  // namespace accord::collector::availability

#endif  // ACCORD_COLLECTOR_AVAILABILITY_CALENDAR_H_
