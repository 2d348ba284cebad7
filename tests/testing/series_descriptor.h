// Desc(): a collector SeriesDescriptor in one line, for tests of the registry and its
// observers.
#ifndef ACCORD_TESTS_TESTING_SERIES_DESCRIPTOR_H_
#define ACCORD_TESTS_TESTING_SERIES_DESCRIPTOR_H_

#include <string>
#include <utility>
#include <vector>

#include "collector/hosts/host_registry.h"

namespace accord::testing {

inline collector::SeriesDescriptor Desc(
    uint32_t id, std::string name, std::vector<std::pair<std::string, std::string>> labels = {},
    collector::SeriesKind kind = collector::SeriesKind::kGauge) {
  collector::SeriesDescriptor d;
  d.id = id;
  d.name = std::move(name);
  d.labels = std::move(labels);
  d.kind = kind;
  return d;
}

}  // namespace accord::testing

#endif  // ACCORD_TESTS_TESTING_SERIES_DESCRIPTOR_H_
