#include "collector/capacity/forecast/forecast.h"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/collector/capacity/forecast/series_generator.h"

namespace accord::collector::capacity {
namespace {

using testing::Days;
using testing::kDay;
using testing::kEpoch;
using testing::kHour;
using testing::MakeHistory;
using testing::Trace;
using testing::TrueCrossing;

const std::vector<double> kLevels = {0.8, 0.9, 1.0};

// The forecast for `level` (which must be one of the requested levels).
const LevelForecast& Level(const Forecast& f, double level) {
  for (const LevelForecast& l : f.levels) {
    if (l.level == level) return l;
  }
  ADD_FAILURE() << "level " << level << " missing";
  static const LevelForecast kNone{};
  return kNone;
}

std::string Describe(const Forecast& f) {
  std::string s = std::string(ForecastStatusName(f.status)) + " " + f.method + ": " + f.reason;
  for (const LevelForecast& l : f.levels) {
    s += "\n  level " + std::to_string(l.level) + ": " +
         (l.seconds ? std::to_string(*l.seconds) : std::string("none")) + " [" +
         std::to_string(l.low) + ", " + std::to_string(l.high) + "]";
  }
  return s;
}

// |predicted − truth| ≤ tolerance·truth, with both present.
void ExpectWithin(const Forecast& f, double level, std::optional<double> truth, double tolerance) {
  ASSERT_TRUE(truth.has_value()) << "bad test: the truth never reaches " << level;
  ASSERT_EQ(f.status, ForecastStatus::kOk) << Describe(f);
  const LevelForecast& l = Level(f, level);
  ASSERT_TRUE(l.seconds.has_value()) << Describe(f);
  EXPECT_NEAR(*l.seconds, *truth, tolerance * *truth)
      << "truth " << *truth / kDay << " days, forecast " << *l.seconds / kDay << " days\n"
      << Describe(f);
  EXPECT_LE(l.low, *l.seconds);
  EXPECT_GE(l.high, *l.seconds);
}

TEST(ForecastStatusTest, NamesAreTheWireStrings) {
  EXPECT_STREQ(ForecastStatusName(ForecastStatus::kOk), "ok");
  EXPECT_STREQ(ForecastStatusName(ForecastStatus::kInsufficientData), "insufficient_data");
  EXPECT_STREQ(ForecastStatusName(ForecastStatus::kFlat), "flat");
  EXPECT_STREQ(ForecastStatusName(ForecastStatus::kNoisy), "noisy");
}

TEST(ForecastTest, LinearGrowthTimeToFullWithinFivePercent) {
  Trace trace;
  trace.truth = [](double t) { return 0.30 + 0.008 * Days(t); };
  trace.noise = 0.01;
  const double now = kEpoch + 60 * kDay + 7 * kHour;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now), now, kLevels);
  // Truth: (1 − 0.30)/0.008 − 60.29 days ≈ 27.2 days.
  ExpectWithin(f, 1.0, TrueCrossing(trace.truth, now, 1.0, 365 * kDay), 0.05);
  ExpectWithin(f, 0.9, TrueCrossing(trace.truth, now, 0.9, 365 * kDay), 0.05);
  EXPECT_NEAR(f.slope_per_day, 0.008, 0.0008);
  EXPECT_NE(f.method.find("1h"), std::string::npos) << f.method;
}

TEST(ForecastTest, LinearGrowthFromMinutesOnly) {
  Trace trace;
  trace.truth = [](double t) { return 0.20 + 0.05 * Days(t); };  // full in 16 days from 0
  trace.noise = 0.01;
  const double now = kEpoch + 5 * kDay + 3 * kHour;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now, 0, 5 * kDay, 0), now, kLevels);
  ExpectWithin(f, 1.0, TrueCrossing(trace.truth, now, 1.0, 365 * kDay), 0.05);
  EXPECT_NE(f.method.find("1m"), std::string::npos) << f.method;
}

// The end-to-end shape: a tmpfs filled at a constant rate, 2 minutes of 5-second means.
TEST(ForecastTest, FastFillFromTwoMinutesOfFiveSecondMeans) {
  const double start = kEpoch + 1000;
  Trace trace;
  trace.truth = [start](double t) { return 0.05 + std::max(0.0, t - start) / 600.0; };
  trace.noise = 0.0003;
  const double now = start + 120;
  History h;
  h.recent = testing::Recent(trace, now, 120);
  ASSERT_GE(h.recent.size(), 20u);
  const Forecast f = ForecastExhaustion(h, now, kLevels);
  // Truth: 0.05 + 120/600 = 0.25 now; full after another 450 s.
  ExpectWithin(f, 1.0, TrueCrossing(trace.truth, now, 1.0, kDay, 0.5), 0.10);
  EXPECT_NEAR(*Level(f, 1.0).seconds, 450, 10) << Describe(f);
  EXPECT_EQ(f.method, "huber_linear_5s");
}

// The same fill observed after 5 minutes of an idle tmpfs: the fit must start at the fill.
TEST(ForecastTest, FastFillAfterAnIdleLeadInIsRefittedFromTheFillStart) {
  const double start = kEpoch + 1000;
  Trace trace;
  trace.truth = [start](double t) { return 0.02 + std::max(0.0, t - start) / 600.0; };
  trace.noise = 0.0003;
  const double now = start + 120;
  History h;
  h.recent = testing::Recent(trace, now, 420);
  const Forecast f = ForecastExhaustion(h, now, kLevels);
  // Truth: 0.22 now, full after another 468 s.
  ExpectWithin(f, 1.0, TrueCrossing(trace.truth, now, 1.0, kDay, 0.5), 0.10);
  EXPECT_NEAR(f.fitted_from, start, 10) << Describe(f);
}

TEST(ForecastTest, ExactlyConstantSeriesIsFlat) {
  Trace trace;
  trace.truth = [](double) { return 0.5; };
  const double now = kEpoch + 20 * kDay;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now, 20 * kDay), now, kLevels);
  EXPECT_EQ(f.status, ForecastStatus::kFlat) << Describe(f);
  EXPECT_NEAR(f.slope_per_day, 0.0, 1e-12);
}

TEST(ForecastTest, DiskSittingAtFullIsZeroSecondsForEveryLevel) {
  Trace trace;
  trace.truth = [](double) { return 1.0; };
  const double now = kEpoch + 20 * kDay;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now, 20 * kDay), now, kLevels);
  ASSERT_EQ(f.status, ForecastStatus::kOk) << Describe(f);
  for (const LevelForecast& l : f.levels) {
    ASSERT_TRUE(l.seconds) << Describe(f);
    EXPECT_EQ(*l.seconds, 0.0);
  }
}

TEST(ForecastTest, DailySeasonalityWithGrowthCrossesAtTheDailyPeak) {
  // Peaks at 14:00 UTC rise by 0.01 a day: 0.6 + 0.01·(d + 14/24). Level 0.901 is first reached
  // on day 30 (peak 0.906), not on day 29 (peak 0.896), a little before 14:00.
  Trace trace;
  trace.truth = [](double t) { return 0.5 + 0.01 * Days(t) + 0.1 * testing::DailyWave(t, 14.0); };
  trace.noise = 0.01;
  const double level = 0.901;
  const double now = kEpoch + 24 * kDay + 5 * kHour;
  const std::optional<double> truth = TrueCrossing(trace.truth, now, level, 365 * kDay);
  ASSERT_TRUE(truth);
  // The generator's own facts, checked so that the test cannot pass by accident: the crossing is
  // on day 30 within 2 hours before its 14:00 peak, the previous peak stays clear of the level.
  const double crossing = now + *truth;
  EXPECT_EQ(static_cast<int>(Days(crossing)), 30);
  const double hour_of_day = std::fmod(crossing, kDay) / kHour;
  EXPECT_GT(hour_of_day, 12.0);
  EXPECT_LT(hour_of_day, 14.0);
  EXPECT_LT(trace.truth(kEpoch + 29 * kDay + 14 * kHour), level - 0.004);
  // A trend-only reading (mean 0.5 + 0.01·d) would put the crossing ~10 days later.
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now, 24 * kDay), now, {0.8, level, 1.0});
  ASSERT_EQ(f.status, ForecastStatus::kOk) << Describe(f);
  EXPECT_NE(f.method.find("daily"), std::string::npos) << f.method;
  const LevelForecast& l = Level(f, level);
  ASSERT_TRUE(l.seconds) << Describe(f);
  EXPECT_NEAR(*l.seconds, *truth, 1.0 * kHour) << Describe(f);
}

TEST(ForecastTest, WeeklyAndDailySeasonalityFromHours) {
  // Weekdays busier than weekends, plus the daily cycle, plus growth; 8 weeks of hours.
  Trace trace;
  trace.truth = [](double t) {
    const double dow = std::fmod(Days(t), 7.0);  // 0 = Monday
    const double week = 0.05 * std::cos(2 * testing::kPi * (dow - 2.5) / 7.0);
    return 0.35 + 0.004 * Days(t) + week + 0.06 * testing::DailyWave(t, 15.0);
  };
  trace.noise = 0.01;
  const double now = kEpoch + 56 * kDay + 9 * kHour;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now, 56 * kDay), now, kLevels);
  EXPECT_NE(f.method.find("weekly"), std::string::npos) << f.method;
  const std::optional<double> truth = TrueCrossing(trace.truth, now, 0.8, 365 * kDay);
  ASSERT_EQ(f.status, ForecastStatus::kOk) << Describe(f);
  ASSERT_TRUE(Level(f, 0.8).seconds);
  // Crossing at a peak: within half a day of the truth (0.004/day slope: a 12 % error).
  EXPECT_NEAR(*Level(f, 0.8).seconds, *truth, 0.5 * kDay) << Describe(f);
}

TEST(ForecastTest, FlatSeriesHasNoForecast) {
  Trace trace;
  trace.truth = [](double) { return 0.40; };
  trace.noise = 0.01;
  const double now = kEpoch + 60 * kDay + 13 * kHour;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now), now, kLevels);
  EXPECT_EQ(f.status, ForecastStatus::kFlat) << Describe(f);
  EXPECT_TRUE(f.levels.empty());
  EXPECT_FALSE(f.reason.empty());
}

TEST(ForecastTest, FlatRecentOnlySeriesIsFlat) {
  Trace trace;
  trace.truth = [](double) { return 0.30; };
  trace.noise = 0.002;
  const double now = kEpoch + 1800;
  History h;
  h.recent = testing::Recent(trace, now, 1800);
  const Forecast f = ForecastExhaustion(h, now, kLevels);
  EXPECT_EQ(f.status, ForecastStatus::kFlat) << Describe(f);
}

// Log rotation: every night at 03:00 the copy of a big log adds 0.35 for 15 minutes.
Trace LogRotationTrace() {
  Trace trace;
  trace.truth = [](double) { return 0.55; };
  trace.excursion = [](double t) {
    const double tod = std::fmod(t, kDay);
    return tod >= 3 * kHour && tod < 3 * kHour + 900 ? 0.35 : 0.0;
  };
  trace.noise = 0.005;
  return trace;
}

TEST(ForecastTest, LogRotationSpikesRaiseNoExhaustion) {
  const Trace trace = LogRotationTrace();
  // Evaluated far from a spike, right after one and in the middle of one.
  for (double offset : {15 * kHour, 3 * kHour + 900 + 60, 3 * kHour + 600, 3 * kHour + 120}) {
    const double now = kEpoch + 40 * kDay + offset;
    const Forecast f = ForecastExhaustion(MakeHistory(trace, now, 40 * kDay), now, kLevels);
    EXPECT_EQ(f.status, ForecastStatus::kFlat) << "at +" << offset << " s: " << Describe(f);
    for (const LevelForecast& l : f.levels) EXPECT_FALSE(l.seconds) << Describe(f);
    EXPECT_NEAR(f.current, 0.55, 0.02) << Describe(f);
  }
}

TEST(ForecastTest, LogRotationSpikesOnGrowthKeepTheGrowthForecast) {
  Trace trace = LogRotationTrace();
  trace.truth = [](double t) { return 0.40 + 0.005 * Days(t); };
  const double now = kEpoch + 40 * kDay + 3 * kHour + 900 + 300;  // just after a spike
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now, 40 * kDay), now, kLevels);
  ExpectWithin(f, 1.0, TrueCrossing(trace.truth, now, 1.0, 365 * kDay), 0.05);
}

TEST(ForecastTest, StepUpIsRefitted) {
  // 0.20 + 0.002/day until day 70, then a dataset is copied in: 0.55 + 0.006/day after.
  const double step = kEpoch + 70 * kDay;
  Trace trace;
  trace.truth = [step](double t) {
    return t < step ? 0.20 + 0.002 * Days(t) : 0.55 + 0.006 * (t - step) / kDay;
  };
  trace.noise = 0.01;
  const double now = kEpoch + 90 * kDay + 4 * kHour;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now, 90 * kDay), now, kLevels);
  // Truth: (1 − 0.55 − 0.006·20.17)/0.006 ≈ 54.8 days; the slope before the step (or a fit
  // across it) would say something else entirely.
  ExpectWithin(f, 1.0, TrueCrossing(trace.truth, now, 1.0, 365 * kDay), 0.10);
  EXPECT_NEAR(f.fitted_from, step, 1 * kDay) << Describe(f);
  EXPECT_NEAR(f.slope_per_day, 0.006, 0.0012) << Describe(f);
}

TEST(ForecastTest, CleanupStepDownIsRefitted) {
  // Growth at 0.01/day; 10 days ago a cleanup freed 0.4.
  const double step = kEpoch + 50 * kDay;
  Trace trace;
  trace.truth = [step](double t) { return 0.35 + 0.01 * Days(t) - (t >= step ? 0.40 : 0.0); };
  trace.noise = 0.01;
  const double now = kEpoch + 60 * kDay + 20 * kHour;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now), now, kLevels);
  ExpectWithin(f, 1.0, TrueCrossing(trace.truth, now, 1.0, 365 * kDay), 0.10);
  EXPECT_NEAR(f.fitted_from, step, 1 * kDay) << Describe(f);
}

TEST(ForecastTest, RecentStepChangeInMinutesIsRefitted) {
  // Minutes only: flat at 0.3 for days, then 6 hours ago a job started writing 0.002/min.
  const double start = kEpoch + 6 * kDay;
  Trace trace;
  trace.truth = [start](double t) { return 0.30 + std::max(0.0, t - start) / 60.0 * 0.0005; };
  trace.noise = 0.005;
  const double now = start + 6 * kHour;
  const Forecast f =
      ForecastExhaustion(MakeHistory(trace, now, 0, 6 * kDay + 6 * kHour, 0), now, kLevels);
  ExpectWithin(f, 1.0, TrueCrossing(trace.truth, now, 1.0, 365 * kDay), 0.10);
}

TEST(ForecastTest, RunawayWriteSeenOnlyInRecentDataIsForecast) {
  // Flat for weeks; 20 minutes ago something started filling the disk at 0.5 %/min.
  const double start = kEpoch + 30 * kDay + 10 * kHour;
  Trace trace;
  trace.truth = [start](double t) { return 0.30 + std::max(0.0, t - start) / 60.0 * 0.005; };
  trace.noise = 0.003;
  const double now = start + 20 * 60;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now, 30 * kDay), now, kLevels);
  // Truth: 0.40 now, full in 120 minutes.
  ExpectWithin(f, 1.0, TrueCrossing(trace.truth, now, 1.0, 365 * kDay, 1.0), 0.10);
  EXPECT_EQ(f.method.find("1h"), std::string::npos) << Describe(f);
}

TEST(ForecastTest, TooLittleDataIsInsufficient) {
  Trace trace;
  trace.truth = [](double t) { return 0.2 + 0.001 * (t - kEpoch); };
  const double now = kEpoch + 30;
  History h;
  h.recent = testing::Recent(trace, now, 30);  // 6 points
  ASSERT_LT(h.recent.size(), 12u);
  const Forecast f = ForecastExhaustion(h, now, kLevels);
  EXPECT_EQ(f.status, ForecastStatus::kInsufficientData) << Describe(f);
  EXPECT_TRUE(f.levels.empty());
  EXPECT_EQ(f.method, "none");
  EXPECT_NE(f.reason.find("5s"), std::string::npos) << f.reason;

  EXPECT_EQ(ForecastExhaustion(History{}, now, kLevels).status, ForecastStatus::kInsufficientData);
}

TEST(ForecastTest, StaleHistoryIsInsufficient) {
  Trace trace;
  trace.truth = [](double t) { return 0.2 + 0.01 * Days(t); };
  const double last = kEpoch + 10 * kDay;
  History h = MakeHistory(trace, last, 10 * kDay);
  const Forecast f = ForecastExhaustion(h, last + 2 * kDay, kLevels);
  EXPECT_EQ(f.status, ForecastStatus::kInsufficientData) << Describe(f);
}

TEST(ForecastTest, NoisySeriesIsNoisy) {
  Trace trace;
  trace.truth = [](double t) { return 0.45 + 0.002 * Days(t); };
  trace.noise = 0.25;  // hourly means still vary by ±0.03; minutes and seconds far more
  const double now = kEpoch + 20 * kDay + 11 * kHour;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now, 0), now, kLevels);
  EXPECT_EQ(f.status, ForecastStatus::kNoisy) << Describe(f);
  EXPECT_TRUE(f.levels.empty());
}

TEST(ForecastTest, ShortNoisyHistoryNearALevelIsNoisyNotFlat) {
  // 30 minutes at 0.85 ± 0.03: no trend can be seen, but one is not excluded either.
  Trace trace;
  trace.truth = [](double) { return 0.85; };
  trace.noise = 0.03 / std::sqrt(12.0);
  const double now = kEpoch + 1800;
  History h;
  h.recent = testing::Recent(trace, now, 1800);
  const Forecast f = ForecastExhaustion(h, now, {0.9, 1.0});
  EXPECT_EQ(f.status, ForecastStatus::kNoisy) << Describe(f);
}

TEST(ForecastTest, DecreasingSeriesNeverCrosses) {
  Trace trace;
  trace.truth = [](double t) { return 0.75 - 0.004 * Days(t); };
  trace.noise = 0.01;
  const double now = kEpoch + 60 * kDay + 2 * kHour;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now), now, kLevels);
  ASSERT_EQ(f.status, ForecastStatus::kOk) << Describe(f);
  ASSERT_EQ(f.levels.size(), 3u);
  for (const LevelForecast& l : f.levels) EXPECT_FALSE(l.seconds) << Describe(f);
  EXPECT_LT(f.slope_per_day, 0);
}

TEST(ForecastTest, AlreadyAboveALevelIsZeroSeconds) {
  Trace trace;
  trace.truth = [](double t) { return 0.25 + 0.01 * Days(t); };  // 0.85 at day 60
  trace.noise = 0.005;
  const double now = kEpoch + 60 * kDay;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now), now, kLevels);
  ASSERT_EQ(f.status, ForecastStatus::kOk) << Describe(f);
  ASSERT_TRUE(Level(f, 0.8).seconds);
  EXPECT_EQ(*Level(f, 0.8).seconds, 0.0);
  EXPECT_EQ(Level(f, 0.8).low, 0.0);
  ExpectWithin(f, 0.9, TrueCrossing(trace.truth, now, 0.9, 365 * kDay), 0.05);
}

TEST(ForecastTest, LevelsKeepTheRequestedOrderAndRangesBracketThePoint) {
  Trace trace;
  trace.truth = [](double t) { return 0.30 + 0.01 * Days(t); };
  trace.noise = 0.03;
  const double now = kEpoch + 30 * kDay + 6 * kHour;
  const Forecast f = ForecastExhaustion(MakeHistory(trace, now), now, {1.0, 0.8, 0.9});
  ASSERT_EQ(f.status, ForecastStatus::kOk) << Describe(f);
  ASSERT_EQ(f.levels.size(), 3u);
  EXPECT_EQ(f.levels[0].level, 1.0);
  EXPECT_EQ(f.levels[1].level, 0.8);
  EXPECT_EQ(f.levels[2].level, 0.9);
  EXPECT_LT(*f.levels[1].seconds, *f.levels[2].seconds);
  EXPECT_LT(*f.levels[2].seconds, *f.levels[0].seconds);
  for (const LevelForecast& l : f.levels) {
    ASSERT_TRUE(l.seconds);
    EXPECT_LT(l.low, *l.seconds);
    EXPECT_GT(l.high, *l.seconds);
    // 90 % range: noise of 0.03 on a 0.01/day trend is a few days either way, not months.
    EXPECT_LT(l.high - l.low, 0.5 * *l.seconds) << Describe(f);
  }
}

TEST(ForecastTest, CrossingBeyondTheExtrapolationLimitIsAbsent) {
  // Two minutes of data rising slowly: full in ~10 hours, but 2 minutes cannot speak for that.
  Trace trace;
  trace.truth = [](double t) { return 0.10 + (t - kEpoch) / 40000.0; };
  trace.noise = 0.0001;
  const double now = kEpoch + 120;
  History h;
  h.recent = testing::Recent(trace, now, 120);
  const Forecast f = ForecastExhaustion(h, now, {1.0});
  ASSERT_EQ(f.status, ForecastStatus::kOk) << Describe(f);
  EXPECT_NEAR(f.horizon_seconds, 50 * (now - f.fitted_from), 1.0);
  EXPECT_FALSE(f.levels[0].seconds) << Describe(f);
  EXPECT_EQ(f.levels[0].high, f.horizon_seconds);
}

TEST(ForecastTest, IgnoresNonFiniteAndFuturePoints) {
  Trace trace;
  trace.truth = [](double t) { return 0.30 + 0.02 * Days(t); };
  trace.noise = 0.005;
  const double now = kEpoch + 20 * kDay + 30;
  History h = MakeHistory(trace, now, 20 * kDay, 7 * kDay, 0);
  const Forecast clean = ForecastExhaustion(h, now, {1.0});
  h.minutes.insert(h.minutes.begin() + 100, Point{h.minutes[100].t + 1, std::nan("")});
  h.minutes.push_back(Point{now + 600, 5.0});
  const Forecast dirty = ForecastExhaustion(h, now, {1.0});
  ASSERT_EQ(dirty.status, ForecastStatus::kOk) << Describe(dirty);
  EXPECT_DOUBLE_EQ(*dirty.levels[0].seconds, *clean.levels[0].seconds);
}

}  // namespace
}  // namespace accord::collector::capacity
