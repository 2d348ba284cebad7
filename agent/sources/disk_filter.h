// Which block devices of /proc/diskstats the Sampler reports. Pure; thread-safe.
#ifndef ACCORD_AGENT_SOURCES_DISK_FILTER_H_
#define ACCORD_AGENT_SOURCES_DISK_FILTER_H_

#include "absl/strings/string_view.h"

namespace accord::agent {

// True when `device` must not be reported. With include_partitions == false this is exactly
// node_exporter's default --collector.diskstats.device-exclude regex
//     ^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$
// (ram, zram, loop and floppy devices, and partitions of hd/sd/vd/xvd/nvme disks), matched by
// hand so no regex runs per cycle. Note what the regex leaves in: whole disks ("sda",
// "nvme0n1"), device-mapper ("dm-0"), md arrays ("md0"), "sr0", and partitions of disks past
// the 26th ("sdaa1"). With include_partitions == true only ^(z?ram|loop|fd)\d+$ is excluded.
bool IsExcludedDisk(absl::string_view device, bool include_partitions);

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SOURCES_DISK_FILTER_H_
