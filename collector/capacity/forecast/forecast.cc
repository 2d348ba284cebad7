#include "collector/capacity/forecast/forecast.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "collector/capacity/forecast/crossing.h"
#include "collector/capacity/forecast/series_fit.h"

namespace accord::collector::capacity {
namespace {

constexpr double kMadToSigma = 1.482602218505602;

// The resolutions, coarsest first (the order of preference).
struct Resolution {
  const char* name;
  double step;
  const std::vector<Point>* points;
};

struct Candidate {
  const Resolution* resolution = nullptr;
  std::vector<Point> points;  // finite, ≤ now
  bool usable = false;
  std::string why_not;  // when !usable
};

Candidate Prepare(const Resolution& r, double now, const ForecastOptions& options) {
  Candidate c;
  c.resolution = &r;
  c.points.reserve(r.points->size());
  for (const Point& p : *r.points) {
    if (std::isfinite(p.t) && std::isfinite(p.v) && p.t <= now) c.points.push_back(p);
  }
  const size_t n = c.points.size();
  if (n < static_cast<size_t>(std::max(options.min_points, 2))) {
    c.why_not = absl::StrFormat("%s has %d points (needs %d)", r.name, n, options.min_points);
    return c;
  }
  const double span = c.points.back().t - c.points.front().t;
  if (span < options.min_span_steps * r.step) {
    c.why_not = absl::StrFormat("%s spans %.0f s (needs %.0f s)", r.name, span,
                                options.min_span_steps * r.step);
    return c;
  }
  const double age = now - c.points.back().t;
  if (age > options.max_staleness_steps * r.step) {
    c.why_not = absl::StrFormat("%s ends %.0f s before now (at most %.0f s)", r.name, age,
                                options.max_staleness_steps * r.step);
    return c;
  }
  c.usable = true;
  return c;
}

double Median(std::vector<double>* v) {
  const size_t mid = v->size() / 2;
  std::nth_element(v->begin(), v->begin() + mid, v->end());
  double m = (*v)[mid];
  if (v->size() % 2 == 0) m = 0.5 * (m + *std::max_element(v->begin(), v->begin() + mid));
  return m;
}

// The median of `r` when it is beyond the tolerance of `fit` at `now`, else nullopt.
std::optional<double> OffMedian(std::vector<double> r, const SeriesFit& fit, double now,
                                const ForecastOptions& options) {
  if (r.size() < static_cast<size_t>(std::max(options.agreement_min_points, 1))) {
    return std::nullopt;
  }
  const double median = Median(&r);
  std::vector<double> dev(r.size());
  for (size_t i = 0; i < r.size(); ++i) dev[i] = std::fabs(r[i] - median);
  const double sigma_finer = kMadToSigma * Median(&dev);
  // The standard error of a median is ≈ 1.25 σ/√m.
  const double se_median = 1.2533 * sigma_finer / std::sqrt(static_cast<double>(r.size()));
  const TrendUncertainty& u = fit.uncertainty;
  const double x = (now - fit.model.origin()) / fit.model.scale();
  const double var_fit = u.var_b0 + 2 * x * u.cov_b0_b1 + x * x * u.var_b1;
  const double tolerance =
      std::max(options.agreement_sigmas *
                   std::sqrt(u.sigma * u.sigma + std::max(var_fit, 0.0) + se_median * se_median),
               options.min_disagreement);
  if (std::fabs(median) <= tolerance) return std::nullopt;
  return median;
}

// How far the recent points of a finer series are off `fit`: nullopt when they agree (or are
// too few to tell), else the median offset over the agreement window (data minus fit).
std::optional<double> Disagreement(const SeriesFit& fit, const Candidate& finer, double now,
                                   const ForecastOptions& options) {
  std::vector<double> window;
  std::vector<double> tail;
  for (auto it = finer.points.rbegin(); it != finer.points.rend(); ++it) {
    if (it->t < now - options.agreement_window_seconds) break;
    const double r = it->v - fit.model.Value(it->t);
    window.push_back(r);
    if (it->t >= now - options.agreement_tail_seconds ||
        tail.size() < static_cast<size_t>(options.agreement_min_points)) {
      tail.push_back(r);
    }
  }
  const std::optional<double> whole = OffMedian(std::move(window), fit, now, options);
  if (!whole) return std::nullopt;
  const std::optional<double> last = OffMedian(std::move(tail), fit, now, options);
  if (!last || (*last > 0) != (*whole > 0)) return std::nullopt;
  return whole;
}

std::string Duration(double seconds) {
  if (seconds >= 2 * kSecondsPerDay) return absl::StrFormat("%.1f days", seconds / kSecondsPerDay);
  if (seconds >= 7200) return absl::StrFormat("%.1f hours", seconds / 3600);
  if (seconds >= 120) return absl::StrFormat("%.1f minutes", seconds / 60);
  return absl::StrFormat("%.0f s", seconds);
}

}  // namespace

const char* ForecastStatusName(ForecastStatus status) {
  switch (status) {
    case ForecastStatus::kOk:
      return "ok";
    case ForecastStatus::kInsufficientData:
      return "insufficient_data";
    case ForecastStatus::kFlat:
      return "flat";
    case ForecastStatus::kNoisy:
      return "noisy";
  }
  return "unknown";
}

Forecast ForecastExhaustion(const History& history, double now, const std::vector<double>& levels,
                            const ForecastOptions& options) {
  const Resolution resolutions[] = {
      {"1h", 3600, &history.hours},
      {"1m", 60, &history.minutes},
      {"5s", 5, &history.recent},
  };
  constexpr int kCount = 3;
  Candidate candidates[kCount];
  for (int i = 0; i < kCount; ++i) candidates[i] = Prepare(resolutions[i], now, options);

  Forecast out;
  std::vector<std::string> skipped;
  std::optional<SeriesFit> chosen;
  for (int i = 0; i < kCount && !chosen; ++i) {
    const Candidate& c = candidates[i];
    if (!c.usable) {
      skipped.push_back(c.why_not);
      continue;
    }
    absl::StatusOr<SeriesFit> fit =
        FitSeries(c.points, c.resolution->name, c.resolution->step, now, options);
    if (!fit.ok()) {
      skipped.push_back(absl::StrCat(c.resolution->name, ": ", fit.status().message()));
      continue;
    }
    bool agrees = true;
    for (int j = i + 1; j < kCount && agrees; ++j) {
      if (!candidates[j].usable) continue;
      const std::optional<double> off = Disagreement(*fit, candidates[j], now, options);
      if (off) {
        agrees = false;
        skipped.push_back(absl::StrFormat("the last %s of %s data are %+.3f off the %s fit",
                                          Duration(options.agreement_window_seconds),
                                          candidates[j].resolution->name, *off,
                                          c.resolution->name));
      }
    }
    if (agrees) chosen = *std::move(fit);
  }
  if (!chosen) {
    out.status = ForecastStatus::kInsufficientData;
    out.reason = absl::StrCat("Not enough recent history: ", absl::StrJoin(skipped, "; "), ".");
    return out;
  }

  const SeriesFit& fit = *chosen;
  const HarmonicModel& model = fit.model;
  const double slope = model.slope_per_second();
  const double se_slope = std::sqrt(std::max(fit.uncertainty.var_b1, 0.0)) / model.scale();
  const double sigma = fit.uncertainty.sigma;
  out.method = fit.method;
  out.slope_per_day = slope * kSecondsPerDay;
  out.fitted_from = fit.fitted_from;
  out.horizon_seconds =
      std::max(0.0, std::min(options.max_horizon_seconds,
                             options.max_extrapolation * std::max(now - fit.fitted_from, 0.0)));
  out.current = model.Value(now);
  out.noise = sigma;

  std::string basis = absl::StrFormat(
      "%s fit over the last %s (%d points%s): trend %+.4f/day, noise %.4f", fit.method,
      Duration(now - fit.fitted_from), fit.num_points,
      fit.change_points > 0 ? absl::StrFormat(", after %d change point%s", fit.change_points,
                                              fit.change_points > 1 ? "s" : "")
                            : "",
      out.slope_per_day, sigma);
  if (!skipped.empty()) absl::StrAppend(&basis, " (", absl::StrJoin(skipped, "; "), ")");

  if (sigma > options.max_noise) {
    out.status = ForecastStatus::kNoisy;
    out.reason =
        absl::StrFormat("Residual noise %.3f exceeds %.3f: %s.", sigma, options.max_noise, basis);
    return out;
  }
  const bool significant = std::fabs(slope) >= options.trend_z * se_slope;
  if (!significant) {
    // The trend is indistinguishable from zero. Flat if even its upper bound would not bring
    // the seasonal peak to the nearest level above it within the horizon; noisy if it could.
    // A level the seasonal peak already reaches is a forecast (the next peak), so status ok.
    const double peak = model.Trend(now) + SeasonalMax(model, now);
    std::optional<double> nearest;
    bool peak_reaches = false;
    for (double level : levels) {
      if (!std::isfinite(level)) continue;
      if (level <= peak) {
        peak_reaches = true;
      } else if (!nearest || level < *nearest) {
        nearest = level;
      }
    }
    if (!peak_reaches) {
      const double upper = slope + options.trend_z * se_slope;
      const bool flat = !nearest || upper <= 0 || (*nearest - peak) / upper > out.horizon_seconds;
      if (flat) {
        out.status = ForecastStatus::kFlat;
        out.reason = absl::StrFormat(
            "No significant trend, and even %+.4f/day (its upper bound) reaches no level within "
            "%s: %s.",
            upper * kSecondsPerDay, Duration(out.horizon_seconds), basis);
      } else {
        out.status = ForecastStatus::kNoisy;
        out.reason = absl::StrFormat(
            "The trend %+.4f/day ± %.4f cannot be told from zero, yet its upper bound would reach "
            "%.2f within %s: %s.",
            out.slope_per_day, se_slope * kSecondsPerDay, *nearest, Duration(out.horizon_seconds),
            basis);
      }
      return out;
    }
  }

  out.status = ForecastStatus::kOk;
  out.reason = absl::StrCat("Forecast from the ", basis, ".");
  CrossingOptions crossing;
  crossing.z = options.range_z;
  crossing.horizon_seconds = std::max(out.horizon_seconds, 1.0);
  const std::vector<LevelCrossing> crossings =
      FindCrossings(model, fit.uncertainty, now, levels, crossing);
  out.levels.reserve(levels.size());
  for (size_t i = 0; i < levels.size(); ++i) {
    out.levels.push_back(
        LevelForecast{levels[i], crossings[i].seconds, crossings[i].low, crossings[i].high});
  }
  return out;
}

}  // namespace accord::collector::capacity
