// The agent's own resource usage, for its health metrics and memory cap (STYLE rule 21).
//
// Parsers are pure and take text; ReadSelfUsage and SelfUsageReader read {procfs}/self/stat
// and {procfs}/self/statm. Not /status: the kernel formats its ~55 lines on every read; stat
// with statm took about half the time of stat with status (a one-off hot-loop comparison).
// Parsers and ReadSelfUsage are thread-safe (no shared state); a SelfUsageReader is used by one
// thread at a time.
#ifndef ACCORD_AGENT_SOURCES_SELF_USAGE_H_
#define ACCORD_AGENT_SOURCES_SELF_USAGE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/sources/file_reader.h"

namespace accord::agent {

struct SelfUsage {
  double cpu_seconds = 0;   // user + system CPU time of the process (utime + stime)
  uint64_t rss_bytes = 0;   // resident set size (VmRSS)
  uint64_t anon_bytes = 0;  // resident anonymous memory, i.e. private heap/stack (RssAnon)
};

// Parses /proc/<pid>/stat and returns (utime + stime) / user_hz in seconds. The command name
// in parentheses may contain spaces and ')' ; fields are counted after its last ')'.
// kInvalidArgument on malformed text or user_hz <= 0.
absl::StatusOr<double> ParsePidStatCpuSeconds(absl::string_view text, int64_t user_hz);

struct PidStatmMemory {
  uint64_t rss_bytes = 0;   // resident pages (VmRSS)
  uint64_t anon_bytes = 0;  // resident minus shared (file-backed and shmem) pages: RssAnon
};

// Parses /proc/<pid>/statm ("size resident shared text lib data dt", in pages of page_size
// bytes). kInvalidArgument when resident or shared is missing or malformed, shared exceeds
// resident, or page_size <= 0.
absl::StatusOr<PidStatmMemory> ParsePidStatm(absl::string_view text, int64_t page_size);

// Reads and parses {procfs}/self/stat and {procfs}/self/statm. user_hz <= 0 means
// sysconf(_SC_CLK_TCK). Errors are those of ReadFileToString and of the parsers.
absl::StatusOr<SelfUsage> ReadSelfUsage(const std::string& procfs, int64_t user_hz = 0);

// ReadSelfUsage for a caller that asks every cycle: both files stay open between reads on a
// real procfs (RereadableFile), and the buffer is reused, so a read costs two pread(2) calls
// and no allocation. user_hz <= 0 means sysconf(_SC_CLK_TCK). Opens nothing until Read.
class SelfUsageReader {
 public:
  explicit SelfUsageReader(const std::string& procfs, int64_t user_hz = 0);
  // As ReadSelfUsage.
  absl::StatusOr<SelfUsage> Read();

 private:
  const int64_t user_hz_;
  const int64_t page_size_;
  RereadableFile stat_;
  RereadableFile statm_;
  std::string buf_;
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SOURCES_SELF_USAGE_H_
