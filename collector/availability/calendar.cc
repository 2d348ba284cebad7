#include "collector/availability/calendar.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace accord::collector::availability {
namespace {

absl::Status CheckWeekday(WeekdayIndex weekday, absl::string_view what) {
  if (weekday < 0 || weekday > 6) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": weekday ", weekday, " is not in 0 (Sunday) .. 6 (Saturday)"));
  }
  return absl::OkStatus();
}

absl::Time LocalMidnight(absl::CivilDay day, absl::TimeZone zone) {
  return LocalToAbsolute(absl::CivilSecond(day), zone);
}

absl::StatusOr<Interval> CalendarPeriod(const PeriodSpec& spec, absl::Time now, int periods_back) {
  absl::StatusOr<absl::TimeZone> zone = LoadZone(spec.time_zone);
  if (!zone.ok()) return zone.status();
  const absl::CivilMonth month = absl::ToCivilMonth(now, *zone);
  absl::CivilMonth first;
  int months = 0;
  switch (spec.kind) {
    case PeriodSpec::Kind::kMonth:
      first = month;
      months = 1;
      break;
    case PeriodSpec::Kind::kQuarter:
      first = absl::CivilMonth(month.year(), (month.month() - 1) / 3 * 3 + 1);
      months = 3;
      break;
    case PeriodSpec::Kind::kYear:
      first = absl::CivilMonth(month.year(), 1);
      months = 12;
      break;
    case PeriodSpec::Kind::kRolling:
      return absl::InternalError("not a calendar period");
  }
  first -= months * periods_back;
  return Interval{LocalMidnight(absl::CivilDay(first), *zone),
                  LocalMidnight(absl::CivilDay(first + months), *zone)};
}

// The instants of local `minute` on `day`, for a minute count that may be 1440 (midnight at
// the end of the day).
absl::Time AtMinute(absl::CivilDay day, int minute, absl::TimeZone zone) {
  return LocalToAbsolute(absl::CivilSecond(day) + int64_t{minute} * 60, zone);
}

}  // namespace

absl::StatusOr<absl::TimeZone> LoadZone(const std::string& name) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(name, &zone)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown time zone \"", name, "\""));
  }
  return zone;
}

absl::Time LocalToAbsolute(absl::CivilSecond local, absl::TimeZone zone) {
  const absl::TimeZone::TimeInfo info = zone.At(local);
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

WeekdayIndex WeekdayIndexOf(absl::CivilDay day) {
  // absl::Weekday is Monday = 0 ... Sunday = 6.
  return (static_cast<int>(absl::GetWeekday(day)) + 1) % 7;
}

absl::StatusOr<Interval> PeriodBounds(const PeriodSpec& spec, absl::Time now) {
  if (spec.kind == PeriodSpec::Kind::kRolling) {
    if (spec.rolling <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("rolling period must be positive");
    }
    return Interval{now - spec.rolling, now};
  }
  return CalendarPeriod(spec, now, 0);
}

absl::StatusOr<Interval> PreviousPeriod(const PeriodSpec& spec, absl::Time now) {
  if (spec.kind == PeriodSpec::Kind::kRolling) {
    if (spec.rolling <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("rolling period must be positive");
    }
    return Interval{now - 2 * spec.rolling, now - spec.rolling};
  }
  return CalendarPeriod(spec, now, 1);
}

absl::StatusOr<IntervalSet> ServiceHoursIntervals(const ServiceHours& hours, Interval range) {
  IntervalSet out;
  if (hours.always) {
    if (!range.empty()) out.push_back(range);
    return out;
  }
  absl::StatusOr<absl::TimeZone> zone = LoadZone(hours.time_zone);
  if (!zone.ok()) return zone.status();
  for (const WeeklyWindow& w : hours.windows) {
    if (absl::Status s = CheckWeekday(w.weekday, "service hours"); !s.ok()) return s;
    if (w.start_minute < 0 || w.start_minute >= w.end_minute || w.end_minute > 1440) {
      return absl::InvalidArgumentError(absl::StrCat("service hours: window minutes [",
                                                     w.start_minute, ", ", w.end_minute,
                                                     ") must satisfy 0 <= start < end <= 1440"));
    }
  }
  if (range.empty()) return out;
  // One day of slack each side: a local day overlaps the range if its UTC image does.
  const absl::CivilDay first = absl::ToCivilDay(range.start, *zone) - 1;
  const absl::CivilDay last = absl::ToCivilDay(range.end, *zone) + 1;
  out.reserve(static_cast<size_t>(last - first + 1) * hours.windows.size());
  for (absl::CivilDay day = first; day <= last; ++day) {
    const WeekdayIndex weekday = WeekdayIndexOf(day);
    for (const WeeklyWindow& w : hours.windows) {
      if (w.weekday != weekday) continue;
      Interval in{AtMinute(day, w.start_minute, *zone), AtMinute(day, w.end_minute, *zone)};
      in.start = std::max(in.start, range.start);
      in.end = std::min(in.end, range.end);
      if (!in.empty()) out.push_back(in);
    }
  }
  Normalize(&out);
  return out;
}

absl::StatusOr<IntervalSet> MaintenanceIntervals(absl::Span<const MaintenanceWindow> windows,
                                                 Interval range) {
  IntervalSet out;
  auto add = [&](absl::Time start, absl::Duration duration) {
    Interval in{std::max(start, range.start), std::min(start + duration, range.end)};
    if (!in.empty()) out.push_back(in);
  };
  for (const MaintenanceWindow& w : windows) {
    const std::string what = absl::StrCat("maintenance \"", w.name, "\"");
    if (w.kind == MaintenanceWindow::Kind::kOneOff) {
      if (w.end < w.start) {
        return absl::InvalidArgumentError(absl::StrCat(what, ": end is before start"));
      }
      add(w.start, w.end - w.start);
      continue;
    }
    absl::StatusOr<absl::TimeZone> zone = LoadZone(w.time_zone);
    if (!zone.ok()) return zone.status();
    if (absl::Status s = CheckWeekday(w.weekday, what); !s.ok()) return s;
    if (w.start_minute < 0 || w.start_minute >= 1440) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": start_minute ", w.start_minute, " is not in 0..1439"));
    }
    if (w.duration < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": negative duration"));
    }
    if (w.kind == MaintenanceWindow::Kind::kMonthly && (w.nth == 0 || w.nth < -1 || w.nth > 5)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": nth ", w.nth, " is not 1..5 or -1 (last)"));
    }
    if (range.empty() || w.duration == absl::ZeroDuration()) continue;
    // Occurrences that start up to `duration` (plus a day of zone slack) before the range.
    const absl::CivilDay first_day = absl::ToCivilDay(range.start - w.duration, *zone) - 1;
    const absl::CivilDay last_day = absl::ToCivilDay(range.end, *zone) + 1;
    if (w.kind == MaintenanceWindow::Kind::kWeekly) {
      // The first day on or after first_day with the right weekday, then every 7 days.
      absl::CivilDay day = first_day + (w.weekday - WeekdayIndexOf(first_day) + 7) % 7;
      for (; day <= last_day; day += 7) {
        add(AtMinute(day, w.start_minute, *zone), w.duration);
      }
      continue;
    }
    // kMonthly.
    for (absl::CivilMonth month(first_day); month <= absl::CivilMonth(last_day); ++month) {
      absl::CivilDay day;
      if (w.nth > 0) {
        const absl::CivilDay first_of_month(month);
        day =
            first_of_month + (w.weekday - WeekdayIndexOf(first_of_month) + 7) % 7 + 7 * (w.nth - 1);
        if (absl::CivilMonth(day) != month) continue;  // no 5th such weekday this month
      } else {
        const absl::CivilDay last_of_month = absl::CivilDay(month + 1) - 1;
        day = last_of_month - (WeekdayIndexOf(last_of_month) - w.weekday + 7) % 7;
      }
      add(AtMinute(day, w.start_minute, *zone), w.duration);
    }
  }
  Normalize(&out);
  return out;
}

}  // namespace accord::collector::availability
