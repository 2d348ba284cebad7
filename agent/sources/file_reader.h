// Reads a whole (small) file into a caller-owned buffer with open(2)/read(2)/close(2).
//
// Made for /proc and /sys, whose files report size 0 and are generated on read: the file is
// read until EOF, the buffer grows as needed and keeps its capacity across calls, so a caller
// that reuses one std::string per source allocates nothing in steady state. No iostreams.
//
// Thread safety: thread-safe (no shared state); a buffer must not be shared between threads.
#ifndef ACCORD_AGENT_SOURCES_FILE_READER_H_
#define ACCORD_AGENT_SOURCES_FILE_READER_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/errno_status.h"

namespace accord::agent {

// Files larger than this are refused; /proc/<pid>/mounts of a host with thousands of
// container mounts stays far below it.
inline constexpr size_t kDefaultMaxFileBytes = 16 << 20;

// Replaces *out with the contents of `path`.
// Success: OK, *out holds the bytes read (possibly empty).
// Failure: *out is unspecified, and the code says why:
//   kNotFound          the path does not exist (ENOENT, ENOTDIR);
//   kPermissionDenied  EACCES or EPERM;
//   kResourceExhausted the file is larger than `max_bytes`;
//   kUnavailable       any other errno (e.g. EINVAL from a /sys attribute of a device that
//                      does not support it, EIO); the message carries strerror and the path.
// REQUIRES: out != nullptr.
absl::Status ReadFileToString(const std::string& path, std::string* out,
                              size_t max_bytes = kDefaultMaxFileBytes);

using ::accord::ErrnoToStatus;  // common/errno_status.h

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SOURCES_FILE_READER_H_
