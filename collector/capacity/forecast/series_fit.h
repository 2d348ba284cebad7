// The fit of one resolution of a capacity history: robust harmonic regression, then up to
// `max_changepoints` rounds of "find the most likely change point in the residuals, keep only
// the data after it, refit" (so the fit ends up describing the regime after the last change).
//
// Seasonal terms are chosen from the span of the data being fitted: daily terms when it covers
// ≥ 2 days (and the step is ≤ 1 hour), weekly terms when it covers ≥ 14 days. When a change
// point leaves a segment too short for a seasonal component that the previous fit had, that
// component is estimated on the segment before the change (a step in the level does not change
// the shape of the daily cycle; the fit across the step would be contaminated by it), held fixed,
// and only the rest is refitted on the segment after the change.
//
// Thread safety: pure function; safe from any thread.
#ifndef ACCORD_COLLECTOR_CAPACITY_FORECAST_SERIES_FIT_H_
#define ACCORD_COLLECTOR_CAPACITY_FORECAST_SERIES_FIT_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "collector/capacity/forecast/crossing.h"
#include "collector/capacity/forecast/forecast.h"
#include "collector/capacity/forecast/harmonic_model.h"

namespace accord::collector::capacity {

struct SeriesFit {
  // The full model (trend, refitted and fixed seasonal terms), origin = now.
  HarmonicModel model;
  // Covariance of the trend inflated for autocorrelation, and the residual scale σ.
  TrendUncertainty uncertainty;
  // Lag-1 autocorrelation of the final fit's clipped residuals.
  double rho = 0;
  // Index and time of the first point of the final segment; number of points in it.
  size_t first_index = 0;
  double fitted_from = 0;
  size_t num_points = 0;
  // Accepted change points.
  int change_points = 0;
  // e.g. "huber_harmonic_1m_daily".
  std::string method;
};

// Fits `points` (finite, sorted, all ≤ now) of a resolution named `resolution` (e.g. "1m") with
// nominal step `step_seconds`. Fails with the code of FitHuber when too few points or no
// spread in time.
absl::StatusOr<SeriesFit> FitSeries(absl::Span<const Point> points, absl::string_view resolution,
                                    double step_seconds, double now,
                                    const ForecastOptions& options);

}  // namespace accord::collector::capacity

#endif  // ACCORD_COLLECTOR_CAPACITY_FORECAST_SERIES_FIT_H_
