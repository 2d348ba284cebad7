// SeriesTable: gives each distinct series (name + labels) a small id for the agent's
// lifetime, and remembers its description so each stream can describe it once.
// Thread-safe.
#ifndef ACCORD_AGENT_TRANSPORT_SERIES_TABLE_H_
#define ACCORD_AGENT_TRANSPORT_SERIES_TABLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "agent/sources/sample.h"

namespace accord::agent {

struct SeriesInfo {
  std::string name;
  Labels labels;
  MetricKind kind;
};

class SeriesTable {
 public:
  // Returns the id of the sample's series, adding it if new.
  uint32_t Intern(const Sample& sample);
  // Copies the description of `id`. REQUIRES: id was returned by Intern.
  SeriesInfo Get(uint32_t id) const;
  size_t size() const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint32_t> ids_ ABSL_GUARDED_BY(mu_);
  std::vector<SeriesInfo> series_ ABSL_GUARDED_BY(mu_);
  std::string key_ ABSL_GUARDED_BY(mu_);  // scratch
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_TRANSPORT_SERIES_TABLE_H_
