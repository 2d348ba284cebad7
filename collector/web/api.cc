#include "collector/web/api.h"

#include <atomic>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "collector/web/json.h"
#include "collector/web/sla_api.h"
#include "common/prom_text.h"

namespace accord::collector {
namespace {

void AppendHost(std::string* out, const HostView& h) {
  out->append("{\"id\":");
  AppendJsonString(out, h.id);
  out->append(",\"hostname\":");
  AppendJsonString(out, h.hostname);
  absl::StrAppend(out, ",\"state\":\"", HostStateName(h.state), "\",\"since\":");
  AppendJsonTime(out, h.since);
  out->append(",\"last_seen\":");
  AppendJsonTime(out, h.last_seen);
  out->append(",\"boot_time\":");
  AppendJsonTime(out, absl::FromUnixSeconds(h.boot_time_seconds));
  out->append(",\"labels\":{");
  bool first = true;
  for (const auto& [k, v] : h.labels) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, k);
    out->push_back(':');
    AppendJsonString(out, v);
  }
  out->append("},\"agent_version\":");
  AppendJsonString(out, h.agent_version);
  absl::StrAppend(out, ",\"connected\":", h.connected ? "true" : "false",
                  ",\"last_sequence\":", h.last_sequence,
                  ",\"samples_accepted\":", h.samples_accepted);
  // The agent's side of the accounting (single-host view only).
  if (h.agent_samples_produced >= 0) {
    absl::StrAppend(out, ",\"samples_produced\":", static_cast<uint64_t>(h.agent_samples_produced));
  }
  if (h.agent_samples_dropped >= 0) {
    absl::StrAppend(out, ",\"samples_dropped\":", static_cast<uint64_t>(h.agent_samples_dropped));
  }
  out->push_back('}');
}

}  // namespace

std::string HostsJson(const std::vector<HostView>& hosts) {
  std::string out = "{\"hosts\":[";
  out.reserve(hosts.size() * 300 + 16);
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendHost(&out, hosts[i]);
  }
  out.append("]}\n");
  return out;
}

std::string HostJson(const HostView& host, const std::vector<Transition>& transitions,
                     const std::vector<Revision>& revisions) {
  std::string out = "{\"host\":";
  AppendHost(&out, host);
  out.append(",\"transitions\":[");
  for (size_t i = 0; i < transitions.size(); ++i) {
    const Transition& t = transitions[i];
    if (i > 0) out.push_back(',');
    out.append("{\"at\":");
    AppendJsonTime(&out, t.at);
    out.append(",\"recorded_at\":");
    AppendJsonTime(&out, t.recorded_at);
    absl::StrAppend(&out, ",\"from\":\"", HostStateName(t.from), "\",\"to\":\"",
                    HostStateName(t.to), "\",\"cause\":");
    AppendJsonString(&out, t.cause);
    absl::StrAppend(&out, ",\"boot_time\":");
    AppendJsonTime(&out, absl::FromUnixSeconds(t.boot_time_seconds));
    out.push_back('}');
  }
  out.append("],\"revisions\":[");
  for (size_t i = 0; i < revisions.size(); ++i) {
    const Revision& r = revisions[i];
    if (i > 0) out.push_back(',');
    out.append("{\"recorded_at\":");
    AppendJsonTime(&out, r.recorded_at);
    out.append(",\"from\":");
    AppendJsonTime(&out, r.from);
    out.append(",\"to\":");
    AppendJsonTime(&out, r.to);
    out.append(",\"reason\":");
    AppendJsonString(&out, r.reason);
    out.push_back('}');
  }
  out.append("]}\n");
  return out;
}

HttpResponse AvailabilityResponse(const HttpRequest& req,
                                  const std::function<absl::StatusOr<AvailabilityReport>(
                                      std::optional<absl::Time>, std::optional<absl::Time>)>& get) {
  auto param = [&req](const char* name) -> const std::string* {
    auto it = req.query.find(name);
    return it == req.query.end() ? nullptr : &it->second;
  };
  auto from = ParseTimeParam("from", param("from"));
  if (!from.ok()) return JsonError(400, from.status().message());
  auto to = ParseTimeParam("to", param("to"));
  if (!to.ok()) return JsonError(400, to.status().message());
  auto report = get(*from, *to);
  if (!report.ok()) {
    int code = absl::IsNotFound(report.status()) ? 404 : 400;
    return JsonError(code, report.status().message());
  }
  return Json(200, AvailabilityJson(*report));
}

std::vector<std::pair<std::string, HttpHandler>> MakeApiHandlers(
    HostRegistry& registry, std::function<void(std::string*, const ExpositionDrain&)> render_self,
    const SlaService* sla) {
  std::vector<std::pair<std::string, HttpHandler>> h;
  h.emplace_back("/metrics", [&registry, render_self, sla](const HttpRequest& req) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    auto family = req.query.find("family");
    if (family == req.query.end()) {
      // The whole exposition (about 180 MiB at 10,000 hosts) is sent as it is rendered, in
      // pieces of about 1 MiB: no body-sized buffer, and sending overlaps rendering.
      // When the client goes away (a scrape timeout), rendering stops at the next piece.
      r.stream = [&registry, render_self, sla](const BodyWriter& write) {
        std::string text;
        text.reserve(kExpositionDrainBytes + (64 << 10));
        bool gone = false;
        const ExpositionDrain drain = [&write, &gone](std::string* t) {
          gone = gone || !write(*t);
          t->clear();
          return !gone;
        };
        registry.RenderMetrics(&text, FamilyFilter(), drain);
        if (gone) return;
        if (sla != nullptr) sla->RenderMetrics(&text);
        if (!MaybeDrain(&text, drain)) return;
        render_self(&text, drain);
        if (!gone && !text.empty()) write(text);
      };
      return r;
    }
    // Only the named families (`?family=a,b` or `?family=a&family=b`): a Prometheus job can
    // scrape accord_host_up every few seconds for 10,000 hosts (~0.4 MiB) while the whole
    // exposition (~180 MiB) is scraped rarely. The registry renders just those families;
    // the other sources are rendered only when a family of theirs is asked for.
    auto filter = FamilyFilter::Parse(family->second);
    if (!filter.ok()) {
      return HttpResponse{400, "text/plain; charset=utf-8",
                          absl::StrCat(filter.status().message(), "\n")};
    }
    registry.RenderMetrics(&r.body, *filter);
    std::string part;
    if (sla != nullptr &&
        (filter->AnyWithPrefix("accord_sla_") || filter->AnyWithPrefix("accord_service_"))) {
      sla->RenderMetrics(&part);
      AppendFilteredExposition(part, *filter, &r.body);
      part.clear();
    }
    if (filter->AnyWithPrefix("accord_capacity_") || filter->AnyWithPrefix("accord_collector_")) {
      render_self(&part, nullptr);
      AppendFilteredExposition(part, *filter, &r.body);
    }
    return r;
  });
  if (sla != nullptr) {
    h.emplace_back("/api/v1/services", [sla](const HttpRequest&) {
      std::string body = "{\"services\":[";
      auto summaries = sla->Summaries();
      for (size_t i = 0; i < summaries.size(); ++i) {
        if (i > 0) body.push_back(',');
        body.append(ServiceSummaryJson(summaries[i]));
      }
      body.append("]}\n");
      return Json(200, std::move(body));
    });
    h.emplace_back("/api/v1/services/", [sla](const HttpRequest& req) {
      std::string rest = req.path.substr(std::string("/api/v1/services/").size());
      const std::string kSuffix = "/availability";
      if (absl::EndsWith(rest, kSuffix)) {
        std::string id = rest.substr(0, rest.size() - kSuffix.size());
        return AvailabilityResponse(
            req, [sla, id](auto from, auto to) { return sla->ServiceAvailability(id, from, to); });
      }
      for (const auto& s : sla->Summaries()) {
        if (s.service.id == rest) return Json(200, ServiceSummaryJson(s) + "\n");
      }
      return JsonError(404, absl::StrCat("no service \"", rest, "\""));
    });
  }
  h.emplace_back("/healthz", [](const HttpRequest&) {
    return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
  });
  h.emplace_back("/api/v1/hosts", [&registry](const HttpRequest&) {
    return Json(200, HostsJson(registry.Hosts()));
  });
  h.emplace_back("/api/v1/hosts/", [&registry, sla](const HttpRequest& req) {
    std::string id = req.path.substr(std::string("/api/v1/hosts/").size());
    const std::string kSuffix = "/availability";
    if (sla != nullptr && absl::EndsWith(id, kSuffix)) {
      std::string host = id.substr(0, id.size() - kSuffix.size());
      return AvailabilityResponse(
          req, [sla, host](auto from, auto to) { return sla->HostAvailability(host, from, to); });
    }
    if (id.empty()) return Json(200, HostsJson(registry.Hosts()));
    auto host = registry.Host(id);
    if (!host.ok()) return JsonError(404, host.status().message());
    return Json(200, HostJson(*host, registry.Transitions(id), registry.Revisions(id)));
  });
  h.emplace_back("/", [](const HttpRequest& req) {
    if (req.path != "/") return JsonError(404, absl::StrCat("no such path: ", req.path));
    return HttpResponse{200, "text/plain; charset=utf-8",
                        "Accord collector\n\n/metrics\n/healthz\n/api/v1/hosts\n"
                        "/api/v1/hosts/{id}\n"};
  });
  return h;
}

}  // namespace accord::collector
