#include "collector/capacity/forecast/crossing.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "tests/collector/capacity/forecast/series_generator.h"

namespace accord::collector::capacity {
namespace {

using testing::kDay;
using testing::kEpoch;
using testing::kPi;

TEST(FindCrossingsTest, LinearCrossingIsExact) {
  // 0.5 at now, +0.01/day: 0.8 after 30 days, 1.0 after 50.
  const double now = kEpoch;
  HarmonicModel model(HarmonicShape{}, now, kDay, {0.5, 0.01});
  const auto c = FindCrossings(model, TrendUncertainty{}, now, {0.8, 1.0, 0.4});
  ASSERT_EQ(c.size(), 3u);
  ASSERT_TRUE(c[0].seconds);
  EXPECT_NEAR(*c[0].seconds, 30 * kDay, 1.0);
  EXPECT_NEAR(*c[1].seconds, 50 * kDay, 1.0);
  EXPECT_EQ(*c[2].seconds, 0.0);  // already above
  // No uncertainty: the range collapses onto the point.
  EXPECT_NEAR(c[0].low, 30 * kDay, 1.0);
  EXPECT_NEAR(c[0].high, 30 * kDay, 1.0);
}

TEST(FindCrossingsTest, RangeWidensWithSlopeUncertaintyAndNoise) {
  const double now = kEpoch;
  HarmonicModel model(HarmonicShape{}, now, kDay, {0.5, 0.01});
  TrendUncertainty u;
  u.var_b1 = 0.001 * 0.001;  // slope 0.01 ± 0.001 per day
  CrossingOptions options;
  options.z = 2.0;
  const auto c = FindCrossings(model, u, now, {1.0}, options);
  // Edges: 0.5/(0.01 ± 0.002) days.
  EXPECT_NEAR(c[0].low, 0.5 / 0.012 * kDay, 60);
  EXPECT_NEAR(c[0].high, 0.5 / 0.008 * kDay, 60);
  u.sigma = 0.02;  // noise of 0.02 brings the early edge forward
  const auto d = FindCrossings(model, u, now, {1.0}, options);
  EXPECT_LT(d[0].low, c[0].low);
  EXPECT_GT(d[0].high, c[0].high);
}

TEST(FindCrossingsTest, BeyondTheHorizonIsAbsentAndEdgesAreCapped) {
  const double now = kEpoch;
  HarmonicModel model(HarmonicShape{}, now, kDay, {0.5, 0.001});  // 500 days to 1.0
  CrossingOptions options;
  options.horizon_seconds = 100 * kDay;
  const auto c = FindCrossings(model, TrendUncertainty{}, now, {1.0}, options);
  EXPECT_FALSE(c[0].seconds);
  EXPECT_EQ(c[0].low, 100 * kDay);
  EXPECT_EQ(c[0].high, 100 * kDay);
}

TEST(FindCrossingsTest, DecreasingTrendNeverCrosses) {
  HarmonicModel model(HarmonicShape{}, kEpoch, kDay, {0.5, -0.01});
  const auto c = FindCrossings(model, TrendUncertainty{}, kEpoch, {0.9});
  EXPECT_FALSE(c[0].seconds);
}

TEST(FindCrossingsTest, SeasonalCrossingMatchesABruteForceScan) {
  // Trend 0.6 + 0.01/day, daily amplitude 0.1 (cos term), evaluated from a 05:00 start.
  const double now = kEpoch + 5 * 3600.0;
  HarmonicModel model(HarmonicShape{1, 0}, now, kDay, {0.6, 0.01, 0.1, 0.0});
  for (double level : {0.75, 0.78, 0.8}) {
    double truth = -1;
    for (double h = 0; h < 365 * kDay; h += 1.0) {
      if (model.Value(now + h) >= level) {
        truth = h;
        break;
      }
    }
    ASSERT_GE(truth, 0);
    const auto c = FindCrossings(model, TrendUncertainty{}, now, {level});
    ASSERT_TRUE(c[0].seconds) << level;
    EXPECT_NEAR(*c[0].seconds, truth, 60) << level;  // 5-minute grid, interpolated
    // The peak of cos(2πt/day) is at 00:00 UTC: the crossing is within 4 h of a midnight.
    const double tod = std::fmod(now + *c[0].seconds, kDay);
    EXPECT_TRUE(tod < 4 * 3600.0 || tod > 20 * 3600.0) << tod;
  }
}

TEST(SeasonalMaxTest, IsTheAmplitudeOfASingleHarmonic) {
  HarmonicModel model(HarmonicShape{1, 0}, kEpoch, kDay, {0.0, 0.0, 0.03, 0.04});
  EXPECT_NEAR(SeasonalMax(model, kEpoch), 0.05, 1e-4);
  HarmonicModel trend_only(HarmonicShape{}, kEpoch, kDay, {0.3, 0.1});
  EXPECT_EQ(SeasonalMax(trend_only, kEpoch), 0.0);
}

}  // namespace
}  // namespace accord::collector::capacity
