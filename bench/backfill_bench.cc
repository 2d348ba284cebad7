// Backfill of a 24 h backlog of one host (8,640 batches of ~90 values, as at 10 s sampling)
// through the real path: DiskSpool -> StreamClient (gRPC, loopback) -> collector (ingest,
// registry, SQLite commit), until the collector has committed every batch (its acks, held up
// to --ingest.ack-interval, trim the spool after that). Target (issue #4): under 10 s. The client's pacing
// (backfill_batches_per_second, default 2000) is part of what is measured.
//
//   ./build/bench/backfill_bench --benchmark_min_time=1
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "agent/spool/disk_spool.h"
#include "agent/transport/stream_client.h"
#include "benchmark/benchmark.h"
#include "collector/collector.h"
#include "common/logging.h"

namespace accord {
namespace {

void BM_Backfill24h(benchmark::State& state) {
  const int kBatches = 8640;
  const int rate = static_cast<int>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    std::string dir =
        absl::StrCat(std::filesystem::temp_directory_path().string(), "/accord-backfill-bench");
    std::filesystem::remove_all(dir);
    collector::CollectorOptions co;
    co.grpc_listen_address = "127.0.0.1:0";
    co.web_listen_address = "127.0.0.1:0";
    co.storage_path = dir + "/collector";
    auto collector = collector::Collector::Start(co, RealClock::Get());
    if (!collector.ok()) {
      state.SkipWithError("collector did not start");
      return;
    }
    agent::DiskSpoolOptions so;
    so.dir = dir + "/spool";
    auto spool = agent::DiskSpool::Open(so);
    agent::SeriesTable series;
    std::vector<uint32_t> ids;
    for (int i = 0; i < 90; ++i) {
      ids.push_back(
          series.Intern({"accord_host_x", {{"i", absl::StrCat(i)}}, agent::MetricKind::kGauge, 0}));
    }
    int64_t t0 = absl::ToUnixMillis(absl::Now()) - int64_t{24} * 3600 * 1000;
    for (int b = 0; b < kBatches; ++b) {
      agent::PendingBatch batch;
      batch.sequence = b + 1;
      batch.timestamp_ms = t0 + int64_t{b} * 10000;
      batch.series_ids = ids;
      batch.values.assign(ids.size(), b);
      (*spool)->Append(std::move(batch));
    }
    (*spool)->Sync().IgnoreError();
    agent::StreamClientOptions o;
    o.collector_address = absl::StrCat("127.0.0.1:", (*collector)->grpc_port());
    o.host_id = "backfill-host";
    o.heartbeat_interval = absl::Milliseconds(100);
    o.backfill_batches_per_second = rate;
    agent::StreamClient client(o, **spool, series, RealClock::Get(),
                               [] { return uint64_t{kBatches + 1}; });
    state.ResumeTiming();
    client.Start();
    // Drained when the collector has accepted every batch and committed it to SQLite (its
    // acks, held up to --ingest.ack-interval, may trim the agent's spool seconds later).
    collector::HostRegistry& registry = (*collector)->registry();
    auto accepted = [&]() -> uint64_t {
      auto host = registry.Host("backfill-host");
      return host.ok() ? host->samples_accepted : 0;
    };
    while (accepted() < uint64_t{kBatches} * ids.size()) absl::SleepFor(absl::Milliseconds(2));
    const uint64_t mark = registry.DurabilityMark();
    while (!registry.IsDurable(mark)) absl::SleepFor(absl::Milliseconds(2));
    state.PauseTiming();
    client.Stop(agent::GoodbyeReason::kAgentStopping, absl::Seconds(2));
    state.counters["accepted"] =
        static_cast<double>((*collector)->registry().Host("backfill-host")->samples_accepted);
    (*collector)->Shutdown();
    state.ResumeTiming();
  }
  state.counters["batches"] = kBatches;
}
BENCHMARK(BM_Backfill24h)
    ->Arg(2000)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

}  // namespace
}  // namespace accord

int main(int argc, char** argv) {
  accord::SetLogLevel(accord::LogLevel::kWarn);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
