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

#include <cstdint>
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
  void Add(double value, double capacity);
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
// From hour rows (percentiles from the merged histograms; ratios only).
WindowStats StatsFromHours(const std::vector<RollupRow>& hours);

// 5-second means of the last 30 minutes.
class RecentRing {
 public:
  static constexpr int kBucketSeconds = 5;
  static constexpr int kBuckets = 360;

  // Adds a sample at `t` (seconds since the epoch). Samples older than the ring's window
  // relative to the newest bucket are ignored.
  void Add(double t, double value);
  // (bucket start + 2.5 s, mean) of every bucket within 30 minutes before `now`, oldest first.
  struct Point {
    double t;
    double v;
  };
  std::vector<Point> Points(double now) const;

 private:
  // 8 bytes: the bucket index is kept modulo 2^16 (91 hours of buckets); the ring is
  // cleared whenever the newest data is a full window old, so an old bucket can never pass
  // for a recent one.
  struct Bucket {
    float sum = 0;
    uint16_t count = 0;  // 0: empty
    uint16_t index = 0;  // floor(t / 5) mod 2^16
  };
  Bucket buckets_[kBuckets];
  int64_t newest_ = -1;  // floor(t / 5) of the newest sample; -1: none
};

}  // namespace accord::collector::capacity

#endif  // ACCORD_COLLECTOR_CAPACITY_ROLLUP_H_
