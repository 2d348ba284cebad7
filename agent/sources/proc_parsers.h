// Pure parsers for the host-wide /proc and /sys files the Sampler reads.
//
// Each parser takes the whole text of one file (as read by ReadFileToString) and returns
// values in SI base units. Reading and parsing are separate so tests feed literals.
//
// Errors: a malformed file yields kInvalidArgument whose message names the file, the 1-based
// line and the field, e.g. "/proc/meminfo line 3: field MemFree: not a number: \"x\"". The
// file names in messages are the canonical ones ("/proc/stat"), whatever root was read.
// No input crashes a parser: truncated, empty, binary or very long input only yields an error.
//
// Thread safety: all functions are pure and thread-safe.
#ifndef ACCORD_AGENT_SOURCES_PROC_PARSERS_H_
#define ACCORD_AGENT_SOURCES_PROC_PARSERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace accord::agent {

// CPU time by mode, in seconds since boot. The kernel already counts guest time in `user`
// and guest_nice in `nice`, so the guest columns are ignored (never double counted).
struct CpuTimes {
  double user = 0;
  double nice = 0;
  double system = 0;
  double idle = 0;
  double iowait = 0;
  double irq = 0;
  double softirq = 0;
  double steal = 0;
};

struct CoreCpuTimes {
  std::string cpu;  // the core number as the kernel prints it: "0", "1", ... (may have gaps)
  CpuTimes times;
};

// /proc/stat.
struct ProcStat {
  CpuTimes total;                   // the "cpu " line: all cores summed
  std::vector<CoreCpuTimes> cores;  // the "cpuN" lines, in file order
  int64_t boot_time_seconds = 0;    // btime, seconds since the epoch
  uint64_t context_switches = 0;    // ctxt
  uint64_t forks = 0;               // processes: forks since boot
  uint64_t procs_running = 0;
  uint64_t procs_blocked = 0;
};

// Parses /proc/stat. Tick counts are divided by `user_hz` (sysconf(_SC_CLK_TCK), 100 on
// Linux). Every cpu line must have at least the 8 columns user..steal (Linux >= 2.6.11);
// the "cpu" line and btime, ctxt, processes, procs_running and procs_blocked are required.
// Fails with kInvalidArgument on malformed input or when user_hz <= 0.
absl::StatusOr<ProcStat> ParseProcStat(absl::string_view text, int64_t user_hz);

// /proc/meminfo, in bytes (the kernel's kB are KiB: multiplied by 1024).
struct MemInfo {
  uint64_t total_bytes = 0;       // MemTotal
  uint64_t free_bytes = 0;        // MemFree
  uint64_t available_bytes = 0;   // MemAvailable (Linux >= 3.14)
  uint64_t buffers_bytes = 0;     // Buffers
  uint64_t cached_bytes = 0;      // Cached
  uint64_t swap_total_bytes = 0;  // SwapTotal
  uint64_t swap_free_bytes = 0;   // SwapFree
};

// Parses /proc/meminfo. All seven fields are required and must be "<n> kB"; other lines
// are ignored without being validated.
absl::StatusOr<MemInfo> ParseMeminfo(absl::string_view text);

// /proc/loadavg: run-queue averages over 1, 5 and 15 minutes.
struct LoadAvg {
  double load1 = 0;
  double load5 = 0;
  double load15 = 0;
};
absl::StatusOr<LoadAvg> ParseLoadavg(absl::string_view text);

// /proc/uptime: the first number, seconds since boot.
absl::StatusOr<double> ParseUptime(absl::string_view text);

// One line of /proc/diskstats (counters since boot).
struct DiskStats {
  std::string device;             // e.g. "sda", "nvme0n1p1", "dm-0"
  uint64_t reads_completed = 0;   // field 4
  uint64_t sectors_read = 0;      // field 6; diskstats sectors are always 512 bytes
  uint64_t writes_completed = 0;  // field 8
  uint64_t sectors_written = 0;   // field 10
  uint64_t io_time_ms = 0;        // field 13: milliseconds spent doing I/O
};

// Parses /proc/diskstats: 14 columns (Linux < 4.18), 18 (discards, 4.18+) or 20 (flushes,
// 5.5+); columns beyond 14 are ignored. Lines with fewer than 14 columns are an error. Blank
// lines are skipped. Devices are returned in file order, unfiltered.
absl::StatusOr<std::vector<DiskStats>> ParseDiskstats(absl::string_view text);

// One interface of /proc/net/dev (counters since the interface appeared).
struct NetDevStats {
  std::string device;
  uint64_t receive_bytes = 0;
  uint64_t receive_packets = 0;
  uint64_t receive_errs = 0;
  uint64_t receive_drop = 0;
  uint64_t transmit_bytes = 0;
  uint64_t transmit_packets = 0;
  uint64_t transmit_errs = 0;
  uint64_t transmit_drop = 0;
};

// Parses /proc/net/dev: the two header lines (recognised by '|') are skipped; each other
// non-blank line is "<iface>: <16 counters>" (the colon may touch the first counter).
// Interfaces are returned in file order, unfiltered.
absl::StatusOr<std::vector<NetDevStats>> ParseNetDev(absl::string_view text);

// Parses /sys/class/net/<dev>/speed: an integer in Mb/s, possibly -1 (unknown), followed by
// an optional newline. The caller decides what a non-positive speed means.
absl::StatusOr<int64_t> ParseNetSpeedMbps(absl::string_view text);

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SOURCES_PROC_PARSERS_H_
