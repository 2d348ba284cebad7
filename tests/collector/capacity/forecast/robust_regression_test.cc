#include "collector/capacity/forecast/robust_regression.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "tests/collector/capacity/forecast/series_generator.h"

namespace accord::collector::capacity {
namespace {

using testing::Gaussian;
using testing::kDay;
using testing::kEpoch;
using testing::kPi;

TEST(SolveSpdTest, SolvesAKnownSystem) {
  // A = [[4,2,0],[2,5,1],[0,1,3]], x = (1, −2, 3) → b = (0, −5, 7).
  const double a[9] = {4, 2, 0, 2, 5, 1, 0, 1, 3};
  const double b[3] = {0, -5, 7};
  double x[3];
  ASSERT_TRUE(SolveSpd(3, a, b, x));
  EXPECT_NEAR(x[0], 1, 1e-12);
  EXPECT_NEAR(x[1], -2, 1e-12);
  EXPECT_NEAR(x[2], 3, 1e-12);
}

TEST(SolveSpdTest, RejectsASingularMatrix) {
  const double a[4] = {1, 1, 1, 1};
  const double b[2] = {1, 1};
  double x[2];
  EXPECT_FALSE(SolveSpd(2, a, b, x));
}

TEST(AutocorrelationInflationTest, IsOneForWhiteNoiseAndGrowsWithRho) {
  EXPECT_DOUBLE_EQ(AutocorrelationInflation(0.0), 1.0);
  EXPECT_DOUBLE_EQ(AutocorrelationInflation(-0.5), 1.0);
  EXPECT_DOUBLE_EQ(AutocorrelationInflation(0.5), 3.0);
  EXPECT_DOUBLE_EQ(AutocorrelationInflation(1.0), AutocorrelationInflation(0.98));
}

TEST(HarmonicBasisTest, MatchesDirectTrigonometry) {
  HarmonicShape shape{3, 2};
  std::vector<double> row(shape.num_coefficients());
  const double t = kEpoch + 12345.6;
  HarmonicBasis(shape, kEpoch, 1000.0, t, row.data());
  EXPECT_DOUBLE_EQ(row[0], 1.0);
  EXPECT_NEAR(row[1], 12.3456, 1e-9);
  for (int k = 1; k <= 3; ++k) {
    EXPECT_NEAR(row[2 * k], std::cos(2 * kPi * k * t / kDay), 1e-9);
    EXPECT_NEAR(row[2 * k + 1], std::sin(2 * kPi * k * t / kDay), 1e-9);
  }
  for (int k = 1; k <= 2; ++k) {
    EXPECT_NEAR(row[6 + 2 * k], std::cos(2 * kPi * k * t / (7 * kDay)), 1e-9);
    EXPECT_NEAR(row[6 + 2 * k + 1], std::sin(2 * kPi * k * t / (7 * kDay)), 1e-9);
  }
}

// 10 days of hourly points: 0.4 + 0.01/day + 0.1·cos(daily, peak at 14:00) + noise 0.005.
struct Series {
  std::vector<double> t, y;
};
Series DailySeries(double outlier_fraction) {
  Series s;
  for (int i = 0; i < 240; ++i) {
    const double t = kEpoch + i * 3600.0 + 1800;
    double v = 0.4 + 0.01 * (t - kEpoch) / kDay +
               0.1 * std::cos(2 * kPi * (std::fmod(t, kDay) - 14 * 3600.0) / kDay) +
               0.005 * Gaussian(7, 1, i);
    // Gross outliers: +0.4 on a deterministic subset of points.
    if (std::fmod(i * 0.6180339887, 1.0) < outlier_fraction) v += 0.4;
    s.t.push_back(t);
    s.y.push_back(v);
  }
  return s;
}

TEST(FitHuberTest, RecoversTrendAndDailyCycle) {
  const Series s = DailySeries(0.0);
  const double now = kEpoch + 10 * kDay;
  auto fit = FitHuber(s.t, s.y, {}, HarmonicShape{2, 0}, now, 10 * kDay);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_NEAR(fit->model.slope_per_second() * kDay, 0.01, 0.001);
  EXPECT_NEAR(fit->model.Trend(now), 0.5, 0.005);
  // The daily amplitude 0.1 at 14:00: value at 14:00 minus trend.
  const double t14 = kEpoch + 9 * kDay + 14 * 3600.0;
  EXPECT_NEAR(fit->model.Seasonal(t14), 0.1, 0.005);
  EXPECT_NEAR(fit->sigma, 0.005, 0.0015);
  EXPECT_GT(fit->var_b1, 0);
  EXPECT_EQ(fit->residuals.size(), s.t.size());
}

TEST(FitHuberTest, GrossOutliersBarelyMoveTheFit) {
  const Series s = DailySeries(0.08);  // 8 % of the points are 0.4 too high
  const double now = kEpoch + 10 * kDay;
  auto fit = FitHuber(s.t, s.y, {}, HarmonicShape{2, 0}, now, 10 * kDay);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_NEAR(fit->model.slope_per_second() * kDay, 0.01, 0.0015);
  // A least-squares fit would be lifted by 0.08 · 0.4 = 0.032.
  EXPECT_NEAR(fit->model.Trend(now), 0.5, 0.006);
}

TEST(FitHuberTest, OffsetIsSubtractedBeforeFitting) {
  std::vector<double> t, y, offset;
  for (int i = 0; i < 50; ++i) {
    t.push_back(i * 10.0);
    offset.push_back(std::sin(i * 0.7));
    y.push_back(1.0 + 0.002 * i * 10.0 + offset.back());
  }
  auto fit = FitHuber(t, y, offset, HarmonicShape{}, 500.0, 500.0);
  ASSERT_TRUE(fit.ok()) << fit.status();
  EXPECT_NEAR(fit->model.slope_per_second(), 0.002, 1e-9);
  EXPECT_NEAR(fit->model.Trend(500.0), 2.0, 1e-9);
}

TEST(FitHuberTest, RejectsTooFewPointsAndNoSpread) {
  std::vector<double> t = {1, 2, 3};
  std::vector<double> y = {1, 2, 3};
  EXPECT_EQ(FitHuber(t, y, {}, HarmonicShape{}, 3, 3).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<double> same_t(20, 5.0);
  std::vector<double> y20(20, 0.5);
  EXPECT_EQ(FitHuber(same_t, y20, {}, HarmonicShape{}, 5, 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::vector<double> short_y(2, 0.0);
  EXPECT_EQ(FitHuber(same_t, short_y, {}, HarmonicShape{}, 5, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FitHuberTest, NoiselessDataUsesTheNoiseFloor) {
  std::vector<double> t, y;
  for (int i = 0; i < 30; ++i) {
    t.push_back(i * 5.0);
    y.push_back(0.1 + i * 0.001);
  }
  HuberOptions options;
  options.noise_floor = 1e-4;
  auto fit = FitHuber(t, y, {}, HarmonicShape{}, 150.0, 150.0, options);
  ASSERT_TRUE(fit.ok());
  EXPECT_DOUBLE_EQ(fit->sigma, 1e-4);
  EXPECT_NEAR(fit->model.slope_per_second(), 0.0002, 1e-12);
}

}  // namespace
}  // namespace accord::collector::capacity
