#include "collector/capacity/rollup.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace accord::collector::capacity {
namespace {

RollupRow Minute(int64_t start, std::vector<double> values, double capacity = 1) {
  RollupRow r;
  r.start = start;
  for (double v : values) r.Add(v, capacity);
  return r;
}

TEST(RollupRow, AddAndMerge) {
  RollupRow a = Minute(60, {0.2, 0.4});
  RollupRow b = Minute(60, {0.9});
  a.Merge(b);
  EXPECT_EQ(a.count, 3u);
  EXPECT_DOUBLE_EQ(a.mean(), 0.5);
  EXPECT_DOUBLE_EQ(a.min, 0.2);
  EXPECT_DOUBLE_EQ(a.max, 0.9);
  EXPECT_DOUBLE_EQ(a.mean_capacity(), 1);
  RollupRow empty;
  empty.Merge(a);
  EXPECT_DOUBLE_EQ(empty.min, 0.2);
}

TEST(WindowStats, PercentilesAreNearestRankOfMinuteMeans) {
  // 100 minutes with means 0.01 .. 1.00; one minute has a raw peak of 1.0.
  std::vector<RollupRow> rows;
  for (int i = 1; i <= 100; ++i) rows.push_back(Minute(60 * i, {i / 100.0}));
  rows[10].Add(0.2, 1);
  WindowStats s = StatsFromMinutes(rows);
  EXPECT_EQ(s.minutes, 100u);
  EXPECT_DOUBLE_EQ(s.p95, 0.95);
  EXPECT_DOUBLE_EQ(s.p99, 0.99);
  EXPECT_DOUBLE_EQ(s.max, 1.0);
  EXPECT_NEAR(s.mean, (5050 / 100.0 / 100.0) + (0.155 - 0.11) / 100, 1e-12);
}

TEST(WindowStats, HoursUseHistogramsOfMinuteMeans) {
  // 10 hours; every minute of hour h has mean h / 10.
  std::vector<RollupRow> hours;
  for (int h = 0; h < 10; ++h) {
    std::vector<RollupRow> minutes;
    for (int m = 0; m < 60; ++m) minutes.push_back(Minute(h * 3600 + m * 60, {h / 10.0}));
    hours.push_back(HourFromMinutes(h * 3600, minutes, true));
  }
  EXPECT_EQ(hours[3].count, 60u);
  EXPECT_NEAR(hours[3].mean(), 0.3, 1e-12);
  WindowStats s = StatsFromHours(hours);
  EXPECT_EQ(s.minutes, 600u);
  EXPECT_NEAR(s.mean, 0.45, 1e-12);
  EXPECT_NEAR(s.p95, 0.9, RatioHistogram::kWidth);  // within one bucket
  EXPECT_NEAR(s.max, 0.9, 1e-12);
}

TEST(RatioHistogram, EncodeDecodeRoundTripAndRejectsGarbage) {
  RatioHistogram h;
  h.Add(0.0);
  h.Add(0.5, 300);
  h.Add(1.0, 2);
  auto back = RatioHistogram::Decode(h.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->total(), 303u);
  EXPECT_NEAR(back->Quantile(0.5), 0.5, RatioHistogram::kWidth);
  EXPECT_NEAR(back->Quantile(1.0), 1.0, RatioHistogram::kWidth);
  EXPECT_FALSE(RatioHistogram::Decode(std::string("\xff", 1)).ok());
  EXPECT_FALSE(RatioHistogram::Decode(std::string("\x05", 1)).ok());
  EXPECT_FALSE(RatioHistogram::Decode(std::string("\xc8\x01\x01", 3)).ok());  // bucket 200
}

TEST(RecentRing, FiveSecondMeansOfTheLastHalfHour) {
  RecentRing ring;
  const double t0 = 1.7e9;
  for (int s = 0; s < 3600; ++s) ring.Add(t0 + s, s);  // an hour of 1 s samples
  auto points = ring.Points(t0 + 3599);
  ASSERT_EQ(points.size(), 360u);
  EXPECT_DOUBLE_EQ(points.back().v, (3595 + 3596 + 3597 + 3598 + 3599) / 5.0);
  EXPECT_DOUBLE_EQ(points.back().t, t0 + 3597.5);
  EXPECT_LT(points.front().t, points.back().t);
  // An old sample is ignored; a late one within the window joins its bucket.
  ring.Add(t0, 1e6);
  ring.Add(t0 + 3500, 0);
  auto again = ring.Points(t0 + 3599);
  for (const auto& p : again) EXPECT_LT(p.v, 1e6);
  // Ten minutes later only the buckets of the last 30 minutes remain.
  EXPECT_EQ(ring.Points(t0 + 3599 + 600).size(), 240u);
}

TEST(RecentRing, AGapLongerThanTheWindowClearsTheRingSoOldBucketsNeverReturn) {
  RecentRing ring;
  const double t0 = 1.7e9;
  ring.Add(t0, 0.9);
  // Exactly 2^16 buckets later the stored 16-bit index would match again: the ring is
  // cleared by the gap, so the old value must not reappear.
  const double later = t0 + 65536.0 * RecentRing::kBucketSeconds;
  EXPECT_TRUE(ring.Points(later).empty());
  ring.Add(later + 5, 0.1);
  auto points = ring.Points(later + 5);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_NEAR(points[0].v, 0.1, 1e-6);
}

}  // namespace
}  // namespace accord::collector::capacity
