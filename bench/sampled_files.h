// SampledFiles: the files one Sampler::Collect reads with default options (the /proc files and
// the speed attribute of every interface that is not excluded, i.e. not "lo"). The "floor" of
// the agent's sampling cost is reading these and nothing more (agent_sampler_bench's
// BM_ReadFilesOnly, accord-bench-floor). Reads /proc/net/dev once. Thread-safe.
#ifndef ACCORD_BENCH_SAMPLED_FILES_H_
#define ACCORD_BENCH_SAMPLED_FILES_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/sources/file_reader.h"
#include "agent/sources/proc_parsers.h"

namespace accord::agent {

inline std::vector<std::string> SampledFiles() {
  std::vector<std::string> files = {"/proc/stat",   "/proc/meminfo",  "/proc/loadavg",
                                    "/proc/uptime", "/proc/1/mounts", "/proc/diskstats",
                                    "/proc/net/dev"};
  std::string buf;
  if (ReadFileToString("/proc/net/dev", &buf).ok()) {
    absl::StatusOr<std::vector<NetDevStats>> devs = ParseNetDev(buf);
    if (devs.ok()) {
      for (const NetDevStats& d : *devs) {
        if (d.device != "lo") files.push_back(absl::StrCat("/sys/class/net/", d.device, "/speed"));
      }
    }
  }
  return files;
}

}  // namespace accord::agent

#endif  // ACCORD_BENCH_SAMPLED_FILES_H_
