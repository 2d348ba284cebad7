#include "collector/capacity/forecast/changepoint.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "tests/collector/capacity/forecast/series_generator.h"

namespace accord::collector::capacity {
namespace {

using testing::Gaussian;

// n points at u = i/n with white noise σ = 1 (seed-dependent) plus `shape(i)`.
template <typename F>
void Make(int n, uint64_t seed, F shape, std::vector<double>* u, std::vector<double>* r) {
  for (int i = 0; i < n; ++i) {
    u->push_back(static_cast<double>(i) / n);
    r->push_back(Gaussian(seed, 3, i) + shape(i));
  }
}

TEST(FindChangePointTest, FindsALevelStep) {
  std::vector<double> u, r;
  Make(
      500, 1, [](int i) { return i >= 380 ? 6.0 : 0.0; }, &u, &r);
  auto cp = FindChangePoint(u, r, 1.0);
  ASSERT_TRUE(cp);
  EXPECT_NEAR(static_cast<double>(cp->index), 380, 3);
  EXPECT_GT(cp->f, 20);
}

TEST(FindChangePointTest, FindsASlopeChange) {
  std::vector<double> u, r;
  // Residual of a straight fit through a hinge: flat, then rising from i = 300.
  Make(
      500, 2, [](int i) { return i >= 300 ? 0.1 * (i - 300) : 0.0; }, &u, &r);
  auto cp = FindChangePoint(u, r, 1.0);
  ASSERT_TRUE(cp);
  EXPECT_NEAR(static_cast<double>(cp->index), 300, 25);
}

TEST(FindChangePointTest, WhiteNoiseHasNoChange) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::vector<double> u, r;
    Make(
        1000, seed, [](int) { return 0.0; }, &u, &r);
    EXPECT_FALSE(FindChangePoint(u, r, 1.0)) << "seed " << seed;
  }
}

TEST(FindChangePointTest, ShortSpikeAtTheEndIsNotAStep) {
  std::vector<double> u, r;
  Make(
      600, 3, [](int i) { return i >= 594 ? 50.0 : 0.0; }, &u, &r);  // 6 points, huge
  EXPECT_FALSE(FindChangePoint(u, r, 1.0));
}

TEST(FindChangePointTest, RecurringSpikesAreNotSteps) {
  std::vector<double> u, r;
  Make(
      2000, 4, [](int i) { return i % 144 < 3 ? 40.0 : 0.0; }, &u, &r);
  EXPECT_FALSE(FindChangePoint(u, r, 1.0));
}

TEST(FindChangePointTest, UnmodelledCycleIsNotAStep) {
  // A wave of 3σ amplitude, 8 cycles in the window (a sub-daily cycle the harmonics miss):
  // strongly autocorrelated residuals, not a change.
  std::vector<double> u, r;
  Make(
      1440, 5, [](int i) { return 3.0 * std::sin(2 * testing::kPi * i / 180.0); }, &u, &r);
  EXPECT_FALSE(FindChangePoint(u, r, 1.0));
}

TEST(FindChangePointTest, RespectsTheMinimumSegment) {
  std::vector<double> u, r;
  Make(
      200, 6, [](int i) { return i >= 170 ? 8.0 : 0.0; }, &u, &r);  // 30 points after
  ChangePointOptions options;
  options.min_segment = 60;  // the best split may not leave fewer than 60 points on a side
  auto forced = FindChangePoint(u, r, 1.0, options);
  if (forced) {
    EXPECT_LE(forced->index, 140u);
    EXPECT_GE(forced->index, 60u);
  }
  options.min_segment = 12;
  auto cp = FindChangePoint(u, r, 1.0, options);
  ASSERT_TRUE(cp);
  EXPECT_NEAR(static_cast<double>(cp->index), 170, 1);
}

TEST(FindChangePointTest, NoiselessSeriesIsNotSplitOnRoundingError) {
  std::vector<double> u, r;
  for (int i = 0; i < 300; ++i) {
    u.push_back(i);
    r.push_back(1e-12 * std::sin(i * 1.3));
  }
  EXPECT_FALSE(FindChangePoint(u, r, 1e-4));
}

}  // namespace
}  // namespace accord::collector::capacity
