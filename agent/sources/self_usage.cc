#include "agent/sources/self_usage.h"

#include <unistd.h>

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/sources/file_reader.h"
#include "agent/sources/parse_util.h"

namespace accord::agent {
namespace {

using internal::NextToken;
using internal::NotANumber;
using internal::ParseError;
using internal::ParseU64;

constexpr absl::string_view kPidStat = "/proc/self/stat";
constexpr absl::string_view kPidStatm = "/proc/self/statm";

}  // namespace

absl::StatusOr<double> ParsePidStatCpuSeconds(absl::string_view text, int64_t user_hz) {
  if (user_hz <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ParsePidStatCpuSeconds: user_hz ", user_hz, " <= 0"));
  }
  const size_t paren = text.rfind(')');
  if (paren == absl::string_view::npos) return ParseError(kPidStat, 1, "comm", "missing ')'");
  absl::string_view rest = absl::StripTrailingAsciiWhitespace(text.substr(paren + 1));
  // Fields after comm start at field 3 (state); utime is field 14 and stime field 15.
  constexpr int kFirstField = 3;
  constexpr int kUtime = 14;
  constexpr int kStime = 15;
  uint64_t utime = 0;
  uint64_t stime = 0;
  for (int field = kFirstField; field <= kStime; ++field) {
    absl::string_view token;
    const char* name = field == kUtime ? "utime" : field == kStime ? "stime" : "before utime";
    if (!NextToken(&rest, &token)) return ParseError(kPidStat, 1, name, "missing");
    if (field == kUtime && !ParseU64(token, &utime)) return NotANumber(kPidStat, 1, name, token);
    if (field == kStime && !ParseU64(token, &stime)) return NotANumber(kPidStat, 1, name, token);
  }
  return (static_cast<double>(utime) + static_cast<double>(stime)) / static_cast<double>(user_hz);
}

absl::StatusOr<PidStatmMemory> ParsePidStatm(absl::string_view text, int64_t page_size) {
  if (page_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ParsePidStatm: page_size ", page_size, " <= 0"));
  }
  // One line: size resident shared text lib data dt, in pages.
  absl::string_view rest = absl::StripTrailingAsciiWhitespace(text.substr(0, text.find('\n')));
  absl::string_view token;
  uint64_t resident = 0;
  uint64_t shared = 0;
  uint64_t size = 0;
  if (!NextToken(&rest, &token)) return ParseError(kPidStatm, 1, "size", "missing");
  if (!ParseU64(token, &size)) return NotANumber(kPidStatm, 1, "size", token);
  if (!NextToken(&rest, &token)) return ParseError(kPidStatm, 1, "resident", "missing");
  if (!ParseU64(token, &resident)) return NotANumber(kPidStatm, 1, "resident", token);
  if (!NextToken(&rest, &token)) return ParseError(kPidStatm, 1, "shared", "missing");
  if (!ParseU64(token, &shared)) return NotANumber(kPidStatm, 1, "shared", token);
  if (shared > resident) return ParseError(kPidStatm, 1, "shared", "larger than resident");
  const auto page = static_cast<uint64_t>(page_size);
  if (resident > std::numeric_limits<uint64_t>::max() / page) {
    return ParseError(kPidStatm, 1, "resident", "out of range");
  }
  PidStatmMemory mem;
  mem.rss_bytes = resident * page;
  mem.anon_bytes = (resident - shared) * page;
  return mem;
}

absl::StatusOr<SelfUsage> ReadSelfUsage(const std::string& procfs, int64_t user_hz) {
  return SelfUsageReader(procfs, user_hz).Read();
}

SelfUsageReader::SelfUsageReader(const std::string& procfs, int64_t user_hz)
    : user_hz_(user_hz > 0 ? user_hz : ::sysconf(_SC_CLK_TCK)),
      page_size_(::sysconf(_SC_PAGESIZE)),
      stat_(absl::StrCat(procfs, "/self/stat")),
      statm_(absl::StrCat(procfs, "/self/statm")) {}

absl::StatusOr<SelfUsage> SelfUsageReader::Read() {
  absl::Status status = stat_.Read(&buf_);
  if (!status.ok()) return status;
  absl::StatusOr<double> cpu = ParsePidStatCpuSeconds(buf_, user_hz_);
  if (!cpu.ok()) return cpu.status();
  status = statm_.Read(&buf_);
  if (!status.ok()) return status;
  absl::StatusOr<PidStatmMemory> mem = ParsePidStatm(buf_, page_size_);
  if (!mem.ok()) return mem.status();
  SelfUsage usage;
  usage.cpu_seconds = *cpu;
  usage.rss_bytes = mem->rss_bytes;
  usage.anon_bytes = mem->anon_bytes;
  return usage;
}

}  // namespace accord::agent
