#include "common/heap.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"

namespace accord {

HeapStats ReadHeapStats() {
  const struct mallinfo2 info = mallinfo2();
  HeapStats stats;
  stats.in_use_bytes = info.uordblks + info.hblkhd;
  stats.free_bytes = info.fordblks;
  return stats;
}

int64_t ResidentBytes() {
  long pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    long size = 0;
    if (std::fscanf(f, "%ld %ld", &size, &pages) != 2) pages = 0;
    std::fclose(f);
  }
  return static_cast<int64_t>(pages) * sysconf(_SC_PAGESIZE);
}

bool LimitMallocArenas(int arenas) {
  if (arenas <= 0) return true;
  return mallopt(M_ARENA_MAX, arenas) == 1;
}

TrimResult TrimHeap() {
  TrimResult result;
  result.resident_before = ResidentBytes();
  const absl::Time start = absl::Now();
  malloc_trim(0);
  result.took = absl::Now() - start;
  result.resident_after = ResidentBytes();
  return result;
}

HeapTrimmer::HeapTrimmer(absl::Duration interval) {
  if (interval > absl::ZeroDuration()) thread_ = std::thread([this, interval] { Run(interval); });
}

HeapTrimmer::~HeapTrimmer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

HeapTrimmer::Stats HeapTrimmer::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void HeapTrimmer::Run(absl::Duration interval) {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval)) return;
    }
    const TrimResult r = TrimHeap();
    const HeapStats heap = ReadHeapStats();
    {
      absl::MutexLock lock(&mu_);
      stats_.heap = heap;
      stats_.resident_after = r.resident_after;
      ++stats_.trims;
      stats_.time += r.took;
      stats_.released_bytes += static_cast<uint64_t>(r.released());
    }
    Log(LogLevel::kDebug, "heap trimmed",
        {{"took_ms", absl::StrCat(absl::ToDoubleMilliseconds(r.took))},
         {"resident_before_bytes", absl::StrCat(r.resident_before)},
         {"resident_after_bytes", absl::StrCat(r.resident_after)}});
  }
}

}  // namespace accord
