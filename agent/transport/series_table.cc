#include "agent/transport/series_table.h"

namespace accord::agent {

void SeriesTable::KeyOf(const std::string& name, const Labels& labels, std::string* key) {
  key->clear();
  key->append(name);
  for (const auto& [k, v] : labels) {
    key->push_back('\0');
    key->append(k);
    key->push_back('\0');
    key->append(v);
  }
}

uint32_t SeriesTable::Intern(const Sample& sample) {
  absl::MutexLock lock(&mu_);
  KeyOf(sample.name, sample.labels, &key_);
  auto it = ids_.find(key_);
  if (it != ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(series_.size());
  series_.push_back({sample.name, sample.labels, sample.kind});
  ids_.emplace(key_, id);
  return id;
}

absl::Status SeriesTable::OpenJournal(const std::string& path, bool reset) {
  std::vector<SeriesInfo> loaded;
  auto journal = SeriesJournal::Open(path, reset, &loaded);
  if (!journal.ok()) return journal.status();
  absl::MutexLock lock(&mu_);
  series_.clear();
  ids_.clear();
  for (SeriesInfo& info : loaded) {
    KeyOf(info.name, info.labels, &key_);
    ids_.emplace(key_, static_cast<uint32_t>(series_.size()));
    series_.push_back(std::move(info));
  }
  synced_ = static_cast<uint32_t>(series_.size());
  journal_ = std::move(*journal);
  return absl::OkStatus();
}

absl::Status SeriesTable::Sync() {
  absl::MutexLock lock(&mu_);
  if (!journal_.has_value() || synced_ == series_.size()) return absl::OkStatus();
  std::vector<SeriesInfo> fresh(series_.begin() + synced_, series_.end());
  absl::Status st = journal_->Append(synced_, fresh);
  if (st.ok()) synced_ = static_cast<uint32_t>(series_.size());
  return st;
}

std::optional<SeriesInfo> SeriesTable::Find(uint32_t id) const {
  absl::MutexLock lock(&mu_);
  if (id >= series_.size()) return std::nullopt;
  return series_[id];
}

size_t SeriesTable::size() const {
  absl::MutexLock lock(&mu_);
  return series_.size();
}

}  // namespace accord::agent
