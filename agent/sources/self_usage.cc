#include "agent/sources/self_usage.h"

#include <unistd.h>

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/sources/file_reader.h"
#include "agent/sources/parse_util.h"

namespace accord::agent {
namespace {

using internal::NextLine;
using internal::NextToken;
using internal::NotANumber;
using internal::ParseError;
using internal::ParseU64;

constexpr absl::string_view kPidStat = "/proc/self/stat";
constexpr absl::string_view kPidStatus = "/proc/self/status";

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

absl::StatusOr<PidStatusMemory> ParsePidStatus(absl::string_view text) {
  PidStatusMemory mem;
  bool seen_rss = false;
  bool seen_anon = false;
  absl::string_view rest = text;
  absl::string_view line;
  int line_no = 0;
  while (NextLine(&rest, &line)) {
    ++line_no;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    const absl::string_view key = line.substr(0, colon);
    uint64_t* dst = nullptr;
    if (key == "VmRSS") {
      dst = &mem.rss_bytes;
      seen_rss = true;
    } else if (key == "RssAnon") {
      dst = &mem.anon_bytes;
      seen_anon = true;
    } else {
      continue;
    }
    absl::string_view values = line.substr(colon + 1);
    absl::string_view number, unit;
    if (!NextToken(&values, &number)) return ParseError(kPidStatus, line_no, key, "missing value");
    uint64_t kib = 0;
    if (!ParseU64(number, &kib)) return NotANumber(kPidStatus, line_no, key, number);
    if (!NextToken(&values, &unit) || unit != "kB") {
      return ParseError(kPidStatus, line_no, key, "unit is not kB");
    }
    if (kib > std::numeric_limits<uint64_t>::max() / 1024) {
      return ParseError(kPidStatus, line_no, key, "out of range");
    }
    *dst = kib * 1024;
  }
  if (!seen_rss) return ParseError(kPidStatus, 0, "VmRSS", "missing");
  if (!seen_anon) return ParseError(kPidStatus, 0, "RssAnon", "missing");
  return mem;
}

absl::StatusOr<SelfUsage> ReadSelfUsage(const std::string& procfs, int64_t user_hz) {
  return SelfUsageReader(procfs, user_hz).Read();
}

SelfUsageReader::SelfUsageReader(const std::string& procfs, int64_t user_hz)
    : user_hz_(user_hz > 0 ? user_hz : ::sysconf(_SC_CLK_TCK)),
      stat_(absl::StrCat(procfs, "/self/stat")),
      status_(absl::StrCat(procfs, "/self/status")) {}

absl::StatusOr<SelfUsage> SelfUsageReader::Read() {
  absl::Status status = stat_.Read(&buf_);
  if (!status.ok()) return status;
  absl::StatusOr<double> cpu = ParsePidStatCpuSeconds(buf_, user_hz_);
  if (!cpu.ok()) return cpu.status();
  status = status_.Read(&buf_);
  if (!status.ok()) return status;
  absl::StatusOr<PidStatusMemory> mem = ParsePidStatus(buf_);
  if (!mem.ok()) return mem.status();
  SelfUsage usage;
  usage.cpu_seconds = *cpu;
  usage.rss_bytes = mem->rss_bytes;
  usage.anon_bytes = mem->anon_bytes;
  return usage;
}

}  // namespace accord::agent
