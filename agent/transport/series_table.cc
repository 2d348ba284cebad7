#include "agent/transport/series_table.h"

namespace accord::agent {

uint32_t SeriesTable::Intern(const Sample& sample) {
  absl::MutexLock lock(&mu_);
  key_.clear();
  key_.append(sample.name);
  for (const auto& [k, v] : sample.labels) {
    key_.push_back('\0');
    key_.append(k);
    key_.push_back('\0');
    key_.append(v);
  }
  auto it = ids_.find(key_);
  if (it != ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(series_.size());
  series_.push_back({sample.name, sample.labels, sample.kind});
  ids_.emplace(key_, id);
  return id;
}

SeriesInfo SeriesTable::Get(uint32_t id) const {
  absl::MutexLock lock(&mu_);
  return series_[id];
}

size_t SeriesTable::size() const {
  absl::MutexLock lock(&mu_);
  return series_.size();
}

}  // namespace accord::agent
