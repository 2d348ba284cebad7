#include "collector/capacity/forecast/robust_regression.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/status/status.h"

namespace accord::collector::capacity {
namespace {

constexpr double kMadToSigma = 1.482602218505602;  // 1 / Φ⁻¹(3/4)
constexpr int kMaxCoefficients = 32;

// Adds w·x·xᵀ to the upper triangle of a and (when b is not null) w·x·y to b.
void Accumulate(int p, const double* x, double y, double w, double* a, double* b) {
  for (int i = 0; i < p; ++i) {
    const double wxi = w * x[i];
    if (b != nullptr) b[i] += wxi * y;
    double* row = a + i * p;
    for (int j = i; j < p; ++j) row[j] += wxi * x[j];
  }
}

// 1.4826·median|r| (r is scratch: reordered).
double MadScale(std::vector<double>* abs_r) {
  if (abs_r->empty()) return 0.0;
  const size_t mid = abs_r->size() / 2;
  std::nth_element(abs_r->begin(), abs_r->begin() + mid, abs_r->end());
  double med = (*abs_r)[mid];
  if (abs_r->size() % 2 == 0) {
    med = 0.5 * (med + *std::max_element(abs_r->begin(), abs_r->begin() + mid));
  }
  return kMadToSigma * med;
}

}  // namespace

bool SolveSpd(int p, const double* a, const double* b, double* x) {
  // L·Lᵀ = A, stored in l (lower triangle, row-major).
  double l[kMaxCoefficients * kMaxCoefficients];
  if (p <= 0 || p > kMaxCoefficients) return false;
  for (int i = 0; i < p; ++i) {
    for (int j = 0; j <= i; ++j) {
      double s = a[j * p + i];  // upper triangle: A[j][i] with j ≤ i
      for (int k = 0; k < j; ++k) s -= l[i * p + k] * l[j * p + k];
      if (i == j) {
        // Relative pivot test: a column that is (nearly) a combination of the previous ones.
        if (!(s > 1e-12 * std::max(a[i * p + i], 1e-300))) return false;
        l[i * p + i] = std::sqrt(s);
      } else {
        l[i * p + j] = s / l[j * p + j];
      }
    }
  }
  double z[kMaxCoefficients];
  for (int i = 0; i < p; ++i) {
    double s = b[i];
    for (int k = 0; k < i; ++k) s -= l[i * p + k] * z[k];
    z[i] = s / l[i * p + i];
  }
  for (int i = p - 1; i >= 0; --i) {
    double s = z[i];
    for (int k = i + 1; k < p; ++k) s -= l[k * p + i] * x[k];
    x[i] = s / l[i * p + i];
  }
  return true;
}

double AutocorrelationInflation(double rho) {
  const double r = std::clamp(rho, 0.0, 0.98);
  return (1.0 + r) / (1.0 - r);
}

absl::StatusOr<RobustFit> FitHuber(absl::Span<const double> t, absl::Span<const double> y,
                                   absl::Span<const double> offset, const HarmonicShape& shape,
                                   double origin, double scale, const HuberOptions& options) {
  const int p = shape.num_coefficients();
  const size_t n = t.size();
  if (y.size() != n || (!offset.empty() && offset.size() != n)) {
    return absl::InvalidArgumentError("t, y and offset differ in length");
  }
  if (p > kMaxCoefficients) return absl::InvalidArgumentError("too many harmonics");
  if (n < static_cast<size_t>(2 * p)) {
    return absl::InvalidArgumentError("fewer than 2 points per coefficient");
  }

  // Design matrix (row-major) and the response.
  std::vector<double> x(n * p);
  std::vector<double> yy(n);
  HarmonicBasisWriter writer(shape, origin, scale);
  for (size_t i = 0; i < n; ++i) {
    writer.Write(t[i], &x[i * p]);
    yy[i] = offset.empty() ? y[i] : y[i] - offset[i];
  }

  double a0[kMaxCoefficients * kMaxCoefficients] = {};
  double b0[kMaxCoefficients] = {};
  for (size_t i = 0; i < n; ++i) Accumulate(p, &x[i * p], yy[i], 1.0, a0, b0);

  std::vector<double> beta(p);
  if (!SolveSpd(p, a0, b0, beta.data())) {
    return absl::FailedPreconditionError("singular design (too little spread in time)");
  }

  std::vector<double> r(n);
  std::vector<double> abs_r(n);
  auto compute_residuals = [&](const std::vector<double>& b) {
    for (size_t i = 0; i < n; ++i) {
      const double* xi = &x[i * p];
      double f = 0.0;
      for (int j = 0; j < p; ++j) f += xi[j] * b[j];
      r[i] = yy[i] - f;
    }
  };
  auto scale_of_residuals = [&] {
    for (size_t i = 0; i < n; ++i) abs_r[i] = std::fabs(r[i]);
    return std::max(MadScale(&abs_r), options.noise_floor);
  };
  // Huber's objective Σρ(r_i) at threshold `cut` (ρ(r) = r²/2 inside, cut·|r| − cut²/2 outside).
  auto objective = [&](double cut) {
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
      const double ar = std::fabs(r[i]);
      sum += ar <= cut ? 0.5 * ar * ar : cut * ar - 0.5 * cut * cut;
    }
    return sum;
  };

  // Newton's method on the Huber objective (piecewise quadratic: the Hessian XᵀDX has D = 1 for
  // the points inside ±k·σ, so a step is exact once that set stops changing), with σ re-estimated
  // from the residuals before each step and step halving if the objective does not decrease.
  // When the inside points alone cannot determine the fit, an IRLS step (weights k·σ/|r|) is
  // taken instead.
  compute_residuals(beta);
  double sigma = scale_of_residuals();
  int iterations = 0;
  std::vector<double> trial(p);
  // The Hessian XᵀDX is kept up to date incrementally: only points that cross ±k·σ between
  // iterations change it (after the first few iterations, a handful).
  std::vector<char> outside(n, 0);
  double hessian[kMaxCoefficients * kMaxCoefficients];
  std::copy(a0, a0 + p * p, hessian);
  for (; iterations < options.max_iterations; ++iterations) {
    const double cut = options.k * sigma;
    double g[kMaxCoefficients] = {};
    size_t num_outside = 0;
    for (size_t i = 0; i < n; ++i) {
      const double* xi = &x[i * p];
      const double ar = std::fabs(r[i]);
      const bool out = ar > cut;
      const double psi = out ? (r[i] > 0 ? cut : -cut) : r[i];
      for (int j = 0; j < p; ++j) g[j] += xi[j] * psi;
      if (out != static_cast<bool>(outside[i])) {
        Accumulate(p, xi, 0.0, out ? -1.0 : 1.0, hessian, nullptr);
        outside[i] = out;
      }
      num_outside += out;
    }
    if (num_outside == 0) {
      ++iterations;
      break;  // least squares is the Huber fit
    }
    double delta[kMaxCoefficients];
    if (!SolveSpd(p, hessian, g, delta)) {
      // IRLS step: weights min(1, cut/|r|).
      double irls_a[kMaxCoefficients * kMaxCoefficients];
      double irls_b[kMaxCoefficients];
      std::copy(a0, a0 + p * p, irls_a);
      std::copy(b0, b0 + p, irls_b);
      for (size_t i = 0; i < n; ++i) {
        const double ar = std::fabs(r[i]);
        if (ar > cut) Accumulate(p, &x[i * p], yy[i], -(1.0 - cut / ar), irls_a, irls_b);
      }
      if (!SolveSpd(p, irls_a, irls_b, trial.data())) break;
      for (int j = 0; j < p; ++j) delta[j] = trial[j] - beta[j];
    }
    const double before = objective(cut);
    double step = 1.0;
    for (int halving = 0; halving < 8; ++halving, step *= 0.5) {
      for (int j = 0; j < p; ++j) trial[j] = beta[j] + step * delta[j];
      compute_residuals(trial);
      if (objective(cut) <= before * (1 + 1e-12)) break;
    }
    double change = 0.0;
    for (int j = 0; j < p; ++j) change += std::fabs(trial[j] - beta[j]);
    std::swap(beta, trial);
    // σ follows the residuals for the first iterations, then is held (its changes are then
    // negligible, and the median is the costliest part of an iteration).
    if (iterations < 3) sigma = scale_of_residuals();
    // Every regressor is bounded by max(1, |u|) where |u| ≲ 1, so Σ|Δβ| bounds the change of
    // any fitted value (up to that factor).
    if (change < options.tolerance * sigma) {
      ++iterations;
      break;
    }
  }

  // Small-sample correction: residuals of a p-parameter fit understate the noise by √((n−p)/n).
  for (size_t i = 0; i < n; ++i) abs_r[i] = std::fabs(r[i]);
  sigma =
      std::max(MadScale(&abs_r) * std::sqrt(static_cast<double>(n) / static_cast<double>(n - p)),
               options.noise_floor);
  RobustFit fit;
  fit.iterations = iterations;
  fit.sigma = sigma;

  // Asymptotic covariance: σ²·E[ψ²]/E[ψ']² (XᵀX)⁻¹ with ψ the clipped residual in σ units.
  const double cut = options.k * sigma;
  double sum_psi2 = 0.0;
  size_t inside = 0;
  double lag_num = 0.0;
  double prev_psi = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double psi = std::clamp(r[i], -cut, cut);
    sum_psi2 += psi * psi;
    if (std::fabs(r[i]) <= cut) ++inside;
    if (i > 0) lag_num += psi * prev_psi;
    prev_psi = psi;
  }
  const double frac_inside = std::max(static_cast<double>(inside) / n, 0.05);
  // The noise floor bounds the covariance too: a noiseless series has no significant rounding.
  const double s2 = std::max((sum_psi2 / static_cast<double>(n - p)) / (frac_inside * frac_inside),
                             options.noise_floor * options.noise_floor);
  double e0[kMaxCoefficients] = {};
  double e1[kMaxCoefficients] = {};
  double col0[kMaxCoefficients];
  double col1[kMaxCoefficients];
  e0[0] = 1.0;
  e1[1] = 1.0;
  if (!SolveSpd(p, a0, e0, col0) || !SolveSpd(p, a0, e1, col1)) {
    return absl::FailedPreconditionError("singular design");
  }
  fit.var_b0 = s2 * col0[0];
  fit.cov_b0_b1 = s2 * col0[1];
  fit.var_b1 = s2 * col1[1];
  fit.rho = sum_psi2 > 0 ? std::clamp(lag_num / sum_psi2, 0.0, 0.98) : 0.0;
  fit.residuals = std::move(r);
  fit.model = HarmonicModel(shape, origin, scale, std::move(beta));
  return fit;
}

}  // namespace accord::collector::capacity
