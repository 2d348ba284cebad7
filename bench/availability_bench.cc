// Cost of SLA evaluation at fleet scale: a 30-day period (April 2026), 10,000 hosts with 100
// incidents each (≈ 200 transitions per host), 1,000 services of 10 hosts each (half "all",
// half "at least 8 of 10"), three SLAs (24x7; Mon-Fri 08-18 Europe/London with monthly
// maintenance; 24x7 with weekly maintenance), default burn windows.
//
// The target: everything (host timelines, service combination, evaluation) in under 1 s.
//   BM_Pipeline/services         host timelines + combine + evaluate 1,000 services
//   BM_Pipeline/hosts_services   the same, plus evaluating each of the 10,000 hosts
//   BM_BuildHostTimelines, BM_CombineServices, BM_EvaluateServices, BM_EvaluateHosts: parts.
// The synthetic logs are built once, outside the timings.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "collector/availability/evaluation.h"
#include "collector/availability/timeline.h"
#include "collector/hosts/host_registry.h"

namespace accord::collector::availability {
namespace {

constexpr int kHosts = 10'000;
constexpr int kServices = 1'000;
constexpr int kHostsPerService = 10;
constexpr int kIncidentsPerHost = 100;

struct Sla {
  ServiceHours hours;
  std::vector<MaintenanceWindow> maintenance;
  SlaTerms terms;
};

struct Fleet {
  absl::Time period_start;
  absl::Time period_end;
  absl::Time now;
  absl::Time from;  // coverage start (period start − 3 d for the burn windows)
  std::vector<std::string> host_ids;
  std::vector<std::vector<Transition>> logs;
  std::vector<std::vector<int>> service_hosts;
  std::vector<AvailabilityRule> rules;
  std::vector<int> service_sla;
  std::vector<Sla> slas;
};

std::vector<Transition> HostLog(std::mt19937* rng, absl::Time start, absl::Time end) {
  struct Kind {
    HostState state;
    const char* cause;
    const char* back;
  };
  static const Kind kKinds[] = {
      {HostState::kUnreachable, "stream_broken", "connected"},
      {HostState::kUnreachable, "heartbeat_timeout", "resumed"},
      {HostState::kUnreachable, "stream_broken", "reboot"},
      {HostState::kDown, "host_shutdown", "reboot"},
      {HostState::kStopped, "agent_stopping", "connected"},
  };
  std::vector<Transition> log;
  log.reserve(2 * kIncidentsPerHost + 1);
  int64_t boot = 1'000'000;
  log.push_back({start, start, HostState::kUnknown, HostState::kUp, "first_seen", boot});
  const absl::Duration slot = (end - start) / kIncidentsPerHost;
  for (int i = 0; i < kIncidentsPerHost; ++i) {
    const Kind& k = kKinds[(*rng)() % 5];
    absl::Time at = start + slot * i + absl::Seconds((*rng)() % 20'000);
    absl::Time back = at + absl::Seconds(60 + (*rng)() % 1'800);
    log.push_back({at, at, HostState::kUp, k.state, k.cause, boot});
    if (std::string_view(k.back) == "reboot") boot += 100'000;
    log.push_back({back, back, k.state, HostState::kUp, k.back, boot});
  }
  return log;
}

const Fleet& GetFleet() {
  static const Fleet* fleet = [] {
    auto* f = new Fleet;
    f->period_start = absl::FromCivil(absl::CivilDay(2026, 4, 1), absl::UTCTimeZone());
    f->period_end = absl::FromCivil(absl::CivilDay(2026, 5, 1), absl::UTCTimeZone());
    f->now = f->period_end;
    f->from = f->period_start - absl::Hours(72);
    std::mt19937 rng(2026);
    for (int h = 0; h < kHosts; ++h) {
      f->host_ids.push_back(absl::StrCat("host-", h));
      f->logs.push_back(HostLog(&rng, f->from, f->now));
    }
    for (int s = 0; s < kServices; ++s) {
      std::vector<int> hosts;
      while (hosts.size() < kHostsPerService) {
        int h = static_cast<int>(rng() % kHosts);
        if (std::find(hosts.begin(), hosts.end(), h) == hosts.end()) hosts.push_back(h);
      }
      f->service_hosts.push_back(std::move(hosts));
      f->rules.push_back(s % 2 == 0 ? AvailabilityRule{AvailabilityRule::Kind::kAll, 1}
                                    : AvailabilityRule{AvailabilityRule::Kind::kAtLeast, 8});
      f->service_sla.push_back(s % 3);
    }
    Sla always;  // 24x7 UTC, unknown excluded
    Sla office;  // Mon-Fri 08-18 London, first Sunday 02:00-04:00, unknown as down
    office.hours.always = false;
    office.hours.time_zone = "Europe/London";
    for (int d = 1; d <= 5; ++d) office.hours.windows.push_back({d, 8 * 60, 18 * 60});
    MaintenanceWindow monthly;
    monthly.kind = MaintenanceWindow::Kind::kMonthly;
    monthly.time_zone = "Europe/London";
    monthly.weekday = 0;
    monthly.start_minute = 120;
    monthly.duration = absl::Hours(2);
    office.maintenance.push_back(monthly);
    office.terms.unknown_policy = UnknownPolicy::kDown;
    office.terms.restore_target = absl::Hours(4);
    Sla weekly;  // 24x7 with Sunday 01:00-03:00 maintenance, unknown as up
    MaintenanceWindow sunday;
    sunday.kind = MaintenanceWindow::Kind::kWeekly;
    sunday.weekday = 0;
    sunday.start_minute = 60;
    sunday.duration = absl::Hours(2);
    weekly.maintenance.push_back(sunday);
    weekly.terms.unknown_policy = UnknownPolicy::kUp;
    weekly.terms.max_single_outage = absl::Minutes(20);
    f->slas = {always, office, weekly};
    return f;
  }();
  return *fleet;
}

Interval Period(const Fleet& f) { return {f.period_start, f.period_end}; }

std::vector<AgreedHours> ResolveAll(const Fleet& f) {
  std::vector<AgreedHours> out;
  for (const Sla& sla : f.slas) {
    auto agreed = ResolveAgreedHours(sla.hours, sla.maintenance,
                                     CoverageNeeded(Period(f), f.now, sla.terms.burn_windows));
    if (!agreed.ok()) std::abort();
    out.push_back(*std::move(agreed));
  }
  return out;
}

std::vector<Timeline> BuildHosts(const Fleet& f) {
  std::vector<Timeline> hosts;
  hosts.reserve(kHosts);
  for (int h = 0; h < kHosts; ++h) {
    hosts.push_back(BuildHostTimeline(f.host_ids[h], f.logs[h], f.from, f.now));
  }
  return hosts;
}

std::vector<Timeline> CombineAll(const Fleet& f, const std::vector<Timeline>& hosts) {
  std::vector<Timeline> services;
  services.reserve(kServices);
  std::vector<const Timeline*> parts;
  for (int s = 0; s < kServices; ++s) {
    parts.clear();
    for (int h : f.service_hosts[s]) parts.push_back(&hosts[h]);
    auto t = CombineTimelines(absl::StrCat("service-", s), parts, f.rules[s]);
    if (!t.ok()) std::abort();
    services.push_back(*std::move(t));
  }
  return services;
}

// Returns the number of incidents, so that the work cannot be optimised away.
size_t EvaluateServices(const Fleet& f, const std::vector<AgreedHours>& agreed,
                        const std::vector<Timeline>& services) {
  size_t incidents = 0;
  for (int s = 0; s < kServices; ++s) {
    const int sla = f.service_sla[s];
    auto ev = Evaluate(services[s], agreed[sla], f.slas[sla].terms, Period(f), f.now);
    if (!ev.ok()) std::abort();
    incidents += ev->incidents.size();
  }
  return incidents;
}

size_t EvaluateHosts(const Fleet& f, const std::vector<AgreedHours>& agreed,
                     const std::vector<Timeline>& hosts) {
  size_t incidents = 0;
  for (int h = 0; h < kHosts; ++h) {
    const int sla = h % 3;
    auto ev = Evaluate(hosts[h], agreed[sla], f.slas[sla].terms, Period(f), f.now);
    if (!ev.ok()) std::abort();
    incidents += ev->incidents.size();
  }
  return incidents;
}

void BM_Pipeline(benchmark::State& state) {
  const Fleet& f = GetFleet();
  const bool with_hosts = state.range(0) != 0;
  size_t incidents = 0;
  for (auto _ : state) {
    std::vector<AgreedHours> agreed = ResolveAll(f);
    std::vector<Timeline> hosts = BuildHosts(f);
    std::vector<Timeline> services = CombineAll(f, hosts);
    incidents = EvaluateServices(f, agreed, services);
    if (with_hosts) incidents += EvaluateHosts(f, agreed, hosts);
    benchmark::DoNotOptimize(incidents);
  }
  state.counters["incidents"] = static_cast<double>(incidents);
  state.SetLabel(with_hosts ? "hosts_services" : "services");
}
BENCHMARK(BM_Pipeline)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_BuildHostTimelines(benchmark::State& state) {
  const Fleet& f = GetFleet();
  size_t segments = 0;
  for (auto _ : state) {
    std::vector<Timeline> hosts = BuildHosts(f);
    segments = 0;
    for (const Timeline& t : hosts) segments += t.segments.size();
    benchmark::DoNotOptimize(segments);
  }
  state.counters["segments"] = static_cast<double>(segments);
}
BENCHMARK(BM_BuildHostTimelines)->Unit(benchmark::kMillisecond);

void BM_CombineServices(benchmark::State& state) {
  const Fleet& f = GetFleet();
  const std::vector<Timeline> hosts = BuildHosts(f);
  size_t segments = 0;
  for (auto _ : state) {
    std::vector<Timeline> services = CombineAll(f, hosts);
    segments = 0;
    for (const Timeline& t : services) segments += t.segments.size();
    benchmark::DoNotOptimize(segments);
  }
  state.counters["segments"] = static_cast<double>(segments);
}
BENCHMARK(BM_CombineServices)->Unit(benchmark::kMillisecond);

void BM_EvaluateServices(benchmark::State& state) {
  const Fleet& f = GetFleet();
  const std::vector<Timeline> hosts = BuildHosts(f);
  const std::vector<Timeline> services = CombineAll(f, hosts);
  for (auto _ : state) {
    std::vector<AgreedHours> agreed = ResolveAll(f);
    benchmark::DoNotOptimize(EvaluateServices(f, agreed, services));
  }
}
BENCHMARK(BM_EvaluateServices)->Unit(benchmark::kMillisecond);

void BM_EvaluateHosts(benchmark::State& state) {
  const Fleet& f = GetFleet();
  const std::vector<Timeline> hosts = BuildHosts(f);
  for (auto _ : state) {
    std::vector<AgreedHours> agreed = ResolveAll(f);
    benchmark::DoNotOptimize(EvaluateHosts(f, agreed, hosts));
  }
}
BENCHMARK(BM_EvaluateHosts)->Unit(benchmark::kMillisecond);

// One SLA's agreed hours resolved per service instead of shared: the convenience overload.
void BM_EvaluateServicesResolvingHoursEachTime(benchmark::State& state) {
  const Fleet& f = GetFleet();
  const std::vector<Timeline> hosts = BuildHosts(f);
  const std::vector<Timeline> services = CombineAll(f, hosts);
  for (auto _ : state) {
    size_t incidents = 0;
    for (int s = 0; s < kServices; ++s) {
      const Sla& sla = f.slas[f.service_sla[s]];
      auto ev = Evaluate(services[s], sla.hours, sla.maintenance, sla.terms, Period(f), f.now);
      if (!ev.ok()) std::abort();
      incidents += ev->incidents.size();
    }
    benchmark::DoNotOptimize(incidents);
  }
}
BENCHMARK(BM_EvaluateServicesResolvingHoursEachTime)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace accord::collector::availability

BENCHMARK_MAIN();
