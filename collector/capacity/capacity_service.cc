#include "collector/capacity/capacity_service.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <set>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/logging.h"
#include "common/prom_text.h"

namespace accord::collector::capacity {
namespace {

constexpr double kFull = 1.0;

double Seconds(absl::Time t) { return absl::ToDoubleSeconds(t - absl::UnixEpoch()); }
int64_t MinuteStart(double t) { return static_cast<int64_t>(std::floor(t / 60.0)) * 60; }

CapacityResource ResourceOf(Kind kind) {
  switch (kind) {
    case Kind::kCpu:
      return CapacityResource::kCpu;
    case Kind::kMemory:
      return CapacityResource::kMemory;
    case Kind::kSwap:
      return CapacityResource::kSwap;
    case Kind::kFilesystem:
      return CapacityResource::kFilesystem;
    case Kind::kInodes:
      return CapacityResource::kInodes;
    case Kind::kNetwork:
    case Kind::kDemand:
      return CapacityResource::kNetwork;
  }
  return CapacityResource::kCpu;
}

bool IsPooled(Kind kind) {
  return kind == Kind::kCpu || kind == Kind::kMemory || kind == Kind::kNetwork;
}

Status StatusFor(double value, const CapacityThreshold& t) {
  if (value >= t.critical) return Status::kCritical;
  if (value >= t.warning) return Status::kWarning;
  return Status::kOk;
}

// `statistic` of a window with data; `current` for kCurrent.
double WindowStatistic(const WindowStats& stats, CapacityStatistic statistic, double current) {
  switch (statistic) {
    case CapacityStatistic::kMean:
      return stats.mean;
    case CapacityStatistic::kP95:
      return stats.p95;
    case CapacityStatistic::kP99:
      return stats.p99;
    case CapacityStatistic::kMax:
      return stats.max;
    case CapacityStatistic::kCurrent:
      break;
  }
  return current;
}

// The statistic `t` names, from the report's windows (or the latest value).
double StatisticValue(const ResourceReport& r, const CapacityThreshold& t) {
  if (t.statistic == CapacityStatistic::kCurrent) return r.utilization;
  for (const auto& [window, stats] : r.windows) {
    if (window != t.window || stats.minutes == 0) continue;
    return WindowStatistic(stats, t.statistic, r.utilization);
  }
  return r.utilization;  // no history yet: the latest value is all there is
}

// The earliest crossing of any level, or infinity.
double EarliestCrossing(const Forecast& f) {
  double best = INFINITY;
  if (f.status != ForecastStatus::kOk) return best;
  for (const LevelForecast& l : f.levels) {
    if (l.seconds.has_value()) best = std::min(best, *l.seconds);
  }
  return best;
}

std::vector<Point> ToPoints(const std::vector<RollupRow>& rows, double period) {
  std::vector<Point> points;
  points.reserve(rows.size());
  for (const RollupRow& r : rows) {
    if (r.count > 0) points.push_back({static_cast<double>(r.start) + period / 2, r.mean()});
  }
  return points;
}

// Rows of a pooled series: per period, sum(mean x capacity) / sum(capacity) over the members
// that reported in it (a member missing from a period is left out of both sums, so the ratio
// stays that of the hosts present).
struct PoolCell {
  double used = 0, capacity = 0;
  uint32_t min_count = 0;  // the smallest member row count (minutes of an hour row)
  int members = 0;
};
using Pool = std::map<int64_t, PoolCell>;
void AddToPool(Pool& pool, const std::vector<RollupRow>& rows) {
  for (const RollupRow& r : rows) {
    if (r.count == 0) continue;
    PoolCell& c = pool[r.start];
    double cap = r.mean_capacity();
    c.used += r.mean() * cap;
    c.capacity += cap;
    c.min_count = c.members == 0 ? r.count : std::min(c.min_count, r.count);
    ++c.members;
  }
}
// Minute rows: one pooled value each. Hour rows (`hours`): weighted like a host's hour row
// (count = the minutes it stands for, a histogram of that many pooled means), so stored and
// freshly derived hours weigh the same in a 30-day window.
std::vector<RollupRow> PoolRows(const Pool& pool, bool hours) {
  std::vector<RollupRow> rows;
  for (const auto& [start, c] : pool) {
    if (c.members == 0 || c.capacity <= 0) continue;
    RollupRow r;
    r.start = start;
    const double v = c.used / c.capacity;
    const uint32_t n = hours ? std::max<uint32_t>(c.min_count, 1) : 1;
    r.count = n;
    r.sum = v * n;
    r.min = r.max = v;
    r.capacity_sum = c.capacity * n;
    if (hours) {
      RatioHistogram hist;
      hist.Add(v, n);
      r.histogram = hist.Encode();
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<double> Levels(const CapacityThreshold& t) { return {t.warning, t.critical, kFull}; }

// Statistics of the rows with start >= from, as StatsFromMinutes would give for them (no
// copies; `means` is scratch).
WindowStats MinuteStats(const std::vector<RollupRow>& rows, double from,
                        std::vector<double>* means) {
  WindowStats s;
  means->clear();
  double sum = 0;
  for (const RollupRow& m : rows) {
    if (static_cast<double>(m.start) < from || m.count == 0) continue;
    double mean = m.mean();
    means->push_back(mean);
    sum += mean;
    s.max = means->size() == 1 ? m.max : std::max(s.max, m.max);
  }
  s.minutes = means->size();
  if (means->empty()) return s;
  s.mean = sum / static_cast<double>(means->size());
  PercentilesOfMeans(means, &s);
  return s;
}

// Statistics over the hours of `hours` from `from` plus the hours not derived yet, from
// their minutes, as StatsFromHours would give for those rows and HourFromMinutes' hours (same
// order of summation), without encoding the fresh hours' histograms. REQUIRES: `minutes`
// sorted by start.
WindowStats HourStats(const std::vector<RollupRow>& minutes, const std::vector<RollupRow>& hours,
                      double from) {
  HourStatsAccumulator acc;
  int64_t covered = INT64_MIN;
  for (const RollupRow& h : hours) {
    if (static_cast<double>(h.start) < from) continue;
    covered = std::max(covered, h.start + 3600);
    acc.AddRow(h);
  }
  // The hours not derived yet, one at a time (minutes are sorted, so an hour's are adjacent).
  size_t i = 0;
  while (i < minutes.size()) {
    const RollupRow& m0 = minutes[i];
    if (m0.start < covered || static_cast<double>(m0.start) < from) {
      ++i;
      continue;
    }
    const int64_t hour = m0.start / 3600 * 3600;
    uint32_t count = 0;
    double hour_sum = 0, hour_max = 0;
    for (; i < minutes.size() && minutes[i].start / 3600 * 3600 == hour; ++i) {
      const RollupRow& m = minutes[i];
      if (m.count == 0 || m.start < covered || static_cast<double>(m.start) < from) continue;
      hour_max = count == 0 ? m.max : std::max(hour_max, m.max);
      ++count;
      hour_sum += m.mean();
      acc.histogram().Add(m.mean());
    }
    if (count > 0) acc.AddHour(count, hour_sum, hour_max);
  }
  return acc.Finish();
}

std::vector<std::pair<absl::Duration, WindowStats>> Windows(double now,
                                                            const std::vector<RollupRow>& minutes,
                                                            const std::vector<RollupRow>& hours,
                                                            bool ratio) {
  std::vector<std::pair<absl::Duration, WindowStats>> out;
  std::vector<double> means;
  for (absl::Duration w : kWindows) {
    double from = now - absl::ToDoubleSeconds(w);
    WindowStats s;
    if (w <= absl::Hours(24 * 7)) {
      s = MinuteStats(minutes, from, &means);
    } else if (ratio) {
      s = HourStats(minutes, hours, from);
    }
    if (s.minutes > 0) out.emplace_back(w, s);
  }
  return out;
}

void Fill(ResourceReport& r, const CapacityThreshold& threshold) {
  r.threshold = threshold;
  r.value = StatisticValue(r, threshold);
  r.status = StatusFor(r.value, threshold);
}

}  // namespace

std::string WindowName(absl::Duration window) {
  if (window >= absl::Hours(24)) return absl::StrCat(window / absl::Hours(24), "d");
  return absl::StrCat(window / absl::Hours(1), "h");
}

const char* StatusName(Status status) {
  switch (status) {
    case Status::kOk:
      return "ok";
    case Status::kWarning:
      return "warning";
    case Status::kCritical:
      return "critical";
  }
  return "ok";
}

// Pending minutes a series holds without a heap allocation: with the default flush_after
// (90 s) at most three minutes wait.
constexpr size_t kInlineMinutes = 3;

// One minute of a series not yet handed to the store.
struct PendingMinute {
  int64_t start() const { return static_cast<int64_t>(minute) * 60; }
  int32_t minute = 0;  // start / 60 (40 bytes a minute)
  uint32_t count = 0;
  double sum = 0, min = 0, max = 0, capacity_sum = 0;

  void Add(double value, double capacity) { AddObservation(*this, value, capacity); }
  RollupRow Row() const {
    RollupRow r;
    r.start = start();
    r.count = count;
    r.sum = sum;
    r.min = min;
    r.max = max;
    r.capacity_sum = capacity_sum;
    return r;
  }
};

// The forecast from the last refresh, as far as the fast path uses it.
struct CachedForecast {
  ForecastStatus status = ForecastStatus::kInsufficientData;
  uint8_t levels = 0;
  const std::string* method = nullptr;
  double seconds[3] = {NAN, NAN, NAN};  // NaN: not reached
  double at = 0;                        // when it was computed (seconds since the epoch)
};

struct CapacityService::Series {
  // The latest observation.
  double last_t = 0;
  double last_value = 0;
  double last_capacity = 0;
  bool has_last = false;
  bool has_slow = false;  // `slow` and `windows` are set (after a refresh)
  RecentRing recent;
  // Unflushed minutes, by start (usually the last two or three).
  absl::InlinedVector<PendingMinute, kInlineMinutes> pending;
  // From the last refresh from the store: the statistics of each of kWindows (minutes 0:
  // no data), and the forecast.
  WindowStats windows[std::size(kWindows)];
  CachedForecast slow;

  PendingMinute& MinuteAt(int64_t start) {
    const auto minute = static_cast<int32_t>(start / 60);
    auto it = pending.end();
    while (it != pending.begin() && (it - 1)->minute >= minute) --it;
    if (it != pending.end() && it->minute == minute) return *it;
    it = pending.insert(it, PendingMinute());
    it->minute = minute;
    return *it;
  }
};

struct CapacityService::HostState {
  HostUtilisation util;
  std::vector<std::unique_ptr<Series>> series;  // by HostUtilisation series id; null: none
  // Demand series: name{labels} -> (name, labels).
  std::map<std::string, std::pair<std::string, std::map<std::string, std::string>>> custom;
  absl::Time refreshed_at = absl::InfinitePast();
  int64_t first_pending = INT64_MAX;  // the earliest pending minute of its series

  Series* Find(const SeriesRef& ref) {
    int64_t id = util.FindSeries(ref);
    return id < 0 || static_cast<size_t>(id) >= series.size() ? nullptr : series[id].get();
  }
};

CapacityService::CapacityService(HostRegistry& registry, Clock& clock, RollupStore* store,
                                 CapacityOptions options)
    : registry_(registry), clock_(clock), store_(store), options_(options) {}

CapacityService::~CapacityService() { Stop(); }

void CapacityService::Start() {
  stop_ = std::make_unique<absl::Notification>();
  thread_ = std::thread([this] {
    while (!stop_->WaitForNotificationWithTimeout(absl::Seconds(1))) RunOnce();
  });
}

void CapacityService::Stop() {
  if (!thread_.joinable()) return;
  stop_->Notify();
  thread_.join();
  Flush(clock_.Now(), /*all=*/true);
}

std::shared_ptr<const Catalogue> CapacityService::catalogue() const {
  absl::MutexLock lock(&catalogue_mu_);
  return catalogue_;
}

void CapacityService::SetCatalogue(std::shared_ptr<const Catalogue> catalogue) {
  absl::flat_hash_set<std::string> demand;
  if (catalogue != nullptr) {
    for (const Service& s : catalogue->services) {
      if (s.capacity.demand.has_value()) demand.insert(s.capacity.demand->metric);
    }
  }
  {
    absl::MutexLock lock(&catalogue_mu_);
    catalogue_ = std::move(catalogue);
  }
  absl::MutexLock lock(&mu_);
  demand_metrics_ = std::move(demand);
  for (auto& [id, host] : hosts_) host->util.SetDemandMetrics(demand_metrics_);
}

void CapacityService::OnSeries(const std::string& host, uint32_t slot,
                               const SeriesDescriptor& desc) {
  absl::MutexLock lock(&mu_);
  auto& state = hosts_[host];
  if (state == nullptr) {
    state = std::make_unique<HostState>();
    state->util.SetDemandMetrics(demand_metrics_);
  }
  state->util.OnSeries(slot, desc);
  if (!absl::StartsWith(desc.name, "accord_")) {
    std::map<std::string, std::string> labels(desc.labels.begin(), desc.labels.end());
    state->custom[CustomSeriesKey(desc)] = {desc.name, std::move(labels)};
  }
}

void CapacityService::OnSamples(const std::string& host, uint64_t sequence, int64_t timestamp_ms,
                                const std::vector<uint32_t>& slots,
                                const std::vector<double>& values) {
  absl::MutexLock lock(&mu_);
  auto it = hosts_.find(host);
  if (it == hosts_.end()) return;
  HostState& state = *it->second;
  std::vector<Observation>& obs = observations_;
  obs.clear();
  state.util.OnSamples(sequence, timestamp_ms, slots, values, &obs);
  if (obs.empty()) return;
  if (state.series.size() < state.util.series_count()) {
    state.series.resize(state.util.series_count());
  }
  const double oldest = Seconds(clock_.Now() - options_.minute_retention);
  for (const Observation& o : obs) {
    // Stored sums must stay finite (SQLite stores NaN as NULL): a demand value beyond
    // +-1e15 is not a real business volume.
    if (o.t < oldest || !std::isfinite(o.value) || std::abs(o.value) > 1e15 ||
        !std::isfinite(o.capacity)) {
      continue;
    }
    auto& series = state.series[o.series];
    if (series == nullptr) {
      series = std::make_unique<Series>();
      ++stats_.series;
    }
    ++stats_.observations;
    if (IsRatio(o.kind)) series->recent.Add(o.t, o.value);
    const int64_t minute = MinuteStart(o.t);
    series->MinuteAt(minute).Add(o.value, o.capacity);
    state.first_pending = std::min(state.first_pending, minute);
    first_pending_ = std::min(first_pending_, minute);
    if (!series->has_last || o.t >= series->last_t) {
      series->last_t = o.t;
      series->last_value = o.value;
      series->last_capacity = o.capacity;
      series->has_last = true;
    }
  }
}

void CapacityService::Flush(absl::Time now, bool all) {
  std::vector<MinuteWrite> writes;
  const int64_t limit = static_cast<int64_t>(Seconds(now - options_.flush_after)) - 60;
  size_t rows = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!all && first_pending_ > limit) return;  // no minute is due yet
    int64_t first_left = INT64_MAX;
    for (auto& [host, state] : hosts_) {
      if (!all && state->first_pending > limit) {
        first_left = std::min(first_left, state->first_pending);
        continue;
      }
      int64_t host_left = INT64_MAX;
      for (size_t id = 0; id < state->series.size(); ++id) {
        Series* series = state->series[id].get();
        if (series == nullptr || series->pending.empty()) continue;
        size_t due = 0;
        while (due < series->pending.size() && (all || series->pending[due].start() <= limit))
          ++due;
        if (due < series->pending.size())
          host_left = std::min(host_left, series->pending[due].start());
        if (due == 0) continue;
        MinuteWrite w;
        w.minutes.reserve(due);
        for (size_t i = 0; i < due; ++i) w.minutes.push_back(series->pending[i].Row());
        series->pending.erase(series->pending.begin(), series->pending.begin() + due);
        // After a backlog the buffer goes back inline.
        if (series->pending.capacity() > kInlineMinutes &&
            series->pending.size() <= kInlineMinutes) {
          series->pending.shrink_to_fit();
        }
        rows += due;
        w.host = host;
        w.series = state->util.series(static_cast<uint32_t>(id));
        writes.push_back(std::move(w));
      }
      state->first_pending = host_left;
      first_left = std::min(first_left, host_left);
    }
    first_pending_ = first_left;
    stats_.minutes_written += rows;
  }
  if (!writes.empty() && store_ != nullptr) store_->MergeMinutes(std::move(writes), now);
}

absl::StatusOr<std::vector<RollupRow>> CapacityService::Minutes(const std::string& host,
                                                                const SeriesRef& ref,
                                                                absl::Time from, absl::Time to) {
  std::vector<RollupRow> rows;
  if (store_ != nullptr) {
    auto stored = store_->LoadMinutes(host, ref, from, to);
    if (!stored.ok()) {
      absl::MutexLock lock(&mu_);
      ++stats_.store_errors;
      return stored.status();
    }
    rows = std::move(*stored);
  }
  // Stored rows come oldest first with distinct starts; make sure of it before merging.
  auto by_start = [](const RollupRow& a, const RollupRow& b) { return a.start < b.start; };
  if (!std::is_sorted(rows.begin(), rows.end(), by_start)) {
    std::stable_sort(rows.begin(), rows.end(), by_start);
  }
  // (A repeated start keeps the last row, as a map assignment would.)
  for (size_t i = 1; i < rows.size();) {
    if (rows[i].start == rows[i - 1].start) {
      rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(i) - 1);
    } else {
      ++i;
    }
  }
  const int64_t lo = static_cast<int64_t>(Seconds(from));
  const int64_t hi = static_cast<int64_t>(Seconds(to));
  {
    absl::MutexLock lock(&mu_);
    auto h = hosts_.find(host);
    Series* series = h != hosts_.end() ? h->second->Find(ref) : nullptr;
    if (series != nullptr) {
      for (const PendingMinute& p : series->pending) {
        const int64_t start = p.start();
        if (start < lo || start >= hi) continue;
        // Pending minutes are usually newer than every stored one: look from the end.
        auto it = rows.end();
        while (it != rows.begin() && (it - 1)->start >= start) --it;
        if (it == rows.end() || it->start != start) {
          it = rows.insert(it, RollupRow());
          it->start = start;
        }
        it->Merge(p.Row());
      }
    }
  }
  return rows;
}

absl::StatusOr<ResourceReport> CapacityService::EvaluateSeries(const std::string& host,
                                                               const SeriesRef& ref,
                                                               const CapacityThreshold& threshold,
                                                               bool cache) {
  const absl::Time now_time = clock_.Now();
  const double now = Seconds(now_time);
  ResourceReport r;
  r.kind = ref.kind;
  r.instance = ref.instance;
  History history;
  {
    absl::MutexLock lock(&mu_);
    auto h = hosts_.find(host);
    if (h == hosts_.end()) return absl::NotFoundError("no capacity data for host");
    const Series* series = h->second->Find(ref);
    if (series == nullptr) return absl::NotFoundError("no such series");
    r.utilization = series->last_value;
    r.capacity = series->last_capacity;
    r.updated_at = absl::FromUnixMillis(static_cast<int64_t>(std::llround(series->last_t * 1000)));
    series->recent.ForEachPoint(now, [&](double t, double v) { history.recent.push_back({t, v}); });
  }
  const std::vector<double> levels = Levels(threshold);
  const ForecastOptions fo = Forecasting();
  auto minutes =
      Minutes(host, ref, now_time - options_.minute_retention, now_time + absl::Minutes(1));
  if (!minutes.ok()) return minutes.status();
  std::vector<RollupRow> hours;
  if (store_ != nullptr) {
    auto loaded = store_->LoadHours(host, ref, now_time - options_.hour_retention, now_time);
    if (!loaded.ok()) {
      absl::MutexLock lock(&mu_);
      ++stats_.store_errors;
      return loaded.status();
    }
    hours = std::move(*loaded);
  }
  r.windows = Windows(now, *minutes, hours, IsRatio(ref.kind));
  history.minutes = ToPoints(*minutes, 60);
  history.hours = ToPoints(hours, 3600);
  r.forecast = ForecastExhaustion(history, now, levels, fo);
  const std::string* method = cache ? InternMethod(r.forecast.method) : nullptr;
  {
    absl::MutexLock lock(&mu_);
    ++stats_.refreshes;
    // Only the host's own evaluation is cached: a service's thresholds may differ.
    auto h = cache ? hosts_.find(host) : hosts_.end();
    Series* series = h != hosts_.end() ? h->second->Find(ref) : nullptr;
    if (series != nullptr) {
      for (size_t i = 0; i < std::size(kWindows); ++i) {
        series->windows[i] = WindowStats();
        for (const auto& [window, stats] : r.windows) {
          if (window == kWindows[i]) series->windows[i] = stats;
        }
      }
      CachedForecast& c = series->slow;
      c.status = r.forecast.status;
      c.method = method;
      c.levels = static_cast<uint8_t>(std::min<size_t>(r.forecast.levels.size(), 3));
      for (size_t i = 0; i < 3; ++i) {
        c.seconds[i] = i < c.levels && r.forecast.levels[i].seconds.has_value()
                           ? *r.forecast.levels[i].seconds
                           : NAN;
      }
      c.at = now;
      series->has_slow = true;
    }
  }
  Fill(r, threshold);
  return r;
}

void CapacityService::EvaluateFast(const std::string& host, uint32_t host_index,
                                   const SeriesRef& ref, const CapacityThreshold& threshold,
                                   History* scratch, std::vector<MetricRow>* out) {
  const double now = Seconds(clock_.Now());
  MetricRow row;
  WindowStats windows[std::size(kWindows)];
  bool has_slow;
  CachedForecast slow;
  scratch->recent.clear();
  {
    absl::MutexLock lock(&mu_);
    auto h = hosts_.find(host);
    if (h == hosts_.end()) return;
    const Series* series = h->second->Find(ref);
    if (series == nullptr) return;
    row.utilization = series->last_value;
    series->recent.ForEachPoint(now, [&](double t, double v) {
      scratch->recent.push_back({t, v});
    });
    std::copy(std::begin(series->windows), std::end(series->windows), windows);
    has_slow = series->has_slow;
    slow = series->slow;
  }
  const Forecast fast = ForecastExhaustion(*scratch, now, Levels(threshold), Forecasting());
  // Whichever is ok and reaches a level first (a disk filling now matters more than last
  // month's trend); if neither is ok, the history's verdict. The cached forecast was made
  // `elapsed` seconds ago: its times are moved on by that much.
  bool use_slow = false;
  if (has_slow) {
    for (double& sec : slow.seconds) {
      if (!std::isnan(sec)) sec = std::max(0.0, sec - (now - slow.at));
    }
    const bool fast_ok = fast.status == ForecastStatus::kOk;
    const bool slow_ok = slow.status == ForecastStatus::kOk;
    if (fast_ok && slow_ok) {
      double slow_first = INFINITY;
      for (size_t i = 0; i < slow.levels; ++i) {
        if (!std::isnan(slow.seconds[i])) slow_first = std::min(slow_first, slow.seconds[i]);
      }
      use_slow = !(EarliestCrossing(fast) < slow_first);
    } else {
      use_slow = !fast_ok;
    }
  }
  if (use_slow) {
    row.forecast_status = slow.status;
    row.method = slow.method;
    row.levels = slow.levels;
    std::copy(std::begin(slow.seconds), std::end(slow.seconds), row.seconds);
  } else {
    row.forecast_status = fast.status;
    row.method = InternMethod(fast.method);
    row.levels = static_cast<uint8_t>(std::min<size_t>(fast.levels.size(), 3));
    for (size_t i = 0; i < row.levels; ++i) {
      if (fast.levels[i].seconds.has_value()) row.seconds[i] = *fast.levels[i].seconds;
    }
  }
  // The threshold's statistic from the cached windows (StatisticValue).
  row.value = row.utilization;
  if (threshold.statistic != CapacityStatistic::kCurrent) {
    for (size_t i = 0; i < std::size(kWindows); ++i) {
      const WindowStats& stats = windows[i];
      if (kWindows[i] != threshold.window || stats.minutes == 0) continue;
      row.value = WindowStatistic(stats, threshold.statistic, row.utilization);
      break;
    }
  }
  row.host = host_index;
  row.kind = ref.kind;
  row.instance = ref.instance;
  row.threshold = threshold;
  row.status = StatusFor(row.value, threshold);
  out->push_back(std::move(row));
}

const std::string* CapacityService::InternMethod(const std::string& method) {
  absl::MutexLock lock(&methods_mu_);
  return &*methods_.insert(method).first;
}

std::vector<const Service*> CapacityService::ServicesOf(
    const Catalogue* catalogue, const std::string& host,
    const std::map<std::string, std::string>& labels) const {
  std::vector<const Service*> out;
  if (catalogue == nullptr) return out;
  for (const Service& s : catalogue->services) {
    if (SelectorMatches(s, host, labels)) out.push_back(&s);
  }
  return out;
}

std::vector<const Service*> CapacityService::ServicesOf(const Catalogue* catalogue,
                                                        const std::string& host,
                                                        const std::vector<HostRef>& hosts) const {
  const std::map<std::string, std::string>* labels = nullptr;
  static const std::map<std::string, std::string> kNone;
  for (const HostRef& h : hosts) {
    if (h.id == host) labels = &h.labels;
  }
  return ServicesOf(catalogue, host, labels != nullptr ? *labels : kNone);
}

CapacityThreshold CapacityService::HostThreshold(const Catalogue* catalogue,
                                                 const std::vector<const Service*>& services,
                                                 Kind kind, const std::string& instance) const {
  const CapacityResource resource = ResourceOf(kind);
  const bool fs = kind == Kind::kFilesystem || kind == Kind::kInodes;
  if (services.empty()) {
    CapacitySpec spec = catalogue != nullptr ? catalogue->capacity_defaults : DefaultCapacitySpec();
    return ThresholdFor(spec, resource, fs ? instance : "");
  }
  // The strictest service: the lowest critical threshold, then the lowest warning.
  CapacityThreshold best = ThresholdFor(services[0]->capacity, resource, fs ? instance : "");
  for (size_t i = 1; i < services.size(); ++i) {
    const CapacityThreshold& t = ThresholdFor(services[i]->capacity, resource, fs ? instance : "");
    if (t.critical < best.critical || (t.critical == best.critical && t.warning < best.warning)) {
      best = t;
    }
  }
  return best;
}

absl::StatusOr<std::vector<SeriesRef>> CapacityService::FreshSeries(const std::string& host) {
  std::vector<SeriesRef> refs;
  const double fresh_after = Seconds(clock_.Now() - options_.stale_after);
  absl::MutexLock lock(&mu_);
  auto h = hosts_.find(host);
  if (h == hosts_.end()) {
    return absl::NotFoundError(absl::StrCat("no capacity data for host \"", host, "\""));
  }
  const HostState& state = *h->second;
  for (size_t id = 0; id < state.series.size(); ++id) {
    const Series* series = state.series[id].get();
    const SeriesRef& ref = state.util.series(static_cast<uint32_t>(id));
    // A series that stopped (an unmounted filesystem, a host gone) is not reported.
    if (series != nullptr && IsRatio(ref.kind) && series->has_last &&
        series->last_t >= fresh_after) {
      refs.push_back(ref);
    }
  }
  std::sort(refs.begin(), refs.end());
  return refs;
}

absl::StatusOr<std::vector<ResourceReport>> CapacityService::HostResources(
    const std::string& host, const std::vector<const Service*>& services, bool cache) {
  auto refs = FreshSeries(host);
  if (!refs.ok()) return refs.status();
  auto cat = catalogue();
  std::vector<ResourceReport> out;
  for (const SeriesRef& ref : *refs) {
    auto r = EvaluateSeries(host, ref, HostThreshold(cat.get(), services, ref.kind, ref.instance),
                            cache);
    if (r.ok()) {
      out.push_back(std::move(*r));
    } else if (!absl::IsNotFound(r.status())) {
      return r.status();
    }
  }
  return out;
}

absl::StatusOr<HostCapacity> CapacityService::HostReport(const std::string& host) {
  auto cat = catalogue();
  const std::vector<HostRef> hosts = HostRefs();
  auto resources = HostResources(host, ServicesOf(cat.get(), host, hosts), /*cache=*/true);
  if (!resources.ok()) return resources.status();
  HostCapacity out;
  out.host = host;
  out.resources = std::move(*resources);
  std::vector<std::pair<SeriesRef, double>> demand;
  {
    absl::MutexLock lock(&mu_);
    auto h = hosts_.find(host);
    if (h != hosts_.end()) {
      const HostState& state = *h->second;
      for (size_t id = 0; id < state.series.size(); ++id) {
        const Series* series = state.series[id].get();
        const SeriesRef& ref = state.util.series(static_cast<uint32_t>(id));
        if (series != nullptr && ref.kind == Kind::kDemand && series->has_last) {
          demand.emplace_back(ref, series->last_value);
        }
      }
      std::sort(demand.begin(), demand.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    }
  }
  const absl::Time now = clock_.Now();
  for (const auto& [ref, value] : demand) {
    HostCapacity::Demand d;
    d.series = ref.instance;
    d.value = value;
    auto minutes = Minutes(host, ref, now - absl::Hours(24), now + absl::Minutes(1));
    if (minutes.ok()) d.day = StatsFromMinutes(*minutes);
    out.demand.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<ServiceCapacity> CapacityService::EvaluateService(
    const Catalogue& catalogue, const Service& service, const std::vector<HostRef>& hosts) {
  ServiceCapacity out;
  out.service = service.id;
  out.hosts = ComponentHosts(service, hosts);
  const absl::Time now_time = clock_.Now();
  const double now = Seconds(now_time);
  const std::vector<const Service*> only = {&service};

  // Per host: worst-host kinds are listed per host; pooled kinds are collected.
  struct Member {
    std::string host;
    SeriesRef ref;
    double capacity;
    double utilization;
    absl::Time updated_at;
  };
  std::map<Kind, std::vector<Member>> pooled;
  for (const std::string& host : out.hosts) {
    auto resources = HostResources(host, only, /*cache=*/false);
    if (!resources.ok()) {
      if (absl::IsNotFound(resources.status())) continue;
      return resources.status();
    }
    for (ResourceReport& r : *resources) {
      if (IsPooled(r.kind)) {
        pooled[r.kind].push_back(
            {host, {r.kind, r.instance}, r.capacity, r.utilization, r.updated_at});
      } else {
        r.worst_host = host;
        out.resources.push_back(std::move(r));
      }
    }
  }
  for (auto& [kind, members] : pooled) {
    ResourceReport r;
    r.kind = kind;
    Pool minute_pool, hour_pool;
    std::map<int64_t, PoolCell> recent_pool;
    double used = 0;
    std::map<std::string, double> host_capacity;
    for (const Member& m : members) {
      r.capacity += m.capacity;
      used += m.utilization * m.capacity;
      r.updated_at = std::max(r.updated_at, m.updated_at);
      host_capacity[m.host] += m.capacity;
      auto minutes =
          Minutes(m.host, m.ref, now_time - options_.minute_retention, now_time + absl::Minutes(1));
      if (!minutes.ok()) return minutes.status();
      AddToPool(minute_pool, *minutes);
      if (store_ != nullptr) {
        auto hours = store_->LoadHours(m.host, m.ref, now_time - options_.hour_retention, now_time);
        if (!hours.ok()) return hours.status();
        AddToPool(hour_pool, *hours);
      }
      absl::MutexLock lock(&mu_);
      auto h = hosts_.find(m.host);
      if (h == hosts_.end()) continue;
      const Series* series = h->second->Find(m.ref);
      if (series == nullptr) continue;
      series->recent.ForEachPoint(now, [&](double t, double v) {
        PoolCell& c = recent_pool[static_cast<int64_t>(t)];
        c.used += v * m.capacity;
        c.capacity += m.capacity;
        ++c.members;
      });
    }
    r.utilization = r.capacity > 0 ? used / r.capacity : 0;
    std::vector<RollupRow> minutes = PoolRows(minute_pool, /*hours=*/false);
    std::vector<RollupRow> hours = PoolRows(hour_pool, /*hours=*/true);
    r.windows = Windows(now, minutes, hours, true);
    CapacityThreshold threshold = ThresholdFor(service.capacity, ResourceOf(kind), "");
    History history;
    for (const auto& [t, c] : recent_pool) {
      if (c.capacity > 0) history.recent.push_back({static_cast<double>(t), c.used / c.capacity});
    }
    history.minutes = ToPoints(minutes, 60);
    history.hours = ToPoints(hours, 3600);
    const ForecastOptions fo = Forecasting();
    r.forecast = ForecastExhaustion(history, now, Levels(threshold), fo);
    Fill(r, threshold);

    NPlusOne np;
    if (service.capacity.n_plus_one) {
      np.evaluated = true;
      if (host_capacity.size() < 2) {
        np.ok = false;
        np.reason = "the service has a single host: losing it loses the service";
      } else {
        auto largest =
            std::max_element(host_capacity.begin(), host_capacity.end(),
                             [](const auto& a, const auto& b) { return a.second < b.second; });
        np.largest_host = largest->first;
        double remaining = r.capacity - largest->second;
        np.utilization_without_largest =
            remaining > 0 ? r.value * r.capacity / remaining : INFINITY;
        np.ok = np.utilization_without_largest < threshold.critical;
        np.reason =
            np.ok ? absl::StrCat("without ", largest->first, " the ", WindowName(threshold.window),
                                 " ", CapacityStatisticName(threshold.statistic), " is ",
                                 absl::StrFormat("%.1f", 100 * np.utilization_without_largest),
                                 "%, under the critical threshold")
                  : absl::StrCat("without ", largest->first, " the ",
                                 CapacityStatisticName(threshold.statistic), " would be ",
                                 absl::StrFormat("%.1f", 100 * np.utilization_without_largest),
                                 "%, at or over the critical threshold of ",
                                 absl::StrFormat("%.1f", 100 * threshold.critical), "%");
      }
      out.n_plus_one.emplace_back(kind, np);
    }
    out.resources.push_back(std::move(r));
  }
  std::sort(out.resources.begin(), out.resources.end(),
            [](const ResourceReport& a, const ResourceReport& b) {
              return std::tie(a.kind, a.worst_host, a.instance) <
                     std::tie(b.kind, b.worst_host, b.instance);
            });
  (void)catalogue;
  return out;
}

absl::StatusOr<ServiceCapacity> CapacityService::ServiceReport(const std::string& id) {
  auto cat = catalogue();
  const Service* service = cat != nullptr ? cat->FindService(id) : nullptr;
  if (service == nullptr) return absl::NotFoundError(absl::StrCat("no service \"", id, "\""));
  const std::vector<HostRef> hosts = HostRefs();
  return EvaluateService(*cat, *service, hosts);
}

absl::StatusOr<WhatIf> CapacityService::WhatIfReport(const std::string& id, double growth) {
  if (!(growth > -1) || !std::isfinite(growth)) {
    return absl::InvalidArgumentError("demand_growth must be a number above -1 (0.4 = +40%)");
  }
  auto cat = catalogue();
  const Service* service = cat != nullptr ? cat->FindService(id) : nullptr;
  if (service == nullptr) return absl::NotFoundError(absl::StrCat("no service \"", id, "\""));
  const std::vector<HostRef> hosts = HostRefs();
  WhatIf w;
  w.service = id;
  w.demand_growth = growth;
  w.threshold = ThresholdFor(service->capacity, CapacityResource::kCpu, "");
  if (!service->capacity.demand.has_value()) {
    w.reason = "the service declares no demand series (capacity.demand in the catalogue)";
    return w;
  }
  const DemandSpec& spec = *service->capacity.demand;
  w.demand_metric = spec.metric;
  w.demand_unit = spec.unit;
  const absl::Time now_time = clock_.Now();
  const double now = Seconds(now_time);
  const std::vector<std::string> members = ComponentHosts(*service, hosts);

  // Busy cores and demand per minute, summed over the hosts.
  Pool cpu_pool;
  std::map<int64_t, double> demand_by_minute;
  std::map<int64_t, int> demand_members;
  int cpu_hosts = 0;
  int demand_hosts = 0;
  double total_cores = 0;
  // Only hosts reporting now count: a host gone for good must not block every minute.
  const double fresh_after = Seconds(now_time - options_.stale_after);
  for (const std::string& host : members) {
    std::vector<SeriesRef> demand_refs;
    bool has_cpu = false;
    double cores = 0;
    {
      absl::MutexLock lock(&mu_);
      auto h = hosts_.find(host);
      if (h == hosts_.end()) continue;
      const HostState& state = *h->second;
      std::vector<std::pair<const SeriesRef*, const Series*>> by_ref;
      for (size_t id = 0; id < state.series.size(); ++id) {
        if (state.series[id] == nullptr) continue;
        by_ref.emplace_back(&state.util.series(static_cast<uint32_t>(id)), state.series[id].get());
      }
      std::sort(by_ref.begin(), by_ref.end(),
                [](const auto& a, const auto& b) { return *a.first < *b.first; });
      for (const auto& [ref_ptr, series] : by_ref) {
        const SeriesRef& ref = *ref_ptr;
        if (!series->has_last || series->last_t < fresh_after) continue;
        if (ref.kind == Kind::kCpu) {
          has_cpu = true;
          cores = series->last_capacity;
        }
        if (ref.kind != Kind::kDemand) continue;
        auto c = h->second->custom.find(ref.instance);
        if (c == h->second->custom.end() || c->second.first != spec.metric) continue;
        bool match = true;
        for (const auto& [k, v] : spec.labels) {
          auto l = c->second.second.find(k);
          if (l == c->second.second.end() || l->second != v) match = false;
        }
        if (match) demand_refs.push_back(ref);
      }
    }
    if (has_cpu) {
      auto minutes = Minutes(host, {Kind::kCpu, ""}, now_time - options_.minute_retention,
                             now_time + absl::Minutes(1));
      if (!minutes.ok()) return minutes.status();
      AddToPool(cpu_pool, *minutes);
      ++cpu_hosts;
      total_cores += cores;
    }
    std::set<int64_t> host_minutes;
    for (const SeriesRef& ref : demand_refs) {
      auto minutes =
          Minutes(host, ref, now_time - options_.minute_retention, now_time + absl::Minutes(1));
      if (!minutes.ok()) return minutes.status();
      for (const RollupRow& m : *minutes) {
        if (m.count == 0) continue;
        demand_by_minute[m.start] += m.mean();
        host_minutes.insert(m.start);
      }
    }
    for (int64_t m : host_minutes) ++demand_members[m];
    if (!demand_refs.empty()) ++demand_hosts;
  }
  w.hosts_now = static_cast<size_t>(cpu_hosts);
  w.cores_per_host = cpu_hosts > 0 ? total_cores / cpu_hosts : 0;
  // Paired minutes: every CPU host and every host that publishes the demand reported (a
  // missing part of either side would bias the slope).
  std::vector<double> xs, ys;
  std::vector<RollupRow> cpu_rows;
  std::vector<double> demand_of_row;
  for (const auto& [start, cell] : cpu_pool) {
    if (cell.members < cpu_hosts || cell.capacity <= 0) continue;
    auto d = demand_by_minute.find(start);
    if (d == demand_by_minute.end() || demand_members[start] < demand_hosts) continue;
    xs.push_back(d->second);
    ys.push_back(cell.used);  // busy cores
    RollupRow r;
    r.start = start;
    r.Add(cell.used / cell.capacity, cell.capacity);
    cpu_rows.push_back(r);
    demand_of_row.push_back(d->second);
  }
  w.points = xs.size();
  if (xs.size() < 30) {
    w.reason = absl::StrCat("too little history: ", xs.size(),
                            " minutes with both CPU and demand, 30 needed");
    return w;
  }
  double mx = 0, my = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= xs.size();
  my /= xs.size();
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    sxx += (xs[i] - mx) * (xs[i] - mx);
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) * (ys[i] - my);
  }
  if (sxx <= 0) {
    w.reason = "the demand did not vary: resource use per unit cannot be told from the base load";
    return w;
  }
  w.cores_per_unit = sxy / sxx;
  w.intercept_cores = my - w.cores_per_unit * mx;
  w.r_squared = syy > 0 ? (sxy * sxy) / (sxx * syy) : 0;
  if (w.cores_per_unit <= 0) {
    w.reason = "CPU use does not grow with the demand in the history";
    return w;
  }
  w.fitted = true;

  // The projected CPU series: each minute's busy cores plus the extra demand's share.
  std::vector<RollupRow> projected;
  for (size_t i = 0; i < cpu_rows.size(); ++i) {
    RollupRow r;
    r.start = cpu_rows[i].start;
    double cap = cpu_rows[i].mean_capacity();
    double busy = cpu_rows[i].mean() * cap + w.cores_per_unit * demand_of_row[i] * growth;
    // Not capped at 100 %: demand beyond the capacity is what sizing must see.
    r.Add(busy / cap, cap);
    projected.push_back(r);
  }
  ResourceReport now_report, projected_report;
  now_report.windows = Windows(now, cpu_rows, {}, true);
  now_report.utilization = cpu_rows.back().mean();
  projected_report.windows = Windows(now, projected, {}, true);
  projected_report.utilization = projected.back().mean();
  w.cpu_value_now = StatisticValue(now_report, w.threshold);
  w.cpu_value_projected = StatisticValue(projected_report, w.threshold);
  w.status_projected = StatusFor(w.cpu_value_projected, w.threshold);
  {
    std::vector<RollupRow> demand_rows;
    for (size_t i = 0; i < cpu_rows.size(); ++i) {
      RollupRow r;
      r.start = cpu_rows[i].start;
      r.Add(demand_of_row[i], 0);
      demand_rows.push_back(r);
    }
    ResourceReport d;
    d.windows = Windows(now, demand_rows, {}, false);
    d.utilization = demand_rows.back().mean();
    CapacityThreshold t = w.threshold;
    w.demand_now = StatisticValue(d, t);
  }
  History history;
  history.minutes = ToPoints(projected, 60);
  const ForecastOptions fo = Forecasting();
  w.forecast = ForecastExhaustion(history, now, Levels(w.threshold), fo);
  if (w.cores_per_host > 0 && w.threshold.warning > 0) {
    double busy = w.cpu_value_projected * total_cores;
    // The fewest hosts N with busy / (N x cores) strictly under the warning threshold.
    double needed = std::floor(busy / (w.cores_per_host * w.threshold.warning)) + 1;
    w.hosts_to_add = needed > cpu_hosts ? static_cast<size_t>(needed) - cpu_hosts : 0;
  }
  return w;
}

void CapacityService::RunOnce() {
  const absl::Time now = clock_.Now();
  Flush(now, /*all=*/false);
  {
    absl::MutexLock lock(&mu_);
    if (now - last_evaluation_ < options_.evaluation_interval) return;
    last_evaluation_ = now;
  }
  absl::Duration mono_start = clock_.Monotonic();
  Evaluate(now);
  absl::MutexLock lock(&mu_);
  ++stats_.evaluations;
  stats_.last_round_seconds = absl::ToDoubleSeconds(clock_.Monotonic() - mono_start);
}

void CapacityService::Evaluate(absl::Time now) {
  auto cat = catalogue();
  const std::vector<HostRef> hosts = HostRefs();
  auto results = std::make_shared<HostResults>();
  std::vector<std::pair<std::string, bool>> todo;  // host, refresh from the store
  {
    absl::MutexLock lock(&mu_);
    // Forget series silent for longer than the minute retention (their minutes are gone
    // from the store too); a host without series keeps only its slot classification. The
    // ring of a series silent for 30 minutes is freed.
    const double forget_before = Seconds(now - options_.minute_retention);
    const double now_seconds = Seconds(now);
    for (auto& [id, state] : hosts_) {
      for (std::unique_ptr<Series>& series : state->series) {
        if (series == nullptr) continue;
        if (series->last_t < forget_before && series->pending.empty()) {
          series.reset();
          --stats_.series;
        } else {
          series->recent.ReleaseIfStale(now_seconds);
        }
      }
    }
    todo.reserve(hosts_.size());
    for (auto& [id, state] : hosts_) {
      bool refresh = now - state->refreshed_at >= options_.history_refresh;
      if (refresh) {
        // The first refresh is at once; it is back-dated by a per-host fraction of the
        // interval so that later refreshes of many hosts spread over the interval.
        absl::Duration offset = absl::ZeroDuration();
        if (state->refreshed_at == absl::InfinitePast()) {
          offset =
              options_.history_refresh * (static_cast<double>(absl::HashOf(id) % 1000) / 1000.0);
        }
        state->refreshed_at = now - offset;
      }
      todo.emplace_back(id, refresh);
    }
  }
  std::sort(todo.begin(), todo.end());
  // Host labels by id, for service membership.
  absl::flat_hash_map<absl::string_view, const std::map<std::string, std::string>*> labels;
  labels.reserve(hosts.size());
  for (const HostRef& h : hosts) labels[h.id] = &h.labels;
  static const std::map<std::string, std::string> kNoLabels;
  {
    absl::MutexLock lock(&results_mu_);
    if (host_results_ != nullptr) results->rows.reserve(host_results_->rows.size());
  }
  results->hosts.reserve(todo.size());
  History scratch;
  for (const auto& [host, refresh] : todo) {
    auto l = labels.find(host);
    const std::vector<const Service*> services =
        ServicesOf(cat.get(), host, l != labels.end() ? *l->second : kNoLabels);
    const auto host_index = static_cast<uint32_t>(results->hosts.size());
    if (refresh) {
      auto resources = HostResources(host, services, /*cache=*/true);
      if (!resources.ok()) continue;
      for (ResourceReport& r : *resources) {
        MetricRow row;
        row.host = host_index;
        row.kind = r.kind;
        row.status = r.status;
        row.forecast_status = r.forecast.status;
        row.levels = static_cast<uint8_t>(std::min<size_t>(r.forecast.levels.size(), 3));
        row.instance = std::move(r.instance);
        row.utilization = r.utilization;
        row.value = r.value;
        row.threshold = r.threshold;
        row.method = InternMethod(r.forecast.method);
        for (size_t i = 0; i < row.levels; ++i) {
          if (r.forecast.levels[i].seconds.has_value())
            row.seconds[i] = *r.forecast.levels[i].seconds;
        }
        results->rows.push_back(std::move(row));
      }
    } else {
      auto refs = FreshSeries(host);
      if (!refs.ok()) continue;
      for (const SeriesRef& ref : *refs) {
        EvaluateFast(host, host_index, ref,
                     HostThreshold(cat.get(), services, ref.kind, ref.instance), &scratch,
                     &results->rows);
      }
    }
    results->hosts.push_back(host);
  }
  // Services pool their hosts' stored minutes: on the slower refresh cadence.
  bool services_due;
  {
    absl::MutexLock lock(&mu_);
    services_due = now - last_service_evaluation_ >= options_.history_refresh;
    if (services_due) last_service_evaluation_ = now;
  }
  auto service_results = std::make_shared<std::vector<ServiceCapacity>>();
  if (services_due && cat != nullptr) {
    for (const Service& s : cat->services) {
      auto report = EvaluateService(*cat, s, hosts);
      if (report.ok()) service_results->push_back(std::move(*report));
    }
  }
  std::shared_ptr<const HostResults> old_hosts;
  std::shared_ptr<const std::vector<ServiceCapacity>> old_services;
  absl::MutexLock lock(&results_mu_);
  old_hosts = std::move(host_results_);
  host_results_ = std::move(results);
  if (services_due) {
    old_services = std::move(service_results_);
    service_results_ = std::move(service_results);
  }
}

std::vector<HostRef> CapacityService::HostRefs() const {
  std::vector<HostRef> refs;
  for (HostView& h : registry_.Hosts()) refs.push_back({std::move(h.id), std::move(h.labels)});
  return refs;
}

ForecastOptions CapacityService::Forecasting() const {
  ForecastOptions fo;
  fo.max_horizon_seconds = absl::ToDoubleSeconds(options_.horizon);
  return fo;
}

std::vector<std::string> CapacityService::ServiceIds() const {
  std::vector<std::string> ids;
  auto cat = catalogue();
  if (cat != nullptr) {
    for (const Service& s : cat->services) ids.push_back(s.id);
  }
  return ids;
}

CapacityService::Stats CapacityService::GetStats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

namespace {

// `{host="h",resource="filesystem",mountpoint="/data"` (no closing brace): a row's labels
// common to all its lines, escaped once per render.
void AppendBaseLabels(std::string* out, absl::string_view subject_label, const std::string& subject,
                      Kind kind, const std::string& instance) {
  absl::StrAppend(out, "{", subject_label, "=\"");
  AppendEscapedLabelValue(out, subject);
  absl::StrAppend(out, "\",resource=\"", KindName(kind), "\"");
  if (kind == Kind::kFilesystem || kind == Kind::kInodes) {
    out->append(",mountpoint=\"");
    AppendEscapedLabelValue(out, instance);
    out->push_back('"');
  } else if (kind == Kind::kNetwork && !instance.empty()) {
    out->append(",device=\"");
    AppendEscapedLabelValue(out, instance);
    out->push_back('"');
  }
}

void AppendLabels(std::string* out, absl::string_view base,
                  std::initializer_list<std::pair<const char*, absl::string_view>> extra) {
  out->append(base.data(), base.size());
  for (const auto& [k, v] : extra) {
    out->push_back(',');
    out->append(k);
    out->append("=\"");
    AppendEscapedLabelValue(out, v);
    out->push_back('"');
  }
  out->append("} ");
}

}  // namespace

void CapacityService::RenderMetrics(std::string* out, const ExpositionDrain& drain) const {
  std::shared_ptr<const HostResults> host_results;
  std::shared_ptr<const std::vector<ServiceCapacity>> service_results;
  {
    absl::MutexLock lock(&results_mu_);
    host_results = host_results_;
    service_results = service_results_;
  }
  static const HostResults kNoHosts;
  static const std::vector<ServiceCapacity> kNoServices;
  const HostResults& hosts = host_results != nullptr ? *host_results : kNoHosts;
  const std::vector<ServiceCapacity>& services =
      service_results != nullptr ? *service_results : kNoServices;
  // The pooled service rows in the hosts' form (few).
  std::vector<MetricRow> service_rows;
  std::vector<const std::string*> service_names;
  static const std::string kEmpty;
  for (const ServiceCapacity& s : services) {
    for (const ResourceReport& r : s.resources) {
      if (!IsPooled(r.kind)) continue;
      MetricRow row;
      row.kind = r.kind;
      row.status = r.status;
      row.forecast_status = r.forecast.status;
      row.levels = static_cast<uint8_t>(std::min<size_t>(r.forecast.levels.size(), 3));
      row.instance = r.instance;
      row.utilization = r.utilization;
      row.value = r.value;
      row.threshold = r.threshold;
      row.method = &r.forecast.method;
      for (size_t i = 0; i < row.levels; ++i) {
        if (r.forecast.levels[i].seconds.has_value())
          row.seconds[i] = *r.forecast.levels[i].seconds;
      }
      service_rows.push_back(std::move(row));
      service_names.push_back(&s.service);
    }
  }
  struct Row {
    absl::string_view label;
    const std::string* subject;
    const MetricRow* r;
    absl::string_view base;  // AppendBaseLabels' text, in `bases`
  };
  std::vector<Row> rows;
  rows.reserve(hosts.rows.size() + service_rows.size());
  for (const MetricRow& r : hosts.rows) rows.push_back({"host", &hosts.hosts[r.host], &r, {}});
  for (size_t i = 0; i < service_rows.size(); ++i) {
    rows.push_back({"service", service_names[i], &service_rows[i], {}});
  }
  std::string bases;
  std::vector<size_t> base_end(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    AppendBaseLabels(&bases, rows[i].label, *rows[i].subject, rows[i].r->kind, rows[i].r->instance);
    base_end[i] = bases.size();
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const size_t begin = i == 0 ? 0 : base_end[i - 1];
    rows[i].base = absl::string_view(bases).substr(begin, base_end[i] - begin);
  }
  bool stopped = false;  // the drain said stop (the client went away)
  auto family = [&](const char* name, const char* type, const char* help, auto each) {
    if (stopped) return;
    AppendFamilyHeader(out, name, type, help);
    for (const Row& row : rows) {
      each(row);
      if (!MaybeDrain(out, drain)) {
        stopped = true;
        return;
      }
    }
  };
  family("accord_capacity_utilization_ratio", "gauge",
         "Latest utilisation of a resource (services: pooled over their hosts).",
         [&](const Row& row) {
           out->append("accord_capacity_utilization_ratio");
           AppendLabels(out, row.base, {});
           AppendPromValue(out, row.r->utilization);
           out->push_back('\n');
         });
  family("accord_capacity_statistic_ratio", "gauge",
         "The statistic the thresholds are compared with, over its window.", [&](const Row& row) {
           out->append("accord_capacity_statistic_ratio");
           AppendLabels(out, row.base,
                        {{"statistic", CapacityStatisticName(row.r->threshold.statistic)},
                         {"window", row.r->threshold.statistic == CapacityStatistic::kCurrent
                                        ? std::string("0s")
                                        : WindowName(row.r->threshold.window)}});
           AppendPromValue(out, row.r->value);
           out->push_back('\n');
         });
  family("accord_capacity_threshold_ratio", "gauge", "Capacity thresholds from the catalogue.",
         [&](const Row& row) {
           for (const char* level : {"warning", "critical"}) {
             out->append("accord_capacity_threshold_ratio");
             AppendLabels(out, row.base, {{"level", level}});
             AppendPromValue(
                 out, level[0] == 'w' ? row.r->threshold.warning : row.r->threshold.critical);
             out->push_back('\n');
           }
         });
  family("accord_capacity_headroom_ratio", "gauge",
         "Threshold minus the statistic: negative when over the threshold.", [&](const Row& row) {
           for (const char* level : {"warning", "critical"}) {
             out->append("accord_capacity_headroom_ratio");
             AppendLabels(out, row.base, {{"level", level}});
             AppendPromValue(
                 out, (level[0] == 'w' ? row.r->threshold.warning : row.r->threshold.critical) -
                          row.r->value);
             out->push_back('\n');
           }
         });
  family("accord_capacity_status", "gauge", "0 ok, 1 warning, 2 critical.", [&](const Row& row) {
    out->append("accord_capacity_status");
    AppendLabels(out, row.base, {});
    AppendPromValue(out, static_cast<double>(row.r->status));
    out->push_back('\n');
  });
  family("accord_capacity_exhaustion_seconds", "gauge",
         "Forecast seconds until the level is reached; absent without a meaningful forecast or "
         "when not reached within the horizon.",
         [&](const Row& row) {
           if (row.r->forecast_status != ForecastStatus::kOk) return;
           const char* names[] = {"warning", "critical", "full"};
           for (size_t i = 0; i < row.r->levels; ++i) {
             if (std::isnan(row.r->seconds[i])) continue;
             out->append("accord_capacity_exhaustion_seconds");
             AppendLabels(out, row.base, {{"level", names[i]}});
             AppendPromValue(out, row.r->seconds[i]);
             out->push_back('\n');
           }
         });
  family("accord_capacity_forecast_info", "gauge",
         "The forecast's status (ok, insufficient_data, flat, noisy) and method; always 1.",
         [&](const Row& row) {
           out->append("accord_capacity_forecast_info");
           AppendLabels(out, row.base,
                        {{"status", ForecastStatusName(row.r->forecast_status)},
                         {"method", row.r->method != nullptr ? *row.r->method : kEmpty}});
           out->append("1\n");
         });
  if (stopped) return;  // the client went away
  AppendFamilyHeader(
      out, "accord_capacity_n_plus_one_ok", "gauge",
      "1 if the service stays under its critical threshold without its largest host.");
  for (const ServiceCapacity& s : services) {
    for (const auto& [kind, np] : s.n_plus_one) {
      if (!np.evaluated) continue;
      out->append("accord_capacity_n_plus_one_ok{service=\"");
      AppendEscapedLabelValue(out, s.service);
      absl::StrAppend(out, "\",resource=\"", KindName(kind), "\"} ", np.ok ? 1 : 0, "\n");
    }
  }
  Stats st = GetStats();
  auto one = [&](const char* name, const char* type, const char* help, double v) {
    AppendFamilyHeader(out, name, type, help);
    out->append(name);
    out->push_back(' ');
    AppendPromValue(out, v);
    out->push_back('\n');
  };
  one("accord_capacity_series", "gauge", "Capacity series tracked (all hosts).",
      static_cast<double>(st.series));
  one("accord_capacity_observations_total", "counter",
      "Utilisation observations taken from batches.", static_cast<double>(st.observations));
  one("accord_capacity_minute_rollups_written_total", "counter",
      "Minute rollups handed to the store.", static_cast<double>(st.minutes_written));
  one("accord_capacity_store_errors_total", "counter", "Rollup reads that failed.",
      static_cast<double>(st.store_errors));
  one("accord_capacity_evaluations_total", "counter", "Evaluation rounds for /metrics.",
      static_cast<double>(st.evaluations));
  one("accord_capacity_evaluation_duration_seconds", "gauge",
      "Duration of the last evaluation round.", st.last_round_seconds);
}

}  // namespace accord::collector::capacity
