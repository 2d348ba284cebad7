#include "collector/capacity/rollup.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
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
  // An hour of 1 s samples rising from 0 to 1.
  for (int s = 0; s < 3600; ++s) ring.Add(t0 + s, s / 3600.0);
  auto points = ring.Points(t0 + 3599);
  ASSERT_EQ(points.size(), 360u);
  EXPECT_NEAR(points.back().v, (3595 + 3596 + 3597 + 3598 + 3599) / 5.0 / 3600, 1e-6);
  EXPECT_DOUBLE_EQ(points.back().t, t0 + 3597.5);
  EXPECT_LT(points.front().t, points.back().t);
  // Closed buckets: their means to within half a 16-bit step.
  EXPECT_DOUBLE_EQ(points.front().t, t0 + 1800 + 2.5);
  EXPECT_NEAR(points.front().v, (1800 + 1801 + 1802 + 1803 + 1804) / 5.0 / 3600,
              RecentRing::kStep / 2 + 1e-7);
  // An old sample is ignored; a late one within the window joins its bucket.
  ring.Add(t0, 1.5);
  ring.Add(t0 + 3500, 0);
  auto again = ring.Points(t0 + 3599);
  for (const auto& p : again) EXPECT_LT(p.v, 1.0);
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

TEST(RecentRing, TheNewestBucketsMeanIsItsFloatSumOverItsCount) {
  RecentRing ring;
  const double t0 = 1.7e9;  // a bucket boundary
  ring.Add(t0, 0.1);
  ring.Add(t0 + 1, 0.2);
  ring.Add(t0 + 2, 0.7);
  auto points = ring.Points(t0 + 4);
  ASSERT_EQ(points.size(), 1u);
  const float sum = 0.1f + 0.2f + 0.7f;
  EXPECT_EQ(points[0].v, static_cast<double>(sum) / 3);  // exactly
  EXPECT_EQ(points[0].t, t0 + 2.5);
}

TEST(RecentRing, AClosedBucketKeepsItsMeanToHalfASixteenBitStep) {
  RecentRing ring;
  const double t0 = 1.7e9;
  for (double v : {0.1, 0.2, 0.7, 0.123456789}) ring.Add(t0 + v, v);
  ring.Add(t0 + 5, 0.9);  // the next bucket: the first one is closed
  auto points = ring.Points(t0 + 5);
  ASSERT_EQ(points.size(), 2u);
  const double mean = (0.1 + 0.2 + 0.7 + 0.123456789) / 4;
  EXPECT_NEAR(points[0].v, mean, RecentRing::kStep / 2 + 1e-7);
  EXPECT_NE(points[0].v, static_cast<double>(static_cast<float>(mean)));  // rounded to 16 bits
  EXPECT_EQ(points[1].v, static_cast<double>(0.9f));
}

TEST(RecentRing, ValuesOutsideTheRangeCountAsItsEndsAndNonFiniteOnesAreIgnored) {
  RecentRing ring;
  const double t0 = 1.7e9;
  ring.Add(t0, -0.5);
  ring.Add(t0 + 5, 7.0);
  ring.Add(t0 + 10, std::nan(""));
  ring.Add(t0 + 10, std::numeric_limits<double>::infinity());
  ring.Add(std::numeric_limits<double>::infinity(), 0.5);
  ring.Add(t0 + 10, 0.25);
  auto points = ring.Points(t0 + 10);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].v, 0.0);
  EXPECT_NEAR(points[1].v, RecentRing::kMaxValue, RecentRing::kStep / 2);
  EXPECT_EQ(points[2].v, 0.25);  // only the finite sample counted
}

TEST(RecentRing, ALateSampleJoinsItsBucketWithoutDisturbingOthers) {
  RecentRing ring;
  const double t0 = 1.7e9;
  ring.Add(t0, 0.2);
  ring.Add(t0 + 100, 0.5);  // 20 buckets later; the ones between stay empty
  ring.Add(t0 + 3, 0.4);    // late: joins the first bucket
  auto points = ring.Points(t0 + 100);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_NEAR(points[0].v, (0.2 + 0.4) / 2, RecentRing::kStep);
  EXPECT_EQ(points[1].v, static_cast<double>(0.5f));
}

TEST(RecentRing, ASlotTheWindowMovesPastIsClearedBeforeReuse) {
  RecentRing ring;
  const double t0 = 1.7e9;
  const double step = RecentRing::kBucketSeconds;
  ring.Add(t0, 0.9);
  ring.Add(t0 + step * (RecentRing::kBuckets - 1), 0.5);  // the window's other end
  EXPECT_EQ(ring.Points(t0 + step * (RecentRing::kBuckets - 1)).size(), 2u);
  // One bucket more: the first bucket's slot now belongs to the new one.
  ring.Add(t0 + step * RecentRing::kBuckets, 0.1);
  auto points = ring.Points(t0 + step * RecentRing::kBuckets);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_NEAR(points[0].v, 0.5, RecentRing::kStep / 2);
  EXPECT_EQ(points[1].v, static_cast<double>(0.1f));  // not mixed with the old 0.9
  // A sample for the bucket that left the window is ignored.
  ring.Add(t0, 0.9);
  EXPECT_EQ(ring.Points(t0 + step * RecentRing::kBuckets).size(), 2u);
}

TEST(RecentRing, ABucketTakesAtMostMaxCountSamples) {
  RecentRing ring;
  const double t0 = 1.7e9;
  float sum = 0;
  for (int i = 0; i < RecentRing::kMaxCount + 5; ++i) {
    const double v = 0.01 * (i + 1);
    if (i < RecentRing::kMaxCount) sum += static_cast<float>(v);
    ring.Add(t0 + i * 0.2, v);
  }
  auto points = ring.Points(t0 + 4);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].v, static_cast<double>(sum) / RecentRing::kMaxCount);
}

TEST(RecentRing, HoldsNoMemoryUntilUsedAndFreesItWhenStale) {
  RecentRing ring;
  const double t0 = 1.7e9;
  EXPECT_EQ(ring.HeapBytes(), 0u);
  EXPECT_TRUE(ring.Points(t0).empty());
  ring.Add(t0, 0.3);
  EXPECT_GT(ring.HeapBytes(), 0u);
  EXPECT_LE(ring.HeapBytes(), 900u);  // 2.5 bytes a bucket
  ring.ReleaseIfStale(t0 + 1795);  // still within 30 minutes
  EXPECT_EQ(ring.Points(t0 + 1795).size(), 1u);
  ring.ReleaseIfStale(t0 + 1800);
  EXPECT_EQ(ring.HeapBytes(), 0u);
  EXPECT_TRUE(ring.Points(t0 + 1800).empty());
  ring.Add(t0 + 2000, 0.6);  // used again
  auto points = ring.Points(t0 + 2000);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].v, static_cast<double>(0.6f));
}

TEST(RecentRing, ForEachPointVisitsWhatPointsReturns) {
  RecentRing ring;
  const double t0 = 1.7e9;
  for (int s = 0; s < 2400; s += 3) ring.Add(t0 + s, (s % 97) / 97.0);
  auto points = ring.Points(t0 + 2000);  // `now` before the newest sample
  std::vector<RecentRing::Point> visited;
  ring.ForEachPoint(t0 + 2000, [&](double t, double v) { visited.push_back({t, v}); });
  ASSERT_EQ(visited.size(), points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(visited[i].t, points[i].t);
    EXPECT_EQ(visited[i].v, points[i].v);
    EXPECT_LE(points[i].t, t0 + 2000 + 5);
  }
}

TEST(WindowStats, PercentilesOfMeansAreThoseOfTheSortedMeans) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  for (size_t n : {1, 2, 19, 20, 21, 100, 1440, 10080}) {
    std::vector<double> means(n);
    for (double& m : means) m = std::round(u(rng) * 50) / 50;  // with ties
    std::vector<double> sorted = means;
    std::sort(sorted.begin(), sorted.end());
    WindowStats s;
    PercentilesOfMeans(&means, &s);
    auto rank = [&](double q) {
      return std::clamp<size_t>(static_cast<size_t>(std::ceil(q * n - 1e-9)), 1, n);
    };
    EXPECT_EQ(s.p95, sorted[rank(0.95) - 1]) << n;
    EXPECT_EQ(s.p99, sorted[rank(0.99) - 1]) << n;
  }
}

}  // namespace
}  // namespace accord::collector::capacity
