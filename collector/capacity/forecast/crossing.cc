#include "collector/capacity/forecast/crossing.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace accord::collector::capacity {
namespace {

constexpr int kCoarseSteps = 256;
constexpr int kBisections = 64;

// A curve without its seasonal part: trend(h) + side·z·w(h).
class TrendCurve {
 public:
  TrendCurve(const HarmonicModel& model, const TrendUncertainty& u, double now, double side_z)
      : model_(model), u_(u), now_(now), side_z_(side_z) {}

  double operator()(double h) const {
    const double t = now_ + h;
    double v = model_.Trend(t);
    if (side_z_ != 0.0) {
      const double x = (t - model_.origin()) / model_.scale();
      const double var = u_.var_b0 + 2 * x * u_.cov_b0_b1 + x * x * u_.var_b1 + u_.sigma * u_.sigma;
      v += side_z_ * std::sqrt(std::max(var, 0.0));
    }
    return v;
  }

 private:
  const HarmonicModel& model_;
  const TrendUncertainty& u_;
  double now_;
  double side_z_;
};

// First h in [0, horizon] with g(h) + add ≥ level: a coarse scan for the first bracketing
// interval, then bisection. nullopt when none of the scanned points reaches the level.
std::optional<double> FirstAtLeast(const TrendCurve& g, double add, double level, double horizon) {
  if (g(0) + add >= level) return 0.0;
  double lo = 0.0;
  for (int k = 1; k <= kCoarseSteps; ++k) {
    const double hi = horizon * k / kCoarseSteps;
    if (g(hi) + add >= level) {
      double a = lo;
      double b = hi;
      for (int i = 0; i < kBisections && b - a > 1e-3; ++i) {
        const double mid = 0.5 * (a + b);
        if (g(mid) + add >= level) {
          b = mid;
        } else {
          a = mid;
        }
      }
      return b;
    }
    lo = hi;
  }
  return std::nullopt;
}

// The first crossing of g + seasonal (tabulated from `now` on a grid of `step` over one period).
std::optional<double> FirstSeasonalCrossing(const TrendCurve& g, const std::vector<double>& table,
                                            double table_max, double step, double level,
                                            double horizon) {
  const std::optional<double> start = FirstAtLeast(g, table_max, level, horizon);
  if (!start) return std::nullopt;
  const int64_t m = static_cast<int64_t>(table.size());
  auto f = [&](int64_t j) { return g(j * step) + table[j % m] - level; };
  double prev = f(0);
  if (prev >= 0) return 0.0;
  int64_t j = std::max<int64_t>(1, static_cast<int64_t>(std::floor(*start / step)));
  if (j > 1) prev = f(j - 1);
  const int64_t last = static_cast<int64_t>(std::ceil(horizon / step));
  for (; j <= last; ++j) {
    const double cur = f(j);
    if (cur >= 0) {
      const double frac = prev < 0 ? -prev / (cur - prev) : 0.0;
      const double h = (j - 1 + frac) * step;
      if (h > horizon) return std::nullopt;
      return h;
    }
    prev = cur;
  }
  return std::nullopt;
}

}  // namespace

double SeasonalMax(const HarmonicModel& model, double from, double step) {
  const double period = model.shape().longest_period();
  if (period <= 0) return 0.0;
  const int64_t m = std::max<int64_t>(1, static_cast<int64_t>(std::llround(period / step)));
  std::vector<double> table;
  model.SeasonalTable(from, step, static_cast<size_t>(m), &table);
  return *std::max_element(table.begin(), table.end());
}

std::vector<LevelCrossing> FindCrossings(const HarmonicModel& model,
                                         const TrendUncertainty& uncertainty, double now,
                                         absl::Span<const double> levels,
                                         const CrossingOptions& options) {
  const double horizon = options.horizon_seconds;
  const TrendCurve point(model, uncertainty, now, 0.0);
  const TrendCurve upper(model, uncertainty, now, options.z);
  const TrendCurve lower(model, uncertainty, now, -options.z);

  std::vector<double> table;
  double table_max = 0.0;
  const double period = model.shape().longest_period();
  const double step = options.grid_seconds;
  if (period > 0) {
    const int64_t m = std::max<int64_t>(1, static_cast<int64_t>(std::llround(period / step)));
    model.SeasonalTable(now, step, static_cast<size_t>(m), &table);
    table_max = *std::max_element(table.begin(), table.end());
  }
  auto first = [&](const TrendCurve& g, double level) -> std::optional<double> {
    if (period > 0) {
      // The present value is exact, not tabulated: "already above" must not depend on the grid.
      if (g(0) + model.Seasonal(now) >= level) return 0.0;
      return FirstSeasonalCrossing(g, table, table_max, step, level, horizon);
    }
    return FirstAtLeast(g, 0.0, level, horizon);
  };

  std::vector<LevelCrossing> out;
  out.reserve(levels.size());
  for (double level : levels) {
    LevelCrossing c;
    c.seconds = first(point, level);
    c.low = first(upper, level).value_or(horizon);
    c.high = first(lower, level).value_or(horizon);
    // Grid interpolation can break the ordering by a hair; the bands never cross the point.
    if (c.seconds) {
      c.low = std::min(c.low, *c.seconds);
      c.high = std::max(c.high, *c.seconds);
    }
    c.high = std::max(c.high, c.low);
    out.push_back(c);
  }
  return out;
}

}  // namespace accord::collector::capacity
