#include "collector/web/sla_api.h"

#include "absl/strings/str_cat.h"
#include "collector/web/json.h"

namespace accord::collector {
namespace {

void Num(std::string* out, double v) { AppendJsonNumber(out, v); }

void Seconds(std::string* out, absl::Duration d) {
  // Millisecond resolution is what the transition log records meaningfully.
  Num(out, static_cast<double>(absl::ToInt64Milliseconds(d)) / 1000.0);
}

void OptSeconds(std::string* out, const std::optional<absl::Duration>& d) {
  if (d.has_value()) {
    Seconds(out, *d);
  } else {
    out->append("null");
  }
}

void StringList(std::string* out, const std::vector<std::string>& list) {
  out->push_back('[');
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(out, list[i]);
  }
  out->push_back(']');
}

const char* RuleText(const AvailabilityRule& rule) {
  switch (rule.kind) {
    case AvailabilityRule::Kind::kAll:
      return "all";
    case AvailabilityRule::Kind::kAny:
      return "any";
    case AvailabilityRule::Kind::kAtLeast:
      return "at_least";
  }
  return "all";
}

}  // namespace

std::string AvailabilityJson(const AvailabilityReport& r) {
  const availability::Evaluation& e = r.evaluation;
  std::string out = r.is_service ? "{\"service\":" : "{\"host\":";
  AppendJsonString(&out, r.subject);
  out.append(",\"from\":");
  AppendJsonTime(&out, e.period.start);
  out.append(",\"to\":");
  AppendJsonTime(&out, e.period.end);
  out.append(",\"evaluated_to\":");
  AppendJsonTime(&out, e.evaluated.end);
  out.append(",\"target\":");
  Num(&out, r.target);
  out.append(",\"agreed_service_seconds\":");
  Seconds(&out, e.agreed_service_time);
  out.append(",\"downtime_seconds\":");
  Seconds(&out, e.downtime);
  out.append(",\"unknown_seconds\":");
  Seconds(&out, e.unknown);
  out.append(",\"maintenance_seconds\":");
  Seconds(&out, e.maintenance);
  out.append(",\"not_monitored_seconds\":");
  Seconds(&out, e.not_monitored);
  out.append(",\"availability\":");
  Num(&out, e.availability);
  out.append(",\"error_budget_seconds\":");
  Seconds(&out, e.error_budget.total);
  out.append(",\"error_budget_remaining_seconds\":");
  Seconds(&out, e.error_budget.remaining);
  out.append(",\"error_budget_remaining_ratio\":");
  Num(&out, e.error_budget.remaining_ratio);
  out.append(",\"incidents\":[");
  for (size_t i = 0; i < e.incidents.size(); ++i) {
    const availability::Incident& inc = e.incidents[i];
    if (i > 0) out.push_back(',');
    out.append("{\"start\":");
    AppendJsonTime(&out, inc.start);
    out.append(",\"end\":");
    AppendJsonTime(&out, inc.end);
    out.append(",\"duration_seconds\":");
    Seconds(&out, inc.duration);
    out.append(",\"cause\":");
    AppendJsonString(&out, inc.cause);
    out.append(",\"components\":");
    StringList(&out, inc.components);
    absl::StrAppend(&out, ",\"started_before_range\":", inc.started_before_range ? "true" : "false",
                    ",\"ongoing\":", inc.continues_after_range ? "true" : "false", "}");
  }
  out.append("],\"mtbf_seconds\":");
  OptSeconds(&out, e.mtbf);
  out.append(",\"mtbsi_seconds\":");
  OptSeconds(&out, e.mtbsi);
  out.append(",\"mtrs_seconds\":");
  OptSeconds(&out, e.mtrs);
  out.append(",\"ola_breaches\":[");
  for (size_t i = 0; i < e.ola_breaches.size(); ++i) {
    const availability::OlaBreach& b = e.ola_breaches[i];
    if (i > 0) out.push_back(',');
    out.append("{\"incident_start\":");
    AppendJsonTime(&out, e.incidents[b.incident].start);
    out.append(",\"kind\":");
    AppendJsonString(&out, b.kind);
    out.append(",\"limit_seconds\":");
    Seconds(&out, b.limit);
    out.append(",\"duration_seconds\":");
    Seconds(&out, b.duration);
    out.push_back('}');
  }
  out.append("],\"burn_rates\":{");
  for (size_t i = 0; i < e.burn_rates.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(&out, BurnWindowName(e.burn_rates[i].window));
    out.push_back(':');
    Num(&out, e.burn_rates[i].rate);
  }
  out.append("},\"components\":");
  StringList(&out, r.components);
  if (r.is_service) {
    out.append(",\"catalogue_version\":");
    AppendJsonString(&out, r.catalogue_version);
  }
  out.append("}\n");
  return out;
}

std::string ServiceSummaryJson(const SlaService::Summary& s) {
  const Service& svc = s.service;
  std::string out = "{\"id\":";
  AppendJsonString(&out, svc.id);
  out.append(",\"name\":");
  AppendJsonString(&out, svc.name);
  out.append(",\"description\":");
  AppendJsonString(&out, svc.description);
  out.append(",\"owner\":");
  AppendJsonString(&out, svc.owner);
  absl::StrAppend(&out, ",\"priority\":\"", PriorityName(svc.priority), "\",\"rule\":\"",
                  RuleText(svc.rule), "\"");
  if (svc.rule.kind == AvailabilityRule::Kind::kAtLeast)
    absl::StrAppend(&out, ",\"k\":", svc.rule.k);
  out.append(",\"support_team\":");
  AppendJsonString(&out, svc.support_team);
  out.append(",\"target\":");
  Num(&out, svc.sla.target);
  if (s.report.ok()) {
    const auto& r = *s.report;
    const char* state = r.condition_at_end == availability::Condition::kUp     ? "up"
                        : r.condition_at_end == availability::Condition::kDown ? "down"
                                                                               : "unknown";
    absl::StrAppend(&out, ",\"state\":\"", state, "\",\"components\":");
    StringList(&out, r.components);
    out.append(",\"period\":{\"from\":");
    AppendJsonTime(&out, r.evaluation.period.start);
    out.append(",\"to\":");
    AppendJsonTime(&out, r.evaluation.period.end);
    out.append("},\"availability\":");
    Num(&out, r.evaluation.availability);
    out.append(",\"error_budget_remaining_ratio\":");
    Num(&out, r.evaluation.error_budget.remaining_ratio);
    absl::StrAppend(&out, ",\"incidents\":", r.evaluation.incidents.size(), ",\"compliant\":",
                    r.evaluation.availability >= svc.sla.target ? "true" : "false");
  } else {
    out.append(",\"state\":\"unknown\",\"error\":");
    AppendJsonString(&out, s.report.status().message());
  }
  out.push_back('}');
  return out;
}

absl::StatusOr<std::optional<absl::Time>> ParseTimeParam(const std::string& name,
                                                         const std::string* value) {
  if (value == nullptr || value->empty()) return std::optional<absl::Time>();
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, *value, &t, &err)) {
    return absl::InvalidArgumentError(absl::StrCat("query parameter \"", name, "\": \"", *value,
                                                   "\" is not an RFC 3339 time (", err, ")"));
  }
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture() || t < absl::UnixEpoch() ||
      t > absl::FromCivil(absl::CivilDay(2200, 1, 1), absl::UTCTimeZone())) {
    return absl::InvalidArgumentError(
        absl::StrCat("query parameter \"", name, "\": \"", *value, "\" is outside 1970..2200"));
  }
  return std::optional<absl::Time>(t);
}

}  // namespace accord::collector
