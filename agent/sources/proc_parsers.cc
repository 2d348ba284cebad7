#include "agent/sources/proc_parsers.h"

#include <cstddef>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/sources/parse_util.h"

namespace accord::agent {
namespace {

using internal::NextLine;
using internal::NextToken;
using internal::NotANumber;
using internal::ParseDouble;
using internal::ParseError;
using internal::ParseI64;
using internal::ParseU64;

constexpr absl::string_view kProcStat = "/proc/stat";
constexpr absl::string_view kMeminfo = "/proc/meminfo";
constexpr absl::string_view kLoadavg = "/proc/loadavg";
constexpr absl::string_view kUptime = "/proc/uptime";
constexpr absl::string_view kDiskstats = "/proc/diskstats";
constexpr absl::string_view kNetDev = "/proc/net/dev";
constexpr absl::string_view kNetSpeed = "/sys/class/net/<dev>/speed";

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Parses the 8 mode columns of a cpu line (after the "cpu"/"cpuN" key).
absl::Status ParseCpuLine(absl::string_view rest, absl::string_view key, int line_no,
                          double user_hz, CpuTimes* out) {
  static constexpr const char* kModes[] = {"user",   "nice", "system",  "idle",
                                           "iowait", "irq",  "softirq", "steal"};
  double* const dst[] = {&out->user,   &out->nice, &out->system,  &out->idle,
                         &out->iowait, &out->irq,  &out->softirq, &out->steal};
  for (int i = 0; i < 8; ++i) {
    absl::string_view token;
    if (!NextToken(&rest, &token)) {
      return ParseError(kProcStat, line_no, absl::StrCat(key, " ", kModes[i]), "missing");
    }
    uint64_t ticks = 0;
    if (!ParseU64(token, &ticks)) {
      return NotANumber(kProcStat, line_no, absl::StrCat(key, " ", kModes[i]), token);
    }
    *dst[i] = static_cast<double>(ticks) / user_hz;
  }
  return absl::OkStatus();
}

// Parses the single value of a "<key> <n>" line of /proc/stat.
absl::Status ParseStatValue(absl::string_view rest, absl::string_view key, int line_no,
                            uint64_t* out) {
  absl::string_view token;
  if (!NextToken(&rest, &token)) return ParseError(kProcStat, line_no, key, "missing");
  if (!ParseU64(token, out)) return NotANumber(kProcStat, line_no, key, token);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProcStat> ParseProcStat(absl::string_view text, int64_t user_hz) {
  if (user_hz <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("ParseProcStat: user_hz ", user_hz, " <= 0"));
  }
  const double hz = static_cast<double>(user_hz);
  ProcStat stat;
  enum : unsigned {
    kSeenCpu = 1u << 0,
    kSeenBtime = 1u << 1,
    kSeenCtxt = 1u << 2,
    kSeenProcesses = 1u << 3,
    kSeenRunning = 1u << 4,
    kSeenBlocked = 1u << 5,
  };
  unsigned seen = 0;
  absl::string_view rest = text;
  absl::string_view line;
  int line_no = 0;
  while (NextLine(&rest, &line)) {
    ++line_no;
    absl::string_view key;
    if (!NextToken(&line, &key)) continue;  // blank line
    if (absl::StartsWith(key, "cpu")) {
      const absl::string_view core = key.substr(3);
      if (core.empty()) {
        absl::Status s = ParseCpuLine(line, key, line_no, hz, &stat.total);
        if (!s.ok()) return s;
        seen |= kSeenCpu;
      } else if (AllDigits(core)) {
        CoreCpuTimes& c = stat.cores.emplace_back();
        c.cpu.assign(core.data(), core.size());
        absl::Status s = ParseCpuLine(line, key, line_no, hz, &c.times);
        if (!s.ok()) return s;
      } else {
        return ParseError(kProcStat, line_no, "cpu", "core number is not a number");
      }
    } else if (key == "btime") {
      absl::string_view token;
      if (!NextToken(&line, &token)) return ParseError(kProcStat, line_no, key, "missing");
      if (!ParseI64(token, &stat.boot_time_seconds)) {
        return NotANumber(kProcStat, line_no, key, token);
      }
      seen |= kSeenBtime;
    } else if (key == "ctxt") {
      absl::Status s = ParseStatValue(line, key, line_no, &stat.context_switches);
      if (!s.ok()) return s;
      seen |= kSeenCtxt;
    } else if (key == "processes") {
      absl::Status s = ParseStatValue(line, key, line_no, &stat.forks);
      if (!s.ok()) return s;
      seen |= kSeenProcesses;
    } else if (key == "procs_running") {
      absl::Status s = ParseStatValue(line, key, line_no, &stat.procs_running);
      if (!s.ok()) return s;
      seen |= kSeenRunning;
    } else if (key == "procs_blocked") {
      absl::Status s = ParseStatValue(line, key, line_no, &stat.procs_blocked);
      if (!s.ok()) return s;
      seen |= kSeenBlocked;
    }
    // Other lines (intr, softirq, ...) are not used.
  }
  struct Required {
    unsigned bit;
    const char* name;
  };
  static constexpr Required kRequired[] = {{kSeenCpu, "cpu"},
                                           {kSeenBtime, "btime"},
                                           {kSeenCtxt, "ctxt"},
                                           {kSeenProcesses, "processes"},
                                           {kSeenRunning, "procs_running"},
                                           {kSeenBlocked, "procs_blocked"}};
  for (const Required& r : kRequired) {
    if ((seen & r.bit) == 0) return ParseError(kProcStat, 0, r.name, "missing");
  }
  return stat;
}

absl::StatusOr<MemInfo> ParseMeminfo(absl::string_view text) {
  MemInfo info;
  struct Field {
    absl::string_view name;
    uint64_t* dst;
  };
  const Field fields[] = {
      {"MemTotal", &info.total_bytes},         {"MemFree", &info.free_bytes},
      {"MemAvailable", &info.available_bytes}, {"Buffers", &info.buffers_bytes},
      {"Cached", &info.cached_bytes},          {"SwapTotal", &info.swap_total_bytes},
      {"SwapFree", &info.swap_free_bytes},
  };
  constexpr int kNumFields = sizeof(fields) / sizeof(fields[0]);
  bool seen[kNumFields] = {};
  absl::string_view rest = text;
  absl::string_view line;
  int line_no = 0;
  while (NextLine(&rest, &line)) {
    ++line_no;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;  // not a "Key: value" line; unused
    const absl::string_view key = line.substr(0, colon);
    int index = -1;
    for (int i = 0; i < kNumFields; ++i) {
      if (fields[i].name == key) {
        index = i;
        break;
      }
    }
    if (index < 0) continue;
    absl::string_view values = line.substr(colon + 1);
    absl::string_view number, unit, extra;
    if (!NextToken(&values, &number)) return ParseError(kMeminfo, line_no, key, "missing value");
    uint64_t kib = 0;
    if (!ParseU64(number, &kib)) return NotANumber(kMeminfo, line_no, key, number);
    if (!NextToken(&values, &unit) || unit != "kB") {
      return ParseError(kMeminfo, line_no, key, "unit is not kB");
    }
    if (NextToken(&values, &extra)) return ParseError(kMeminfo, line_no, key, "trailing text");
    if (kib > std::numeric_limits<uint64_t>::max() / 1024) {
      return ParseError(kMeminfo, line_no, key, "out of range");
    }
    *fields[index].dst = kib * 1024;
    seen[index] = true;
  }
  for (int i = 0; i < kNumFields; ++i) {
    if (!seen[i]) return ParseError(kMeminfo, 0, fields[i].name, "missing");
  }
  return info;
}

absl::StatusOr<LoadAvg> ParseLoadavg(absl::string_view text) {
  absl::string_view line;
  absl::string_view rest = text;
  NextLine(&rest, &line);
  LoadAvg load;
  static constexpr const char* kNames[] = {"load1", "load5", "load15"};
  double* const dst[] = {&load.load1, &load.load5, &load.load15};
  for (int i = 0; i < 3; ++i) {
    absl::string_view token;
    if (!NextToken(&line, &token)) return ParseError(kLoadavg, 1, kNames[i], "missing");
    if (!ParseDouble(token, dst[i])) return NotANumber(kLoadavg, 1, kNames[i], token);
  }
  return load;
}

absl::StatusOr<double> ParseUptime(absl::string_view text) {
  absl::string_view line;
  absl::string_view rest = text;
  NextLine(&rest, &line);
  absl::string_view token;
  if (!NextToken(&line, &token)) return ParseError(kUptime, 1, "uptime", "missing");
  double uptime = 0;
  if (!ParseDouble(token, &uptime)) return NotANumber(kUptime, 1, "uptime", token);
  return uptime;
}

absl::StatusOr<std::vector<DiskStats>> ParseDiskstats(absl::string_view text) {
  // Columns 4..14 of a line, named as in Documentation/admin-guide/iostats.rst.
  static constexpr const char* kNames[] = {
      "reads completed",  "reads merged",   "sectors read",           "time reading",
      "writes completed", "writes merged",  "sectors written",        "time writing",
      "ios in progress",  "time doing ios", "weighted time doing ios"};
  constexpr int kNumStats = 11;
  std::vector<DiskStats> disks;
  absl::string_view rest = text;
  absl::string_view line;
  int line_no = 0;
  while (NextLine(&rest, &line)) {
    ++line_no;
    absl::string_view major, minor, name;
    if (!NextToken(&line, &major)) continue;  // blank line
    uint64_t ignored = 0;
    if (!ParseU64(major, &ignored)) return NotANumber(kDiskstats, line_no, "major", major);
    if (!NextToken(&line, &minor)) return ParseError(kDiskstats, line_no, "minor", "missing");
    if (!ParseU64(minor, &ignored)) return NotANumber(kDiskstats, line_no, "minor", minor);
    if (!NextToken(&line, &name)) return ParseError(kDiskstats, line_no, "device", "missing");
    uint64_t v[kNumStats];
    for (int i = 0; i < kNumStats; ++i) {
      absl::string_view token;
      if (!NextToken(&line, &token)) return ParseError(kDiskstats, line_no, kNames[i], "missing");
      if (!ParseU64(token, &v[i])) return NotANumber(kDiskstats, line_no, kNames[i], token);
    }
    DiskStats& d = disks.emplace_back();
    d.device.assign(name.data(), name.size());
    d.reads_completed = v[0];
    d.sectors_read = v[2];
    d.writes_completed = v[4];
    d.sectors_written = v[6];
    d.io_time_ms = v[9];
  }
  return disks;
}

absl::StatusOr<std::vector<NetDevStats>> ParseNetDev(absl::string_view text) {
  static constexpr const char* kNames[] = {
      "receive bytes",  "receive packets",  "receive errs",       "receive drop",
      "receive fifo",   "receive frame",    "receive compressed", "receive multicast",
      "transmit bytes", "transmit packets", "transmit errs",      "transmit drop",
      "transmit fifo",  "transmit colls",   "transmit carrier",   "transmit compressed"};
  constexpr int kNumCounters = 16;
  std::vector<NetDevStats> devices;
  absl::string_view rest = text;
  absl::string_view line;
  int line_no = 0;
  while (NextLine(&rest, &line)) {
    ++line_no;
    if (line.find('|') != absl::string_view::npos) continue;  // header
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) {
      if (absl::StripAsciiWhitespace(line).empty()) continue;  // blank line
      return ParseError(kNetDev, line_no, "interface", "missing ':'");
    }
    const absl::string_view name_part = absl::StripAsciiWhitespace(line.substr(0, colon));
    if (name_part.empty()) return ParseError(kNetDev, line_no, "interface", "empty name");
    absl::string_view counters = line.substr(colon + 1);
    uint64_t v[kNumCounters];
    for (int i = 0; i < kNumCounters; ++i) {
      absl::string_view token;
      if (!NextToken(&counters, &token)) return ParseError(kNetDev, line_no, kNames[i], "missing");
      if (!ParseU64(token, &v[i])) return NotANumber(kNetDev, line_no, kNames[i], token);
    }
    NetDevStats& d = devices.emplace_back();
    d.device.assign(name_part.data(), name_part.size());
    d.receive_bytes = v[0];
    d.receive_packets = v[1];
    d.receive_errs = v[2];
    d.receive_drop = v[3];
    d.transmit_bytes = v[8];
    d.transmit_packets = v[9];
    d.transmit_errs = v[10];
    d.transmit_drop = v[11];
  }
  return devices;
}

absl::StatusOr<int64_t> ParseNetSpeedMbps(absl::string_view text) {
  const absl::string_view token = absl::StripAsciiWhitespace(text);
  if (token.empty()) return ParseError(kNetSpeed, 1, "speed", "missing");
  int64_t speed = 0;
  if (!ParseI64(token, &speed)) return NotANumber(kNetSpeed, 1, "speed", token);
  return speed;
}

}  // namespace accord::agent
