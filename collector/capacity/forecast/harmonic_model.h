// The shape of every capacity forecast: a linear trend plus Fourier (harmonic) terms for daily
// and weekly seasonality ("harmonic regression", Hyndman & Athanasopoulos, Forecasting:
// Principles and Practice, 3rd ed., §7.4 and §12.1):
//
//   v(t) = b0 + b1·u + Σ_{k=1..Kd} (c_k cos(2πk t/D) + s_k sin(2πk t/D))
//                    + Σ_{k=1..Kw} (c'_k cos(2πk t/W) + s'_k sin(2πk t/W)),   u = (t −
//                    origin)/scale
//
// with D = 1 day and W = 1 week. Phases are taken from absolute unix time, so a model fitted on
// one window can be evaluated anywhere (a seasonal component estimated before a step change
// stays valid after it). The trend is expressed in scaled time u so that fits on 5-second and
// 1-hour data are equally well conditioned; `slope_per_second()` converts back.
//
// Thread safety: HarmonicShape and HarmonicModel are values; const methods are safe from any
// thread.
#ifndef ACCORD_COLLECTOR_CAPACITY_FORECAST_HARMONIC_MODEL_H_
#define ACCORD_COLLECTOR_CAPACITY_FORECAST_HARMONIC_MODEL_H_

#include <cstddef>
#include <vector>

namespace accord::collector::capacity {

inline constexpr double kSecondsPerDay = 86400.0;
inline constexpr double kSecondsPerWeek = 7 * kSecondsPerDay;

// Which seasonal terms a model has. Coefficient layout (see HarmonicModel):
// [b0, b1, daily cos/sin for k=1..Kd interleaved, weekly cos/sin for k=1..Kw interleaved].
struct HarmonicShape {
  int daily_harmonics = 0;   // Kd ≥ 0. Kd = 4 resolves periods of 24, 12, 8 and 6 hours.
  int weekly_harmonics = 0;  // Kw ≥ 0; keep Kw < 7 (the 7th weekly harmonic is the daily one).

  int num_coefficients() const { return 2 + 2 * (daily_harmonics + weekly_harmonics); }
  bool seasonal() const { return daily_harmonics > 0 || weekly_harmonics > 0; }
  // The longest period present (seconds), or 0 for a trend-only shape.
  double longest_period() const {
    return weekly_harmonics > 0 ? kSecondsPerWeek : (daily_harmonics > 0 ? kSecondsPerDay : 0.0);
  }
};

// Writes the regressors of time `t` into row[0 .. shape.num_coefficients()). One sin/cos
// evaluation; the other harmonics by angle-addition recurrences.
// REQUIRES: scale > 0; `row` has room for shape.num_coefficients() values.
void HarmonicBasis(const HarmonicShape& shape, double origin, double scale, double t, double* row);

// Writes basis rows for a sequence of times, fast when they are equally spaced: a row whose
// time step equals the previous one rotates the previous row's base phases (no trigonometry),
// re-anchoring with exact sin/cos every 256 rows (the rotation error stays below 1e-13). The
// weekly base phase gives the daily one as its 7th harmonic, so an exact row costs one sin/cos.
// Not thread-safe (it keeps the previous row's phases); use one per thread.
class HarmonicBasisWriter {
 public:
  // REQUIRES: scale > 0.
  HarmonicBasisWriter(const HarmonicShape& shape, double origin, double scale);

  // Same result as HarmonicBasis(shape, origin, scale, t, row) up to rounding.
  void Write(double t, double* row);

 private:
  void Anchor(double t);

  HarmonicShape shape_;
  double origin_;
  double scale_;
  double base_period_;  // week if weekly terms, else day; 0 for trend-only
  bool have_previous_ = false;
  double previous_t_ = 0;
  double previous_step_ = 0;
  int since_anchor_ = 0;
  double c_ = 1, s_ = 0;            // cos/sin of the base phase at previous_t_
  double step_c_ = 1, step_s_ = 0;  // rotation by previous_step_
};

// A fitted model: shape, time origin and scale of the trend, and coefficients.
class HarmonicModel {
 public:
  // A zero model (trend-only, all coefficients 0) with origin 0 and scale 1.
  HarmonicModel();
  // REQUIRES: scale > 0; coefficients.size() == shape.num_coefficients().
  HarmonicModel(HarmonicShape shape, double origin, double scale, std::vector<double> coefficients);

  const HarmonicShape& shape() const { return shape_; }
  double origin() const { return origin_; }
  double scale() const { return scale_; }
  const std::vector<double>& coefficients() const { return coefficients_; }

  // b0 + b1·(t − origin)/scale.
  double Trend(double t) const;
  // The Fourier part at absolute time t (0 for a trend-only shape).
  double Seasonal(double t) const;
  // Trend(t) + Seasonal(t).
  double Value(double t) const;
  // Seasonal(from + i·step) for i in [0, count), into *out (resized), without trigonometry
  // per entry (HarmonicBasisWriter).
  void SeasonalTable(double from, double step, size_t count, std::vector<double>* out) const;
  // b1 / scale: the trend in ratio per second.
  double slope_per_second() const { return coefficients_[1] / scale_; }

 private:
  HarmonicShape shape_;
  double origin_;
  double scale_;
  std::vector<double> coefficients_;
};

}  // namespace accord::collector::capacity

#endif  // ACCORD_COLLECTOR_CAPACITY_FORECAST_HARMONIC_MODEL_H_
