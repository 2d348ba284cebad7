#include "collector/catalogue/time_spec.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/config.h"

namespace accord::collector {
namespace {

constexpr int kMinutesPerDay = 24 * 60;

std::string RemoveSpaces(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) out += c;
  }
  return out;
}

// Splits "<words> <times>" at the first digit: words before, times (spaces removed) after.
// Returns false when there is no digit or nothing before it.
bool SplitAtTimes(absl::string_view text, absl::string_view* words, std::string* times) {
  size_t i = 0;
  while (i < text.size() && !absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == text.size()) return false;
  *words = absl::StripAsciiWhitespace(text.substr(0, i));
  *times = RemoveSpaces(text.substr(i));
  return !words->empty();
}

// "HH:MM" or "HH:MM-HH:MM" -> start and optional end (end may be 24:00).
absl::Status ParseTimes(absl::string_view times, int* start, std::optional<int>* end) {
  std::vector<absl::string_view> parts = absl::StrSplit(times, '-');
  if (parts.size() > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid time range \"", times, "\" (want HH:MM-HH:MM)"));
  }
  absl::StatusOr<int> s = ParseTimeOfDay(parts[0], /*allow_end_of_day=*/false);
  if (!s.ok()) return s.status();
  *start = *s;
  if (parts.size() == 2) {
    absl::StatusOr<int> e = ParseTimeOfDay(parts[1], /*allow_end_of_day=*/true);
    if (!e.ok()) return e.status();
    *end = *e;
  }
  return absl::OkStatus();
}

// Length of [start, end) where an end before the start crosses midnight. 0 when equal.
int SpanMinutes(int start, int end) {
  return end >= start ? end - start : kMinutesPerDay - start + end;
}

absl::StatusOr<std::optional<absl::Duration>> LengthFromTimes(absl::string_view text, int start,
                                                              std::optional<int> end) {
  if (!end.has_value()) return std::optional<absl::Duration>();
  int minutes = SpanMinutes(start, *end);
  if (minutes == 0) {
    return absl::InvalidArgumentError(absl::StrCat("window \"", text, "\" is empty"));
  }
  return std::optional<absl::Duration>(absl::Minutes(minutes));
}

}  // namespace

absl::StatusOr<WeekdayIndex> ParseWeekday(absl::string_view text) {
  static const char* const kShort[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  static const char* const kLong[] = {"sunday",   "monday", "tuesday", "wednesday",
                                      "thursday", "friday", "saturday"};
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  for (int i = 0; i < 7; ++i) {
    if (lower == kShort[i] || lower == kLong[i]) return i;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("bad weekday \"", text, "\" (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)"));
}

absl::StatusOr<std::vector<WeekdayIndex>> ParseWeekdaySet(absl::string_view text) {
  bool days[7] = {false, false, false, false, false, false, false};
  std::string compact = RemoveSpaces(text);
  if (compact.empty()) {
    return absl::InvalidArgumentError("missing days (want e.g. Mon-Fri or Mon,Wed)");
  }
  for (absl::string_view item : absl::StrSplit(compact, ',')) {
    std::vector<absl::string_view> ends = absl::StrSplit(item, '-');
    if (ends.size() > 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid day range \"", item, "\" (want e.g. Mon-Fri)"));
    }
    absl::StatusOr<WeekdayIndex> first = ParseWeekday(ends[0]);
    if (!first.ok()) return first.status();
    WeekdayIndex last = *first;
    if (ends.size() == 2) {
      absl::StatusOr<WeekdayIndex> l = ParseWeekday(ends[1]);
      if (!l.ok()) return l.status();
      last = *l;
    }
    for (WeekdayIndex d = *first;; d = (d + 1) % 7) {
      days[d] = true;
      if (d == last) break;
    }
  }
  std::vector<WeekdayIndex> out;
  for (int d = 0; d < 7; ++d) {
    if (days[d]) out.push_back(d);
  }
  return out;
}

absl::StatusOr<int> ParseTimeOfDay(absl::string_view text, bool allow_end_of_day) {
  auto bad = [&]() {
    return absl::InvalidArgumentError(absl::StrCat("invalid time of day \"", text,
                                                   "\" (want HH:MM, 00:00 to ",
                                                   allow_end_of_day ? "24:00)" : "23:59)"));
  };
  absl::string_view t = absl::StripAsciiWhitespace(text);
  size_t colon = t.find(':');
  if (colon == absl::string_view::npos || colon == 0 || colon > 2 || t.size() != colon + 3) {
    return bad();
  }
  for (size_t i = 0; i < t.size(); ++i) {
    if (i != colon && !absl::ascii_isdigit(static_cast<unsigned char>(t[i]))) return bad();
  }
  int hours = 0;
  int minutes = 0;
  if (!absl::SimpleAtoi(t.substr(0, colon), &hours) ||
      !absl::SimpleAtoi(t.substr(colon + 1), &minutes)) {
    return bad();
  }
  if (minutes > 59) return bad();
  if (hours < 24) return hours * 60 + minutes;
  if (hours == 24 && minutes == 0 && allow_end_of_day) return kMinutesPerDay;
  return bad();
}

absl::StatusOr<std::vector<WeeklyWindow>> ParseServiceWindow(absl::string_view text) {
  absl::string_view words;
  std::string times;
  int start = 0;
  std::optional<int> end;
  if (!SplitAtTimes(text, &words, &times)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid window \"", text, "\" (want days and times, e.g. \"Mon-Fri 08:00-18:00\")"));
  }
  absl::StatusOr<std::vector<WeekdayIndex>> days = ParseWeekdaySet(words);
  if (!days.ok()) return days.status();
  if (absl::Status s = ParseTimes(times, &start, &end); !s.ok()) return s;
  if (!end.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid window \"", text, "\" (want days and times, e.g. \"Mon-Fri 08:00-18:00\")"));
  }
  if (SpanMinutes(start, *end) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("window \"", text, "\" is empty"));
  }
  std::vector<WeeklyWindow> out;
  for (WeekdayIndex d : *days) {
    if (*end > start) {
      out.push_back({d, start, *end});
    } else {  // crosses midnight
      out.push_back({d, start, kMinutesPerDay});
      if (*end > 0) out.push_back({(d + 1) % 7, 0, *end});
    }
  }
  return out;
}

std::vector<WeeklyWindow> NormalizeWindows(std::vector<WeeklyWindow> windows) {
  std::sort(windows.begin(), windows.end(), [](const WeeklyWindow& a, const WeeklyWindow& b) {
    if (a.weekday != b.weekday) return a.weekday < b.weekday;
    if (a.start_minute != b.start_minute) return a.start_minute < b.start_minute;
    return a.end_minute < b.end_minute;
  });
  std::vector<WeeklyWindow> out;
  for (const WeeklyWindow& w : windows) {
    if (!out.empty() && out.back().weekday == w.weekday &&
        w.start_minute <= out.back().end_minute) {
      out.back().end_minute = std::max(out.back().end_minute, w.end_minute);
    } else {
      out.push_back(w);
    }
  }
  return out;
}

absl::StatusOr<WeeklySchedule> ParseWeeklySchedule(absl::string_view text) {
  absl::string_view words;
  std::string times;
  if (!SplitAtTimes(text, &words, &times)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid weekly schedule \"", text,
                     "\" (want days and a start, e.g. \"Sun 02:00\" or \"Sun 02:00-04:00\")"));
  }
  WeeklySchedule out;
  absl::StatusOr<std::vector<WeekdayIndex>> days = ParseWeekdaySet(words);
  if (!days.ok()) return days.status();
  out.weekdays = *std::move(days);
  std::optional<int> end;
  if (absl::Status s = ParseTimes(times, &out.start_minute, &end); !s.ok()) return s;
  absl::StatusOr<std::optional<absl::Duration>> length =
      LengthFromTimes(text, out.start_minute, end);
  if (!length.ok()) return length.status();
  out.length = *length;
  return out;
}

absl::StatusOr<MonthlySchedule> ParseMonthlySchedule(absl::string_view text) {
  auto bad = [&]() {
    return absl::InvalidArgumentError(absl::StrCat("invalid monthly schedule \"", text,
                                                   "\" (want e.g. \"first Sunday 02:00-04:00\")"));
  };
  absl::string_view words;
  std::string times;
  if (!SplitAtTimes(text, &words, &times)) return bad();
  std::vector<absl::string_view> parts =
      absl::StrSplit(words, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (parts.size() != 2) return bad();
  static const std::pair<const char*, int> kOrdinals[] = {
      {"first", 1}, {"second", 2}, {"third", 3}, {"fourth", 4}, {"fifth", 5}, {"last", -1}};
  MonthlySchedule out;
  std::string ordinal = absl::AsciiStrToLower(parts[0]);
  bool found = false;
  for (const auto& [name, nth] : kOrdinals) {
    if (ordinal == name) {
      out.nth = nth;
      found = true;
    }
  }
  if (!found) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad occurrence \"", parts[0], "\" (want first, second, third, fourth, fifth or last)"));
  }
  absl::StatusOr<WeekdayIndex> day = ParseWeekday(parts[1]);
  if (!day.ok()) return day.status();
  out.weekday = *day;
  std::optional<int> end;
  if (absl::Status s = ParseTimes(times, &out.start_minute, &end); !s.ok()) return s;
  absl::StatusOr<std::optional<absl::Duration>> length =
      LengthFromTimes(text, out.start_minute, end);
  if (!length.ok()) return length.status();
  out.length = *length;
  return out;
}

absl::StatusOr<PeriodSpec> ParsePeriod(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  PeriodSpec out;
  if (lower == "month") {
    out.kind = PeriodSpec::Kind::kMonth;
    return out;
  }
  if (lower == "quarter") {
    out.kind = PeriodSpec::Kind::kQuarter;
    return out;
  }
  if (lower == "year") {
    out.kind = PeriodSpec::Kind::kYear;
    return out;
  }
  absl::string_view rest = lower;
  if (absl::ConsumePrefix(&rest, "rolling") && !rest.empty() &&
      absl::ascii_isspace(static_cast<unsigned char>(rest[0]))) {
    rest = absl::StripAsciiWhitespace(rest);
    absl::StatusOr<absl::Duration> d = accord::ParseDurationFlag(rest);
    if (!d.ok()) return d.status();
    if (*d != absl::Hours(24 * 7) && *d != absl::Hours(24 * 28) && *d != absl::Hours(24 * 30)) {
      return absl::InvalidArgumentError(
          absl::StrCat("rolling period ", rest, " is not 7d, 28d or 30d"));
    }
    out.kind = PeriodSpec::Kind::kRolling;
    out.rolling = *d;
    return out;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown period \"", text,
                   "\" (want month, quarter, year, rolling 7d, rolling 28d or rolling 30d)"));
}

absl::StatusOr<RuleSpec> ParseAvailabilityRule(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  RuleSpec out;
  if (lower == "all") {
    out.rule.kind = AvailabilityRule::Kind::kAll;
    return out;
  }
  if (lower == "any") {
    out.rule.kind = AvailabilityRule::Kind::kAny;
    return out;
  }
  std::vector<absl::string_view> parts =
      absl::StrSplit(lower, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  int k = 0;
  int n = 0;
  if (parts.size() != 3 || parts[1] != "of" || !absl::SimpleAtoi(parts[0], &k) ||
      !absl::SimpleAtoi(parts[2], &n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid rule \"", text, "\" (want all, any, \"K of N\" or at_least: K)"));
  }
  if (k < 1) return absl::InvalidArgumentError(absl::StrCat("K must be at least 1, got ", k));
  if (k > n) {
    return absl::InvalidArgumentError(absl::StrCat("K ", k, " is greater than N ", n));
  }
  out.rule.kind = AvailabilityRule::Kind::kAtLeast;
  out.rule.k = k;
  out.n = n;
  return out;
}

}  // namespace accord::collector
