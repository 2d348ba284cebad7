// Sample: one value of one series taken from the host, as the agent's sources produce it.
//
// Names are the full Prometheus metric names the collector exports (the collector adds the
// `host` label): e.g. "accord_host_cpu_seconds_total" with labels {cpu="0", mode="user"}.
// Counters stay counters; values are in SI base units (bytes, seconds).
#ifndef ACCORD_AGENT_SOURCES_SAMPLE_H_
#define ACCORD_AGENT_SOURCES_SAMPLE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace accord::agent {

enum class MetricKind : uint8_t { kGauge = 0, kCounter = 1 };

// Label pairs, sorted by name, names unique.
using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  std::string name;
  Labels labels;
  MetricKind kind = MetricKind::kGauge;
  double value = 0;
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SOURCES_SAMPLE_H_
