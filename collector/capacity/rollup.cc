#include "collector/capacity/rollup.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"

namespace accord::collector::capacity {
namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(absl::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    uint64_t byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

// Nearest rank of quantile q among n values (1-based).
uint64_t Rank(double q, uint64_t n) {
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n) - 1e-9));
  return std::clamp<uint64_t>(rank, 1, n);
}

}  // namespace

void RatioHistogram::Add(double ratio, uint32_t count) {
  int b = static_cast<int>(std::floor(std::clamp(ratio, 0.0, 1.0) / kWidth));
  b = std::clamp(b, 0, kBuckets - 1);
  counts_[b] += count;
  total_ += count;
}

void RatioHistogram::Merge(const RatioHistogram& other) {
  for (int b = 0; b < kBuckets; ++b) counts_[b] += other.counts_[b];
  total_ += other.total_;
}

double RatioHistogram::Quantile(double q) const {
  uint64_t rank = Rank(q, total_);
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) return (b + 0.5) * kWidth;
  }
  return 1.0;
}

std::string RatioHistogram::Encode() const {
  std::string out;
  for (int b = 0; b < kBuckets; ++b) {
    if (counts_[b] == 0) continue;
    PutVarint(&out, static_cast<uint64_t>(b));
    PutVarint(&out, counts_[b]);
  }
  return out;
}

absl::StatusOr<RatioHistogram> RatioHistogram::Decode(absl::string_view bytes) {
  RatioHistogram h;
  while (!bytes.empty()) {
    uint64_t b, n;
    if (!GetVarint(&bytes, &b) || !GetVarint(&bytes, &n) || b >= kBuckets ||
        n > std::numeric_limits<uint32_t>::max()) {
      return absl::DataLossError("malformed capacity histogram");
    }
    h.counts_[b] += static_cast<uint32_t>(n);
    h.total_ += n;
  }
  return h;
}

void RollupRow::Merge(const RollupRow& other) {
  if (other.count == 0) return;
  if (count == 0) {
    min = other.min;
    max = other.max;
  } else {
    min = std::min(min, other.min);
    max = std::max(max, other.max);
  }
  count += other.count;
  sum += other.sum;
  capacity_sum += other.capacity_sum;
}

RollupRow HourFromMinutes(int64_t hour_start, const std::vector<RollupRow>& minutes, bool ratio) {
  RollupRow hour;
  hour.start = hour_start;
  RatioHistogram hist;
  for (const RollupRow& m : minutes) {
    if (m.count == 0) continue;
    if (hour.count == 0) {
      hour.min = m.min;
      hour.max = m.max;
    } else {
      hour.min = std::min(hour.min, m.min);
      hour.max = std::max(hour.max, m.max);
    }
    ++hour.count;
    hour.sum += m.mean();
    hour.capacity_sum += m.mean_capacity();
    if (ratio) hist.Add(m.mean());
  }
  if (ratio) hour.histogram = hist.Encode();
  return hour;
}

WindowStats StatsFromMinutes(const std::vector<RollupRow>& minutes) {
  WindowStats s;
  std::vector<double> means;
  means.reserve(minutes.size());
  double sum = 0;
  for (const RollupRow& m : minutes) {
    if (m.count == 0) continue;
    double mean = m.mean();
    means.push_back(mean);
    sum += mean;
    s.max = means.size() == 1 ? m.max : std::max(s.max, m.max);
  }
  s.minutes = means.size();
  if (means.empty()) return s;
  s.mean = sum / static_cast<double>(means.size());
  PercentilesOfMeans(&means, &s);
  return s;
}

void PercentilesOfMeans(std::vector<double>* means, WindowStats* stats) {
  // The values a full sort would put at the two ranks: the p99 rank first, then the p95
  // rank among the values not above it.
  const size_t n = means->size();
  const size_t k99 = Rank(0.99, n) - 1;
  const size_t k95 = Rank(0.95, n) - 1;
  std::nth_element(means->begin(), means->begin() + k99, means->end());
  stats->p99 = (*means)[k99];
  if (k95 < k99) std::nth_element(means->begin(), means->begin() + k95, means->begin() + k99);
  stats->p95 = (*means)[k95];
}

WindowStats StatsFromHours(const std::vector<RollupRow>& hours) {
  HourStatsAccumulator acc;
  for (const RollupRow& h : hours) acc.AddRow(h);
  return acc.Finish();
}

void HourStatsAccumulator::AddRow(const RollupRow& hour) {
  if (hour.count == 0) return;
  auto decoded = RatioHistogram::Decode(hour.histogram);
  if (decoded.ok()) hist_.Merge(*decoded);
  AddHour(hour.count, hour.sum, hour.max);
}

void HourStatsAccumulator::AddHour(uint64_t minutes, double sum, double max) {
  stats_.max = stats_.minutes == 0 ? max : std::max(stats_.max, max);
  stats_.minutes += minutes;
  sum_ += sum;
}

WindowStats HourStatsAccumulator::Finish() const {
  WindowStats s = stats_;
  if (s.minutes == 0) return s;
  s.mean = sum_ / static_cast<double>(s.minutes);
  if (hist_.total() > 0) {
    s.p95 = hist_.Quantile(0.95);
    s.p99 = hist_.Quantile(0.99);
  } else {
    s.p95 = s.p99 = s.max;
  }
  return s;
}

uint16_t RecentRing::Encode(double mean) {
  return static_cast<uint16_t>(std::lround(std::clamp(mean, 0.0, kMaxValue) / kStep));
}

void RecentRing::CloseNewest() {
  const int slot = Slot(newest_);
  const int n = Count(slot);
  if (n > 0) storage_->mean[slot] = Encode(static_cast<double>(newest_sum_) / n);
  newest_sum_ = 0;
}

void RecentRing::Add(double t, double value) {
  if (!std::isfinite(value) || !std::isfinite(t)) return;
  value = std::clamp(value, 0.0, kMaxValue);
  const auto index = static_cast<int64_t>(std::floor(t / kBucketSeconds));
  if (storage_ == nullptr) {
    storage_ = std::make_unique<Storage>();
    newest_ = kNone;
  }
  if (newest_ == kNone || index >= newest_ + kBuckets) {
    // The first sample, or everything held is out of the window.
    *storage_ = Storage();
    newest_ = index;
    newest_sum_ = 0;
  } else if (index <= newest_ - kBuckets) {
    return;  // older than the window
  } else if (index > newest_) {
    CloseNewest();
    // Slots the window moves past are emptied for the indexes that now own them.
    for (int64_t i = newest_ + 1; i <= index; ++i) {
      const int slot = Slot(i);
      storage_->mean[slot] = 0;
      SetCount(slot, 0);
    }
    newest_ = index;
  }
  const int slot = Slot(index);
  const int n = Count(slot);
  if (n >= kMaxCount) return;
  SetCount(slot, n + 1);
  if (index == newest_) {
    newest_sum_ += static_cast<float>(value);
  } else {
    // A late sample joins a closed bucket's rounded mean.
    storage_->mean[slot] = Encode((Decode(storage_->mean[slot]) * n + value) / (n + 1));
  }
}

std::vector<RecentRing::Point> RecentRing::Points(double now) const {
  std::vector<Point> points;
  ForEachPoint(now, [&](double t, double v) { points.push_back({t, v}); });
  return points;
}

void RecentRing::ReleaseIfStale(double now) {
  if (storage_ == nullptr) return;
  const auto now_index = static_cast<int64_t>(std::floor(now / kBucketSeconds));
  if (newest_ == kNone || newest_ <= now_index - kBuckets) {
    storage_.reset();
    newest_ = kNone;
  }
}

}  // namespace accord::collector::capacity
