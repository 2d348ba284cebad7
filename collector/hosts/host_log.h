// HostLog: the seam between the HostRegistry and durable storage. The registry reports every
// transition and, periodically, each host's record; an implementation (collector/store)
// persists them. Restore data flows the other way at startup.
//
// Thread safety: implementations must be thread-safe and must not block for long: the
// registry calls them while holding its lock (the SQLite store only enqueues).
#ifndef ACCORD_COLLECTOR_HOSTS_HOST_LOG_H_
#define ACCORD_COLLECTOR_HOSTS_HOST_LOG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace accord::collector {

// HostState and Transition are declared in host_registry.h; this header only needs the
// record type, so it stays free of the registry.
struct HostRecord {
  std::string id;
  std::string hostname;
  std::string agent_version;
  std::map<std::string, std::string> labels;  // set only when labels_changed
  int64_t boot_time_seconds = 0;
  absl::Time last_seen;
  uint64_t last_sequence = 0;
  uint64_t samples_accepted = 0;
  // The labels changed since the last write (they are rewritten only then).
  bool labels_changed = true;
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_HOSTS_HOST_LOG_H_
