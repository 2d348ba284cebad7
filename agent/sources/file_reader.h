// Reads a whole (small) file into a caller-owned buffer with open(2)/read(2)/close(2)
// (ReadFileToString), or keeps a /proc or /sys file open and re-reads it with pread(2)
// (RereadableFile).
//
// Made for /proc and /sys, whose files report size 0 and are generated on read: the file is
// read until EOF, the buffer grows as needed and keeps its capacity across calls, so a caller
// that reuses one std::string per source allocates nothing in steady state. No iostreams.
//
// Thread safety: ReadFileToString is thread-safe (no shared state); a buffer must not be
// shared between threads. A RereadableFile is used by one thread at a time.
#ifndef ACCORD_AGENT_SOURCES_FILE_READER_H_
#define ACCORD_AGENT_SOURCES_FILE_READER_H_

#include <cstddef>
#include <string>
#include <utility>

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

// One file read again and again (a sampler source). On procfs and sysfs, whose files are
// generated afresh by every read from offset 0, the descriptor stays open between reads and a
// read is pread(2) from offset 0 until EOF: no path lookup, open(2) or close(2) per cycle
// (netdata does the same). Any other file (a fixture tree in tests, a copy of /proc) is opened
// for each read as ReadFileToString does, so a file replaced between reads is seen.
//
// Once opened, the descriptor stays open whatever a read answers (EINVAL from the speed of an
// interface whose link is down is asked again through it next time), except ENODEV: a /sys
// attribute of a device removed since. That closes it, and the read is retried once with a
// fresh open. Errors are those of ReadFileToString.
//
// Not copyable; movable. Owns its descriptor (closed on destruction).
class RereadableFile {
 public:
  explicit RereadableFile(std::string path) : path_(std::move(path)) {}
  ~RereadableFile();
  RereadableFile(RereadableFile&& other) noexcept;
  RereadableFile& operator=(RereadableFile&& other) noexcept;
  RereadableFile(const RereadableFile&) = delete;
  RereadableFile& operator=(const RereadableFile&) = delete;

  // Replaces *out with the file's contents; see ReadFileToString. REQUIRES: out != nullptr.
  absl::Status Read(std::string* out, size_t max_bytes = kDefaultMaxFileBytes);

  const std::string& path() const { return path_; }
  // True while a descriptor is kept open between reads (for tests).
  bool kept_open() const { return fd_ >= 0; }

  // For a /proc/<pid>/mounts file only: true when the kernel says the mount table has not
  // changed since this descriptor was opened or last asked (poll(2) reports POLLPRI on a
  // change, and asking consumes the report, as systemd and util-linux use it). False whenever
  // that cannot be known: the file is not kept open on procfs (a fixture tree), or poll fails.
  // The caller reads the file again on false.
  bool MountTableUnchanged();

 private:
  void Close();

  std::string path_;
  int fd_ = -1;  // open between reads only on procfs/sysfs
  bool on_procfs_ = false;
};

using ::accord::ErrnoToStatus;  // common/errno_status.h

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SOURCES_FILE_READER_H_
