// The capacity endpoints (docs/api.md):
//   GET /api/v1/capacity/hosts/{id}
//   GET /api/v1/capacity/services/{id}
//   GET /api/v1/capacity/services/{id}/whatif?demand_growth=0.4
//   GET /api/v1/capacity/plan[?demand_growth=0.2]   every service: use, headroom, forecasts,
//                                                    what-if and recommendations
// Handlers are thread-safe (CapacityService is).
#ifndef ACCORD_COLLECTOR_WEB_CAPACITY_API_H_
#define ACCORD_COLLECTOR_WEB_CAPACITY_API_H_

#include <string>
#include <utility>
#include <vector>

#include "collector/capacity/capacity_service.h"
#include "collector/web/http_server.h"

namespace accord::collector {

std::vector<std::pair<std::string, HttpHandler>> MakeCapacityHandlers(
    capacity::CapacityService& capacity);

// The bodies, exposed for tests.
std::string HostCapacityJson(const capacity::HostCapacity& report);
std::string ServiceCapacityJson(const capacity::ServiceCapacity& report);
std::string WhatIfJson(const capacity::WhatIf& report);
// Plain-language recommendations from a service report and its what-if.
std::vector<std::string> Recommendations(const capacity::ServiceCapacity& report,
                                         const capacity::WhatIf* whatif);

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_WEB_CAPACITY_API_H_
