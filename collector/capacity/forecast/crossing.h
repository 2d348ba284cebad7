// When does a fitted HarmonicModel first reach a level, and within what range?
//
// Three curves are followed from `now` (h ≥ 0 seconds ahead):
//   point  m(h)                      the fitted trend plus seasonality,
//   upper  m(h) + z·w(h)             the early edge of the range,
//   lower  m(h) − z·w(h)             the late edge of the range,
// with w(h)² = Var[b0 + b1·u(h)] + σ²: the uncertainty of the extrapolated trend (from the
// coefficient covariance, which grows with the distance from the data) plus the residual noise
// around the fit (so the early edge is when the level may first be touched by an ordinary
// excursion). The seasonal component is taken as known. Since w ≥ 0 the first crossings satisfy
// low ≤ seconds ≤ high.
//
// Seasonal models are followed on a grid of `grid_seconds` (the seasonal part tabulated over its
// longest period, so the scan does no trigonometry), starting where the trend plus the seasonal
// maximum first reaches the level — the first crossing lies within one period of that point —
// and refined by linear interpolation between grid points. Trend-only models are solved by
// bisection.
//
// Thread safety: pure function; safe from any thread.
#ifndef ACCORD_COLLECTOR_CAPACITY_FORECAST_CROSSING_H_
#define ACCORD_COLLECTOR_CAPACITY_FORECAST_CROSSING_H_

#include <optional>
#include <vector>

#include "absl/types/span.h"
#include "collector/capacity/forecast/harmonic_model.h"

namespace accord::collector::capacity {

// The uncertainty used for the bands, in the model's units (see RobustFit), already inflated
// for autocorrelation if wanted.
struct TrendUncertainty {
  double var_b0 = 0;
  double cov_b0_b1 = 0;
  double var_b1 = 0;
  double sigma = 0;  // residual scale, added in quadrature
};

struct CrossingOptions {
  // Half-width of the bands in standard deviations (1.645: a two-sided 90 % range).
  double z = 1.645;
  // Crossings later than this (seconds after now) are "not reached".
  double horizon_seconds = 365 * 86400.0;
  // Grid step for seasonal models (seconds); must divide one day.
  double grid_seconds = 300;
};

struct LevelCrossing {
  std::optional<double> seconds;  // the point curve's first crossing; absent beyond the horizon
  double low = 0;                 // upper band's first crossing, or horizon_seconds if none
  double high = 0;                // lower band's first crossing, or horizon_seconds if none
};

// The largest value of model.Seasonal over one longest period starting at `from`, sampled every
// `step` seconds; 0 for a trend-only model. REQUIRES: step > 0.
double SeasonalMax(const HarmonicModel& model, double from, double step = 300);

// One LevelCrossing per level, in the order given. A level the point curve already reaches at
// `now` gets seconds = 0. REQUIRES: options.horizon_seconds > 0, options.grid_seconds > 0.
std::vector<LevelCrossing> FindCrossings(const HarmonicModel& model,
                                         const TrendUncertainty& uncertainty, double now,
                                         absl::Span<const double> levels,
                                         const CrossingOptions& options = {});

}  // namespace accord::collector::capacity

#endif  // ACCORD_COLLECTOR_CAPACITY_FORECAST_CROSSING_H_
