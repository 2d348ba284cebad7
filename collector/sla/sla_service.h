// SlaService: answers availability questions for the services of the current catalogue and
// for single hosts, from the HostRegistry's transition logs and the availability engine.
// Everything is computed on demand (at API request or scrape time) from the log, so a
// revised past (backfill) changes every later answer consistently.
//
// Thread safety: thread-safe. The catalogue is swapped atomically (SIGHUP reload); each call
// works on the catalogue it started with.
#ifndef ACCORD_COLLECTOR_SLA_SLA_SERVICE_H_
#define ACCORD_COLLECTOR_SLA_SLA_SERVICE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "collector/availability/evaluation.h"
#include "collector/catalogue/catalogue.h"
#include "collector/hosts/host_registry.h"
#include "common/clock.h"

namespace accord::collector {

// The catalogue in force and its identity.
struct ActiveCatalogue {
  Catalogue catalogue;
  std::string version;  // content hash
  absl::Time loaded_at;
};

// The result of one evaluation, with what the JSON and the metrics need.
struct AvailabilityReport {
  std::string subject;  // service or host id
  bool is_service = true;
  double target = 0;
  availability::Evaluation evaluation;
  std::vector<std::string> components;  // hosts of the service (a host: itself)
  std::string catalogue_version;        // empty for hosts
  // The condition at the end of the evaluated range (now, for a range that includes it).
  availability::Condition condition_at_end = availability::Condition::kUnknown;
};

// "5m", "1h", "3d": the label of a burn-rate window.
std::string BurnWindowName(absl::Duration window);

class SlaService {
 public:
  SlaService(HostRegistry& registry, Clock& clock);

  void SetCatalogue(std::shared_ptr<const ActiveCatalogue> catalogue);
  std::shared_ptr<const ActiveCatalogue> catalogue() const;

  // A service over [from, to) (default: its current SLA period). Errors: NotFound for an
  // unknown service; InvalidArgument for to <= from.
  absl::StatusOr<AvailabilityReport> ServiceAvailability(const std::string& id,
                                                         std::optional<absl::Time> from,
                                                         std::optional<absl::Time> to) const;
  // A host, 24x7, unknown time counted as down, target 0 (none). Default range: the current
  // calendar month in UTC.
  absl::StatusOr<AvailabilityReport> HostAvailability(const std::string& id,
                                                      std::optional<absl::Time> from,
                                                      std::optional<absl::Time> to) const;

  // Every service of the catalogue with its current-period report (or why there is none).
  struct Summary {
    Service service;
    absl::StatusOr<AvailabilityReport> report;
  };
  std::vector<Summary> Summaries() const;

  // accord_service_* and accord_sla_* families for every service, current period.
  void RenderMetrics(std::string* out) const;

 private:
  // `hosts`: every known host (HostRefs()), taken once per request.
  absl::StatusOr<AvailabilityReport> Evaluate(const ActiveCatalogue& active, const Service& service,
                                              const std::vector<HostRef>& hosts, absl::Time from,
                                              absl::Time to, absl::Time now) const;
  std::vector<HostRef> HostRefs() const;
  // A host's condition over [from, to): its transition log with backfilled alive spans.
  availability::Timeline HostTimeline(const std::string& host, absl::Time from,
                                      absl::Time to) const;

  HostRegistry& registry_;
  Clock& clock_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const ActiveCatalogue> catalogue_ ABSL_GUARDED_BY(mu_);
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_SLA_SLA_SERVICE_H_
