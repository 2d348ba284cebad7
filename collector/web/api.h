// The collector's HTTP endpoints: /metrics, /healthz, /api/v1/hosts, /api/v1/hosts/{id}.
// Reference: docs/api.md. Handlers are thread-safe (they only read the registry).
#ifndef ACCORD_COLLECTOR_WEB_API_H_
#define ACCORD_COLLECTOR_WEB_API_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "collector/hosts/host_registry.h"
#include "collector/sla/sla_service.h"
#include "collector/web/http_server.h"

namespace accord::collector {

// `render_self` appends the collector's other metrics (accord_capacity_*, accord_collector_*),
// handing the text to the drain (if any) as it grows. `sla` (optional) serves the service and
// availability endpoints and the accord_sla_* metrics.
std::vector<std::pair<std::string, HttpHandler>> MakeApiHandlers(
    HostRegistry& registry, std::function<void(std::string*, const ExpositionDrain&)> render_self,
    const SlaService* sla = nullptr);

// The bodies, exposed for tests and benchmarks.
std::string HostsJson(const std::vector<HostView>& hosts);
std::string HostJson(const HostView& host, const std::vector<Transition>& transitions,
                     const std::vector<Revision>& revisions = {});

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_WEB_API_H_
