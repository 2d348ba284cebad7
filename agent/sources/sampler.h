// Sampler: reads the host's resource usage from a /proc, /sys and root tree and turns it into
// Samples. One sampler per agent; not thread-safe (call Collect from one thread).
//
// The host is reached only through the configured roots (node_exporter's --path.procfs,
// --path.sysfs, --path.rootfs), and filesystem sizes through the FsStatter seam, so tests run
// on fixture trees. A source that cannot be read or parsed is skipped for that cycle, counted
// in SamplerStats and logged once per (source, error) change; it never fails the whole cycle.
//
// Sources, in Collect order: /proc/stat, /proc/meminfo, /proc/loadavg, /proc/uptime,
// filesystems ({procfs}/1/mounts, else {procfs}/mounts, then statvfs per mount),
// /proc/diskstats, /proc/net/dev (+ /sys/class/net/<dev>/speed), then, when
// SamplerOptions::textfile.directory is set, the custom series of its *.prom files and the
// accord_agent_textfile_* series (textfile.h). Metric names are declared in
// agent/sources/metric_names.h.
//
// The /proc and /sys files are kept open between cycles and re-read with pread(2)
// (RereadableFile, file_reader.h); files elsewhere (fixture trees) are opened on each read.
//
// Blocking: Collect does only local file reads (textfiles: bounded, see TextfileOptions) and
// statvfs(2). statvfs on a hung network filesystem blocks until it returns; exclude such fs
// types (e.g. "nfs4") if that matters.
#ifndef ACCORD_AGENT_SOURCES_SAMPLER_H_
#define ACCORD_AGENT_SOURCES_SAMPLER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/sources/sample.h"
#include "agent/sources/textfile.h"

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
  // Ticks per second of /proc/stat and /proc/<pid>/stat. <= 0: sysconf(_SC_CLK_TCK).
  int64_t user_hz = 0;
  // Filesystem types never reported (pseudo filesystems). Exact match.
  // "erofs" was added to the original list: like squashfs it is a read-only image (snaps,
  // composefs, Android), always 100% full, and node_exporter's default list excludes it too.
  std::vector<std::string> fs_types_exclude = {
      "autofs",     "binfmt_misc", "bpf",       "cgroup",   "cgroup2",   "configfs",
      "debugfs",    "devpts",      "devtmpfs",  "fusectl",  "hugetlbfs", "iso9660",
      "mqueue",     "nsfs",        "overlay",   "proc",     "procfs",    "pstore",
      "rpc_pipefs", "securityfs",  "selinuxfs", "squashfs", "sysfs",     "tracefs",
      "ramfs",      "fuse.lxcfs",  "nfsd",      "efivarfs", "erofs"};
  // Mount points never reported: a mount point equal to one of these or below it.
  std::vector<std::string> mount_points_exclude = {
      "/dev", "/proc", "/sys", "/run/credentials", "/var/lib/docker", "/var/lib/containers"};
  // Network interfaces never reported. Exact match.
  std::vector<std::string> net_devices_exclude = {"lo"};
  // Block devices reported: whole disks only. Partitions, ram, loop and fd devices are
  // excluded (node_exporter's default; see disk_filter.h). When true, partitions are
  // reported as well; ram, zram, loop and fd devices never are.
  bool disk_partitions = false;
  // Custom series from `*.prom` files (node_exporter's textfile collector). Disabled while
  // textfile.directory is empty (the default).
  TextfileOptions textfile;
};

// Counts of the last Collect call.
struct SamplerStats {
  uint64_t samples = 0;            // samples appended
  uint64_t source_errors = 0;      // sources skipped (unreadable or unparsable)
  uint64_t fs_stat_errors = 0;     // mounts skipped because FsStatter::Stat failed
  uint64_t mount_table_reads = 0;  // 1 when this Collect read the mount table (it changed)
  TextfileStats textfile;          // all zero while the textfile directory is not set
};

class Sampler {
 public:
  // `statter` must outlive the sampler.
  Sampler(SamplerOptions options, FsStatter& statter);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Reads every source once and appends its samples to *out (not cleared). Never fails:
  // a source that cannot be read or parsed adds nothing and is counted in source_errors;
  // a textfile or textfile directory that fails is counted in stats.textfile instead.
  // REQUIRES: out != nullptr.
  SamplerStats Collect(std::vector<Sample>* out);

  // Boot time from /proc/stat btime, in seconds since the epoch. Errors: those of
  // ReadFileToString (file_reader.h) and ParseProcStat (kInvalidArgument).
  absl::StatusOr<int64_t> BootTimeSeconds();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SOURCES_SAMPLER_H_
