#include "collector/web/capacity_api.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "collector/web/json.h"

namespace accord::collector {
namespace {

using capacity::Forecast;
using capacity::ForecastStatus;
using capacity::Kind;
using capacity::ResourceReport;
using capacity::WindowStats;

void Num(std::string* out, double v) { AppendJsonNumber(out, v); }

void StatsJson(std::string* out, const WindowStats& s) {
  out->append("{\"minutes\":");
  absl::StrAppend(out, s.minutes);
  out->append(",\"mean\":");
  Num(out, s.mean);
  out->append(",\"p95\":");
  Num(out, s.p95);
  out->append(",\"p99\":");
  Num(out, s.p99);
  out->append(",\"max\":");
  Num(out, s.max);
  out->push_back('}');
}

const char* kLevelNames[] = {"warning", "critical", "full"};

void ForecastJson(std::string* out, const Forecast& f) {
  out->append("{\"status\":");
  AppendJsonString(out, capacity::ForecastStatusName(f.status));
  out->append(",\"method\":");
  AppendJsonString(out, f.method);
  if (!f.reason.empty()) {
    out->append(",\"reason\":");
    AppendJsonString(out, f.reason);
  }
  if (f.status == ForecastStatus::kOk) {
    out->append(",\"slope_per_day\":");
    Num(out, f.slope_per_day);
    out->append(",\"fitted_from\":");
    AppendJsonTime(out, absl::FromUnixMillis(static_cast<int64_t>(f.fitted_from * 1000)));
    out->append(",\"seconds_to\":{");
    // The range of the first level reached (the most urgent), and each level's own range.
    const capacity::LevelForecast* first = nullptr;
    for (size_t i = 0; i < f.levels.size() && i < 3; ++i) {
      if (i > 0) out->push_back(',');
      absl::StrAppend(out, "\"", kLevelNames[i], "\":");
      if (f.levels[i].seconds.has_value()) {
        Num(out, *f.levels[i].seconds);
        if (first == nullptr) first = &f.levels[i];
      } else {
        out->append("null");
      }
    }
    out->append("},\"range\":");
    if (first != nullptr) {
      out->append("{\"low\":");
      Num(out, first->low);
      out->append(",\"high\":");
      Num(out, first->high);
      out->push_back('}');
    } else {
      out->append("null");
    }
    out->append(",\"ranges\":{");
    for (size_t i = 0; i < f.levels.size() && i < 3; ++i) {
      if (i > 0) out->push_back(',');
      absl::StrAppend(out, "\"", kLevelNames[i], "\":");
      if (f.levels[i].seconds.has_value()) {
        out->append("{\"low\":");
        Num(out, f.levels[i].low);
        out->append(",\"high\":");
        Num(out, f.levels[i].high);
        out->push_back('}');
      } else {
        out->append("null");
      }
    }
    out->push_back('}');
  }
  out->push_back('}');
}

void ResourceJson(std::string* out, const ResourceReport& r) {
  out->append("{\"resource\":");
  AppendJsonString(out, capacity::KindName(r.kind));
  if (r.kind == Kind::kFilesystem || r.kind == Kind::kInodes) {
    out->append(",\"mountpoint\":");
    AppendJsonString(out, r.instance);
  } else if (r.kind == Kind::kNetwork && !r.instance.empty()) {
    out->append(",\"device\":");
    AppendJsonString(out, r.instance);
  }
  if (!r.worst_host.empty()) {
    out->append(",\"host\":");
    AppendJsonString(out, r.worst_host);
  }
  out->append(",\"utilization\":");
  Num(out, r.utilization);
  out->append(",\"capacity\":");
  Num(out, r.capacity);
  out->append(",\"updated_at\":");
  AppendJsonTime(out, r.updated_at);
  // mean/p95/p99/max of the threshold's window (1d for a `current` threshold).
  absl::Duration shown =
      r.threshold.statistic == CapacityStatistic::kCurrent ? absl::Hours(24) : r.threshold.window;
  WindowStats top;
  for (const auto& [w, s] : r.windows) {
    if (w == shown) top = s;
  }
  out->append(",\"mean\":");
  Num(out, top.minutes > 0 ? top.mean : NAN);
  out->append(",\"p95\":");
  Num(out, top.minutes > 0 ? top.p95 : NAN);
  out->append(",\"p99\":");
  Num(out, top.minutes > 0 ? top.p99 : NAN);
  out->append(",\"max\":");
  Num(out, top.minutes > 0 ? top.max : NAN);
  out->append(",\"windows\":{");
  for (size_t i = 0; i < r.windows.size(); ++i) {
    if (i > 0) out->push_back(',');
    absl::StrAppend(out, "\"", capacity::WindowName(r.windows[i].first), "\":");
    StatsJson(out, r.windows[i].second);
  }
  out->append("},\"statistic\":");
  AppendJsonString(out, CapacityStatisticName(r.threshold.statistic));
  if (r.threshold.statistic != CapacityStatistic::kCurrent) {
    out->append(",\"window\":");
    AppendJsonString(out, capacity::WindowName(r.threshold.window));
  }
  out->append(",\"value\":");
  Num(out, r.value);
  out->append(",\"thresholds\":{\"warning\":");
  Num(out, r.threshold.warning);
  out->append(",\"critical\":");
  Num(out, r.threshold.critical);
  out->append("},\"headroom\":");
  Num(out, r.threshold.warning - r.value);
  out->append(",\"headroom_critical\":");
  Num(out, r.threshold.critical - r.value);
  out->append(",\"status\":");
  AppendJsonString(out, capacity::StatusName(r.status));
  out->append(",\"forecast\":");
  ForecastJson(out, r.forecast);
  out->push_back('}');
}

void ResourcesJson(std::string* out, const std::vector<ResourceReport>& resources) {
  out->append("\"resources\":[");
  for (size_t i = 0; i < resources.size(); ++i) {
    if (i > 0) out->push_back(',');
    ResourceJson(out, resources[i]);
  }
  out->push_back(']');
}

HttpResponse StatusError(const absl::Status& status) {
  int code = absl::IsNotFound(status)           ? 404
             : absl::IsInvalidArgument(status) ? 400
                                                : 503;
  return JsonError(code, status.message());
}

absl::StatusOr<double> GrowthParam(const HttpRequest& req, double fallback) {
  auto it = req.query.find("demand_growth");
  if (it == req.query.end()) return fallback;
  double g;
  if (!absl::SimpleAtod(it->second, &g) || !std::isfinite(g) || g <= -1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "query parameter demand_growth: \"", it->second.substr(0, 64),
        "\" is not a number above -1 (0.4 means +40 %)"));
  }
  return g;
}

std::string Percent(double ratio) { return absl::StrFormat("%.1f%%", 100 * ratio); }

std::string Duration(double seconds) {
  if (seconds < 3600) return absl::StrFormat("%.0f minutes", seconds / 60);
  if (seconds < 2 * 86400) return absl::StrFormat("%.1f hours", seconds / 3600);
  return absl::StrFormat("%.0f days", seconds / 86400);
}

std::string Subject(const ResourceReport& r) {
  std::string s = capacity::KindName(r.kind);
  if (!r.instance.empty()) absl::StrAppend(&s, " ", r.instance);
  if (!r.worst_host.empty()) absl::StrAppend(&s, " on ", r.worst_host);
  return s;
}

}  // namespace

std::string HostCapacityJson(const capacity::HostCapacity& report) {
  std::string out = "{\"host\":";
  AppendJsonString(&out, report.host);
  out.push_back(',');
  ResourcesJson(&out, report.resources);
  out.append(",\"demand\":[");
  for (size_t i = 0; i < report.demand.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append("{\"series\":");
    AppendJsonString(&out, report.demand[i].series);
    out.append(",\"value\":");
    Num(&out, report.demand[i].value);
    out.append(",\"1d\":");
    StatsJson(&out, report.demand[i].day);
    out.push_back('}');
  }
  out.append("]}\n");
  return out;
}

std::string ServiceCapacityJson(const capacity::ServiceCapacity& report) {
  std::string out = "{\"service\":";
  AppendJsonString(&out, report.service);
  out.append(",\"hosts\":[");
  for (size_t i = 0; i < report.hosts.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(&out, report.hosts[i]);
  }
  out.append("],");
  ResourcesJson(&out, report.resources);
  out.append(",\"n_plus_one\":[");
  for (size_t i = 0; i < report.n_plus_one.size(); ++i) {
    const auto& [kind, np] = report.n_plus_one[i];
    if (i > 0) out.push_back(',');
    out.append("{\"resource\":");
    AppendJsonString(&out, capacity::KindName(kind));
    absl::StrAppend(&out, ",\"ok\":", np.ok ? "true" : "false", ",\"largest_host\":");
    AppendJsonString(&out, np.largest_host);
    out.append(",\"utilization_without_largest\":");
    Num(&out, np.utilization_without_largest);
    out.append(",\"reason\":");
    AppendJsonString(&out, np.reason);
    out.push_back('}');
  }
  out.append("]}\n");
  return out;
}

std::string WhatIfJson(const capacity::WhatIf& w) {
  std::string out = "{\"service\":";
  AppendJsonString(&out, w.service);
  out.append(",\"demand_growth\":");
  Num(&out, w.demand_growth);
  absl::StrAppend(&out, ",\"fitted\":", w.fitted ? "true" : "false");
  if (!w.fitted) {
    out.append(",\"reason\":");
    AppendJsonString(&out, w.reason);
    out.append("}\n");
    return out;
  }
  out.append(",\"demand\":{\"metric\":");
  AppendJsonString(&out, w.demand_metric);
  out.append(",\"unit\":");
  AppendJsonString(&out, w.demand_unit);
  out.append(",\"value\":");
  Num(&out, w.demand_now);
  out.append(",\"projected\":");
  Num(&out, w.demand_now * (1 + w.demand_growth));
  out.append("},\"fit\":{\"cpu_cores_per_unit\":");
  Num(&out, w.cores_per_unit);
  out.append(",\"base_cores\":");
  Num(&out, w.intercept_cores);
  out.append(",\"r_squared\":");
  Num(&out, w.r_squared);
  absl::StrAppend(&out, ",\"points\":", w.points, "},\"cpu\":{\"statistic\":");
  AppendJsonString(&out, CapacityStatisticName(w.threshold.statistic));
  out.append(",\"window\":");
  AppendJsonString(&out, capacity::WindowName(w.threshold.window));
  out.append(",\"now\":");
  Num(&out, w.cpu_value_now);
  out.append(",\"projected\":");
  Num(&out, w.cpu_value_projected);
  out.append(",\"thresholds\":{\"warning\":");
  Num(&out, w.threshold.warning);
  out.append(",\"critical\":");
  Num(&out, w.threshold.critical);
  out.append("},\"status\":");
  AppendJsonString(&out, capacity::StatusName(w.status_projected));
  out.append(",\"forecast\":");
  ForecastJson(&out, w.forecast);
  absl::StrAppend(&out, "},\"hosts\":{\"now\":", w.hosts_now, ",\"cores_per_host\":");
  Num(&out, w.cores_per_host);
  absl::StrAppend(&out, ",\"to_add\":", w.hosts_to_add, "}}\n");
  return out;
}

std::vector<std::string> Recommendations(const capacity::ServiceCapacity& report,
                                         const capacity::WhatIf* whatif) {
  std::vector<std::string> out;
  for (const ResourceReport& r : report.resources) {
    if (r.status != capacity::Status::kOk) {
      out.push_back(absl::StrCat(Subject(r), ": ", CapacityStatisticName(r.threshold.statistic), " ",
                                 Percent(r.value), " is at or over the ",
                                 capacity::StatusName(r.status), " threshold of ",
                                 Percent(r.status == capacity::Status::kCritical
                                             ? r.threshold.critical
                                             : r.threshold.warning),
                                 ": add capacity or reduce load now"));
      continue;
    }
    if (r.forecast.status == ForecastStatus::kOk && !r.forecast.levels.empty() &&
        r.forecast.levels[0].seconds.has_value()) {
      const auto& l = r.forecast.levels[0];
      out.push_back(absl::StrCat(Subject(r), ": forecast to reach the warning threshold of ",
                                 Percent(r.threshold.warning), " in ", Duration(*l.seconds),
                                 " (between ", Duration(l.low), " and ", Duration(l.high),
                                 "): plan an extension before then"));
    }
  }
  for (const auto& [kind, np] : report.n_plus_one) {
    if (np.evaluated && !np.ok) {
      out.push_back(absl::StrCat(capacity::KindName(kind), ": not N+1: ", np.reason));
    }
  }
  if (whatif != nullptr && whatif->fitted && whatif->hosts_to_add > 0) {
    out.push_back(absl::StrCat("with demand ", whatif->demand_growth >= 0 ? "+" : "",
                               Percent(whatif->demand_growth), ", CPU ",
                               CapacityStatisticName(whatif->threshold.statistic), " would be ",
                               Percent(whatif->cpu_value_projected), ": add ",
                               whatif->hosts_to_add, " host(s) like the current ones"));
  }
  return out;
}

std::vector<std::pair<std::string, HttpHandler>> MakeCapacityHandlers(
    capacity::CapacityService& capacity) {
  std::vector<std::pair<std::string, HttpHandler>> h;
  auto* cap = &capacity;
  h.emplace_back("/api/v1/capacity/hosts/", [cap](const HttpRequest& req) {
    std::string id = req.path.substr(std::string("/api/v1/capacity/hosts/").size());
    auto report = cap->HostReport(id);
    if (!report.ok()) return StatusError(report.status());
    return Json(200, HostCapacityJson(*report));
  });
  h.emplace_back("/api/v1/capacity/services/", [cap](const HttpRequest& req) {
    std::string id = req.path.substr(std::string("/api/v1/capacity/services/").size());
    const std::string kWhatIf = "/whatif";
    if (absl::EndsWith(id, kWhatIf)) {
      id.resize(id.size() - kWhatIf.size());
      auto growth = GrowthParam(req, 0.0);
      if (!growth.ok()) return StatusError(growth.status());
      auto report = cap->WhatIfReport(id, *growth);
      if (!report.ok()) return StatusError(report.status());
      return Json(200, WhatIfJson(*report));
    }
    auto report = cap->ServiceReport(id);
    if (!report.ok()) return StatusError(report.status());
    return Json(200, ServiceCapacityJson(*report));
  });
  h.emplace_back("/api/v1/capacity/plan", [cap](const HttpRequest& req) {
    auto growth = GrowthParam(req, 0.2);
    if (!growth.ok()) return StatusError(growth.status());
    std::string out = "{\"generated_at\":";
    AppendJsonTime(&out, cap->Now());
    out.append(",\"demand_growth\":");
    Num(&out, *growth);
    out.append(",\"services\":[");
    bool first = true;
    for (const std::string& id : cap->ServiceIds()) {
      auto report = cap->ServiceReport(id);
      if (!first) out.push_back(',');
      first = false;
      if (!report.ok()) {
        // Listed with the reason rather than left out: a plan must not hide a service.
        out.append("{\"service\":");
        AppendJsonString(&out, id);
        out.append(",\"error\":");
        AppendJsonString(&out, report.status().message());
        out.append("}");
        continue;
      }
      auto whatif = cap->WhatIfReport(id, *growth);
      std::string service = ServiceCapacityJson(*report);
      service.pop_back();  // newline
      service.pop_back();  // closing brace
      out.append(service);
      out.append(",\"whatif\":");
      if (whatif.ok()) {
        std::string w = WhatIfJson(*whatif);
        w.pop_back();
        out.append(w);
      } else {
        out.append("null");
      }
      out.append(",\"recommendations\":[");
      auto recs = Recommendations(*report, whatif.ok() ? &*whatif : nullptr);
      for (size_t i = 0; i < recs.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendJsonString(&out, recs[i]);
      }
      out.append("]}");
    }
    out.append("]}\n");
    return Json(200, std::move(out));
  });
  return h;
}

}  // namespace accord::collector
