// Change-point detection for capacity series: is the series after some point better described
// by its own line than by the fit over the whole window? (A disk is cleaned up, a dataset is
// copied in, a runaway log starts: the level or the slope changes at once.)
//
// Method: the two-phase regression of Quandt (1958) scanned over every split, tested with the
// sup-F statistic of Andrews (1993), applied to the winsorised residuals of a robust fit.
// For each split k the residuals left of k and right of k each get their own least-squares
// line (4 parameters against 2 for one line); the split with the smallest total squared error
// wins, and it is accepted when
//
//   F = ((SSE_one_line − SSE_split) / 2) / (SSE_split / (n − 4)) / ((1 + ρ)/(1 − ρ)) ≥ min_f,
//
// with ρ the lag-1 autocorrelation of the residuals of the split model (AR(1) variance
// inflation: slowly varying residuals, such as an unmodelled daily cycle, are worth fewer
// independent points). Residuals are clipped to ±winsor_k·σ first, so a spike counts as at
// most a winsor_k·σ excursion: a short spike cannot become a "step", however tall; and both
// segments need min_segment points. Once accepted, the location is refined to the least-squares
// break date of the unclipped residuals within ±min_segment (Bai 1994): clipping would place a
// change in slope where the new regime leaves the clipping band rather than where it starts.
// Prefix sums make the scan O(n).
//
// Thread safety: pure function; safe from any thread.
#ifndef ACCORD_COLLECTOR_CAPACITY_FORECAST_CHANGEPOINT_H_
#define ACCORD_COLLECTOR_CAPACITY_FORECAST_CHANGEPOINT_H_

#include <cstddef>
#include <optional>

#include "absl/types/span.h"

namespace accord::collector::capacity {

struct ChangePointOptions {
  // Residuals are clipped to ±winsor_k·σ before the scan. This bounds what one point of any
  // height can add to the F statistic (≈ 0.8·winsor_k²/2 for a change far above the noise),
  // so a change needs ≈ 2·min_f/(0.8·winsor_k²) points after it: 22 with the defaults.
  double winsor_k = 1.5;
  // Acceptance threshold of the autocorrelation-adjusted F statistic. Andrews' sup-Wald
  // statistic is 2F here; its 5 % critical value for 2 restrictions with 15 % trimming is
  // about 12 (F ≈ 6). 20 leaves margin for the unmodelled structure of real series.
  double min_f = 20.0;
  // Points required on each side of the split (≥ 3).
  size_t min_segment = 12;
  // The residual variance used in F is at least noise_floor²: noiseless series (σ at the floor)
  // are not split on rounding error.
  double noise_floor = 1e-4;
};

struct ChangePoint {
  size_t index;  // first point of the new regime: the split is [0, index) | [index, n)
  double f;      // the adjusted F statistic
  double rho;    // lag-1 autocorrelation of the split model's residuals
};

// The most likely single change in `residuals` (of a robust fit, in time order; `u` the
// points' times in any affine unit, ascending), or nullopt when no split reaches min_f or the
// series is shorter than 2·min_segment.
// REQUIRES: u.size() == residuals.size(); sigma > 0.
std::optional<ChangePoint> FindChangePoint(absl::Span<const double> u,
                                           absl::Span<const double> residuals, double sigma,
                                           const ChangePointOptions& options = {});

}  // namespace accord::collector::capacity

#endif  // ACCORD_COLLECTOR_CAPACITY_FORECAST_CHANGEPOINT_H_
