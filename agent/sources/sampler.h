// Sampler: reads the host's resource usage from a /proc, /sys and root tree and turns it into
// Samples. One sampler per agent; not thread-safe (call Collect from one thread).
//
// The host is reached only through the configured roots (node_exporter's --path.procfs,
// --path.sysfs, --path.rootfs), and filesystem sizes through the FsStatter seam, so tests run
// on fixture trees. A source that cannot be read or parsed is skipped for that cycle, counted
// in SamplerStats and logged once per (source, error) change; it never fails the whole cycle.
#ifndef ACCORD_AGENT_SOURCES_SAMPLER_H_
#define ACCORD_AGENT_SOURCES_SAMPLER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/sources/sample.h"

namespace accord::agent {

// statvfs(3) results for one mount, in bytes and inode counts.
struct FsStats {
  uint64_t size_bytes = 0;
  uint64_t free_bytes = 0;
  uint64_t avail_bytes = 0;
  uint64_t files = 0;
  uint64_t files_free = 0;
};

// Seam for filesystem statistics. The real one calls statvfs(2); tests use a fake.
class FsStatter {
 public:
  virtual ~FsStatter() = default;
  // `path` is the mount point already prefixed with the rootfs.
  virtual absl::StatusOr<FsStats> Stat(const std::string& path) = 0;
};

// Calls statvfs(2).
std::unique_ptr<FsStatter> NewRealFsStatter();

struct SamplerOptions {
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  std::string rootfs = "/";
  // Filesystem types never reported (pseudo filesystems). Exact match.
  std::vector<std::string> fs_types_exclude = {
      "autofs",   "binfmt_misc", "bpf",       "cgroup",  "cgroup2",   "configfs", "debugfs",
      "devpts",   "devtmpfs",    "fusectl",   "hugetlbfs", "iso9660", "mqueue",   "nsfs",
      "overlay",  "proc",        "procfs",    "pstore",  "rpc_pipefs", "securityfs", "selinuxfs",
      "squashfs", "sysfs",       "tracefs",   "ramfs",   "fuse.lxcfs", "nfsd",    "efivarfs"};
  // Mount points never reported: a mount point equal to one of these or below it.
  std::vector<std::string> mount_points_exclude = {"/dev", "/proc", "/sys", "/run/credentials",
                                                   "/var/lib/docker", "/var/lib/containers"};
  // Network interfaces never reported. Exact match.
  std::vector<std::string> net_devices_exclude = {"lo"};
  // Block devices reported: whole disks only. Partitions, ram, loop and fd devices are
  // excluded (node_exporter's default).
  bool disk_partitions = false;
};

// Counts of the last Collect call.
struct SamplerStats {
  uint64_t samples = 0;        // samples appended
  uint64_t source_errors = 0;  // sources skipped
};

class Sampler {
 public:
  // `statter` must outlive the sampler.
  Sampler(SamplerOptions options, FsStatter& statter);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Reads every source once and appends its samples to *out (not cleared).
  SamplerStats Collect(std::vector<Sample>* out);

  // Boot time from /proc/stat btime, in seconds since the epoch.
  absl::StatusOr<int64_t> BootTimeSeconds();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SOURCES_SAMPLER_H_
