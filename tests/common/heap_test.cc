#include "common/heap.h"

#include <malloc.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace accord {
namespace {

constexpr size_t kBlock = 4096;
constexpr size_t kBlocks = 16384;  // 64 MiB
constexpr int64_t kMiB = 1 << 20;

// Freed small blocks below a live one stay resident (glibc only shrinks an arena from its
// top); a trim hands their pages back.
TEST(TrimHeap, ReturnsFreedPagesBelowALiveAllocation) {
  std::vector<void*> blocks;
  blocks.reserve(kBlocks);
  for (size_t i = 0; i < kBlocks; ++i) {
    void* p = std::malloc(kBlock);
    ASSERT_NE(p, nullptr);
    std::memset(p, 0xab, kBlock);  // resident
    blocks.push_back(p);
  }
  void* pin = std::malloc(kBlock);  // keeps the arena's top above the freed blocks
  std::memset(pin, 1, kBlock);
  const HeapStats used = ReadHeapStats();
  EXPECT_GE(used.in_use_bytes, kBlocks * kBlock);
  for (void* p : blocks) std::free(p);
  const HeapStats freed = ReadHeapStats();
  EXPECT_GE(freed.free_bytes, kBlocks * kBlock / 2);
  EXPECT_GE(used.in_use_bytes - freed.in_use_bytes, kBlocks * kBlock / 2);

  const int64_t before = ResidentBytes();
  const TrimResult r = TrimHeap();
  EXPECT_GT(r.resident_before, 0);
  EXPECT_GE(r.resident_before, before - 8 * kMiB);
  EXPECT_GE(r.released(), 32 * kMiB)
      << "before " << r.resident_before << " after " << r.resident_after;
  EXPECT_LE(ResidentBytes(), before - 32 * kMiB);
  std::free(pin);
}

// The number of arenas malloc has created so far (one <heap nr="N"> element each in
// malloc_info), 0 if it cannot tell.
int MallocArenaCount() {
  char* text = nullptr;
  size_t size = 0;
  FILE* f = open_memstream(&text, &size);
  if (f == nullptr) return 0;
  const bool ok = malloc_info(0, f) == 0;
  std::fclose(f);
  int count = 0;
  if (ok) {
    for (const char* p = text; (p = std::strstr(p, "<heap nr=")) != nullptr; ++p) ++count;
  }
  std::free(text);
  return count;
}

// Starts `n` threads that each allocate while all of them are alive (each one would take an
// arena of its own, up to glibc's limit), then exits the process with the number of arenas
// malloc has, or 100 if it could not tell. Run in a fresh process (a death test).
[[noreturn]] void ExitWithArenasAfterThreads(int n) {
  std::atomic<int> allocated{0};
  // Kept past the threads, so that the compiler cannot drop a malloc and its free.
  std::vector<void*> blocks(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&allocated, &blocks, i, n] {
      blocks[i] = std::malloc(1000);
      ++allocated;
      while (allocated.load() < n) std::this_thread::yield();
    });
  }
  for (std::thread& t : threads) t.join();
  const int arenas = MallocArenaCount();
  for (void* b : blocks) std::free(b);
  std::_Exit(arenas == 0 ? 100 : arenas);
}

// Exit statuses of ExitWithArenasAfterThreads(16): with glibc's default (up to 8 arenas per
// core, so at least 8) concurrent threads take arenas of their own; with the cap, at most 2.
bool MoreThanFourArenas(int status) {
  return WIFEXITED(status) && WEXITSTATUS(status) > 4 && WEXITSTATUS(status) <= 17;
}
bool AtMostTwoArenas(int status) {
  return WIFEXITED(status) && WEXITSTATUS(status) >= 1 && WEXITSTATUS(status) <= 2;
}

TEST(LimitMallocArenas, ThreadsShareTheCappedArenas) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (!LimitMallocArenas(2)) std::_Exit(101);
        ExitWithArenasAfterThreads(16);
      },
      AtMostTwoArenas, "");
}

// Also the control for the test above: uncapped, the count does see the threads' arenas.
TEST(LimitMallocArenas, ZeroLeavesTheDefault) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (!LimitMallocArenas(0)) std::_Exit(101);
        ExitWithArenasAfterThreads(16);
      },
      MoreThanFourArenas, "");
}

TEST(ResidentBytes, CountsWhatThisProcessTouches) {
  const int64_t before = ResidentBytes();
  EXPECT_GT(before, 0);
  std::vector<char> big(32 * kMiB, 1);
  EXPECT_GE(ResidentBytes(), before + 16 * kMiB);
  EXPECT_EQ(big[big.size() - 1], 1);
}

TEST(HeapTrimmer, TrimsEveryIntervalUntilDestroyed) {
  HeapTrimmer trimmer(absl::Milliseconds(1));
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (trimmer.stats().trims < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  const HeapTrimmer::Stats stats = trimmer.stats();
  EXPECT_GE(stats.trims, 3u);
  EXPECT_GT(stats.time, absl::ZeroDuration());
  EXPECT_GT(stats.heap.in_use_bytes, 0u);
  EXPECT_GT(stats.resident_after, 0);
}

TEST(HeapTrimmer, RecordsTheResidentMemoryAfterItsTrim) {
  // 64 MiB of small blocks made resident and freed below a live one: only a trim returns
  // them, so a figure read before the trim would still hold them.
  constexpr size_t kBlock = 64 * 1024;
  constexpr size_t kBlocks = 1024;
  std::vector<void*> blocks;
  blocks.reserve(kBlocks);
  for (size_t i = 0; i < kBlocks; ++i) {
    void* p = std::malloc(kBlock);
    ASSERT_NE(p, nullptr);
    std::memset(p, 0xab, kBlock);
    blocks.push_back(p);
  }
  void* pin = std::malloc(kBlock);
  std::memset(pin, 1, kBlock);
  for (void* p : blocks) std::free(p);
  const int64_t holding = ResidentBytes();

  HeapTrimmer trimmer(absl::Milliseconds(1));
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (trimmer.stats().trims < 1 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  const HeapTrimmer::Stats stats = trimmer.stats();
  ASSERT_GE(stats.trims, 1u);
  EXPECT_GT(stats.resident_after, 0);
  EXPECT_LE(stats.resident_after, holding - 32 * static_cast<int64_t>(kMiB))
      << "holding " << holding;
  std::free(pin);
}

TEST(HeapTrimmer, AZeroIntervalNeverTrims) {
  HeapTrimmer trimmer(absl::ZeroDuration());
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(trimmer.stats().trims, 0u);
}

TEST(HeapTrimmer, StopsPromptlyDuringALongInterval) {
  const absl::Time start = absl::Now();
  { HeapTrimmer trimmer(absl::Hours(1)); }
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

}  // namespace
}  // namespace accord
