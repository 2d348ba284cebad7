// Cost of the durable disk spool (agent/spool/disk_spool.h) on the real filesystem.
//
//   BM_Append/sync_1s      Append of 90-value batches (1,113-byte records), default policy:
//                          fdatasync at most once a second (plus one per 4 MiB segment roll)
//   BM_Append/sync_every   sync_interval = 0: fdatasync after every Append
//   BM_Append/no_sync      sync_interval = infinite: fdatasync only at segment rolls
//   BM_Append/acked_1s     the connected steady state: each Append is acknowledged at once
//                          (Ack), default policy: no fdatasync for acked batches, the state
//                          appended to the state log (no fsync) at most once a second
//   BM_Replay24h           NextAfter over a 24 h backlog at 10 s (8,640 batches), spool open
//   BM_OpenAndReplay24h    Open (checks every record's CRC) + the same replay
//
// Counters: fsyncs per batch and the mean fdatasync time (DiskSpoolStats). The spool lives in
// a fresh directory under $ACCORD_BENCH_DIR (default: the system temp dir); note whether that
// is tmpfs (fsync is free there) when reading the numbers.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/spool/disk_spool.h"
#include "agent/spool/segment_format.h"

namespace accord::agent {
namespace {

constexpr int kValues = 90;
constexpr int kBacklog = 8640;  // 24 h at one batch per 10 s

std::string FreshDir(const std::string& name) {
  const char* base = std::getenv("ACCORD_BENCH_DIR");
  std::error_code ec;
  std::string root =
      base != nullptr ? std::string(base) : std::filesystem::temp_directory_path(ec).string();
  std::string dir = absl::StrCat(root, "/accord_spool_bench_", name, "_", getpid());
  std::filesystem::remove_all(dir, ec);
  return dir;
}

void RemoveDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

PendingBatch MakeBatch(uint64_t seq, int64_t ts_ms) {
  static std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> value(0, 1e9);
  PendingBatch b;
  b.sequence = seq;
  b.timestamp_ms = ts_ms;
  for (int i = 0; i < kValues; ++i) {
    b.series_ids.push_back(static_cast<uint32_t>(i));
    b.values.push_back(value(rng));
  }
  return b;
}

std::unique_ptr<DiskSpool> MustOpen(const DiskSpoolOptions& o, benchmark::State& state) {
  absl::StatusOr<std::unique_ptr<DiskSpool>> spool = DiskSpool::Open(o);
  if (!spool.ok()) {
    state.SkipWithError(std::string(spool.status().message()).c_str());
    return nullptr;
  }
  return std::move(*spool);
}

void BM_Append(benchmark::State& state, absl::Duration sync_interval, bool acked) {
  DiskSpoolOptions o;
  o.dir = FreshDir("append");
  o.max_bytes = uint64_t{2} << 30;  // no cap drops inside the measurement
  o.sync_interval = sync_interval;
  {
    std::unique_ptr<DiskSpool> spool = MustOpen(o, state);
    if (spool == nullptr) return;
    // Pre-built batches (the sampler builds its own): the loop measures the spool alone.
    std::vector<PendingBatch> batches;
    const int64_t now_ms = absl::ToUnixMillis(absl::Now());
    for (int i = 0; i < 256; ++i) batches.push_back(MakeBatch(0, now_ms));
    const DiskSpoolStats before = spool->DiskStats();
    uint64_t seq = 0;
    for (auto _ : state) {
      PendingBatch b = batches[seq % batches.size()];
      b.sequence = ++seq;
      spool->Append(std::move(b));
      if (acked) spool->Ack(seq);
    }
    const DiskSpoolStats after = spool->DiskStats();
    const double fsyncs = static_cast<double>(after.fsyncs - before.fsyncs);
    state.SetItemsProcessed(static_cast<int64_t>(seq));
    state.SetBytesProcessed(static_cast<int64_t>(seq * BatchRecordBytes(batches[0])));
    state.counters["fsyncs"] = fsyncs;
    state.counters["fsyncs_per_batch"] = seq > 0 ? fsyncs / static_cast<double>(seq) : 0;
    state.counters["fsync_ms_mean"] =
        fsyncs > 0 ? (after.fsync_seconds - before.fsync_seconds) * 1e3 / fsyncs : 0;
    state.counters["dropped"] = static_cast<double>(after.spool.dropped_batches);
  }
  RemoveDir(o.dir);
}
BENCHMARK_CAPTURE(BM_Append, sync_1s, absl::Seconds(1), false)->MinTime(3.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_Append, sync_every, absl::ZeroDuration(), false)->MinTime(3.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_Append, no_sync, absl::InfiniteDuration(), false)->MinTime(3.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_Append, acked_1s, absl::Seconds(1), true)->MinTime(3.0)->UseRealTime();

// A spool directory holding a 24 h backlog, written once per process.
const std::string& BacklogDir() {
  static const std::string* dir = [] {
    auto* d = new std::string(FreshDir("backlog"));
    DiskSpoolOptions o;
    o.dir = *d;
    o.sync_interval = absl::InfiniteDuration();
    absl::StatusOr<std::unique_ptr<DiskSpool>> spool = DiskSpool::Open(o);
    if (spool.ok()) {
      const int64_t start_ms = absl::ToUnixMillis(absl::Now()) - 86400 * 1000;
      for (int i = 1; i <= kBacklog; ++i) {
        (*spool)->Append(MakeBatch(static_cast<uint64_t>(i), start_ms + int64_t{i} * 10000));
      }
      (*spool)->Close().IgnoreError();
    }
    std::atexit([] { RemoveDir(BacklogDir()); });
    return d;
  }();
  return *dir;
}

int64_t DrainAll(DiskSpool& spool) {
  PendingBatch b;
  uint64_t after = 0;
  int64_t n = 0;
  while (spool.NextAfter(after, &b)) {
    after = b.sequence;
    ++n;
  }
  return n;
}

void BM_Replay24h(benchmark::State& state) {
  DiskSpoolOptions o;
  o.dir = BacklogDir();
  std::unique_ptr<DiskSpool> spool = MustOpen(o, state);
  if (spool == nullptr) return;
  int64_t batches = 0;
  for (auto _ : state) {
    int64_t n = DrainAll(*spool);
    if (n != kBacklog) state.SkipWithError("short backlog");
    batches += n;
  }
  state.SetItemsProcessed(batches);
  state.counters["batches"] = kBacklog;
}
BENCHMARK(BM_Replay24h)->Unit(benchmark::kMillisecond);

void BM_OpenAndReplay24h(benchmark::State& state) {
  DiskSpoolOptions o;
  o.dir = BacklogDir();
  int64_t batches = 0;
  for (auto _ : state) {
    std::unique_ptr<DiskSpool> spool = MustOpen(o, state);
    if (spool == nullptr) return;
    batches += DrainAll(*spool);
    state.PauseTiming();  // Close writes the state file: not part of the replay
    spool.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(batches);
}
BENCHMARK(BM_OpenAndReplay24h)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace accord::agent

BENCHMARK_MAIN();
