// Synthetic utilisation series with known answers, for the forecast tests and the backtest
// (bench/forecast_backtest.cc). A trace is a noise-free curve (the truth), plus excursions
// that are not part of the truth (log-rotation spikes), plus Gaussian noise on each bucket mean.
// Noise is a pure function of (seed, resolution, bucket index), so any window of any resolution
// can be generated on its own, deterministically, on every platform (SplitMix64 + Box-Muller,
// no std:: distributions).
//
// The true crossing time is found by brute force on the noise-free curve, independently of the
// forecasting code.
//
// Thread safety: values and pure functions; safe from any thread.
#ifndef ACCORD_TESTS_COLLECTOR_CAPACITY_FORECAST_SERIES_GENERATOR_H_
#define ACCORD_TESTS_COLLECTOR_CAPACITY_FORECAST_SERIES_GENERATOR_H_

#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "collector/capacity/forecast/forecast.h"

namespace accord::collector::capacity::testing {

inline constexpr double kDay = 86400.0;
inline constexpr double kHour = 3600.0;
inline constexpr double kPi = 3.14159265358979323846;
// A Monday 00:00:00 UTC (2024-01-01), so that time of day and day of week are easy to read.
inline constexpr double kEpoch = 1704067200.0;

struct Trace {
  // The noise-free utilisation at time t: what the forecast is judged against.
  std::function<double(double)> truth;
  // Added to the samples but not part of the truth (spikes); may be empty.
  std::function<double(double)> excursion;
  // Standard deviation of the noise of a 1-minute mean. 5-second means get √12 times as much
  // and 1-hour means are the mean of their minutes.
  double noise = 0.0;
  uint64_t seed = 1;
};

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A standard normal deviate determined by (seed, stream, index).
inline double Gaussian(uint64_t seed, uint64_t stream, int64_t index) {
  const uint64_t a = SplitMix64(seed * 0x100000001b3ULL ^ SplitMix64(stream) ^
                                SplitMix64(static_cast<uint64_t>(index)));
  const uint64_t b = SplitMix64(a);
  const double u1 = (static_cast<double>(a >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  const double u2 = (static_cast<double>(b >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

// The sample a resolution reports for the bucket [index·step, (index+1)·step), at its midpoint.
inline double MinuteValue(const Trace& trace, int64_t minute) {
  const double t = minute * 60.0 + 30.0;
  double v = trace.truth(t) + trace.noise * Gaussian(trace.seed, 60, minute);
  if (trace.excursion) v += trace.excursion(t);
  return v;
}

// Complete buckets of `step` seconds ending at or before `now`, covering the last `span` seconds.
inline std::vector<Point> Minutes(const Trace& trace, double now, double span) {
  std::vector<Point> out;
  const int64_t last = static_cast<int64_t>(std::floor(now / 60.0)) - 1;
  const int64_t first = static_cast<int64_t>(std::ceil((now - span) / 60.0));
  for (int64_t m = first; m <= last; ++m) out.push_back({m * 60.0 + 30.0, MinuteValue(trace, m)});
  return out;
}

inline std::vector<Point> Hours(const Trace& trace, double now, double span) {
  std::vector<Point> out;
  const int64_t last = static_cast<int64_t>(std::floor(now / 3600.0)) - 1;
  const int64_t first = static_cast<int64_t>(std::ceil((now - span) / 3600.0));
  for (int64_t h = first; h <= last; ++h) {
    double sum = 0.0;
    for (int k = 0; k < 60; ++k) sum += MinuteValue(trace, h * 60 + k);
    out.push_back({h * 3600.0 + 1800.0, sum / 60.0});
  }
  return out;
}

inline std::vector<Point> Recent(const Trace& trace, double now, double span) {
  std::vector<Point> out;
  const int64_t last = static_cast<int64_t>(std::floor(now / 5.0)) - 1;
  const int64_t first = static_cast<int64_t>(std::ceil((now - span) / 5.0));
  const double noise = trace.noise * std::sqrt(12.0);
  for (int64_t k = first; k <= last; ++k) {
    const double t = k * 5.0 + 2.5;
    double v = trace.truth(t) + noise * Gaussian(trace.seed, 5, k);
    if (trace.excursion) v += trace.excursion(t);
    out.push_back({t, v});
  }
  return out;
}

// The history a collector would hold at `now` (spans default to the collector's retention).
inline History MakeHistory(const Trace& trace, double now, double hours_span = 60 * kDay,
                           double minutes_span = 7 * kDay, double recent_span = 1800) {
  History h;
  if (hours_span > 0) h.hours = Hours(trace, now, hours_span);
  if (minutes_span > 0) h.minutes = Minutes(trace, now, minutes_span);
  if (recent_span > 0) h.recent = Recent(trace, now, recent_span);
  return h;
}

// Seconds after `now` at which truth first reaches `level` (scanned every `step` seconds,
// refined by bisection); nullopt if not within `horizon`.
inline std::optional<double> TrueCrossing(const std::function<double(double)>& truth, double now,
                                          double level, double horizon, double step = 30.0) {
  if (truth(now) >= level) return 0.0;
  for (double h = step; h <= horizon + step; h += step) {
    if (truth(now + h) >= level) {
      double lo = h - step;
      double hi = h;
      for (int i = 0; i < 50; ++i) {
        const double mid = 0.5 * (lo + hi);
        (truth(now + mid) >= level ? hi : lo) = mid;
      }
      return hi <= horizon ? std::optional<double>(hi) : std::nullopt;
    }
  }
  return std::nullopt;
}

// Building blocks for truth curves (t in unix seconds).
inline double Days(double t) { return (t - kEpoch) / kDay; }
// cos peaking at `peak_hour` UTC each day.
inline double DailyWave(double t, double peak_hour) {
  return std::cos(2.0 * kPi * (std::fmod(t, kDay) - peak_hour * kHour) / kDay);
}

}  // namespace accord::collector::capacity::testing

#endif  // ACCORD_TESTS_COLLECTOR_CAPACITY_FORECAST_SERIES_GENERATOR_H_
