// Mount table parsing and the filesystem selection rules of the Sampler.
//
// Pure functions over text and values; thread-safe.
#ifndef ACCORD_AGENT_SOURCES_MOUNTS_H_
#define ACCORD_AGENT_SOURCES_MOUNTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace accord::agent {

// One line of /proc/<pid>/mounts, with octal escapes decoded.
struct MountEntry {
  std::string device;       // e.g. "/dev/sda1", "tmpfs"
  std::string mount_point;  // e.g. "/srv/my data"
  std::string fs_type;      // e.g. "ext4"
};

// Decodes the kernel's mount-table escapes: a backslash followed by exactly three octal
// digits (\040 space, \011 tab, \012 newline, \134 backslash) becomes that byte. Any other
// backslash is kept as is.
std::string DecodeMountEscapes(absl::string_view text);

// Parses /proc/<pid>/mounts (or /proc/mounts): "device mount_point fs_type options dump pass".
// Each non-blank line needs at least the first three fields; more are ignored. Entries are
// returned in file order, unfiltered and with duplicates. kInvalidArgument on a short line.
absl::StatusOr<std::vector<MountEntry>> ParseMounts(absl::string_view text);

// True when `mount_point` equals `prefix` or lies below it ("/dev" covers "/dev/shm" but not
// "/devices"). An empty prefix covers nothing.
bool MountPointIsUnder(absl::string_view mount_point, absl::string_view prefix);

// Chooses the filesystems to report, in order of first appearance:
//   1. duplicates of a mount point are collapsed, the last entry winning (the kernel lists
//      mounts in mount order, so the last one is the visible one);
//   2. entries whose fs_type equals one of `fs_types_exclude` are dropped;
//   3. entries whose mount point is under one of `mount_points_exclude` are dropped.
// Deduplication comes first so a pseudo filesystem mounted over a real one hides it.
std::vector<MountEntry> SelectMounts(std::vector<MountEntry> mounts,
                                     const std::vector<std::string>& fs_types_exclude,
                                     const std::vector<std::string>& mount_points_exclude);

// Joins the rootfs option and a mount point into the path to stat: ("/", "/var") -> "/var",
// ("/host", "/") -> "/host", ("/host/", "/var") -> "/host/var".
std::string JoinRootfs(absl::string_view rootfs, absl::string_view mount_point);

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SOURCES_MOUNTS_H_
