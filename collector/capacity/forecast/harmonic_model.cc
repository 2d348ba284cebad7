#include "collector/capacity/forecast/harmonic_model.h"

#include <cassert>
#include <cmath>
#include <utility>

namespace accord::collector::capacity {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// cos/sin of k·θ for k = 1..harmonics from cos/sin θ, interleaved, starting at out[0].
void WriteFromBase(double c1, double s1, int harmonics, double* out) {
  double c = c1;
  double s = s1;
  for (int k = 0; k < harmonics; ++k) {
    out[2 * k] = c;
    out[2 * k + 1] = s;
    const double next_c = c * c1 - s * s1;
    const double next_s = s * c1 + c * s1;
    c = next_c;
    s = next_s;
  }
}

// The phase of t in [0, 2π) for `period`; exact reduction (fmod) keeps full precision for
// t ≈ 1.7e9.
double Phase(double t, double period) { return kTwoPi * (std::fmod(t, period) / period); }

}  // namespace

HarmonicBasisWriter::HarmonicBasisWriter(const HarmonicShape& shape, double origin, double scale)
    : shape_(shape),
      origin_(origin),
      scale_(scale),
      base_period_(shape.weekly_harmonics > 0
                       ? kSecondsPerWeek
                       : (shape.daily_harmonics > 0 ? kSecondsPerDay : 0.0)) {}

void HarmonicBasisWriter::Anchor(double t) {
  const double theta = Phase(t, base_period_);
  c_ = std::cos(theta);
  s_ = std::sin(theta);
  since_anchor_ = 0;
}

void HarmonicBasisWriter::Write(double t, double* row) {
  row[0] = 1.0;
  row[1] = (t - origin_) / scale_;
  if (base_period_ <= 0) return;
  if (!have_previous_) {
    Anchor(t);
  } else {
    const double step = t - previous_t_;
    if (step != previous_step_) {
      const double delta = Phase(step, base_period_);
      step_c_ = std::cos(delta);
      step_s_ = std::sin(delta);
      previous_step_ = step;
      Anchor(t);
    } else if (since_anchor_ >= 256) {
      Anchor(t);
    } else {
      const double c = c_ * step_c_ - s_ * step_s_;
      const double s = s_ * step_c_ + c_ * step_s_;
      c_ = c;
      s_ = s;
      ++since_anchor_;
    }
  }
  have_previous_ = true;
  previous_t_ = t;

  double* daily = row + 2;
  double* weekly = row + 2 + 2 * shape_.daily_harmonics;
  if (shape_.weekly_harmonics > 0) {
    // Weekly harmonics 1..Kw, and the 7th (the daily base) by repeated rotation.
    double c = c_;
    double s = s_;
    double dc = 1, ds = 0;  // cos/sin of the daily base once k reaches 7
    for (int k = 1; k <= 7; ++k) {
      if (k <= shape_.weekly_harmonics) {
        weekly[2 * (k - 1)] = c;
        weekly[2 * (k - 1) + 1] = s;
      }
      if (k == 7) {
        dc = c;
        ds = s;
        break;
      }
      const double next_c = c * c_ - s * s_;
      const double next_s = s * c_ + c * s_;
      c = next_c;
      s = next_s;
    }
    WriteFromBase(dc, ds, shape_.daily_harmonics, daily);
  } else {
    WriteFromBase(c_, s_, shape_.daily_harmonics, daily);
  }
}

void HarmonicBasis(const HarmonicShape& shape, double origin, double scale, double t, double* row) {
  HarmonicBasisWriter(shape, origin, scale).Write(t, row);
}

HarmonicModel::HarmonicModel() : origin_(0.0), scale_(1.0), coefficients_(2, 0.0) {}

HarmonicModel::HarmonicModel(HarmonicShape shape, double origin, double scale,
                             std::vector<double> coefficients)
    : shape_(shape), origin_(origin), scale_(scale), coefficients_(std::move(coefficients)) {
  assert(scale_ > 0);
  assert(static_cast<int>(coefficients_.size()) == shape_.num_coefficients());
}

double HarmonicModel::Trend(double t) const {
  return coefficients_[0] + coefficients_[1] * (t - origin_) / scale_;
}

double HarmonicModel::Seasonal(double t) const {
  if (!shape_.seasonal()) return 0.0;
  const int p = shape_.num_coefficients();
  double row[2 + 2 * 16];
  double* r = row;
  std::vector<double> heap;
  if (p > static_cast<int>(sizeof(row) / sizeof(row[0]))) {
    heap.resize(p);
    r = heap.data();
  }
  HarmonicBasis(shape_, origin_, scale_, t, r);
  double s = 0.0;
  for (int j = 2; j < p; ++j) s += coefficients_[j] * r[j];
  return s;
}

void HarmonicModel::SeasonalTable(double from, double step, size_t count,
                                  std::vector<double>* out) const {
  out->assign(count, 0.0);
  if (!shape_.seasonal()) return;
  const int p = shape_.num_coefficients();
  std::vector<double> row(p);
  HarmonicBasisWriter writer(shape_, origin_, scale_);
  for (size_t i = 0; i < count; ++i) {
    writer.Write(from + static_cast<double>(i) * step, row.data());
    double s = 0.0;
    for (int j = 2; j < p; ++j) s += coefficients_[j] * row[j];
    (*out)[i] = s;
  }
}

double HarmonicModel::Value(double t) const { return Trend(t) + Seasonal(t); }

}  // namespace accord::collector::capacity
