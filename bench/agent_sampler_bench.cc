// Benchmarks of accord::agent_sources against this machine's real /proc and /sys.
//
//   BM_ReadFilesOnly   the floor: open+read+close of every file one Collect reads, no parsing.
//   BM_SamplerCollect  a full Collect (read, parse, statvfs, build Samples) into a reused vector.
//   BM_SelfUsageRead   the agent's own CPU and memory, read every cycle for its health series.
//
// Target: BM_SamplerCollect within 2x of BM_ReadFilesOnly. Counters: samples per cycle.
#include <string>
#include <vector>

#include "agent/sources/file_reader.h"
#include "agent/sources/sampler.h"
#include "agent/sources/self_usage.h"
#include "bench/sampled_files.h"
#include "benchmark/benchmark.h"

namespace accord::agent {
namespace {

void BM_ReadFilesOnly(benchmark::State& state) {
  const std::vector<std::string> files = SampledFiles();
  std::string buf;
  size_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& f : files) {
      // Errors (e.g. EINVAL from a virtual device's speed) cost the same syscalls; ignore.
      (void)ReadFileToString(f, &buf);
      bytes += buf.size();
      benchmark::DoNotOptimize(buf.data());
    }
  }
  state.counters["files"] = static_cast<double>(files.size());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ReadFilesOnly);

void BM_SamplerCollect(benchmark::State& state) {
  std::unique_ptr<FsStatter> statter = NewRealFsStatter();
  Sampler sampler(SamplerOptions{}, *statter);
  std::vector<Sample> samples;
  SamplerStats stats;
  for (auto _ : state) {
    samples.clear();
    stats = sampler.Collect(&samples);
    benchmark::DoNotOptimize(samples.data());
  }
  state.counters["samples"] = static_cast<double>(stats.samples);
  state.counters["source_errors"] = static_cast<double>(stats.source_errors);
}
BENCHMARK(BM_SamplerCollect);

void BM_SelfUsageRead(benchmark::State& state) {
  SelfUsageReader reader("/proc");
  for (auto _ : state) {
    absl::StatusOr<SelfUsage> usage = reader.Read();
    if (!usage.ok()) {
      state.SkipWithError(std::string(usage.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(usage->cpu_seconds);
  }
}
BENCHMARK(BM_SelfUsageRead);

}  // namespace
}  // namespace accord::agent

BENCHMARK_MAIN();
