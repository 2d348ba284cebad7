// Benchmarks of the collector's read side at fleet scale: a HostRegistry filled through its own
// API (Open, then Apply with a Batch describing every series) with 1,000 and 10,000 hosts of
// the agent's series shape (bench/loadgen/host_model.h: 4 CPUs, 3 filesystems, 2 disks,
// 2 interfaces, the agent's own series; 108 series per host).
//
//   BM_RenderMetrics/N   HostRegistry::RenderMetrics, the per-host part of GET /metrics.
//   BM_HostsJson/N       Hosts() + HostsJson, the body of GET /api/v1/hosts.
//   BM_RegistryApply/N   Apply of one steady-state batch (no new series), the ingest cost.
//
// Counters: body_bytes (output size), hosts, series_per_host, registry_MiB (RSS growth while
// filling, approximate). Target (docs/benchmarks.md): /metrics for 1,000 hosts < 100 ms.
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/loadgen/host_model.h"
#include "benchmark/benchmark.h"
#include "collector/hosts/host_registry.h"
#include "collector/web/api.h"
#include "common/clock.h"
#include "common/logging.h"

namespace accord::collector {
namespace {

double RssMiB() {
  long size = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

// A registry holding `hosts` up hosts, each with one batch applied. Built once per size.
struct Fleet {
  std::unique_ptr<HostRegistry> registry;
  std::vector<HostRegistry::SessionId> sessions;
  std::vector<uint64_t> next_sequence;
  std::vector<std::unique_ptr<bench::HostModel>> models;
  size_t series_per_host = 0;
  double registry_mib = 0;
};

Batch MakeBatch(bench::HostModel& model, uint64_t sequence, bool describe) {
  Batch b;
  b.sequence = sequence;
  b.timestamp_ms = absl::ToUnixMillis(RealClock::Get().Now());
  const auto& series = model.series();
  if (describe) {
    for (size_t i = 0; i < series.size(); ++i) {
      SeriesDescriptor d;
      d.id = static_cast<uint32_t>(i);
      d.name = series[i].name;
      d.labels = series[i].labels;
      d.kind = series[i].counter ? SeriesKind::kCounter : SeriesKind::kGauge;
      b.new_series.push_back(std::move(d));
    }
  }
  b.series_ids.resize(series.size());
  for (size_t i = 0; i < series.size(); ++i) b.series_ids[i] = static_cast<uint32_t>(i);
  model.Advance(absl::Seconds(1), &b.values);
  return b;
}

Fleet& GetFleet(int hosts) {
  static auto* fleets = new std::map<int, std::unique_ptr<Fleet>>();
  auto it = fleets->find(hosts);
  if (it != fleets->end()) return *it->second;
  auto fleet = std::make_unique<Fleet>();
  double before = RssMiB();
  fleet->registry = std::make_unique<HostRegistry>(RealClock::Get());
  for (int i = 0; i < hosts; ++i) {
    auto model = std::make_unique<bench::HostModel>(bench::HostShape{}, 1 + i);
    Hello hello;
    hello.host_id = absl::StrFormat("loadgen-%05d", i);
    hello.hostname = hello.host_id;
    hello.agent_version = "loadgen";
    hello.labels = {{"env", "bench"}};
    hello.boot_time_seconds = model->boot_time_seconds();
    hello.sample_interval = absl::Seconds(1);
    hello.heartbeat_interval = absl::Seconds(1);
    hello.next_sequence = 1;
    auto opened = fleet->registry->Open(hello);
    if (!opened.ok()) {
      std::fprintf(stderr, "Open: %s\n", opened.status().ToString().c_str());
      std::abort();
    }
    auto applied = fleet->registry->Apply(opened->session, MakeBatch(*model, 1, true));
    if (!applied.ok()) {
      std::fprintf(stderr, "Apply: %s\n", applied.status().ToString().c_str());
      std::abort();
    }
    fleet->sessions.push_back(opened->session);
    fleet->next_sequence.push_back(2);
    fleet->series_per_host = model->series().size();
    fleet->models.push_back(std::move(model));
  }
  fleet->registry_mib = RssMiB() - before;
  Fleet& ref = *fleet;
  fleets->emplace(hosts, std::move(fleet));
  return ref;
}

void SetFleetCounters(benchmark::State& state, const Fleet& fleet, size_t body_bytes) {
  state.counters["hosts"] = static_cast<double>(fleet.sessions.size());
  state.counters["series_per_host"] = static_cast<double>(fleet.series_per_host);
  state.counters["body_bytes"] = static_cast<double>(body_bytes);
  state.counters["registry_MiB"] = fleet.registry_mib;
}

void BM_RenderMetrics(benchmark::State& state) {
  Fleet& fleet = GetFleet(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body;
    body.reserve(1 << 20);  // as the /metrics handler does
    fleet.registry->RenderMetrics(&body);
    bytes = body.size();
    benchmark::DoNotOptimize(body.data());
  }
  SetFleetCounters(state, fleet, bytes);
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
}
BENCHMARK(BM_RenderMetrics)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_HostsJson(benchmark::State& state) {
  Fleet& fleet = GetFleet(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = HostsJson(fleet.registry->Hosts());
    bytes = body.size();
    benchmark::DoNotOptimize(body.data());
  }
  SetFleetCounters(state, fleet, bytes);
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
}
BENCHMARK(BM_HostsJson)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_RegistryApply(benchmark::State& state) {
  Fleet& fleet = GetFleet(static_cast<int>(state.range(0)));
  // One steady-state batch per host, prepared outside the timed loop; hosts round robin.
  const size_t n = fleet.sessions.size();
  std::vector<Batch> batches;
  batches.reserve(n);
  for (size_t h = 0; h < n; ++h) batches.push_back(MakeBatch(*fleet.models[h], 0, false));
  size_t host = 0;
  for (auto _ : state) {
    Batch& batch = batches[host];
    batch.sequence = fleet.next_sequence[host]++;
    auto acked = fleet.registry->Apply(fleet.sessions[host], batch);
    benchmark::DoNotOptimize(acked);
    host = (host + 1) % n;
  }
  SetFleetCounters(state, fleet, 0);
  state.counters["samples_per_second"] = benchmark::Counter(
      static_cast<double>(fleet.series_per_host) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RegistryApply)->Arg(1000)->Arg(10000);

}  // namespace
}  // namespace accord::collector

int main(int argc, char** argv) {
  accord::SetLogLevel(accord::LogLevel::kWarn);  // 10,000 "host state changed" lines otherwise
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
