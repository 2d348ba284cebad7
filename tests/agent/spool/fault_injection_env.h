// FaultInjectionEnv: an in-memory SpoolEnv for tests that can simulate a crash and inject
// I/O errors (after leveldb's memenv and FaultInjectionTestEnv).
//
// It models the strict POSIX durability rules the spool must live with: a file's bytes are
// durable only up to its last Sync (or TruncateFile/SyncFile); a directory entry (creation,
// rename, removal) only after SyncDir of its directory. `PowerLossCopy` returns what a power
// loss at this instant would leave; `ProcessCrashCopy` what a kill -9 leaves (everything
// written, no locks). The copies are new envs: the spool that used this one can be destroyed
// later without disturbing them.
//
// Paths are plain strings: a file's directory is the part before the last '/'.
// Thread safety: thread-safe (one mutex).
#ifndef ACCORD_TESTS_AGENT_SPOOL_FAULT_INJECTION_ENV_H_
#define ACCORD_TESTS_AGENT_SPOOL_FAULT_INJECTION_ENV_H_

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/spool/spool_env.h"

namespace accord::agent::testing {

class FaultInjectionEnv final : public SpoolEnv {
 public:
  // One file's contents, shared by its names and open handles like an inode.
  struct Inode {
    std::string data;
    size_t synced = 0;  // data[0, synced) is durable
  };

  FaultInjectionEnv() = default;

  // What a power loss now leaves: the directory entries as of each directory's last SyncDir,
  // each file cut to its synced bytes plus, if `rng` is given, a random prefix of its
  // unsynced bytes (a torn write).
  std::unique_ptr<FaultInjectionEnv> PowerLossCopy(std::mt19937* rng = nullptr) const;
  // What kill -9 now leaves: every entry and byte written (the kernel has them), no locks.
  std::unique_ptr<FaultInjectionEnv> ProcessCrashCopy() const;

  // Crash at any moment: the snapshot a power loss (or, with `process_only`, a kill -9) would
  // leave is taken just before the n-th mutating operation from now (1: the next one; file
  // appends and syncs, creations, renames, removals, truncations, directory syncs). `rng`
  // (may be null; must outlive the arming) draws the torn bytes as in PowerLossCopy.
  void ArmCrash(int n, bool process_only, std::mt19937* rng);
  // The snapshot if the armed operation was reached, else null. Disarms.
  std::unique_ptr<FaultInjectionEnv> TakeCrashSnapshot();

  // Fault injection: while set, WritableFile::Append (and NewWritableFile) fail with
  // kResourceExhausted ("disk full"); Sync/SyncDir/SyncFile fail with kUnavailable (EIO).
  void SetFailWrites(bool fail);
  void SetFailSyncs(bool fail);

  // Inspection for tests.
  bool Exists(const std::string& path) const;
  std::string Contents(const std::string& path) const;  // "" if missing
  // Replaces a file's contents (durably), creating it if needed.
  void SetContents(const std::string& path, const std::string& data);
  // The names in `dir`, sorted.
  std::vector<std::string> Names(const std::string& dir) const;
  // Sum of the sizes of the files in `dir`.
  uint64_t DirBytes(const std::string& dir) const;

  // SpoolEnv
  absl::Status CreateDir(const std::string& dir) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override;
  absl::StatusOr<std::unique_ptr<SpoolWritableFile>> NewWritableFile(
      const std::string& path) override;
  absl::StatusOr<std::unique_ptr<SpoolReadableFile>> NewReadableFile(
      const std::string& path) override;
  absl::Status ReadFile(const std::string& path, std::string* out) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status TruncateFile(const std::string& path, uint64_t size) override;
  absl::Status SyncFile(const std::string& path) override;
  absl::Status SyncDir(const std::string& dir) override;
  absl::StatusOr<std::unique_ptr<SpoolFileLock>> LockFile(const std::string& path) override;

 private:
  class File;
  class Reader;
  class Lock;
  using Names_ = std::map<std::string, std::shared_ptr<Inode>>;

  std::unique_ptr<FaultInjectionEnv> PowerLossCopyLocked(std::mt19937* rng) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::unique_ptr<FaultInjectionEnv> ProcessCrashCopyLocked() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts a mutating operation; takes the armed snapshot when its turn comes.
  void MutatingOpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  int crash_countdown_ ABSL_GUARDED_BY(mu_) = 0;  // 0: not armed
  bool crash_process_only_ ABSL_GUARDED_BY(mu_) = false;
  std::mt19937* crash_rng_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::unique_ptr<FaultInjectionEnv> crash_snapshot_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> dirs_ ABSL_GUARDED_BY(mu_);
  Names_ live_ ABSL_GUARDED_BY(mu_);     // what the process sees
  Names_ durable_ ABSL_GUARDED_BY(mu_);  // entries as of the last SyncDir
  std::set<std::string> locks_ ABSL_GUARDED_BY(mu_);
  bool fail_writes_ ABSL_GUARDED_BY(mu_) = false;
  bool fail_syncs_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace accord::agent::testing

#endif  // ACCORD_TESTS_AGENT_SPOOL_FAULT_INJECTION_ENV_H_
