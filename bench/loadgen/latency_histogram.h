// LatencyHistogram: a fixed-size log-linear histogram of durations for quantiles (p50, p99)
// over many samples recorded from many threads.
//
// Buckets: 1 us wide below 16 us, then 16 linear sub-buckets per power of two of microseconds
// up to 2^35 us (about 9.5 h); the relative error of a quantile is at most 1/16 (6.25%).
// Larger values land in the last bucket.
//
// Thread safety: Record, Quantile, Count and Max may be called from any thread concurrently
// (relaxed atomics: a quantile read while samples arrive sees some of them).
#ifndef ACCORD_BENCH_LOADGEN_LATENCY_HISTOGRAM_H_
#define ACCORD_BENCH_LOADGEN_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/time/time.h"

namespace accord::bench {

class LatencyHistogram {
 public:
  LatencyHistogram();

  // Negative durations count as zero.
  void Record(absl::Duration d);

  // The q-quantile (0 <= q <= 1): the upper bound of the bucket holding it. Zero when empty.
  absl::Duration Quantile(double q) const;
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  absl::Duration Max() const { return absl::Microseconds(max_us_.load(std::memory_order_relaxed)); }

  // Bucket index and upper bound in microseconds (exposed for tests).
  static int BucketOf(uint64_t us);
  static uint64_t UpperBoundUs(int bucket);

 private:
  static constexpr int kSubBuckets = 16;
  static constexpr int kOctaves = 32;
  static constexpr int kBuckets = kSubBuckets * kOctaves;
  std::array<std::atomic<uint64_t>, kBuckets> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<int64_t> max_us_{0};
};

}  // namespace accord::bench

#endif  // ACCORD_BENCH_LOADGEN_LATENCY_HISTOGRAM_H_
