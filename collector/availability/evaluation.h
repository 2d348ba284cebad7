// SLA evaluation: availability, incidents, ITIL reliability figures (MTBF, MTRS, MTBSI), error
// budget, burn rates and OLA breaches of one host or service over an SLA period, from its
// condition Timeline (timeline.h) and its agreed hours (calendar.h). Everything is exact
// interval arithmetic on absl::Time: outages that cross period, service-hour or maintenance
// edges are split at the exact instant; nothing is sampled.
//
// Definitions (docs: ITIL Service Delivery; /work/shared/FIELD-NOTES.md):
//   elapsed range E   = [period.start, min(period.end, now)) (empty when now <= start).
//   agreed hours  H   = service hours − planned maintenance.
//   outage O          = Down time, plus Unknown time when unknown_policy == kDown.
//   excluded X        = Unknown time when unknown_policy == kExcluded, plus, under every
//                       policy, Unknown time with cause "not_monitored" (before a host was
//                       first seen: it did not exist for us, so it neither fails nor passes).
//   AST               = |(H − X) ∩ E|  (agreed service time so far).
//   AST whole period  = |H ∩ period| − |X ∩ H ∩ E| (future unknowns cannot be known yet).
//   downtime          = |O ∩ H ∩ E|; under kUp, Unknown counts as up time.
//   availability      = (AST − downtime) / AST; 1.0 when AST is zero (nothing was agreed,
//                       so nothing was missed).
//   unknown           = |Unknown ∩ H ∩ E| (without not_monitored), whatever the policy.
//   maintenance       = |maintenance ∩ service hours ∩ E|.
//   incident          = a maximal interval of O in real time (across service-hour and
//                       maintenance edges) that overlaps AST; see Incident.
//   MTRS = downtime / #incidents; MTBF = (AST − downtime) / #incidents; MTBSI = MTBF + MTRS;
//                       all absent when there is no incident.
//   error budget      = (1 − target) × AST whole period; consumed = downtime;
//                       remaining = budget − consumed (negative when overspent);
//                       remaining_ratio = remaining / budget (1.0 when the budget is zero).
//   burn rate(w)      = (downtime in [now − w, now)) / (AST in [now − w, now)) / (1 − target);
//                       0 when the window has no AST. Windows are not clipped to the period:
//                       they look back from now into the timeline.
//   OLA breach        = an incident whose duration exceeds restore_target or
//                       max_single_outage (each checked when set).
// Parts of the needed range that the timeline does not cover count as Unknown "no_data".
//
// Thread safety: pure functions on values; safe from any thread.
#ifndef ACCORD_COLLECTOR_AVAILABILITY_EVALUATION_H_
#define ACCORD_COLLECTOR_AVAILABILITY_EVALUATION_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "collector/availability/intervals.h"
#include "collector/availability/sla_types.h"
#include "collector/availability/timeline.h"

namespace accord::collector::availability {

// 5m, 30m, 1h, 2h, 6h, 1d, 3d: the windows of the SRE Workbook's multi-window alerts.
std::vector<absl::Duration> DefaultBurnWindows();

// What the figures are judged against.
struct SlaTerms {
  // Availability target as a ratio in [0, 1), e.g. 0.999.
  double target = 0.999;
  // How Unknown time counts. Default kDown, as the catalogue's `sla.unknown` default.
  UnknownPolicy unknown_policy = UnknownPolicy::kDown;
  // OLA: the longest acceptable time to restore (incident duration, in AST); unset = none.
  std::optional<absl::Duration> restore_target;
  // OLA: the longest acceptable single outage (incident duration, in AST); unset = none.
  std::optional<absl::Duration> max_single_outage;
  // Burn-rate windows ending at now. Each must be positive.
  std::vector<absl::Duration> burn_windows = DefaultBurnWindows();
};

// Service hours and maintenance resolved to absolute intervals over `range`. Build once per
// SLA and reuse it for every host and service that shares the SLA.
struct AgreedHours {
  Interval range;
  IntervalSet service_hours;  // normalized, within range
  IntervalSet maintenance;    // normalized, within range
};

// Errors: as ServiceHoursIntervals and MaintenanceIntervals (InvalidArgument).
absl::StatusOr<AgreedHours> ResolveAgreedHours(const ServiceHours& hours,
                                               absl::Span<const MaintenanceWindow> maintenance,
                                               Interval range);

// The range that the AgreedHours (and ideally the Timeline) must cover to evaluate `period` at
// `now`: [min(period.start, now − longest burn window), max(period.end, now)).
Interval CoverageNeeded(Interval period, absl::Time now,
                        absl::Span<const absl::Duration> burn_windows);

// A maximal outage in real time that overlaps AST.
struct Incident {
  absl::Time start;  // clipped to the evaluated range E
  absl::Time end;    // clipped to the evaluated range E
  // The part of [start, end) inside AST: what the incident adds to downtime. Outside service
  // hours and inside maintenance the clock does not run.
  absl::Duration duration;
  // The cause of the outage's first segment (where it really began, even before E): e.g.
  // stream_broken, heartbeat_timeout, reboot, host_shutdown, agent_stopped, no_data.
  std::string cause;
  // Ids of the components that were not up at some time in [start, end), in component order.
  // A host's own incident lists the host.
  std::vector<std::string> components;
  bool started_before_range = false;  // the outage began before E.start
  // The outage lasts beyond E's end, or reaches it when E ends at now (ongoing).
  bool continues_after_range = false;
};

struct OlaBreach {
  size_t incident = 0;      // index into Evaluation::incidents
  std::string kind;         // "restore_target" or "max_single_outage"
  absl::Duration limit;     // the OLA limit exceeded
  absl::Duration duration;  // the incident's duration
};

struct ErrorBudget {
  absl::Duration total;          // (1 − target) × AST of the whole period
  absl::Duration consumed;       // = downtime so far
  absl::Duration remaining;      // total − consumed; negative when overspent
  double remaining_ratio = 1.0;  // remaining / total; 1.0 when total is zero
};

struct BurnRate {
  absl::Duration window;
  double rate = 0;
};

struct Evaluation {
  Interval period;                                  // [start, end) as given
  Interval evaluated;                               // E = [start, min(end, now))
  absl::Duration agreed_service_time;               // AST so far
  absl::Duration agreed_service_time_whole_period;  // for the error budget
  absl::Duration downtime;
  absl::Duration unknown;
  absl::Duration maintenance;
  absl::Duration not_monitored;     // Unknown "not_monitored" ∩ H ∩ E (left out of AST)
  double availability = 1.0;        // in [0, 1]
  std::vector<Incident> incidents;  // in time order
  std::optional<absl::Duration> mtrs;
  std::optional<absl::Duration> mtbf;
  std::optional<absl::Duration> mtbsi;
  ErrorBudget error_budget;
  std::vector<BurnRate> burn_rates;     // in SlaTerms::burn_windows order
  std::vector<OlaBreach> ola_breaches;  // in incident order, restore_target first
};

// Evaluates `timeline` over `period` as known at `now`. `agreed` must cover
// CoverageNeeded(period, now, terms.burn_windows); the timeline should cover the same range
// (time it does not cover is Unknown "no_data": build host timelines with
// from = CoverageNeeded(...).start and to = now).
// Errors (InvalidArgument): target not in [0, 1); period.end < period.start; a non-positive
// burn window; `agreed` not covering the needed range.
absl::StatusOr<Evaluation> Evaluate(const Timeline& timeline, const AgreedHours& agreed,
                                    const SlaTerms& terms, Interval period, absl::Time now);

// Convenience: resolves the agreed hours for this one evaluation, then evaluates.
// Errors: as ResolveAgreedHours and the Evaluate above.
absl::StatusOr<Evaluation> Evaluate(const Timeline& timeline, const ServiceHours& hours,
                                    absl::Span<const MaintenanceWindow> maintenance,
                                    const SlaTerms& terms, Interval period, absl::Time now);

}  // namespace accord::collector::availability

#endif  // ACCORD_COLLECTOR_AVAILABILITY_EVALUATION_H_
