// Rollups of capacity series: what is kept of each series and how window statistics (mean,
// p95, p99, max) are computed from it.
//
//   recent   5-second means of the last 30 minutes, in memory (for fast forecasts)
//   minute   count, sum, min, max and summed capacity of each minute; kept 7 days (SQLite)
//   hour     the hour's 1-minute means: their count and sum, min and max of the raw samples,
//            and a histogram of the minute means in 0.5 % buckets; kept 400 days (SQLite)
//
// Percentiles are of the 1-minute means (the p95 of a day is the 95th percentile of its
// 1,440 minute means, nearest rank). Within 7 days they are exact; beyond, they come from
// the hours' histograms and are exact to the bucket (±0.25 % of utilisation).
//
// Plain values and pure functions; RecentRing is not thread-safe.
#ifndef ACCORD_COLLECTOR_CAPACITY_ROLLUP_H_
#define ACCORD_COLLECTOR_CAPACITY_ROLLUP_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace accord::collector::capacity {

// Histogram of ratios in [0, 1]: 200 buckets of 0.005 (1.0 falls in the last one).
class RatioHistogram {
 public:
  static constexpr int kBuckets = 200;
  static constexpr double kWidth = 1.0 / kBuckets;

  void Add(double ratio, uint32_t count = 1);
  void Merge(const RatioHistogram& other);
  uint64_t total() const { return total_; }
  // Nearest-rank quantile, reported as the middle of its bucket. REQUIRES: total() > 0,
  // 0 < q <= 1.
  double Quantile(double q) const;
  // Compact encoding: pairs of (bucket, count) as varints, only non-empty buckets.
  std::string Encode() const;
  // Errors: DataLoss on a malformed encoding.
  static absl::StatusOr<RatioHistogram> Decode(absl::string_view bytes);

 private:
  uint32_t counts_[kBuckets] = {};
  uint64_t total_ = 0;
};

// One minute or one hour of a series. `start` is unix seconds at the start of the period.
// Minute: count samples, their sum, min and max, and the sum of their capacities.
// Hour: count minutes, the sum of their means, min and max of the samples, the sum of the
// minute mean capacities and the histogram of the minute means (empty for demand).
// Adds one observation to a row-like aggregate (count, sum, min, max, capacity_sum): shared by
// RollupRow and the capacity service's compact pending minutes.
template <typename Row>
void AddObservation(Row& row, double value, double capacity) {
  if (row.count == 0) {
    row.min = row.max = value;
  } else {
    row.min = std::min(row.min, value);
    row.max = std::max(row.max, value);
  }
  ++row.count;
  row.sum += value;
  row.capacity_sum += capacity;
}

struct RollupRow {
  int64_t start = 0;
  uint32_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  double capacity_sum = 0;
  std::string histogram;  // hours only: RatioHistogram::Encode()

  double mean() const { return count == 0 ? 0 : sum / count; }
  double mean_capacity() const { return count == 0 ? 0 : capacity_sum / count; }
  void Add(double value, double capacity) { AddObservation(*this, value, capacity); }
  void Merge(const RollupRow& other);  // same period: counts and sums add, min/max combine
};

// The hour row of `minutes` (all within one hour starting at `hour_start`). `ratio` says
// whether the values are ratios (a histogram is kept) or demand values (none).
RollupRow HourFromMinutes(int64_t hour_start, const std::vector<RollupRow>& minutes, bool ratio);

// Statistics of a series over a window.
struct WindowStats {
  uint64_t minutes = 0;  // minutes with data in the window
  double mean = 0;       // mean of the minute means
  double p95 = 0;
  double p99 = 0;
  double max = 0;  // of the raw samples
};
// From minute rows (exact percentiles of the minute means). Rows with count 0 are ignored.
WindowStats StatsFromMinutes(const std::vector<RollupRow>& minutes);
// Sets stats->p95 and p99: nearest-rank percentiles of `means` (reordered; not sorted).
// REQUIRES: means not empty.
void PercentilesOfMeans(std::vector<double>* means, WindowStats* stats);
// From hour rows (percentiles from the merged histograms; ratios only).
WindowStats StatsFromHours(const std::vector<RollupRow>& hours);
// Window statistics built hour by hour (StatsFromHours; the capacity service adds the hours
// not derived yet from their minutes): minute counts, sums and maxima add in the order given,
// minute means go to one histogram for the percentiles.
class HourStatsAccumulator {
 public:
  // A stored hour row (its histogram decoded and merged). Rows with count 0 are ignored.
  void AddRow(const RollupRow& hour);
  // An hour given as totals; its minute means go to histogram() by the caller.
  void AddHour(uint64_t minutes, double sum, double max);
  RatioHistogram& histogram() { return hist_; }
  // The mean of the minute means, p95/p99 from the histogram (the max when it is empty).
  WindowStats Finish() const;

 private:
  WindowStats stats_;
  RatioHistogram hist_;
  double sum_ = 0;
};

// 5-second means of the last 30 minutes.
//
// Memory: nothing until the first sample; then 1,620 bytes on the heap (a float sum and a
// 4-bit count per bucket), released again by ReleaseIfStale once nothing held is within the
// window. Means are the float sums over the counts, as exact as a float sum of the values.
class RecentRing {
 public:
  static constexpr int kBucketSeconds = 5;
  static constexpr int kBuckets = 360;
  // Samples a bucket takes; later ones of the same 5 seconds are ignored (agents sample at
  // most once a second, so a bucket normally holds 5 or 6).
  static constexpr int kMaxCount = 15;

  RecentRing() = default;
  RecentRing(RecentRing&&) = default;
  RecentRing& operator=(RecentRing&&) = default;

  // Adds a sample at `t` (seconds since the epoch). Samples older than the ring's window
  // relative to the newest bucket are ignored.
  void Add(double t, double value);
  // (bucket start + 2.5 s, mean) of every bucket within 30 minutes before `now`, oldest first.
  struct Point {
    double t;
    double v;
  };
  std::vector<Point> Points(double now) const;
  // Calls f(t, mean) for each point Points(now) would return, in the same order, without
  // building a vector.
  template <typename F>
  void ForEachPoint(double now, F&& f) const;

  // Frees the buckets when none of them is within 30 minutes before `now` (a series that
  // stopped): Points(now) and later are unaffected.
  void ReleaseIfStale(double now);
  // Heap bytes held (0 or sizeof the buckets).
  size_t HeapBytes() const { return storage_ == nullptr ? 0 : sizeof(Storage); }

 private:
  static constexpr int64_t kNone = INT64_MIN;
  // Every slot holds the bucket of the one index in (newest - kBuckets, newest] congruent to
  // it, or is empty (count 0): slots are cleared as `newest_` moves past them.
  struct Storage {
    float sum[kBuckets] = {};
    uint8_t count[kBuckets / 2] = {};  // two 4-bit counts a byte; 0: empty
  };
  static int Slot(int64_t index) {
    return static_cast<int>(((index % kBuckets) + kBuckets) % kBuckets);
  }
  int Count(int slot) const { return (storage_->count[slot / 2] >> ((slot & 1) * 4)) & 0xf; }
  void SetCount(int slot, int n) {
    uint8_t& byte = storage_->count[slot / 2];
    const int shift = (slot & 1) * 4;
    byte = static_cast<uint8_t>((byte & ~(0xf << shift)) | (n << shift));
  }

  std::unique_ptr<Storage> storage_;
  int64_t newest_ = kNone;  // floor(t / 5) of the newest sample
};

template <typename F>
void RecentRing::ForEachPoint(double now, F&& f) const {
  if (storage_ == nullptr || newest_ == kNone) return;
  const auto now_index = static_cast<int64_t>(std::floor(now / kBucketSeconds));
  if (newest_ <= now_index - kBuckets) return;
  const int64_t first = std::max(newest_ - kBuckets + 1, now_index - kBuckets + 1);
  const int64_t last = std::min(newest_, now_index);
  for (int64_t index = first; index <= last; ++index) {
    const int slot = Slot(index);
    const int n = Count(slot);
    if (n == 0) continue;
    f((static_cast<double>(index) + 0.5) * kBucketSeconds,
      static_cast<double>(storage_->sum[slot]) / n);
  }
}

}  // namespace accord::collector::capacity

#endif  // ACCORD_COLLECTOR_CAPACITY_ROLLUP_H_
