// Value types shared by the service catalogue (which loads them from YAML) and the
// availability engine (which computes with them). Plain structs, no behaviour, no I/O.
//
// Time zones are IANA names ("Europe/London"); the loader resolves them with
// absl::LoadTimeZone and rejects unknown ones. Times of day are minutes since local midnight.
#ifndef ACCORD_COLLECTOR_AVAILABILITY_SLA_TYPES_H_
#define ACCORD_COLLECTOR_AVAILABILITY_SLA_TYPES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace accord::collector {

// 0 = Sunday ... 6 = Saturday (as absl::Weekday order is Monday-first, convert explicitly).
using WeekdayIndex = int;

// A weekly window in local time of some zone: [start_minute, end_minute) on `weekday`.
// end_minute may be 1440 (midnight at the end of the day). A window never spans midnight;
// the loader splits "Fri 22:00-Sat 02:00" into two.
struct WeeklyWindow {
  WeekdayIndex weekday = 1;
  int start_minute = 0;
  int end_minute = 1440;
};

// Agreed service hours. `always` (the default) means 24x7 and ignores `windows`.
struct ServiceHours {
  bool always = true;
  std::string time_zone = "UTC";
  std::vector<WeeklyWindow> windows;
};

// Planned maintenance, taken out of agreed service time.
struct MaintenanceWindow {
  enum class Kind { kOneOff, kWeekly, kMonthly };
  Kind kind = Kind::kOneOff;
  std::string name;
  // kOneOff: absolute [start, end).
  absl::Time start;
  absl::Time end;
  // kWeekly and kMonthly: local start time and duration in `time_zone`.
  std::string time_zone = "UTC";
  WeekdayIndex weekday = 0;
  int start_minute = 0;
  absl::Duration duration;
  // kMonthly: which occurrence of `weekday` in the month: 1..5, or -1 for the last.
  int nth = 1;
};

// The SLA period over which availability is judged.
struct PeriodSpec {
  enum class Kind { kMonth, kQuarter, kYear, kRolling };
  Kind kind = Kind::kMonth;
  std::string time_zone = "UTC";  // calendar periods start at local midnight
  absl::Duration rolling = absl::Hours(24 * 30);  // kRolling only: 7d, 28d or 30d
};

// How time with no evidence (a monitoring gap that neither a reboot nor later evidence
// explains) is counted.
enum class UnknownPolicy { kDown, kUp, kExcluded };

// When a service made of several components is available.
struct AvailabilityRule {
  enum class Kind { kAll, kAny, kAtLeast };
  Kind kind = Kind::kAll;
  int k = 1;  // kAtLeast only
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_AVAILABILITY_SLA_TYPES_H_
