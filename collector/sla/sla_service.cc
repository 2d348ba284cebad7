#include "collector/sla/sla_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "collector/availability/backfill.h"
#include "collector/availability/calendar.h"
#include "collector/availability/timeline.h"
#include "common/prom_text.h"

namespace accord::collector {
namespace {

using availability::Interval;

// Longer ranges cost memory and time in proportion; no SLA period is longer than a year.
constexpr absl::Duration kMaxRange = absl::Hours(24 * 800);

// Backfilled evidence ends at the agent's last recorded heartbeat, a moment before its new
// stream's hello: gaps up to this long between the two are bridged (see OverlayAlive).
constexpr absl::Duration kHeartbeatBridge = absl::Seconds(2);

absl::Status CheckRange(absl::Time from, absl::Time to) {
  if (to <= from) return absl::InvalidArgumentError("\"to\" must be after \"from\"");
  if (to - from > kMaxRange) {
    return absl::InvalidArgumentError("the range may span at most 800 days");
  }
  return absl::OkStatus();
}

}  // namespace

std::string BurnWindowName(absl::Duration d) {
  if (d % absl::Hours(24) == absl::ZeroDuration()) return absl::StrCat(d / absl::Hours(24), "d");
  if (d % absl::Hours(1) == absl::ZeroDuration()) return absl::StrCat(d / absl::Hours(1), "h");
  if (d % absl::Minutes(1) == absl::ZeroDuration()) {
    return absl::StrCat(d / absl::Minutes(1), "m");
  }
  return absl::StrCat(absl::ToInt64Seconds(d), "s");
}

SlaService::SlaService(HostRegistry& registry, Clock& clock) : registry_(registry), clock_(clock) {}

void SlaService::SetCatalogue(std::shared_ptr<const ActiveCatalogue> catalogue) {
  absl::MutexLock lock(&mu_);
  catalogue_ = std::move(catalogue);
}

std::shared_ptr<const ActiveCatalogue> SlaService::catalogue() const {
  absl::MutexLock lock(&mu_);
  return catalogue_;
}

availability::Timeline SlaService::HostTimeline(const std::string& host, absl::Time from,
                                                absl::Time to) const {
  std::vector<Transition> log = registry_.Transitions(host);
  std::vector<AliveSpan> alive = registry_.AliveSpans(host);
  std::vector<Interval> evidence;
  evidence.reserve(alive.size());
  for (const AliveSpan& a : alive) evidence.push_back({a.first, a.last});
  return availability::BuildBackfilledHostTimeline(host, log, evidence, from, to, kHeartbeatBridge);
}

std::vector<HostRef> SlaService::HostRefs() const {
  std::vector<HostRef> refs;
  for (HostView& h : registry_.Hosts()) refs.push_back({std::move(h.id), std::move(h.labels)});
  return refs;
}

absl::StatusOr<AvailabilityReport> SlaService::Evaluate(const ActiveCatalogue& active,
                                                        const Service& service,
                                                        const std::vector<HostRef>& hosts,
                                                        absl::Time from, absl::Time to,
                                                        absl::Time now) const {
  if (absl::Status st = CheckRange(from, to); !st.ok()) return st;
  AvailabilityReport report;
  report.subject = service.id;
  report.is_service = true;
  report.target = service.sla.target;
  report.catalogue_version = active.version;
  report.components = ComponentHosts(service, hosts);
  if (report.components.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("service \"", service.id, "\" has no component hosts"));
  }
  availability::SlaTerms terms;
  terms.target = service.sla.target;
  terms.unknown_policy = service.sla.unknown;
  if (const Team* team = active.catalogue.FindTeam(service.support_team)) {
    terms.restore_target = team->restore_target;
    terms.max_single_outage = team->max_single_outage;
  }
  Interval period{from, to};
  absl::Time eval_now = std::min(now, to);
  Interval coverage = availability::CoverageNeeded(period, eval_now, terms.burn_windows);
  auto agreed = availability::ResolveAgreedHours(service.sla.service_hours, service.sla.maintenance,
                                                 coverage);
  if (!agreed.ok()) return agreed.status();
  std::vector<availability::Timeline> timelines;
  timelines.reserve(report.components.size());
  for (const std::string& host : report.components) {
    timelines.push_back(HostTimeline(host, coverage.start, eval_now));
  }
  std::vector<const availability::Timeline*> ptrs;
  for (const auto& t : timelines) ptrs.push_back(&t);
  AvailabilityRule rule = service.rule;
  auto combined = availability::CombineTimelines(service.id, ptrs, rule);
  if (!combined.ok()) return combined.status();
  if (!combined->segments.empty()) report.condition_at_end = combined->segments.back().condition;
  auto evaluation = availability::Evaluate(*combined, *agreed, terms, period, eval_now);
  if (!evaluation.ok()) return evaluation.status();
  report.evaluation = std::move(*evaluation);
  return report;
}

absl::StatusOr<AvailabilityReport> SlaService::ServiceAvailability(
    const std::string& id, std::optional<absl::Time> from, std::optional<absl::Time> to) const {
  auto active = catalogue();
  if (active == nullptr) return absl::NotFoundError("no service catalogue is loaded");
  const Service* service = active->catalogue.FindService(id);
  if (service == nullptr) return absl::NotFoundError(absl::StrCat("no service \"", id, "\""));
  absl::Time now = clock_.Now();
  if (!from.has_value() || !to.has_value()) {
    auto bounds = availability::PeriodBounds(service->sla.period, now);
    if (!bounds.ok()) return bounds.status();
    if (!from.has_value()) from = bounds->start;
    if (!to.has_value()) to = bounds->end;
  }
  return Evaluate(*active, *service, HostRefs(), *from, *to, now);
}

absl::StatusOr<AvailabilityReport> SlaService::HostAvailability(
    const std::string& id, std::optional<absl::Time> from, std::optional<absl::Time> to) const {
  auto host = registry_.Host(id);
  if (!host.ok()) return host.status();
  absl::Time now = clock_.Now();
  if (!from.has_value() || !to.has_value()) {
    PeriodSpec month;  // calendar month, UTC
    auto bounds = availability::PeriodBounds(month, now);
    if (!bounds.ok()) return bounds.status();
    if (!from.has_value()) from = bounds->start;
    if (!to.has_value()) to = bounds->end;
  }
  if (absl::Status st = CheckRange(*from, *to); !st.ok()) return st;
  AvailabilityReport report;
  report.subject = id;
  report.is_service = false;
  report.components = {id};
  availability::SlaTerms terms;
  terms.target = 0;
  terms.unknown_policy = UnknownPolicy::kDown;
  Interval period{*from, *to};
  absl::Time eval_now = std::min(now, *to);
  Interval coverage = availability::CoverageNeeded(period, eval_now, terms.burn_windows);
  ServiceHours always;
  auto agreed = availability::ResolveAgreedHours(always, {}, coverage);
  if (!agreed.ok()) return agreed.status();
  availability::Timeline timeline = HostTimeline(id, coverage.start, eval_now);
  if (!timeline.segments.empty()) report.condition_at_end = timeline.segments.back().condition;
  auto evaluation = availability::Evaluate(timeline, *agreed, terms, period, eval_now);
  if (!evaluation.ok()) return evaluation.status();
  report.evaluation = std::move(*evaluation);
  return report;
}

std::vector<SlaService::Summary> SlaService::Summaries() const {
  std::vector<Summary> out;
  auto active = catalogue();
  if (active == nullptr) return out;
  absl::Time now = clock_.Now();
  std::vector<HostRef> hosts = HostRefs();
  for (const Service& service : active->catalogue.services) {
    auto bounds = availability::PeriodBounds(service.sla.period, now);
    if (!bounds.ok()) {
      out.push_back({service, bounds.status()});
      continue;
    }
    out.push_back({service, Evaluate(*active, service, hosts, bounds->start, bounds->end, now)});
  }
  return out;
}

void SlaService::RenderMetrics(std::string* out) const {
  std::vector<Summary> summaries = Summaries();
  if (summaries.empty()) return;
  absl::Time now = clock_.Now();
  std::vector<std::string> labels;
  for (const Summary& s : summaries) {
    std::string l = "service=\"";
    AppendEscapedLabelValue(&l, s.service.id);
    l.append("\",owner=\"");
    AppendEscapedLabelValue(&l, s.service.owner);
    absl::StrAppend(&l, "\",priority=\"", PriorityName(s.service.priority), "\"");
    labels.push_back(std::move(l));
  }
  // One family at a time, every service in it (the text format wants families contiguous).
  auto family = [&](const char* name, const char* type, const char* help, auto value_of) {
    bool header = false;
    for (size_t i = 0; i < summaries.size(); ++i) {
      if (!summaries[i].report.ok()) continue;
      std::optional<double> v = value_of(summaries[i]);
      if (!v.has_value()) continue;
      if (!header) {
        AppendFamilyHeader(out, name, type, help);
        header = true;
      }
      absl::StrAppend(out, name, "{", labels[i], "} ");
      AppendPromValue(out, *v);
      out->push_back('\n');
    }
  };
  using Opt = std::optional<double>;
  family("accord_service_up", "gauge",
         "1 when the service is available now by its rule, 0 when it is down or unknown.",
         [](const Summary& s) -> Opt {
           return s.report->condition_at_end == availability::Condition::kUp ? 1.0 : 0.0;
         });
  family("accord_sla_target_ratio", "gauge", "The SLA's availability target.",
         [](const Summary& s) -> Opt { return s.report->target; });
  family("accord_sla_availability_ratio", "gauge",
         "Availability in the current SLA period so far: (AST - downtime) / AST.",
         [](const Summary& s) -> Opt { return s.report->evaluation.availability; });
  family("accord_sla_agreed_service_seconds", "gauge",
         "Agreed service time in the current period so far.", [](const Summary& s) -> Opt {
           return absl::ToDoubleSeconds(s.report->evaluation.agreed_service_time);
         });
  family(
      "accord_sla_downtime_seconds", "gauge", "Downtime in the current period so far.",
      [](const Summary& s) -> Opt { return absl::ToDoubleSeconds(s.report->evaluation.downtime); });
  family("accord_sla_error_budget_remaining_ratio", "gauge",
         "Share of the period's error budget not yet used (negative when overspent).",
         [](const Summary& s) -> Opt { return s.report->evaluation.error_budget.remaining_ratio; });
  family("accord_sla_error_budget_remaining_seconds", "gauge",
         "Seconds of the period's error budget not yet used.", [](const Summary& s) -> Opt {
           return absl::ToDoubleSeconds(s.report->evaluation.error_budget.remaining);
         });
  {
    bool header = false;
    for (size_t i = 0; i < summaries.size(); ++i) {
      if (!summaries[i].report.ok()) continue;
      for (const auto& b : summaries[i].report->evaluation.burn_rates) {
        if (!header) {
          AppendFamilyHeader(out, "accord_sla_burn_rate", "gauge",
                             "Error-budget burn rate over the window ending now (1 = on budget).");
          header = true;
        }
        absl::StrAppend(out, "accord_sla_burn_rate{", labels[i], ",window=\"",
                        BurnWindowName(b.window), "\"} ");
        AppendPromValue(out, b.rate);
        out->push_back('\n');
      }
    }
  }
  family("accord_sla_incidents_total", "counter",
         "Incidents in the current SLA period (resets when a period starts).",
         [](const Summary& s) -> Opt {
           return static_cast<double>(s.report->evaluation.incidents.size());
         });
  family("accord_sla_mtrs_seconds", "gauge", "Mean time to restore service in the period.",
         [](const Summary& s) -> Opt {
           const auto& m = s.report->evaluation.mtrs;
           return m ? Opt(absl::ToDoubleSeconds(*m)) : std::nullopt;
         });
  family("accord_sla_mtbf_seconds", "gauge", "Mean time between failures in the period.",
         [](const Summary& s) -> Opt {
           const auto& m = s.report->evaluation.mtbf;
           return m ? Opt(absl::ToDoubleSeconds(*m)) : std::nullopt;
         });
  family("accord_sla_mtbsi_seconds", "gauge",
         "Mean time between service incidents (MTBF + MTRS) in the period.",
         [](const Summary& s) -> Opt {
           const auto& m = s.report->evaluation.mtbsi;
           return m ? Opt(absl::ToDoubleSeconds(*m)) : std::nullopt;
         });
  auto in_set = [now](const Service& svc, bool maintenance) -> Opt {
    availability::Interval probe{now, now + absl::Seconds(1)};
    if (maintenance) {
      auto m = availability::MaintenanceIntervals(svc.sla.maintenance, probe);
      return m.ok() ? Opt(m->empty() ? 0.0 : 1.0) : std::nullopt;
    }
    auto h = availability::ServiceHoursIntervals(svc.sla.service_hours, probe);
    return h.ok() ? Opt(h->empty() ? 0.0 : 1.0) : std::nullopt;
  };
  family("accord_service_in_maintenance", "gauge", "1 while a planned maintenance window runs.",
         [&](const Summary& s) { return in_set(s.service, true); });
  family("accord_service_in_agreed_service_time", "gauge",
         "1 inside the agreed service hours (named for ITIL agreed service time: promtool refuses "
         "the unit \"hours\" in a name).",
         [&](const Summary& s) { return in_set(s.service, false); });
}

}  // namespace accord::collector
