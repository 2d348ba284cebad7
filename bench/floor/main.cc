// accord-bench-floor: the paced floor of the agent's sampling cost. Reads the files one
// Sampler::Collect reads (bench/sampled_files.h), once every --interval, for --duration, and
// does nothing else: scripts/bench-agent.sh measures this process's CPU the same way as the
// agent's, so "agent CPU per cycle / floor CPU per cycle" compares like with like (a cold read
// once a second, including the wakeup), unlike BM_ReadFilesOnly's hot loop.
#include <cstdio>

#include "absl/time/clock.h"
#include "agent/sources/file_reader.h"
#include "bench/sampled_files.h"
#include "common/config.h"

int main(int argc, char** argv) {
  absl::Duration interval = absl::Seconds(1);
  absl::Duration duration = absl::Seconds(60);
  accord::ConfigSchema schema("accord-bench-floor");
  schema.AddDuration("interval", &interval, "time between reads (default 1s)",
                     absl::Milliseconds(10));
  schema.AddDuration("duration", &duration, "how long to run (default 60s, at most 1h)",
                     absl::Milliseconds(10));
  absl::Status parsed = schema.Parse(argc, argv);
  if (absl::IsCancelled(parsed)) {
    std::fputs(std::string(parsed.message()).c_str(), stdout);
    return 0;
  }
  if (parsed.ok() && duration > absl::Hours(1)) {
    parsed = absl::InvalidArgumentError("duration: at most 1h");
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "accord-bench-floor: configuration error:\n%s\n",
                 std::string(parsed.message()).c_str());
    return 2;
  }
  const std::vector<std::string> files = accord::agent::SampledFiles();
  std::string buf;
  size_t bytes = 0;
  int64_t cycles = 0;
  const absl::Time end = absl::Now() + duration;
  absl::Time next = absl::Now();
  while (next < end) {
    for (const std::string& f : files) {
      (void)accord::agent::ReadFileToString(f, &buf);  // errors cost the same syscalls
      bytes += buf.size();
    }
    ++cycles;
    next += interval;
    absl::SleepFor(next - absl::Now());
  }
  std::printf("cycles=%lld files=%zu bytes=%zu\n", static_cast<long long>(cycles), files.size(),
              bytes);
  return 0;
}
