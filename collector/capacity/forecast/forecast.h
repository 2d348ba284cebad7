// Capacity forecasting: when will a utilisation ratio (CPU busy fraction, filesystem used
// fraction, memory, network) reach given levels such as 0.8, 0.9 and 1.0, and with what range?
// Pure math on values: no I/O, no clock (the caller passes `now`). docs/capacity.md
// ("Forecasting") states the method, the rules for every status and the backtest.
//
// In one paragraph: each resolution of the history (5-second, 1-minute, 1-hour means) with
// enough recent data is fitted with a robust (Huber) regression of a linear trend plus daily
// and weekly Fourier terms (those whose period the window covers at least twice); a two-phase
// regression scan finds the last level/slope change and the fit is redone on the data after it.
// The coarsest resolution whose fit agrees with the last 30 minutes of every finer resolution is
// used (long history when nothing changed, fine data when something just did). Crossings of the
// fitted curve give the times; bands from the coefficient covariance and the residual noise give
// the range. Flat, noisy and short series get a status instead of a number.
//
// Thread safety: pure functions; safe from any thread. Cost: a call with the full retention
// (9,600 hour, 10,080 minute and 360 five-second points) takes ≈ 2 ms when the hourly fit is
// chosen and ≈ 4.5 ms in the worst case (a fresh change: all three resolutions fitted, each
// with change-point rounds); bench/forecast_backtest.cc measures both.
#ifndef ACCORD_COLLECTOR_CAPACITY_FORECAST_FORECAST_H_
#define ACCORD_COLLECTOR_CAPACITY_FORECAST_FORECAST_H_

#include <optional>
#include <string>
#include <vector>

namespace accord::collector::capacity {

// One mean of a bucket. t: seconds (unix time), ideally the bucket's midpoint (a bucket start
// makes every forecast late by half a bucket); v: utilisation ratio (normally 0..1).
struct Point {
  double t;
  double v;
};

// The history at each resolution the collector keeps; any may be empty. Each vector is sorted by
// t. Non-finite points and points after `now` are ignored.
struct History {
  std::vector<Point> recent;   // 5-second means, up to the last 30 minutes
  std::vector<Point> minutes;  // 1-minute means, up to 7 days
  std::vector<Point> hours;    // 1-hour means, up to 400 days
};

struct ForecastOptions {
  // Crossings later than this are "not reached" (seconds absent).
  double max_horizon_seconds = 365 * 86400.0;
  // ... and later than max_extrapolation × (now − fitted_from) too: two minutes of data do not
  // speak for the next month. The effective horizon is reported in Forecast::horizon_seconds.
  double max_extrapolation = 50;
  // A resolution is usable when it has ≥ min_points finite points at or before `now`, spanning
  // ≥ min_span_steps of its step (5 s, 60 s, 3600 s), the last no older than
  // max_staleness_steps steps before `now`.
  int min_points = 12;
  double min_span_steps = 10;
  double max_staleness_steps = 6;
  // Seasonal terms: daily when the fitted window spans ≥ 2 days and the step is ≤ 1 hour,
  // weekly when it spans ≥ 14 days (hours only: minutes hold 7 days).
  int daily_harmonics = 4;   // periods 24, 12, 8, 6 h
  int weekly_harmonics = 3;  // periods 168, 84, 56 h
  // Huber tuning constant (σ units).
  double huber_k = 1.345;
  // σ is never taken below this (ratio units): noiseless series stay well defined.
  double noise_floor = 1e-4;
  // Status rules (docs/capacity.md): noisy when the residual scale σ exceeds max_noise; the
  // trend is significant when |slope| ≥ trend_z · its standard error (autocorrelation-adjusted).
  double max_noise = 0.1;
  double trend_z = 3.0;
  // Half-width of the reported range, in standard deviations (1.645: two-sided 90 %).
  // Keep range_z ≤ trend_z (then the late edge of the range rises monotonically).
  double range_z = 1.645;
  // Change points (changepoint.h): F threshold, clipping of the residuals (σ units) and the
  // minimum segment (min_points on each side). The clipping is also the persistence rule: a
  // change of any height gains at most ≈ 0.8·k²·σ² per point, so it needs ≈ 2·F/(0.8·k²)
  // points (22 with the defaults: 22 minutes of minute data, 110 s of 5-second data) before
  // it can be accepted; a shorter spike never is.
  double changepoint_min_f = 20;
  double changepoint_winsor_k = 1.5;
  int max_changepoints = 3;
  // Resolution choice: a coarse fit "disagrees" with a finer series when the median residual of
  // the finer series' points over the last agreement_window_seconds AND the median over its
  // last agreement_tail_seconds (at least agreement_min_points points each) are both beyond
  // max(agreement_sigmas × the combined standard error, min_disagreement), with the same
  // sign. So a log-rotation spike shorter than half the window, or one that has ended, never
  // moves the choice; a step or a runaway does once it covers half the window.
  double agreement_window_seconds = 1800;
  double agreement_tail_seconds = 60;
  double agreement_sigmas = 3.0;
  double min_disagreement = 0.01;
  int agreement_min_points = 6;
};

enum class ForecastStatus { kOk, kInsufficientData, kFlat, kNoisy };

// "ok", "insufficient_data", "flat", "noisy".
const char* ForecastStatusName(ForecastStatus status);

struct LevelForecast {
  double level = 0;
  // Seconds from `now` until the fitted curve first reaches `level`; 0 when it already has;
  // absent when not reached within the horizon.
  std::optional<double> seconds;
  // The range (two-sided range_z): low ≤ seconds ≤ high. low may be 0 (the level is within
  // the noise now). Both are capped at Forecast::horizon_seconds: a value equal to it means
  // "not within the horizon" for that edge.
  double low = 0;
  double high = 0;
};

struct Forecast {
  ForecastStatus status = ForecastStatus::kInsufficientData;
  // The fit used, e.g. "huber_linear_5s", "huber_harmonic_1m_daily",
  // "huber_harmonic_1h_daily_weekly"; "none" when no resolution was usable.
  std::string method = "none";
  // One sentence for humans: why the status, or what was chosen.
  std::string reason;
  // Trend of the chosen fit, ratio per day (0 when no fit).
  double slope_per_day = 0;
  // t of the first point used (after the last detected change point); 0 when no fit.
  double fitted_from = 0;
  // The effective horizon (seconds after now): min(max_horizon_seconds,
  // max_extrapolation × (now − fitted_from)). 0 when no fit.
  double horizon_seconds = 0;
  // The fitted value at `now` (trend plus seasonality) and the residual scale σ of the fit.
  double current = 0;
  double noise = 0;
  // One per requested level, same order; empty unless status == kOk.
  std::vector<LevelForecast> levels;
};

// Forecasts when the series described by `history` reaches each of `levels`, seen from `now`.
// Never fails: a history that supports no forecast yields kInsufficientData, kFlat or kNoisy
// with a reason. REQUIRES: the History vectors sorted by t.
Forecast ForecastExhaustion(const History& history, double now, const std::vector<double>& levels,
                            const ForecastOptions& options = {});

}  // namespace accord::collector::capacity

#endif  // ACCORD_COLLECTOR_CAPACITY_FORECAST_FORECAST_H_
