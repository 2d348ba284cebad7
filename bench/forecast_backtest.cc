// Backtest of the capacity forecast (collector/capacity/forecast) against Prometheus's
// predict_linear, then the per-call cost of ForecastExhaustion (Google Benchmark).
//
// Every trace is a noise-free curve (the truth) plus Gaussian noise and, for some, excursions
// that are not part of the truth (log-rotation spikes); tests/.../series_generator.h makes the
// history a collector would hold (5-second, 1-minute and 1-hour means) at each evaluation time.
// Each trace is evaluated at 16 times (spread over the time of day), each time with its own
// noise realisation. The truth is the first time the noise-free curve reaches the level, found
// by brute force.
//
// predict_linear(v[w], ·) is ordinary least squares over the samples of the look-back window w
// ending at the evaluation time, extrapolated from the evaluation time (Prometheus computes the
// intercept at that time). It is given the 1-minute means (Prometheus would see raw scrapes; the
// means only make it less noisy), or the 5-second means when no minute data exist. Its time to
// the level is (level − value_now)/slope when the slope is positive, 0 when already at the level.
//
// A false alarm is a predicted crossing within 7 days (what an alert such as
// `predict_linear(x[1d], 7*86400) > level` would fire on) for a trace whose truth never reaches
// the level within a year. Deterministic: fixed seeds, no clock.
//
// Run: ninja -C build forecast_backtest && build/bench/forecast_backtest
//      (add --benchmark_filter=none to print only the table).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "benchmark/benchmark.h"
#include "collector/capacity/forecast/forecast.h"
#include "tests/collector/capacity/forecast/series_generator.h"

namespace accord::collector::capacity {
namespace {

using testing::Days;
using testing::kDay;
using testing::kEpoch;
using testing::kHour;
using testing::Trace;

constexpr double kHorizon = 365 * kDay;
constexpr double kAlertWindow = 7 * kDay;
constexpr int kEvaluations = 16;

struct BacktestTrace {
  std::string name;
  std::string description;
  Trace trace;
  double level;
  double first_eval;  // unix time of the first evaluation
  double stride;      // between evaluations
  // Spans of history handed to the forecast.
  double hours_span = 90 * kDay;
  double minutes_span = 7 * kDay;
  double recent_span = 1800;
};

// Business hours: a smooth bump peaking at 14:00 (two harmonics, flat-ish nights).
double BusinessHours(double t) {
  const double a = testing::DailyWave(t, 14.0);
  return 0.5 * (a + 0.5 * (2 * a * a - 1));  // cos θ + ½ cos 2θ, scaled to ≈ [-0.4, 0.75]
}

double Weekday(double t) {
  const double dow = std::fmod(Days(t), 7.0);  // 0 = Monday
  return dow < 5 ? 1.0 : 0.0;
}

double RotationSpike(double t) {
  const double tod = std::fmod(t, kDay);
  return tod >= 3 * kHour && tod < 3 * kHour + 900 ? 0.35 : 0.0;
}

std::vector<BacktestTrace> Traces() {
  std::vector<BacktestTrace> out;
  const double odd_stride = 7 * kHour + 13 * 60;  // walks through the times of day
  {
    BacktestTrace b{"linear_slow", "0.40 + 0.005/day, noise 0.01", {}, 1.0, kEpoch + 90 * kDay,
                    odd_stride};
    b.trace.truth = [](double t) { return 0.40 + 0.005 * Days(t); };
    b.trace.noise = 0.01;
    b.trace.seed = 11;
    out.push_back(b);
  }
  {
    BacktestTrace b{
        "linear_fast",     "0.20 + 0.10/day (minutes only), noise 0.01", {}, 1.0, kEpoch + 5 * kDay,
        3 * kHour + 7 * 60};
    b.trace.truth = [](double t) { return 0.20 + 0.10 * Days(t); };
    b.trace.noise = 0.01;
    b.trace.seed = 12;
    b.hours_span = 0;
    b.minutes_span = 5 * kDay;
    out.push_back(b);
  }
  {
    BacktestTrace b{"daily_growth",
                    "0.35 + 0.006/day + 0.12·daily(14:00), noise 0.01",
                    {},
                    0.9,
                    kEpoch + 60 * kDay,
                    odd_stride};
    b.trace.truth = [](double t) {
      return 0.35 + 0.006 * Days(t) + 0.12 * testing::DailyWave(t, 14.0);
    };
    b.trace.noise = 0.01;
    b.trace.seed = 13;
    out.push_back(b);
  }
  {
    BacktestTrace b{"weekly_daily_growth",
                    "0.30 + 0.004/day + 0.10·weekday + 0.15·business hours, noise 0.015",
                    {},
                    0.9,
                    kEpoch + 63 * kDay,
                    odd_stride};
    b.trace.truth = [](double t) {
      return 0.30 + 0.004 * Days(t) + 0.10 * Weekday(t) + 0.15 * BusinessHours(t);
    };
    b.trace.noise = 0.015;
    b.trace.seed = 14;
    out.push_back(b);
  }
  {
    BacktestTrace b{"noisy_growth", "0.30 + 0.008/day, noise 0.05", {}, 1.0, kEpoch + 60 * kDay,
                    odd_stride};
    b.trace.truth = [](double t) { return 0.30 + 0.008 * Days(t); };
    b.trace.noise = 0.05;
    b.trace.seed = 15;
    out.push_back(b);
  }
  {
    BacktestTrace b{"log_rotation_growth",
                    "0.40 + 0.004/day, +0.35 for 15 min at 03:00 daily",
                    {},
                    1.0,
                    kEpoch + 60 * kDay + 2 * kHour + 50 * 60,
                    kDay + 17 * 60};
    b.trace.truth = [](double t) { return 0.40 + 0.004 * Days(t); };
    b.trace.excursion = RotationSpike;
    b.trace.noise = 0.005;
    b.trace.seed = 16;
    out.push_back(b);
  }
  {
    BacktestTrace b{"step_up",
                    "0.25 + 0.002/day, at day 60 +0.30 and 0.006/day",
                    {},
                    1.0,
                    kEpoch + 63 * kDay,
                    17 * kHour + 11 * 60};
    const double step = kEpoch + 60 * kDay;
    b.trace.truth = [step](double t) {
      return t < step ? 0.25 + 0.002 * Days(t) : 0.67 + 0.006 * (t - step) / kDay;
    };
    b.trace.noise = 0.01;
    b.trace.seed = 17;
    out.push_back(b);
  }
  {
    BacktestTrace b{
        "cleanup_down",     "0.35 + 0.01/day, −0.40 at day 50", {}, 1.0, kEpoch + 53 * kDay,
        11 * kHour + 3 * 60};
    const double step = kEpoch + 50 * kDay;
    b.trace.truth = [step](double t) { return 0.35 + 0.01 * Days(t) - (t >= step ? 0.40 : 0.0); };
    b.trace.noise = 0.01;
    b.trace.seed = 18;
    out.push_back(b);
  }
  {
    BacktestTrace b{"runaway_write",
                    "flat 0.30, then +0.4 %/min from day 30 12:00",
                    {},
                    1.0,
                    kEpoch + 30 * kDay + 12 * kHour + 20 * 60,
                    5 * 60};
    const double start = kEpoch + 30 * kDay + 12 * kHour;
    b.trace.truth = [start](double t) { return 0.30 + std::max(0.0, t - start) / 60.0 * 0.004; };
    b.trace.noise = 0.003;
    b.trace.seed = 19;
    b.hours_span = 30 * kDay;
    out.push_back(b);
  }
  {
    BacktestTrace b{
        "tmpfs_fill", "0.05 + 1/600 per s, 2 min of 5 s means only", {}, 1.0, kEpoch + 120, 0};
    b.trace.truth = [](double t) { return 0.05 + std::max(0.0, t - kEpoch) / 600.0; };
    b.trace.noise = 0.0003;
    b.trace.seed = 20;
    b.hours_span = 0;
    b.minutes_span = 0;
    b.recent_span = 120;
    out.push_back(b);
  }
  {
    BacktestTrace b{"flat", "0.50, noise 0.01", {}, 0.9, kEpoch + 60 * kDay, odd_stride};
    b.trace.truth = [](double) { return 0.50; };
    b.trace.noise = 0.01;
    b.trace.seed = 21;
    out.push_back(b);
  }
  {
    BacktestTrace b{"log_rotation_flat",
                    "0.55, +0.35 for 15 min at 03:00 daily",
                    {},
                    0.9,
                    kEpoch + 60 * kDay + 2 * kHour + 50 * 60,
                    kDay + 17 * 60};
    b.trace.truth = [](double) { return 0.55; };
    b.trace.excursion = RotationSpike;
    b.trace.noise = 0.005;
    b.trace.seed = 22;
    out.push_back(b);
  }
  {
    BacktestTrace b{"seasonal_flat",
                    "CPU-like: 0.35 + 0.3·business hours, noise 0.02",
                    {},
                    0.9,
                    kEpoch + 60 * kDay,
                    odd_stride};
    b.trace.truth = [](double t) { return 0.35 + 0.3 * BusinessHours(t); };
    b.trace.noise = 0.02;
    b.trace.seed = 23;
    out.push_back(b);
  }
  return out;
}

// Prometheus predict_linear over [now − window, now], as time to `level`.
std::optional<double> PredictLinear(const History& h, double now, double window, double level) {
  const std::vector<Point>& src = h.minutes.empty() ? h.recent : h.minutes;
  double n = 0, st = 0, sv = 0, stt = 0, stv = 0;
  for (const Point& p : src) {
    if (p.t <= now - window || p.t > now) continue;
    const double x = p.t - now;
    n += 1;
    st += x;
    sv += p.v;
    stt += x * x;
    stv += x * p.v;
  }
  if (n < 2) return std::nullopt;
  const double sxx = stt - st * st / n;
  if (sxx <= 0) return std::nullopt;
  const double slope = (stv - st * sv / n) / sxx;
  const double value_now = (sv - slope * st) / n;  // intercept at x = 0 (now)
  if (value_now >= level) return 0.0;
  if (slope <= 0) return std::nullopt;
  const double seconds = (level - value_now) / slope;
  if (seconds > kHorizon) return std::nullopt;
  return seconds;
}

std::string Human(double seconds) {
  if (seconds >= 2 * kDay) return absl::StrFormat("%.1f d", seconds / kDay);
  if (seconds >= 2 * kHour) return absl::StrFormat("%.1f h", seconds / kHour);
  if (seconds >= 120) return absl::StrFormat("%.1f min", seconds / 60);
  return absl::StrFormat("%.0f s", seconds);
}

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Per-method results over the evaluations of one trace.
struct MethodStats {
  std::vector<double> errors;       // |pred − truth|/truth, 1.0 when missing
  std::vector<double> predictions;  // present predictions (seconds)
  int false_alarms = 0;
  int missing = 0;

  void Add(std::optional<double> pred, std::optional<double> truth) {
    if (pred) predictions.push_back(*pred);
    if (truth) {
      if (!pred) {
        ++missing;
        errors.push_back(1.0);
      } else {
        errors.push_back(*truth > 0 ? std::fabs(*pred - *truth) / *truth : (*pred > 0 ? 1.0 : 0));
      }
    } else if (pred && *pred <= kAlertWindow) {
      ++false_alarms;
    }
  }
  std::string Prediction() const {
    if (predictions.empty()) return "never";
    return Human(Median(predictions));
  }
  std::string Error(bool never) const {
    if (never) return "—";
    return absl::StrFormat("%.1f", 100 * Median(errors));
  }
};

void RunBacktest() {
  std::printf(
      "| trace | level | truth (median) | ours (median) | ours err %% | predict_linear[6h] | "
      "err %% | predict_linear[1d] | err %% | false alarms ours / 6h / 1d | ours: truth "
      "in range | ours: status |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const BacktestTrace& b : Traces()) {
    MethodStats ours, pl6h, pl1d;
    std::vector<double> truths;
    int in_range = 0;
    int with_truth = 0;
    std::map<std::string, int> statuses;
    for (int i = 0; i < kEvaluations; ++i) {
      // Each evaluation sees its own noise realisation (as if another host with the same
      // behaviour), so the medians and the range coverage are over independent samples.
      Trace trace = b.trace;
      trace.seed = b.trace.seed * 1000 + i;
      const double now = b.first_eval + i * b.stride;
      const History h =
          testing::MakeHistory(trace, now, b.hours_span, b.minutes_span, b.recent_span);
      const std::optional<double> truth =
          testing::TrueCrossing(trace.truth, now, b.level, kHorizon, b.stride == 0 ? 0.5 : 60);
      if (truth) truths.push_back(*truth);
      const Forecast f = ForecastExhaustion(h, now, {b.level});
      ++statuses[ForecastStatusName(f.status)];
      std::optional<double> mine;
      if (f.status == ForecastStatus::kOk && f.levels[0].seconds) mine = f.levels[0].seconds;
      ours.Add(mine, truth);
      if (truth && f.status == ForecastStatus::kOk) {
        ++with_truth;
        if (f.levels[0].low <= *truth && *truth <= f.levels[0].high) ++in_range;
      } else if (truth) {
        ++with_truth;
      }
      pl6h.Add(PredictLinear(h, now, 6 * kHour, b.level), truth);
      pl1d.Add(PredictLinear(h, now, kDay, b.level), truth);
    }
    const bool never = truths.empty();
    std::vector<std::string> status_list;
    for (const auto& [name, count] : statuses)
      status_list.push_back(absl::StrCat(name, " ", count));
    std::printf("| %s | %.2f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", b.name.c_str(),
                b.level, never ? "never" : Human(Median(truths)).c_str(), ours.Prediction().c_str(),
                ours.Error(never).c_str(), pl6h.Prediction().c_str(), pl6h.Error(never).c_str(),
                pl1d.Prediction().c_str(), pl1d.Error(never).c_str(),
                never ? absl::StrFormat("%d / %d / %d", ours.false_alarms, pl6h.false_alarms,
                                        pl1d.false_alarms)
                            .c_str()
                      : "",
                never ? "" : absl::StrFormat("%d/%d", in_range, with_truth).c_str(),
                absl::StrJoin(status_list, ", ").c_str());
  }
  std::printf("\nTraces (%d evaluations each; truth = first crossing of the noise-free curve):\n",
              kEvaluations);
  for (const BacktestTrace& b : Traces()) {
    std::printf("- %s: %s\n", b.name.c_str(), b.description.c_str());
  }
  std::printf("\n");
}

// The collector's full retention: 9,600 hour points, 10,080 minute points, 360 5-second means.
History FullHistory(const Trace& trace, double now) {
  return testing::MakeHistory(trace, now, 9600 * kHour, 7 * kDay, 1800);
}

void BM_ForecastSeasonalGrowth(benchmark::State& state) {
  Trace trace;
  trace.truth = [](double t) {
    return 0.10 + 0.0015 * Days(t) + 0.10 * Weekday(t) + 0.12 * BusinessHours(t);
  };
  trace.noise = 0.01;
  const double now = kEpoch + 400 * kDay + 5 * kHour;
  const History h = FullHistory(trace, now);
  const std::vector<double> levels = {0.8, 0.9, 1.0};
  for (auto _ : state) {
    Forecast f = ForecastExhaustion(h, now, levels);
    benchmark::DoNotOptimize(f);
  }
  state.counters["hours"] = static_cast<double>(h.hours.size());
  state.counters["minutes"] = static_cast<double>(h.minutes.size());
}
BENCHMARK(BM_ForecastSeasonalGrowth)->Unit(benchmark::kMillisecond);

// Worst case: a step 3 hours ago that neither the hour nor the minute series can confirm yet:
// all three resolutions are fitted, each with change-point rounds.
void BM_ForecastRecentStep(benchmark::State& state) {
  const double now = kEpoch + 400 * kDay + 5 * kHour;
  Trace trace;
  trace.truth = [now](double t) {
    return 0.30 + 0.001 * Days(t) + 0.05 * BusinessHours(t) + (t > now - 3 * kHour ? 0.2 : 0.0);
  };
  trace.noise = 0.01;
  const History h = FullHistory(trace, now);
  const std::vector<double> levels = {0.8, 0.9, 1.0};
  for (auto _ : state) {
    Forecast f = ForecastExhaustion(h, now, levels);
    benchmark::DoNotOptimize(f);
  }
  const Forecast f = ForecastExhaustion(h, now, levels);
  state.SetLabel(f.method);
}
BENCHMARK(BM_ForecastRecentStep)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace accord::collector::capacity

int main(int argc, char** argv) {
  accord::collector::capacity::RunBacktest();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
