#include "collector/capacity/forecast/series_fit.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "collector/capacity/forecast/changepoint.h"
#include "collector/capacity/forecast/robust_regression.h"

namespace accord::collector::capacity {
namespace {

HarmonicShape ShapeFor(double span, double step, const ForecastOptions& options) {
  HarmonicShape shape;
  if (step <= 3600 && span >= 2 * kSecondsPerDay) shape.daily_harmonics = options.daily_harmonics;
  if (step <= 3600 && span >= 14 * kSecondsPerDay) {
    shape.weekly_harmonics = options.weekly_harmonics;
  }
  return shape;
}

std::string MethodName(const HarmonicShape& shape, absl::string_view resolution) {
  std::string name = absl::StrCat("huber_", shape.seasonal() ? "harmonic_" : "linear_", resolution);
  if (shape.daily_harmonics > 0) absl::StrAppend(&name, "_daily");
  if (shape.weekly_harmonics > 0) absl::StrAppend(&name, "_weekly");
  return name;
}

}  // namespace

absl::StatusOr<SeriesFit> FitSeries(absl::Span<const Point> points, absl::string_view resolution,
                                    double step_seconds, double now,
                                    const ForecastOptions& options) {
  const size_t n = points.size();
  std::vector<double> t(n);
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i) {
    t[i] = points[i].t;
    y[i] = points[i].v;
  }
  HuberOptions huber;
  huber.k = options.huber_k;
  huber.noise_floor = options.noise_floor;
  ChangePointOptions cp_options;
  cp_options.min_f = options.changepoint_min_f;
  cp_options.winsor_k = options.changepoint_winsor_k;
  cp_options.noise_floor = options.noise_floor;
  cp_options.min_segment = static_cast<size_t>(std::max(options.min_points, 3));

  if (n == 0) return absl::InvalidArgumentError("no points");
  size_t first = 0;
  double scale = std::max(now - t[0], step_seconds);
  HarmonicShape shape = ShapeFor(t[n - 1] - t[0], step_seconds, options);
  absl::StatusOr<RobustFit> fit = FitHuber(t, y, {}, shape, now, scale, huber);
  if (!fit.ok()) return fit.status();
  HarmonicModel model = fit->model;

  int changes = 0;
  for (; changes < options.max_changepoints; ++changes) {
    const size_t m = n - first;
    std::vector<double> u(m);
    for (size_t i = 0; i < m; ++i) u[i] = (t[first + i] - now) / scale;
    const std::optional<ChangePoint> cp =
        FindChangePoint(u, fit->residuals, fit->sigma, cp_options);
    if (!cp) break;
    const size_t next_first = first + cp->index;
    const HarmonicShape old_shape = model.shape();
    HarmonicShape refit = ShapeFor(t[n - 1] - t[next_first], step_seconds, options);
    refit.daily_harmonics = std::min(refit.daily_harmonics, old_shape.daily_harmonics);
    refit.weekly_harmonics = std::min(refit.weekly_harmonics, old_shape.weekly_harmonics);

    // Seasonal blocks the new segment is too short to estimate come from a fit of the segment
    // before the change (free of detected changes, so not contaminated by the step, as the fit
    // across it would be); blocks that segment cannot estimate either are dropped.
    HarmonicShape frozen_shape;
    std::vector<double> frozen_daily;
    std::vector<double> frozen_weekly;
    if (refit.daily_harmonics < old_shape.daily_harmonics ||
        refit.weekly_harmonics < old_shape.weekly_harmonics) {
      HarmonicShape before = ShapeFor(t[next_first - 1] - t[first], step_seconds, options);
      before.daily_harmonics = std::min(before.daily_harmonics, old_shape.daily_harmonics);
      before.weekly_harmonics = std::min(before.weekly_harmonics, old_shape.weekly_harmonics);
      if (before.seasonal()) {
        const size_t count = next_first - first;
        absl::StatusOr<RobustFit> pre =
            FitHuber(absl::MakeConstSpan(t).subspan(first, count),
                     absl::MakeConstSpan(y).subspan(first, count), {}, before, now,
                     std::max(now - t[first], step_seconds), huber);
        if (pre.ok()) {
          const std::vector<double>& c = pre->model.coefficients();
          if (refit.daily_harmonics == 0 && before.daily_harmonics > 0) {
            frozen_shape.daily_harmonics = before.daily_harmonics;
            frozen_daily.assign(c.begin() + 2, c.begin() + 2 + 2 * before.daily_harmonics);
          }
          if (refit.weekly_harmonics == 0 && before.weekly_harmonics > 0) {
            frozen_shape.weekly_harmonics = before.weekly_harmonics;
            frozen_weekly.assign(c.begin() + 2 + 2 * before.daily_harmonics, c.end());
          }
        }
      }
    }
    // The final layout: refitted blocks where present, else frozen ones.
    HarmonicShape combined_shape;
    combined_shape.daily_harmonics =
        refit.daily_harmonics > 0 ? refit.daily_harmonics : frozen_shape.daily_harmonics;
    combined_shape.weekly_harmonics =
        refit.weekly_harmonics > 0 ? refit.weekly_harmonics : frozen_shape.weekly_harmonics;
    const int daily_begin = 2;
    const int weekly_begin = 2 + 2 * combined_shape.daily_harmonics;
    std::vector<double> frozen_coefficients(combined_shape.num_coefficients(), 0.0);
    std::copy(frozen_daily.begin(), frozen_daily.end(), frozen_coefficients.begin() + daily_begin);
    std::copy(frozen_weekly.begin(), frozen_weekly.end(),
              frozen_coefficients.begin() + weekly_begin);
    const HarmonicModel frozen(combined_shape, now, scale, frozen_coefficients);
    std::vector<double> offset;
    if (frozen_shape.seasonal()) {
      offset.resize(n - next_first);
      for (size_t i = next_first; i < n; ++i) offset[i - next_first] = frozen.Seasonal(t[i]);
    }

    const double next_scale = std::max(now - t[next_first], step_seconds);
    absl::StatusOr<RobustFit> next =
        FitHuber(absl::MakeConstSpan(t).subspan(next_first),
                 absl::MakeConstSpan(y).subspan(next_first), offset, refit, now, next_scale, huber);
    if (!next.ok()) break;  // keep the fit before this change point

    // Combined coefficients: new trend, new or frozen seasonal blocks.
    std::vector<double> combined = frozen_coefficients;
    const std::vector<double>& c = next->model.coefficients();
    combined[0] = c[0];
    combined[1] = c[1];
    for (int k = 0; k < 2 * refit.daily_harmonics; ++k) combined[daily_begin + k] = c[2 + k];
    for (int k = 0; k < 2 * refit.weekly_harmonics; ++k) {
      combined[weekly_begin + k] = c[2 + 2 * refit.daily_harmonics + k];
    }
    model = HarmonicModel(combined_shape, now, next_scale, std::move(combined));
    fit = std::move(next);
    first = next_first;
    scale = next_scale;
  }

  SeriesFit out;
  out.model = std::move(model);
  const double inflation = AutocorrelationInflation(fit->rho);
  out.uncertainty.var_b0 = fit->var_b0 * inflation;
  out.uncertainty.cov_b0_b1 = fit->cov_b0_b1 * inflation;
  out.uncertainty.var_b1 = fit->var_b1 * inflation;
  out.uncertainty.sigma = fit->sigma;
  out.rho = fit->rho;
  out.first_index = first;
  out.fitted_from = t[first];
  out.num_points = n - first;
  out.change_points = changes;
  out.method = MethodName(out.model.shape(), resolution);
  return out;
}

}  // namespace accord::collector::capacity
