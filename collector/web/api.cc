#include "collector/web/api.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "collector/web/json.h"

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
                  ",\"samples_accepted\":", h.samples_accepted, "}");
}

HttpResponse Json(int status, std::string body) {
  return {status, "application/json", std::move(body)};
}

HttpResponse JsonError(int status, absl::string_view message) {
  std::string body = "{\"error\":";
  AppendJsonString(&body, message);
  body.append("}\n");
  return Json(status, std::move(body));
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

std::string HostJson(const HostView& host, const std::vector<Transition>& transitions) {
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
  out.append("]}\n");
  return out;
}

std::vector<std::pair<std::string, HttpHandler>> MakeApiHandlers(
    HostRegistry& registry, std::function<void(std::string*)> render_self) {
  std::vector<std::pair<std::string, HttpHandler>> h;
  h.emplace_back("/metrics", [&registry, render_self](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body.reserve(1 << 20);
    registry.RenderMetrics(&r.body);
    render_self(&r.body);
    return r;
  });
  h.emplace_back("/healthz", [](const HttpRequest&) {
    return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
  });
  h.emplace_back("/api/v1/hosts", [&registry](const HttpRequest&) {
    return Json(200, HostsJson(registry.Hosts()));
  });
  h.emplace_back("/api/v1/hosts/", [&registry](const HttpRequest& req) {
    std::string id = req.path.substr(std::string("/api/v1/hosts/").size());
    if (id.empty()) return Json(200, HostsJson(registry.Hosts()));
    auto host = registry.Host(id);
    if (!host.ok()) return JsonError(404, host.status().message());
    return Json(200, HostJson(*host, registry.Transitions(id)));
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
