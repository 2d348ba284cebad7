// The SLA path as the API and /metrics run it: SlaService over a HostRegistry holding real
// transition logs. Targets (issue #3): a one-service availability query in under 10 ms; a
// 30-day period for 1,000 services over 10,000 hosts with 100 incidents each in under 1 s.
//
//   ./build/bench/sla_query_bench --benchmark_min_time=1
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "collector/hosts/host_registry.h"
#include "collector/sla/sla_service.h"
#include "common/logging.h"
#include "tests/testing/fake_clock.h"

namespace accord::collector {
namespace {

constexpr int kHostsPerService = 10;
constexpr int64_t kStart = 1793491200;  // 2026-11-01T00:00:00Z

// 30 days ending at 2026-11-30T00:00Z; `incidents` outages of 5 minutes per host, staggered.
struct World {
  explicit World(int hosts, int incidents_per_host)
      : clock(absl::FromUnixSeconds(kStart)),
        registry(clock),
        sla(registry, clock) {
    const absl::Duration span = absl::Hours(24 * 29);
    for (int h = 0; h < hosts; ++h) {
      Hello hello;
      hello.host_id = absl::StrCat("host-", h);
      hello.boot_time_seconds = 1790000000;
      sessions.push_back(registry.Open(hello)->session);
    }
    // Interleave hosts in time so the clock only moves forward.
    const absl::Duration step = span / (incidents_per_host + 1);
    for (int i = 0; i < incidents_per_host; ++i) {
      clock.Advance(step - absl::Minutes(5));
      for (int h = 0; h < hosts; ++h) registry.Close(sessions[h]);
      clock.Advance(absl::Minutes(5));
      for (int h = 0; h < hosts; ++h) {
        Hello hello;
        hello.host_id = absl::StrCat("host-", h);
        hello.boot_time_seconds = 1790000000;
        sessions[h] = registry.Open(hello)->session;
      }
    }
    clock.SetNow(absl::FromUnixSeconds(kStart) + absl::Hours(24 * 29));
    auto active = std::make_shared<ActiveCatalogue>();
    for (int s = 0; s < hosts / kHostsPerService; ++s) {
      Service svc;
      svc.id = absl::StrCat("svc-", s);
      svc.owner = "ops";
      for (int k = 0; k < kHostsPerService; ++k) {
        svc.components.hosts.push_back(absl::StrCat("host-", s * kHostsPerService + k));
      }
      svc.rule.kind = AvailabilityRule::Kind::kAtLeast;
      svc.rule.k = 8;
      svc.sla.target = 0.999;
      active->catalogue.services.push_back(std::move(svc));
    }
    active->version = "bench";
    sla.SetCatalogue(active);
  }
  testing::FakeClock clock;
  HostRegistry registry;
  SlaService sla;
  std::vector<HostRegistry::SessionId> sessions;
};

void BM_OneServiceQuery(benchmark::State& state) {
  World world(static_cast<int>(state.range(0)), 100);
  for (auto _ : state) {
    auto report = world.sla.ServiceAvailability("svc-0", std::nullopt, std::nullopt);
    benchmark::DoNotOptimize(report);
    if (!report.ok() || report->evaluation.incidents.empty()) state.SkipWithError("no report");
  }
  state.counters["hosts"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_OneServiceQuery)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_AllServicesMetrics(benchmark::State& state) {
  World world(static_cast<int>(state.range(0)), 100);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out;
    world.sla.RenderMetrics(&out);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["services"] = static_cast<double>(state.range(0) / kHostsPerService);
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_AllServicesMetrics)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace accord::collector

int main(int argc, char** argv) {
  accord::SetLogLevel(accord::LogLevel::kWarn);  // building the worlds logs every transition
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
