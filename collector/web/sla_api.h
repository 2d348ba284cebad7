// JSON for the SLA endpoints (docs/api.md): /api/v1/services, /api/v1/services/{id},
// /api/v1/services/{id}/availability and /api/v1/hosts/{id}/availability.
#ifndef ACCORD_COLLECTOR_WEB_SLA_API_H_
#define ACCORD_COLLECTOR_WEB_SLA_API_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/sla/sla_service.h"

namespace accord::collector {

std::string AvailabilityJson(const AvailabilityReport& report);
std::string ServiceSummaryJson(const SlaService::Summary& summary);

// Parses an optional RFC 3339 query parameter. Errors name the parameter.
absl::StatusOr<std::optional<absl::Time>> ParseTimeParam(const std::string& name,
                                                         const std::string* value);

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_WEB_SLA_API_H_
