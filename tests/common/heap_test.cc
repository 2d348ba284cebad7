#include "common/heap.h"

#include <cstdlib>
#include <cstring>
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
