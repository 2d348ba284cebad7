// Benchmarks of the collector's read side at fleet scale: a HostRegistry filled through its own
// API (Open, then Apply with a Batch describing every series) with 1,000 and 10,000 hosts of
// the agent's series shape (bench/loadgen/host_model.h: 4 CPUs, 3 filesystems, 2 disks,
// 2 interfaces, the agent's own series; 108 series per host).
//
//   BM_RenderMetrics/N   HostRegistry::RenderMetrics, the per-host part of GET /metrics.
//   BM_SnapshotMetrics/N HostRegistry::SnapshotMetrics, the part of a render that holds the
//                        registry's lock (an upper bound: it includes allocating and freeing
//                        the snapshot's buffers, which happen outside the lock).
//   BM_HostsJson/N       Hosts() + HostsJson, the body of GET /api/v1/hosts.
//   BM_RegistryApply/N   Apply of one steady-state batch (no new series), the ingest cost.
//   BM_ApplyDuringRender/N
//                        Apply (and, every 64th iteration, CheckTimeouts) while another thread
//                        renders /metrics again and again: how long ingest and the liveness
//                        ticker wait for the registry's lock during a scrape (apply_max_ms,
//                        apply_p99_us, check_timeouts_max_ms).
//
// Counters: body_bytes (output size), hosts, series_per_host, registry_MiB (RSS growth while
// opening the hosts and applying their first batch, approximate: the host models are built
// before and are not counted; they are models_MiB). Target (docs/benchmarks.md): /metrics for
// 1,000 hosts < 100 ms.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/loadgen/host_model.h"
#include "benchmark/benchmark.h"
#include "collector/hosts/host_registry.h"
#include "collector/web/api.h"
#include "common/clock.h"
#include "common/heap.h"
#include "common/logging.h"

namespace accord::collector {
namespace {

double RssMiB() { return static_cast<double>(ResidentBytes()) / (1024.0 * 1024.0); }

// A registry holding `hosts` up hosts, each with one batch applied. Built once per size.
struct Fleet {
  std::unique_ptr<HostRegistry> registry;
  std::vector<HostRegistry::SessionId> sessions;
  std::vector<uint64_t> next_sequence;
  std::vector<std::unique_ptr<bench::HostModel>> models;
  size_t series_per_host = 0;
  double registry_mib = 0;
  double models_mib = 0;
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
  // The models (the simulated agents) first, so that the RSS growth below is the registry's.
  double start = RssMiB();
  for (int i = 0; i < hosts; ++i) {
    fleet->models.push_back(std::make_unique<bench::HostModel>(bench::HostShape{}, 1 + i));
  }
  double before = RssMiB();
  fleet->models_mib = before - start;
  fleet->registry = std::make_unique<HostRegistry>(RealClock::Get());
  for (int i = 0; i < hosts; ++i) {
    bench::HostModel& model = *fleet->models[i];
    Hello hello;
    hello.host_id = absl::StrFormat("loadgen-%05d", i);
    hello.hostname = hello.host_id;
    hello.agent_version = "loadgen";
    hello.labels = {{"env", "bench"}};
    hello.boot_time_seconds = model.boot_time_seconds();
    hello.sample_interval = absl::Seconds(1);
    hello.heartbeat_interval = absl::Seconds(1);
    hello.next_sequence = 1;
    auto opened = fleet->registry->Open(hello);
    if (!opened.ok()) {
      std::fprintf(stderr, "Open: %s\n", opened.status().ToString().c_str());
      std::abort();
    }
    auto applied = fleet->registry->Apply(opened->session, MakeBatch(model, 1, true));
    if (!applied.ok()) {
      std::fprintf(stderr, "Apply: %s\n", applied.status().ToString().c_str());
      std::abort();
    }
    fleet->sessions.push_back(opened->session);
    fleet->next_sequence.push_back(2);
    fleet->series_per_host = model.series().size();
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
  state.counters["registry_KiB_per_host"] =
      fleet.registry_mib * 1024.0 / static_cast<double>(fleet.sessions.size());
  state.counters["models_MiB"] = fleet.models_mib;
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

void BM_SnapshotMetrics(benchmark::State& state) {
  Fleet& fleet = GetFleet(static_cast<int>(state.range(0)));
  size_t values = 0;
  for (auto _ : state) {
    HostRegistry::MetricsSnapshot snapshot = fleet.registry->SnapshotMetrics();
    values = snapshot.value_count();
    benchmark::DoNotOptimize(values);
  }
  SetFleetCounters(state, fleet, 0);
  state.counters["values"] = static_cast<double>(values);
}
BENCHMARK(BM_SnapshotMetrics)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

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

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

void BM_ApplyDuringRender(benchmark::State& state) {
  Fleet& fleet = GetFleet(static_cast<int>(state.range(0)));
  const size_t n = fleet.sessions.size();
  std::vector<Batch> batches;
  batches.reserve(n);
  for (size_t h = 0; h < n; ++h) batches.push_back(MakeBatch(*fleet.models[h], 0, false));
  // A scraper that renders /metrics again and again, with a short pause between scrapes (so
  // that a lock held for a whole render delays an Apply by at most one render).
  std::atomic<bool> stop{false};
  std::atomic<int> renders{0};
  std::thread scraper([&] {
    while (!stop.load()) {
      std::string body;
      body.reserve(1 << 20);
      fleet.registry->RenderMetrics(&body);
      benchmark::DoNotOptimize(body.data());
      renders.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  std::vector<double> apply_us;
  std::vector<double> check_us;
  apply_us.reserve(1 << 20);
  size_t host = 0;
  uint64_t i = 0;
  for (auto _ : state) {
    Batch& batch = batches[host];
    batch.sequence = fleet.next_sequence[host]++;
    auto t0 = std::chrono::steady_clock::now();
    auto acked = fleet.registry->Apply(fleet.sessions[host], batch);
    auto t1 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(acked);
    apply_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    if (++i % 64 == 0) {
      // As of the monotonic epoch: scans every session under the lock, changes nothing.
      auto t2 = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(fleet.registry->CheckTimeouts(absl::ZeroDuration()));
      auto t3 = std::chrono::steady_clock::now();
      check_us.push_back(std::chrono::duration<double, std::micro>(t3 - t2).count());
    }
    host = (host + 1) % n;
  }
  stop.store(true);
  scraper.join();
  SetFleetCounters(state, fleet, 0);
  state.counters["renders"] = renders.load();
  state.counters["apply_p50_us"] = Percentile(apply_us, 0.5);
  state.counters["apply_p99_us"] = Percentile(apply_us, 0.99);
  state.counters["apply_max_ms"] = Percentile(apply_us, 1.0) / 1000.0;
  state.counters["check_timeouts_max_ms"] = Percentile(check_us, 1.0) / 1000.0;
}
BENCHMARK(BM_ApplyDuringRender)->Arg(1000)->Arg(10000)->UseRealTime()->MinTime(3.0);

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
