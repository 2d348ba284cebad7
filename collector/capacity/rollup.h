// Rollups of capacity series: what is kept of each series and how window statistics (mean,
// p95, p99, max) are computed from it.
//
//   recent   5-second means of the last 30 minutes, in memory, to 16 bits (for fast forecasts)
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

// 5-second means of the last 30 minutes of a utilisation ratio.
//
// Memory: nothing until the first sample; then 900 bytes on the heap (a 16-bit mean and a
// 4-bit count per bucket), released again by ReleaseIfStale once nothing held is within the
// window. The newest bucket, the one samples normally join, sums its samples in a float; a
// bucket's mean is rounded to 16 bits (a step of kMaxValue / 65535, 0.003 % of capacity) when
// the window moves past it. Values outside [0, kMaxValue] count as the nearest end, and
// non-finite values are ignored. The minute and hour rollups keep the exact values.
class RecentRing {
 public:
  static constexpr int kBucketSeconds = 5;
  static constexpr int kBuckets = 360;
  // Samples a bucket takes; later ones of the same 5 seconds are ignored (agents sample at
  // most once a second, so a bucket normally holds 5 or 6).
  static constexpr int kMaxCount = 15;
  // The largest mean a bucket holds (a ratio twice the capacity; utilisation is normally
  // within [0, 1]), and the step of the stored means.
  static constexpr double kMaxValue = 2.0;
  static constexpr double kStep = kMaxValue / 65535;

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
  // it, or is empty (count 0): slots are cleared as `newest_` moves past them. The newest
  // bucket's mean is newest_sum_ over its count; the others' are in `mean`.
  struct Storage {
    uint16_t mean[kBuckets] = {};
    uint8_t count[kBuckets / 2] = {};  // two 4-bit counts a byte; 0: empty
  };
  static int Slot(int64_t index) {
    return static_cast<int>(((index % kBuckets) + kBuckets) % kBuckets);
  }
  static uint16_t Encode(double mean);
  static double Decode(uint16_t q) { return q * kStep; }
  int Count(int slot) const { return (storage_->count[slot / 2] >> ((slot & 1) * 4)) & 0xf; }
  void SetCount(int slot, int n) {
    uint8_t& byte = storage_->count[slot / 2];
    const int shift = (slot & 1) * 4;
    byte = static_cast<uint8_t>((byte & ~(0xf << shift)) | (n << shift));
  }
  // Rounds the newest bucket's mean into `mean` (before newest_ moves on).
  void CloseNewest();

  std::unique_ptr<Storage> storage_;
  int64_t newest_ = kNone;  // floor(t / 5) of the newest sample
  float newest_sum_ = 0;    // the newest bucket's samples, summed
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
      index == newest_ ? static_cast<double>(newest_sum_) / n : Decode(storage_->mean[slot]));
  }
}

}  // namespace accord::collector::capacity

#endif  // ACCORD_COLLECTOR_CAPACITY_ROLLUP_H_
