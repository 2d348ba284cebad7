// Benchmarks of capacity management (collector/capacity) with the agent's series shape
// (bench/loadgen/host_model.h: 4 CPUs, 3 filesystems, 2 disks, 2 interfaces, 108 series).
//
//   BM_Apply/observer:0|1  HostRegistry::Apply of one steady batch without and with the
//                          CapacityService observing it: the ingest cost of capacity.
//   BM_EvaluationRound/N   one /metrics evaluation round (fast forecasts from the last 30
//                          minutes) over N hosts that each sent 30 minutes of 10 s batches.
//                          Counter capacity_KiB_per_host: heap growth of the capacity state
//                          (with the registry's, less a registry-only fill);
//                          capacity_own_KiB_per_host: heap freed by destroying the service.
//   BM_HostReport          GET /api/v1/capacity/hosts/{id} work for a host with 7 days of
//                          minute rollups and 30 days of hour rollups in a real SQLite file.
#include <malloc.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "bench/loadgen/host_model.h"
#include "benchmark/benchmark.h"
#include "collector/capacity/capacity_service.h"
#include "collector/hosts/host_registry.h"
#include "collector/store/sqlite_store.h"
#include "common/clock.h"
#include "common/logging.h"

namespace accord::collector::capacity {
namespace {

// A clock the benchmark moves by hand.
class ManualClock : public Clock {
 public:
  absl::Time Now() const override {
    absl::MutexLock l(&mu_);
    return now_;
  }
  absl::Duration Monotonic() const override {
    absl::MutexLock l(&mu_);
    return now_ - absl::UnixEpoch();
  }
  void Advance(absl::Duration d) {
    absl::MutexLock l(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ = absl::Now();
};

struct Host {
  std::unique_ptr<bench::HostModel> model;
  HostRegistry::SessionId session;
  uint64_t sequence = 0;
  std::vector<double> values;
};

Batch NextBatch(Host& h, absl::Time at, absl::Duration step) {
  Batch b;
  b.sequence = ++h.sequence;
  b.timestamp_ms = absl::ToUnixMillis(at);
  h.model->Advance(step, &h.values);
  const auto& series = h.model->series();
  for (size_t i = 0; i < series.size(); ++i) {
    if (h.sequence == 1) {
      SeriesDescriptor d;
      d.id = static_cast<uint32_t>(i);
      d.name = series[i].name;
      d.labels = series[i].labels;
      d.kind = series[i].counter ? SeriesKind::kCounter : SeriesKind::kGauge;
      b.new_series.push_back(std::move(d));
    }
    b.series_ids.push_back(static_cast<uint32_t>(i));
  }
  b.values = h.values;
  return b;
}

Host OpenHost(HostRegistry& registry, int index) {
  Host h;
  h.model = std::make_unique<bench::HostModel>(bench::HostShape{}, index + 1);
  Hello hello;
  hello.host_id = "host-" + std::to_string(index);
  hello.boot_time_seconds = h.model->boot_time_seconds();
  h.session = registry.Open(hello)->session;
  return h;
}

size_t HeapBytes() { return mallinfo2().uordblks; }

void BM_Apply(benchmark::State& state) {
  SetLogLevel(LogLevel::kError);
  ManualClock clock;
  HostRegistry registry(clock);
  CapacityService capacity(registry, clock, nullptr);
  if (state.range(0) == 1) registry.SetSampleObserver(&capacity);
  Host h = OpenHost(registry, 0);
  registry.Apply(h.session, NextBatch(h, clock.Now(), absl::Seconds(1))).IgnoreError();
  std::vector<Batch> batches;
  for (int i = 0; i < 4096; ++i) {
    clock.Advance(absl::Seconds(1));
    batches.push_back(NextBatch(h, clock.Now(), absl::Seconds(1)));
  }
  size_t i = 0;
  for (auto _ : state) {
    if (i == batches.size()) {
      state.PauseTiming();
      for (Batch& b : batches) {
        clock.Advance(absl::Seconds(1));
        b = NextBatch(h, clock.Now(), absl::Seconds(1));
      }
      i = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(registry.Apply(h.session, batches[i++]));
  }
  state.counters["series"] = static_cast<double>(h.values.size());
}
BENCHMARK(BM_Apply)->Arg(0)->Arg(1);

// Fills a registry (observed by `capacity` when not null) with `hosts` hosts and 30 minutes
// of 10 s batches; returns the heap growth in bytes.
size_t Fill(HostRegistry& registry, ManualClock& clock, CapacityService* capacity, int hosts,
            std::vector<Host>* fleet) {
  size_t before = HeapBytes();
  if (capacity != nullptr) registry.SetSampleObserver(capacity);
  for (int i = 0; i < hosts; ++i) fleet->push_back(OpenHost(registry, i));
  for (int step = 0; step < 180; ++step) {
    for (Host& h : *fleet) {
      registry.Apply(h.session, NextBatch(h, clock.Now(), absl::Seconds(10))).IgnoreError();
    }
    clock.Advance(absl::Seconds(10));
  }
  if (capacity != nullptr) capacity->RunOnce();  // flushes (no store) and the first round
  return HeapBytes() - before;
}

void BM_EvaluationRound(benchmark::State& state) {
  SetLogLevel(LogLevel::kError);
  const int hosts = static_cast<int>(state.range(0));
  // The registry's own heap, for comparison.
  size_t registry_only;
  {
    ManualClock clock;
    HostRegistry registry(clock);
    std::vector<Host> fleet;
    registry_only = Fill(registry, clock, nullptr, hosts, &fleet);
  }
  ManualClock clock;
  HostRegistry registry(clock);
  CapacityOptions options;
  options.evaluation_interval = absl::Seconds(10);
  options.history_refresh = absl::Hours(1000);  // the fast path only
  auto capacity = std::make_unique<CapacityService>(registry, clock, nullptr, options);
  std::vector<Host> fleet;
  size_t with_capacity = Fill(registry, clock, capacity.get(), hosts, &fleet);
  for (auto _ : state) {
    clock.Advance(absl::Seconds(10));
    capacity->RunOnce();
  }
  state.counters["hosts"] = hosts;
  state.counters["series"] = static_cast<double>(capacity->GetStats().series);
  state.counters["registry_KiB_per_host"] = static_cast<double>(registry_only) / 1024.0 / hosts;
  state.counters["capacity_KiB_per_host"] =
      (static_cast<double>(with_capacity) - static_cast<double>(registry_only)) / 1024.0 / hosts;
  std::string text;
  capacity->RenderMetrics(&text);
  state.counters["metrics_bytes"] = static_cast<double>(text.size());
  // The capacity service's own heap, measured by freeing it (independent of the registry).
  text.clear();
  text.shrink_to_fit();
  registry.SetSampleObserver(nullptr);
  const size_t before_free = HeapBytes();
  capacity.reset();
  state.counters["capacity_own_KiB_per_host"] =
      static_cast<double>(before_free - HeapBytes()) / 1024.0 / hosts;
}
BENCHMARK(BM_EvaluationRound)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->Iterations(5);

// The accord_capacity_* part of GET /metrics for N hosts (after an evaluation round).
void BM_RenderCapacityMetrics(benchmark::State& state) {
  SetLogLevel(LogLevel::kError);
  const int hosts = static_cast<int>(state.range(0));
  ManualClock clock;
  HostRegistry registry(clock);
  CapacityOptions options;
  options.history_refresh = absl::Hours(1000);
  CapacityService capacity(registry, clock, nullptr, options);
  std::vector<Host> fleet;
  Fill(registry, clock, &capacity, hosts, &fleet);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text;
    capacity.RenderMetrics(&text);
    bytes = text.size();
  }
  state.counters["hosts"] = hosts;
  state.counters["metrics_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderCapacityMetrics)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_HostReport(benchmark::State& state) {
  SetLogLevel(LogLevel::kError);
  const std::string dir = "/tmp/accord-capacity-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  StoreOptions so;
  so.path = dir + "/accord.db";
  auto store = SqliteStore::Open(so);
  if (!store.ok()) {
    state.SkipWithError("cannot open the store");
    return;
  }
  ManualClock clock;
  HostRegistry registry(clock);
  CapacityService capacity(registry, clock, store->get());
  registry.SetSampleObserver(&capacity);
  Host h = OpenHost(registry, 0);
  // Two batches describe the series and give the counters a rate.
  for (int i = 0; i < 2; ++i) {
    registry.Apply(h.session, NextBatch(h, clock.Now(), absl::Seconds(10))).IgnoreError();
    clock.Advance(absl::Seconds(10));
  }
  // History written straight into the store: 30 days of minutes (7 days are kept; the rest
  // become hours), slowly growing with a daily cycle.
  const int64_t now = absl::ToUnixSeconds(clock.Now()) / 60 * 60;
  const SeriesRef refs[] = {{Kind::kCpu, ""},
                            {Kind::kMemory, ""},
                            {Kind::kFilesystem, "/"},
                            {Kind::kFilesystem, "/var"},
                            {Kind::kInodes, "/"}};
  for (const SeriesRef& ref : refs) {
    std::vector<MinuteWrite> writes;
    MinuteWrite w{"host-0", ref, {}};
    for (int64_t m = now - 30 * 86400; m < now - 120; m += 60) {
      RollupRow r;
      r.start = m;
      double day = (m % 86400) / 86400.0;
      r.Add(0.3 + 0.1 * std::sin(day * 2 * M_PI) + (m - now + 30 * 86400) * 1e-8, 1);
      w.minutes.push_back(r);
    }
    writes.push_back(std::move(w));
    (*store)->MergeMinutes(std::move(writes), clock.Now());
  }
  if (!(*store)->Flush().ok()) {
    state.SkipWithError("store write failed");
    return;
  }
  size_t resources = 0;
  for (auto _ : state) {
    auto report = capacity.HostReport("host-0");
    if (!report.ok()) {
      state.SkipWithError(std::string(report.status().message()).c_str());
      break;
    }
    resources = report->resources.size();
  }
  state.counters["resources"] = static_cast<double>(resources);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_HostReport)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace accord::collector::capacity

BENCHMARK_MAIN();
