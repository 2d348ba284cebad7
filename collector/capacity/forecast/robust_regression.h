// Robust fitting of a HarmonicModel: Huber's M-estimator (Huber 1964, "Robust Estimation of a
// Location Parameter"), with the residual scale re-estimated each iteration as 1.4826·median|r|
// (the normalised MAD). Computed by Newton's method on the (piecewise quadratic, convex) Huber
// objective from the least-squares start, with step halving, falling back to an iteratively
// reweighted least-squares step when the points inside ±k·σ cannot determine the fit. Points whose
// residual exceeds k·σ get weight k·σ/|r|, so a log-rotation spike or a stray sample moves the fit
// by at most k·σ·(its leverage) however tall it is, while clean Gaussian data lose only ~5 %
// efficiency at k = 1.345. The Huber loss is convex, so the fit is unique and IRLS from the
// least-squares start converges without a tuning-dependent initial guess.
//
// Cost: one O(n·p²) pass for XᵀX, then O(n·p) per iteration plus O(p²) per down-weighted point
// (each Hessian is XᵀX minus the rows outside ±k·σ), and typically 3–8 iterations.
//
// Thread safety: pure function of its arguments; safe from any thread.
#ifndef ACCORD_COLLECTOR_CAPACITY_FORECAST_ROBUST_REGRESSION_H_
#define ACCORD_COLLECTOR_CAPACITY_FORECAST_ROBUST_REGRESSION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "collector/capacity/forecast/harmonic_model.h"

namespace accord::collector::capacity {

struct HuberOptions {
  // Huber's tuning constant in units of σ (1.345: 95 % efficiency under Gaussian noise).
  double k = 1.345;
  // Iteration stops when the fitted values move by less than tolerance·σ (far below the
  // statistical error), or after max_iterations.
  int max_iterations = 30;
  double tolerance = 1e-3;
  // Lower bound of σ (ratio units): a noiseless series (a tmpfs filled by a program) would
  // otherwise have σ = 0 and every test statistic would divide by zero.
  double noise_floor = 1e-4;
};

struct RobustFit {
  HarmonicModel model;
  // Robust residual scale σ = max(1.4826·median|r|·√(n/(n−p)), noise_floor).
  double sigma = 0;
  // Covariance of (b0, b1) in model units (b1 per unit of scaled time), from the asymptotic
  // M-estimator covariance σ²·E[ψ²]/E[ψ']²·(XᵀX)⁻¹ (Huber 1973), with σ²·E[ψ²]/E[ψ']² at
  // least noise_floor². Not corrected for
  // autocorrelation: multiply by AutocorrelationInflation(rho) for that.
  double var_b0 = 0;
  double cov_b0_b1 = 0;
  double var_b1 = 0;
  // Lag-1 autocorrelation of the clipped residuals ψ(r) in time order, clamped to [0, 0.98].
  double rho = 0;
  // (y − offset) − model(t) for each input point, in input order.
  std::vector<double> residuals;
  int iterations = 0;
};

// Fits `shape` with trend origin `origin` and scale `scale` to (t[i], y[i] − offset[i]).
// `offset` may be empty (no offset); otherwise offset.size() == t.size(). The returned model
// does not include the offset.
// Fails with kInvalidArgument when the inputs differ in length or there are fewer points than
// 2·coefficients, and with kFailedPrecondition when the design is singular (e.g. all t equal).
// REQUIRES: scale > 0; t sorted ascending (only the autocorrelation depends on the order).
absl::StatusOr<RobustFit> FitHuber(absl::Span<const double> t, absl::Span<const double> y,
                                   absl::Span<const double> offset, const HarmonicShape& shape,
                                   double origin, double scale, const HuberOptions& options = {});

// (1 + ρ)/(1 − ρ): the variance inflation of a mean (and of a trend) under AR(1) errors, i.e.
// n / n_effective (Bartlett 1935; used for trend tests by Zwiers & von Storch 1995).
double AutocorrelationInflation(double rho);

// Solves A·x = b for a symmetric positive definite p×p matrix (row-major, only the upper
// triangle is read) by Cholesky decomposition. Returns false when A is not positive definite
// (to working precision). Exposed for the change-point code and tests.
bool SolveSpd(int p, const double* a, const double* b, double* x);

}  // namespace accord::collector::capacity

#endif  // ACCORD_COLLECTOR_CAPACITY_FORECAST_ROBUST_REGRESSION_H_
