#include "agent/sources/disk_filter.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace accord::agent {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// \d+$
bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// Consumes \d+ from the front of *s. Returns false when *s does not start with a digit.
bool ConsumeDigits(absl::string_view* s) {
  size_t n = 0;
  while (n < s->size() && IsDigit((*s)[n])) ++n;
  s->remove_prefix(n);
  return n > 0;
}

// ^(z?ram|loop|fd)\d+$
bool IsVirtualDevice(absl::string_view d) {
  for (absl::string_view prefix : {"ram", "zram", "loop", "fd"}) {
    if (absl::StartsWith(d, prefix)) return AllDigits(d.substr(prefix.size()));
  }
  return false;
}

// ^((h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$
bool IsPartition(absl::string_view d) {
  for (absl::string_view prefix : {"hd", "sd", "vd", "xvd"}) {
    if (absl::StartsWith(d, prefix)) {
      d.remove_prefix(prefix.size());
      return !d.empty() && d[0] >= 'a' && d[0] <= 'z' && AllDigits(d.substr(1));
    }
  }
  // The greedy \d+ never needs to backtrack: 'n' and 'p' are not digits.
  if (!absl::ConsumePrefix(&d, "nvme")) return false;
  if (!ConsumeDigits(&d) || !absl::ConsumePrefix(&d, "n")) return false;
  if (!ConsumeDigits(&d) || !absl::ConsumePrefix(&d, "p")) return false;
  return AllDigits(d);
}

}  // namespace

bool IsExcludedDisk(absl::string_view device, bool include_partitions) {
  if (IsVirtualDevice(device)) return true;
  return !include_partitions && IsPartition(device);
}

}  // namespace accord::agent
