// Heap: what malloc holds, and handing its free pages back to the kernel.
//
// glibc keeps memory a thread freed in that thread's arena for reuse. A long-running server
// whose peaks (10,000 agents connecting at once, a backlog in a queue) come and go keeps
// the peak resident for good: the free chunks sit between live ones, so the arena's top
// cannot shrink. malloc_trim(0) returns the whole free pages inside every arena
// (MADV_DONTNEED), which a periodic HeapTrimmer does off the hot paths.
//
// Thread safety: all functions and HeapTrimmer's methods are thread-safe.
#ifndef ACCORD_COMMON_HEAP_H_
#define ACCORD_COMMON_HEAP_H_

#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace accord {

struct HeapStats {
  uint64_t in_use_bytes = 0;  // allocated and not freed (small and mmapped chunks)
  uint64_t free_bytes = 0;    // held by malloc for reuse (not all of it resident)
};
// From mallinfo2(); walks every arena's free lists, so a few milliseconds on a large heap.
HeapStats ReadHeapStats();

// Resident memory of this process (/proc/self/statm), 0 if it cannot be read.
int64_t ResidentBytes();

struct TrimResult {
  absl::Duration took;
  int64_t resident_before = 0;
  int64_t resident_after = 0;
  int64_t released() const {
    return resident_before > resident_after ? resident_before - resident_after : 0;
  }
};
// malloc_trim(0): returns every arena's whole free pages to the kernel.
TrimResult TrimHeap();

// Caps the number of malloc arenas glibc creates (mallopt M_ARENA_MAX; its default is 8 per
// core). Fewer arenas mean less freed memory stranded between live chunks: a collector with
// 10,000 agents held 80 to 113 MiB less resident right after a trim with 2 arenas (3 runs)
// (docs/benchmarks.md). Arenas already created stay. Call before threads start. `arenas` <= 0
// leaves glibc's default. Returns false if glibc refused the value.
bool LimitMallocArenas(int arenas);

// Trims the heap every `interval` on its own thread, then reads ReadHeapStats() there too. A
// trim holds each arena's lock while it walks it (about 50 ms in all at 10,000 agents):
// threads allocating from that arena meanwhile wait, but no thread with deadlines (liveness
// checks, scrapes) runs the walk itself. An interval <= 0 starts no thread.
class HeapTrimmer {
 public:
  explicit HeapTrimmer(absl::Duration interval);
  ~HeapTrimmer();
  HeapTrimmer(const HeapTrimmer&) = delete;
  HeapTrimmer& operator=(const HeapTrimmer&) = delete;

  struct Stats {
    uint64_t trims = 0;
    absl::Duration time;          // spent trimming, all trims
    uint64_t released_bytes = 0;  // resident memory returned, all trims
    HeapStats heap;               // after the last trim (valid once trims > 0)
    int64_t resident_after = 0;   // resident memory right after the last trim: the floor of
                                  // the sawtooth between trims, what growth is judged on
  };
  Stats stats() const;

 private:
  void Run(absl::Duration interval);

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace accord

#endif  // ACCORD_COMMON_HEAP_H_
