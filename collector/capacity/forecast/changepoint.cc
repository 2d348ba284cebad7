#include "collector/capacity/forecast/changepoint.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "collector/capacity/forecast/robust_regression.h"

namespace accord::collector::capacity {
namespace {

// Running sums of a segment for a least-squares line z = α + β·x.
struct Sums {
  double n = 0, x = 0, xx = 0, z = 0, xz = 0, zz = 0;

  void Add(double xi, double zi) {
    n += 1;
    x += xi;
    xx += xi * xi;
    z += zi;
    xz += xi * zi;
    zz += zi * zi;
  }
  Sums Minus(const Sums& o) const {
    return Sums{n - o.n, x - o.x, xx - o.xx, z - o.z, xz - o.xz, zz - o.zz};
  }
  // Residual sum of squares of the least-squares line (a constant when x has no spread).
  double Sse() const {
    if (n <= 0) return 0.0;
    const double sxx = xx - x * x / n;
    const double szz = zz - z * z / n;
    const double sxz = xz - x * z / n;
    double sse = szz;
    if (sxx > 1e-12 * std::max(xx, 1e-300)) sse -= sxz * sxz / sxx;
    return std::max(sse, 0.0);
  }
  // (intercept, slope) of the line.
  void Line(double* alpha, double* beta) const {
    const double sxx = xx - x * x / n;
    const double sxz = xz - x * z / n;
    *beta = sxx > 1e-12 * std::max(xx, 1e-300) ? sxz / sxx : 0.0;
    *alpha = (z - *beta * x) / n;
  }
};

}  // namespace

std::optional<ChangePoint> FindChangePoint(absl::Span<const double> u,
                                           absl::Span<const double> residuals, double sigma,
                                           const ChangePointOptions& options) {
  const size_t n = residuals.size();
  const size_t m = std::max<size_t>(options.min_segment, 3);
  if (u.size() != n || n < 2 * m || n < 8) return std::nullopt;

  // Centre x and clip z (both improve the conditioning of the running sums).
  const double x_mean = (u.front() + u.back()) / 2;
  const double cut = options.winsor_k * sigma;
  std::vector<double> xs(n);
  std::vector<double> zs(n);
  for (size_t i = 0; i < n; ++i) {
    xs[i] = u[i] - x_mean;
    zs[i] = std::clamp(residuals[i], -cut, cut);
  }
  std::vector<Sums> prefix(n + 1);
  for (size_t i = 0; i < n; ++i) {
    prefix[i + 1] = prefix[i];
    prefix[i + 1].Add(xs[i], zs[i]);
  }
  const Sums& total = prefix[n];
  const double sse_one = total.Sse();

  size_t best_k = 0;
  double best_sse = std::numeric_limits<double>::infinity();
  for (size_t k = m; k + m <= n; ++k) {
    const double sse = prefix[k].Sse() + total.Minus(prefix[k]).Sse();
    if (sse < best_sse) {
      best_sse = sse;
      best_k = k;
    }
  }
  if (best_k == 0) return std::nullopt;

  // Lag-1 autocorrelation of the split model's residuals (pairs within one segment only).
  double a_left, b_left, a_right, b_right;
  prefix[best_k].Line(&a_left, &b_left);
  total.Minus(prefix[best_k]).Line(&a_right, &b_right);
  double num = 0.0;
  double den = 0.0;
  double prev = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const bool right = i >= best_k;
    const double e = zs[i] - (right ? a_right + b_right * xs[i] : a_left + b_left * xs[i]);
    den += e * e;
    if (i > 0 && i != best_k) num += e * prev;
    prev = e;
  }
  const double rho = den > 0 ? std::clamp(num / den, 0.0, 0.98) : 0.0;

  const double variance =
      std::max(best_sse / static_cast<double>(n - 4), options.noise_floor * options.noise_floor);
  const double f = ((sse_one - best_sse) / 2.0) / variance / AutocorrelationInflation(rho);
  if (!(f >= options.min_f)) return std::nullopt;

  // Location: clipping flattens a change in slope into a plateau that starts where the new
  // regime leaves the ±winsor_k·σ band, not where it begins. Within ±min_segment of the
  // detected split, the least-squares break date of the unclipped residuals (Bai 1994) is used.
  std::vector<Sums> raw(n + 1);
  for (size_t i = 0; i < n; ++i) {
    raw[i + 1] = raw[i];
    raw[i + 1].Add(xs[i], residuals[i]);
  }
  const size_t lo = std::max(m, best_k > m ? best_k - m : 0);
  const size_t hi = std::min(n - m, best_k + m);
  size_t refined = best_k;
  double refined_sse = std::numeric_limits<double>::infinity();
  for (size_t k = lo; k <= hi; ++k) {
    const double sse = raw[k].Sse() + raw[n].Minus(raw[k]).Sse();
    if (sse < refined_sse) {
      refined_sse = sse;
      refined = k;
    }
  }
  return ChangePoint{refined, f, rho};
}

}  // namespace accord::collector::capacity
