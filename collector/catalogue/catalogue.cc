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

const char* CapacityResourceName(CapacityResource resource) {
  switch (resource) {
    case CapacityResource::kCpu:
      return "cpu";
    case CapacityResource::kMemory:
      return "memory";
    case CapacityResource::kSwap:
      return "swap";
    case CapacityResource::kFilesystem:
      return "filesystem";
    case CapacityResource::kInodes:
      return "inodes";
    case CapacityResource::kNetwork:
      return "network";
  }
  return "cpu";
}

std::optional<CapacityResource> ParseCapacityResource(absl::string_view name) {
  for (CapacityResource r : kCapacityResources) {
    if (name == CapacityResourceName(r)) return r;
  }
  return std::nullopt;
}

const char* CapacityStatisticName(CapacityStatistic statistic) {
  switch (statistic) {
    case CapacityStatistic::kCurrent:
      return "current";
    case CapacityStatistic::kMean:
      return "mean";
    case CapacityStatistic::kP95:
      return "p95";
    case CapacityStatistic::kP99:
      return "p99";
    case CapacityStatistic::kMax:
      return "max";
  }
  return "current";
}

std::optional<CapacityStatistic> ParseCapacityStatistic(absl::string_view name) {
  for (CapacityStatistic s :
       {CapacityStatistic::kCurrent, CapacityStatistic::kMean, CapacityStatistic::kP95,
        CapacityStatistic::kP99, CapacityStatistic::kMax}) {
    if (name == CapacityStatisticName(s)) return s;
  }
  return std::nullopt;
}

CapacitySpec DefaultCapacitySpec() {
  auto threshold = [](double warning, double critical, CapacityStatistic statistic) {
    CapacityThreshold t;
    t.warning = warning;
    t.critical = critical;
    t.statistic = statistic;
    t.window = absl::Hours(24);
    return t;
  };
  CapacitySpec spec;
  spec.thresholds = {
      {CapacityResource::kCpu, threshold(0.70, 0.85, CapacityStatistic::kP95)},
      {CapacityResource::kMemory, threshold(0.80, 0.90, CapacityStatistic::kP95)},
      {CapacityResource::kSwap, threshold(0.50, 0.80, CapacityStatistic::kCurrent)},
      {CapacityResource::kFilesystem, threshold(0.80, 0.90, CapacityStatistic::kCurrent)},
      {CapacityResource::kInodes, threshold(0.80, 0.90, CapacityStatistic::kCurrent)},
      {CapacityResource::kNetwork, threshold(0.70, 0.85, CapacityStatistic::kP95)},
  };
  return spec;
}

const CapacityThreshold& ThresholdFor(const CapacitySpec& spec, CapacityResource resource,
                                      absl::string_view mountpoint) {
  if (resource == CapacityResource::kFilesystem || resource == CapacityResource::kInodes) {
    auto it = spec.mountpoints.find(std::string(mountpoint));
    if (it != spec.mountpoints.end()) return it->second;
  }
  if (auto it = spec.thresholds.find(resource); it != spec.thresholds.end()) return it->second;
  static const CapacitySpec* const kBuiltIn = new CapacitySpec(DefaultCapacitySpec());
  return kBuiltIn->thresholds.at(resource);
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
