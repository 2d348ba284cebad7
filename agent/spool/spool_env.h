// SpoolEnv: the disk spool's only access to the filesystem (the storage seam, as leveldb's
// `Env`). `SpoolEnv::Default()` is the POSIX implementation; tests substitute an in-memory
// double that injects faults and simulates power loss (tests/agent/spool/fault_injection_env.h).
//
// Durability contract (what DiskSpool relies on, and what the POSIX implementation gives):
//   - bytes passed to WritableFile::Append are in the kernel when it returns (no user-space
//     buffer), so they survive the death of the process (kill -9), not a power loss;
//   - WritableFile::Sync makes the file's bytes durable (fdatasync);
//   - a new, renamed or removed directory entry is durable only after SyncDir(dir);
//   - RenameFile atomically replaces the target.
//
// Errors: kNotFound (no such file), kPermissionDenied, kResourceExhausted (disk or quota
// full), kFailedPrecondition (lock held elsewhere), kDataLoss (short read), kUnavailable (any
// other I/O error). Messages carry the path and strerror.
//
// Thread safety: SpoolEnv methods are thread-safe. A WritableFile is used by one thread at a
// time; a ReadableFile may be read from several threads while another appends to the file.
#ifndef ACCORD_AGENT_SPOOL_SPOOL_ENV_H_
#define ACCORD_AGENT_SPOOL_SPOOL_ENV_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace accord::agent {

// A file opened for appending.
class SpoolWritableFile {
 public:
  virtual ~SpoolWritableFile() = default;  // closes if still open, ignoring errors
  // Writes all of `data` at the end of the file.
  virtual absl::Status Append(absl::string_view data) = 0;
  // Makes everything appended so far durable.
  virtual absl::Status Sync() = 0;
  virtual absl::Status Close() = 0;
};

// A file opened for positional reads.
class SpoolReadableFile {
 public:
  virtual ~SpoolReadableFile() = default;
  // Replaces *out with the n bytes at `offset`. kDataLoss if fewer are there.
  // REQUIRES: out != nullptr.
  virtual absl::Status Read(uint64_t offset, size_t n, std::string* out) const = 0;
};

// An exclusive lock on a file; released when destroyed (and by the kernel when the process
// dies).
class SpoolFileLock {
 public:
  virtual ~SpoolFileLock() = default;
};

class SpoolEnv {
 public:
  virtual ~SpoolEnv() = default;

  // The process-wide POSIX implementation.
  static SpoolEnv& Default();

  // Creates `dir` and its parents if missing. OK if it exists.
  virtual absl::Status CreateDir(const std::string& dir) = 0;
  // The names (not paths) of the entries of `dir`, without "." and "..", in no order.
  virtual absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Creates `path`, or truncates it if it exists, for appending. The caller owns the file.
  virtual absl::StatusOr<std::unique_ptr<SpoolWritableFile>> NewWritableFile(
      const std::string& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<SpoolReadableFile>> NewReadableFile(
      const std::string& path) = 0;
  // Replaces *out with the whole file. REQUIRES: out != nullptr.
  virtual absl::Status ReadFile(const std::string& path, std::string* out) = 0;
  virtual absl::Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  // Cuts `path` to `size` bytes and makes the file durable.
  virtual absl::Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes the bytes of an existing file durable.
  virtual absl::Status SyncFile(const std::string& path) = 0;
  // Makes the entries of `dir` (creations, renames, removals) durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive, non-blocking lock on `path` (created if missing).
  // kFailedPrecondition if another process or SpoolFileLock holds it.
  virtual absl::StatusOr<std::unique_ptr<SpoolFileLock>> LockFile(const std::string& path) = 0;
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SPOOL_SPOOL_ENV_H_
