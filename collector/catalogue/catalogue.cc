#include "collector/catalogue/catalogue.h"

#include <algorithm>

namespace accord::collector {
namespace {

template <typename T>
const T* FindById(const std::vector<T>& items, absl::string_view id) {
  for (const T& item : items) {
    if (item.id == id) return &item;
  }
  return nullptr;
}

bool LabelsMatch(const std::map<std::string, std::string>& selector,
                 const std::map<std::string, std::string>& labels) {
  if (selector.empty()) return false;
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

const char* PriorityName(Priority priority) {
  switch (priority) {
    case Priority::kCritical:
      return "critical";
    case Priority::kHigh:
      return "high";
    case Priority::kMedium:
      return "medium";
    case Priority::kLow:
      return "low";
  }
  return "medium";
}

const Service* Catalogue::FindService(absl::string_view id) const { return FindById(services, id); }
const Team* Catalogue::FindTeam(absl::string_view id) const { return FindById(teams, id); }
const Supplier* Catalogue::FindSupplier(absl::string_view id) const {
  return FindById(suppliers, id);
}

bool SelectorMatches(const Service& service, const std::string& host_id,
                     const std::map<std::string, std::string>& host_labels) {
  const auto& listed = service.components.hosts;
  if (std::find(listed.begin(), listed.end(), host_id) != listed.end()) return true;
  return LabelsMatch(service.components.selector, host_labels);
}

std::vector<std::string> ComponentHosts(const Service& service, const std::vector<HostRef>& hosts) {
  std::vector<std::string> result = service.components.hosts;
  std::vector<std::string> selected;
  for (const HostRef& host : hosts) {
    if (std::find(result.begin(), result.end(), host.id) != result.end()) continue;
    if (LabelsMatch(service.components.selector, host.labels)) selected.push_back(host.id);
  }
  std::sort(selected.begin(), selected.end());
  selected.erase(std::unique(selected.begin(), selected.end()), selected.end());
  result.insert(result.end(), selected.begin(), selected.end());
  return result;
}

}  // namespace accord::collector
