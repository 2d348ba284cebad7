#include "bench/loadgen/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace accord::bench {

LatencyHistogram::LatencyHistogram() {
  for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
}

// Octave 0 holds [0, 16) us linearly (1 us wide); octave k >= 1 holds [16 << (k-1), 16 << k)
// in 16 sub-buckets of width 1 << (k-1).
int LatencyHistogram::BucketOf(uint64_t us) {
  if (us < kSubBuckets) return static_cast<int>(us);
  int msb = 63 - __builtin_clzll(us);  // >= 4
  int octave = msb - 3;                // 16..31 -> 1
  if (octave >= kOctaves) return kBuckets - 1;
  int shift = octave - 1;
  int sub = static_cast<int>((us >> shift) - kSubBuckets);  // 0..15
  return octave * kSubBuckets + sub;
}

uint64_t LatencyHistogram::UpperBoundUs(int bucket) {
  int octave = bucket / kSubBuckets;
  int sub = bucket % kSubBuckets;
  if (octave == 0) return static_cast<uint64_t>(sub) + 1;
  int shift = octave - 1;
  return (static_cast<uint64_t>(kSubBuckets + sub + 1) << shift);
}

void LatencyHistogram::Record(absl::Duration d) {
  int64_t us = std::max<int64_t>(0, absl::ToInt64Microseconds(d));
  buckets_[BucketOf(static_cast<uint64_t>(us))].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  int64_t prev = max_us_.load(std::memory_order_relaxed);
  while (us > prev && !max_us_.compare_exchange_weak(prev, us, std::memory_order_relaxed)) {
  }
}

absl::Duration LatencyHistogram::Quantile(double q) const {
  uint64_t total = 0;
  std::array<uint64_t, kBuckets> snap;
  for (int i = 0; i < kBuckets; ++i) {
    snap[i] = buckets_[i].load(std::memory_order_relaxed);
    total += snap[i];
  }
  if (total == 0) return absl::ZeroDuration();
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * total)));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += snap[i];
    if (seen >= rank) {
      uint64_t bound = UpperBoundUs(i);
      int64_t max = max_us_.load(std::memory_order_relaxed);
      return absl::Microseconds(
          std::min<int64_t>(static_cast<int64_t>(bound), std::max<int64_t>(max, 1)));
    }
  }
  return Max();
}

}  // namespace accord::bench
