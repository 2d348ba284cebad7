#include "collector/capacity/capacity_service.h"

#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/series_descriptor.h"

namespace accord::collector::capacity {
namespace {

using accord::testing::FakeClock;

// An in-memory RollupStore with the SQLite store's merge and hour rules.
class FakeRollupStore : public RollupStore {
 public:
  void MergeMinutes(std::vector<MinuteWrite> writes, absl::Time now) override {
    absl::MutexLock lock(&mu_);
    for (const MinuteWrite& w : writes) {
      auto& series = data_[Key(w.host, w.series)];
      for (const RollupRow& r : w.minutes) {
        RollupRow& m = series.minutes[r.start];
        m.start = r.start;
        m.Merge(r);
        ++merged_;
        int64_t hour = r.start / 3600 * 3600;
        if (hour + 3600 <= absl::ToUnixSeconds(now)) {
          std::vector<RollupRow> rows;
          for (auto it = series.minutes.lower_bound(hour);
               it != series.minutes.end() && it->first < hour + 3600; ++it) {
            rows.push_back(it->second);
          }
          series.hours[hour] = HourFromMinutes(hour, rows, IsRatio(w.series.kind));
        }
      }
    }
  }
  absl::StatusOr<std::vector<RollupRow>> LoadMinutes(const std::string& host, const SeriesRef& s,
                                                     absl::Time from, absl::Time to) override {
    return Load(host, s, from, to, false);
  }
  absl::StatusOr<std::vector<RollupRow>> LoadHours(const std::string& host, const SeriesRef& s,
                                                   absl::Time from, absl::Time to) override {
    return Load(host, s, from, to, true);
  }
  size_t merged() {
    absl::MutexLock lock(&mu_);
    return merged_;
  }

 private:
  struct Data {
    std::map<int64_t, RollupRow> minutes, hours;
  };
  static std::string Key(const std::string& host, const SeriesRef& s) {
    return host + "|" + KindName(s.kind) + "|" + s.instance;
  }
  absl::StatusOr<std::vector<RollupRow>> Load(const std::string& host, const SeriesRef& s,
                                              absl::Time from, absl::Time to, bool hours) {
    absl::MutexLock lock(&mu_);
    std::vector<RollupRow> out;
    auto it = data_.find(Key(host, s));
    if (it == data_.end()) return out;
    for (const auto& [start, row] : hours ? it->second.hours : it->second.minutes) {
      if (start >= absl::ToUnixSeconds(from) && start < absl::ToUnixSeconds(to)) out.push_back(row);
    }
    return out;
  }
  absl::Mutex mu_;
  std::map<std::string, Data> data_ ABSL_GUARDED_BY(mu_);
  size_t merged_ ABSL_GUARDED_BY(mu_) = 0;
};

using accord::testing::Desc;

// A simulated agent: CPU (`cores`, busy cores given per step), a filesystem /data and a
// custom order counter.
class SimHost {
 public:
  SimHost(HostRegistry& registry, FakeClock& clock, std::string id, double cores)
      : registry_(registry), clock_(clock), id_(std::move(id)), cores_(cores) {
    Hello h;
    h.host_id = id_;
    h.hostname = id_;
    h.boot_time_seconds = 1700000000;
    session_ = registry_.Open(h)->session;
  }

  // One sample at the clock's now: `busy` cores busy since the last step, filesystem `used`
  // of 1000 bytes, `orders` per second since the last step.
  void Step(double busy, double used, double orders, bool with_demand = true) {
    StepAt(clock_.Now(), busy, used, orders, with_demand);
  }
  // `with_demand` false: the demand series is missing from the batch (a broken textfile).
  void StepAt(absl::Time at, double busy, double used, double orders, bool with_demand = true) {
    double now = absl::ToDoubleSeconds(at - absl::UnixEpoch());
    double dt = last_ == 0 ? 1 : now - last_;
    last_ = now;
    user_ += busy * dt;
    idle_ += (cores_ - busy) * dt;
    orders_ += orders * dt;
    Batch b;
    b.sequence = ++sequence_;
    b.timestamp_ms = absl::ToUnixMillis(at);
    if (sequence_ == 1) {
      b.new_series = {
          Desc(0, "accord_host_cpu_aggregate_seconds_total", {{"mode", "user"}},
               SeriesKind::kCounter),
          Desc(1, "accord_host_cpu_aggregate_seconds_total", {{"mode", "idle"}},
               SeriesKind::kCounter),
          Desc(2, "accord_host_filesystem_size_bytes", {{"mountpoint", "/data"}}),
          Desc(3, "accord_host_filesystem_avail_bytes", {{"mountpoint", "/data"}}),
          Desc(4, "shop_orders_total", {}, SeriesKind::kCounter),
      };
    }
    b.series_ids = {0, 1, 2, 3};
    b.values = {user_, idle_, 1000, 1000 - used};
    if (with_demand) {
      b.series_ids.push_back(4);
      b.values.push_back(orders_);
    }
    auto r = registry_.Apply(session_, b);
    ASSERT_TRUE(r.ok()) << r.status();
  }

 private:
  HostRegistry& registry_;
  FakeClock& clock_;
  std::string id_;
  double cores_;
  HostRegistry::SessionId session_;
  uint64_t sequence_ = 0;
  double last_ = 0, user_ = 0, idle_ = 0, orders_ = 0;
};

class CapacityServiceTest : public ::testing::Test {
 protected:
  CapacityServiceTest() {
    options_.evaluation_interval = absl::Seconds(10);
    options_.history_refresh = absl::Minutes(1);
    capacity_ = std::make_unique<CapacityService>(registry_, clock_, &store_, options_);
    registry_.SetSampleObserver(capacity_.get());
  }

  void SetServices(std::vector<std::string> hosts, bool demand) {
    auto cat = std::make_shared<Catalogue>();
    Service s;
    s.id = "shop";
    s.components.hosts = std::move(hosts);
    s.capacity = DefaultCapacitySpec();
    if (demand) s.capacity.demand = DemandSpec{"shop_orders_total", {}, true, "orders"};
    cat->services.push_back(s);
    capacity_->SetCatalogue(cat);
  }
  static const NPlusOne* CpuNPlusOne(const ServiceCapacity& report) {
    for (const auto& [kind, n] : report.n_plus_one) {
      if (kind == Kind::kCpu) return &n;
    }
    return nullptr;
  }
  static const WindowStats* Window(const ResourceReport& r, absl::Duration w) {
    for (const auto& [d, stats] : r.windows) {
      if (d == w) return &stats;
    }
    return nullptr;
  }

  static const ResourceReport* Find(const std::vector<ResourceReport>& rs, Kind kind,
                                    const std::string& host = "") {
    for (const ResourceReport& r : rs) {
      if (r.kind == kind && (host.empty() || r.worst_host == host)) return &r;
    }
    return nullptr;
  }

  FakeClock clock_{absl::FromUnixSeconds(1790000000)};  // 2026-09-21T13:33:20Z
  HostRegistry registry_{clock_};
  FakeRollupStore store_;
  CapacityOptions options_;
  std::unique_ptr<CapacityService> capacity_;
};

TEST_F(CapacityServiceTest, FillingFilesystemForecastsTimeToFull) {
  SimHost h(registry_, clock_, "h1", 4);
  // 50 % used, growing 1 byte (0.1 %) per second: full in 500 s from the start.
  for (int s = 0; s <= 250; ++s) {
    h.Step(1, 500 + s, 0);
    capacity_->RunOnce();
    clock_.Advance(absl::Seconds(1));
  }
  auto report = capacity_->HostReport("h1");
  ASSERT_TRUE(report.ok()) << report.status();
  const ResourceReport* fs = Find(report->resources, Kind::kFilesystem);
  ASSERT_NE(fs, nullptr);
  EXPECT_EQ(fs->instance, "/data");
  EXPECT_NEAR(fs->utilization, 0.75, 1e-9);
  EXPECT_EQ(fs->status, Status::kOk);  // defaults 80 / 90 %
  EXPECT_DOUBLE_EQ(fs->threshold.warning, 0.8);
  ASSERT_EQ(fs->forecast.status, ForecastStatus::kOk) << fs->forecast.reason;
  ASSERT_EQ(fs->forecast.levels.size(), 3u);
  // Truth from the last sample (t = 250 s): warning in 50 s, critical 150 s, full 250 s.
  const double truth[] = {50, 150, 250};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(fs->forecast.levels[i].seconds.has_value()) << i;
    EXPECT_NEAR(*fs->forecast.levels[i].seconds, truth[i], 0.05 * 250) << i;
  }
  const ResourceReport* cpu = Find(report->resources, Kind::kCpu);
  ASSERT_NE(cpu, nullptr);
  EXPECT_NEAR(cpu->utilization, 0.25, 1e-9);
  EXPECT_DOUBLE_EQ(cpu->capacity, 4);
  // Minutes older than 90 s went to the store; the windows include them and the pending ones.
  EXPECT_GT(store_.merged(), 0u);
  ASSERT_FALSE(fs->windows.empty());
  EXPECT_EQ(fs->windows[0].first, absl::Hours(1));
  EXPECT_GE(fs->windows[0].second.minutes, 4u);
  EXPECT_NEAR(fs->windows[0].second.max, 0.75, 1e-9);

  // /metrics after an evaluation round.
  std::string text;
  capacity_->RenderMetrics(&text);
  EXPECT_NE(text.find("accord_capacity_utilization_ratio{host=\"h1\",resource=\"filesystem\","
                      "mountpoint=\"/data\"} 0.75"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("accord_capacity_exhaustion_seconds{host=\"h1\",resource=\"filesystem\","
                      "mountpoint=\"/data\",level=\"full\"}"),
            std::string::npos);
  EXPECT_NE(text.find("accord_capacity_threshold_ratio{host=\"h1\",resource=\"filesystem\","
                      "mountpoint=\"/data\",level=\"critical\"} 0.9"),
            std::string::npos);
  // The flat CPU has no exhaustion series.
  EXPECT_EQ(text.find("accord_capacity_exhaustion_seconds{host=\"h1\",resource=\"cpu\""),
            std::string::npos);
}

TEST_F(CapacityServiceTest, UnknownHostAndServiceAreNotFound) {
  EXPECT_TRUE(absl::IsNotFound(capacity_->HostReport("nope").status()));
  EXPECT_TRUE(absl::IsNotFound(capacity_->ServiceReport("nope").status()));
  SetServices({"a"}, false);
  EXPECT_TRUE(absl::IsInvalidArgument(capacity_->WhatIfReport("shop", -1).status()));
}

TEST_F(CapacityServiceTest, ServicePoolsCpuAndChecksNPlusOne) {
  SimHost big(registry_, clock_, "big", 4);
  SimHost small(registry_, clock_, "small", 2);
  SetServices({"big", "small"}, false);
  for (int s = 0; s < 120; ++s) {
    big.Step(2, 100, 0);      // 50 %
    small.Step(0.5, 900, 0);  // 25 %; its /data is 90 % full
    clock_.Advance(absl::Seconds(1));
  }
  auto report = capacity_->ServiceReport("shop");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->hosts, (std::vector<std::string>{"big", "small"}));
  const ResourceReport* cpu = Find(report->resources, Kind::kCpu);
  ASSERT_NE(cpu, nullptr);
  EXPECT_NEAR(cpu->utilization, 2.5 / 6, 1e-9);
  EXPECT_DOUBLE_EQ(cpu->capacity, 6);
  // p95 of the pooled minute means is the same flat 41.7 %.
  EXPECT_NEAR(cpu->value, 2.5 / 6, 1e-9);
  // Filesystems stay per host.
  const ResourceReport* fs_small = Find(report->resources, Kind::kFilesystem, "small");
  ASSERT_NE(fs_small, nullptr);
  EXPECT_EQ(fs_small->status, Status::kCritical);
  // Without `big`, 2.5 busy cores on 2: 125 % - not N+1.
  ASSERT_FALSE(report->n_plus_one.empty());
  const NPlusOne* np = nullptr;
  for (const auto& [kind, n] : report->n_plus_one) {
    if (kind == Kind::kCpu) np = &n;
  }
  ASSERT_NE(np, nullptr);
  EXPECT_TRUE(np->evaluated);
  EXPECT_FALSE(np->ok);
  EXPECT_EQ(np->largest_host, "big");
  EXPECT_NEAR(np->utilization_without_largest, 1.25, 1e-9);
}

TEST_F(CapacityServiceTest, WhatIfFitsCpuPerOrderAndSizesTheService) {
  SimHost a(registry_, clock_, "a", 4);
  SimHost b(registry_, clock_, "b", 4);
  SetServices({"a", "b"}, true);
  // Two hours at 10 s: orders per host swing 20..80/s; CPU per host = 0.4 + 0.03 x orders.
  for (int s = 0; s < 720; ++s) {
    double orders = 50 + 30 * std::sin(s * 2 * M_PI / 90);
    double busy = 0.4 + 0.03 * orders;
    a.Step(busy, 100, orders);
    b.Step(busy, 100, orders);
    clock_.Advance(absl::Seconds(10));
    if (s % 30 == 0) capacity_->RunOnce();
  }
  auto w = capacity_->WhatIfReport("shop", 0.4);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->fitted) << w->reason;
  // Service-wide: busy = 0.8 + 0.03 x (orders of both hosts).
  EXPECT_NEAR(w->cores_per_unit, 0.03, 0.002);
  EXPECT_NEAR(w->intercept_cores, 0.8, 0.1);
  EXPECT_GT(w->r_squared, 0.95);
  EXPECT_EQ(w->hosts_now, 2u);
  EXPECT_DOUBLE_EQ(w->cores_per_host, 4);
  // Now: p95 of minute means of (0.8 + 0.03 x 2 x orders) / 8 cores; orders peak near 80.
  EXPECT_LT(w->cpu_value_now, (0.8 + 0.06 * 80) / 8 + 0.01);
  EXPECT_GT(w->cpu_value_now, (0.8 + 0.06 * 70) / 8);
  // +40 %: the demand share grows by 40 %.
  double expected = w->cpu_value_now + 0.4 * (w->cpu_value_now * 8 - 0.8) / 8;
  EXPECT_NEAR(w->cpu_value_projected, expected, 0.03);
  // Sizing: with the hosts to add the projected load is under the 70 % warning, with one
  // fewer it is not.
  double busy = w->cpu_value_projected * 8;
  size_t n = w->hosts_now + w->hosts_to_add;
  EXPECT_LT(busy / (4.0 * n), 0.7);
  if (w->hosts_to_add > 0) {
    EXPECT_GE(busy / (4.0 * (n - 1)), 0.7);
  }
  // A big growth needs more hosts.
  auto w3 = capacity_->WhatIfReport("shop", 3.0);
  ASSERT_TRUE(w3.ok());
  EXPECT_GT(w3->hosts_to_add, w->hosts_to_add);
  EXPECT_EQ(w3->status_projected, Status::kCritical);
}

TEST_F(CapacityServiceTest, WhatIfWithoutDemandSaysWhy) {
  SimHost a(registry_, clock_, "a", 4);
  SetServices({"a"}, false);
  auto w = capacity_->WhatIfReport("shop", 0.4);
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(w->fitted);
  EXPECT_NE(w->reason.find("demand"), std::string::npos);
  SetServices({"a"}, true);
  for (int s = 0; s < 10; ++s) {
    a.Step(1, 100, 5);
    clock_.Advance(absl::Seconds(10));
  }
  w = capacity_->WhatIfReport("shop", 0.4);
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(w->fitted);
  EXPECT_NE(w->reason.find("too little history"), std::string::npos) << w->reason;
}

TEST_F(CapacityServiceTest, BackfilledSamplesJoinTheirMinutes) {
  SimHost h(registry_, clock_, "h1", 2);
  // A backlog from a partition 20 to 10 minutes ago arrives now (40 % used), then live data
  // (60 % used) for a minute.
  const absl::Time now = clock_.Now();
  std::set<int64_t> minutes;  // the distinct minutes of all samples
  for (int s = 0; s < 600; s += 10) {
    absl::Time at = now - absl::Minutes(20) + absl::Seconds(s);
    h.StepAt(at, 1, 400, 0);
    minutes.insert(absl::ToUnixSeconds(at) / 60);
  }
  for (int s = 0; s < 60; ++s) {
    minutes.insert(absl::ToUnixSeconds(clock_.Now()) / 60);
    h.Step(1, 600, 0);
    clock_.Advance(absl::Seconds(1));
    capacity_->RunOnce();
  }
  // The backlog's minutes went to the store at once (they are older than 90 s).
  EXPECT_GE(store_.merged(), 10u);
  auto report = capacity_->HostReport("h1");
  ASSERT_TRUE(report.ok());
  const ResourceReport* fs = Find(report->resources, Kind::kFilesystem);
  ASSERT_NE(fs, nullptr);
  EXPECT_NEAR(fs->utilization, 0.6, 1e-9);  // the latest value, not the latest to arrive
  ASSERT_FALSE(fs->windows.empty());
  const WindowStats& hour = fs->windows[0].second;
  EXPECT_EQ(hour.minutes, minutes.size());
  EXPECT_NEAR(hour.max, 0.6, 1e-9);
  EXPECT_LT(hour.mean, 0.5);
}

TEST_F(CapacityServiceTest, PooledThirtyDaysWeighStoredAndFreshHoursAlike) {
  SimHost a(registry_, clock_, "a", 4);
  SimHost b(registry_, clock_, "b", 4);
  SetServices({"a", "b"}, false);
  // 24 hours at 30 %, one sample a minute (the stored hours), then 50 minutes at 90 %.
  for (int m = 0; m < 24 * 60; ++m) {
    a.Step(1.2, 100, 0);
    b.Step(1.2, 100, 0);
    clock_.Advance(absl::Minutes(1));
    capacity_->RunOnce();
  }
  for (int m = 0; m < 50; ++m) {
    a.Step(3.6, 100, 0);
    b.Step(3.6, 100, 0);
    clock_.Advance(absl::Minutes(1));
    capacity_->RunOnce();
  }
  auto report = capacity_->ServiceReport("shop");
  ASSERT_TRUE(report.ok());
  const ResourceReport* cpu = Find(report->resources, Kind::kCpu);
  ASSERT_NE(cpu, nullptr);
  const WindowStats* month = Window(*cpu, absl::Hours(24 * 30));
  ASSERT_NE(month, nullptr);
  // Each minute counts once: (1440 x 0.3 + 50 x 0.9) / 1490, give or take the minutes at
  // the edges where a rate spans the change.
  EXPECT_NEAR(month->mean, (1440 * 0.3 + 50 * 0.9) / 1490, 0.01);
  EXPECT_NEAR(month->p95, 0.3, 0.01);
  // The same figure as each host's own.
  auto host = capacity_->HostReport("a");
  ASSERT_TRUE(host.ok());
  const WindowStats* host_month = Window(*Find(host->resources, Kind::kCpu), absl::Hours(24 * 30));
  ASSERT_NE(host_month, nullptr);
  EXPECT_NEAR(month->mean, host_month->mean, 0.005);
}

TEST_F(CapacityServiceTest, ASilentHostLeavesThePoolAndIsNotReported) {
  SimHost a(registry_, clock_, "a", 4);
  SimHost b(registry_, clock_, "b", 4);
  SetServices({"a", "b"}, false);
  for (int s = 0; s < 30; ++s) {
    a.Step(3.4, 100, 0);  // 85 %
    b.Step(1, 100, 0);    // 25 %
    clock_.Advance(absl::Seconds(10));
  }
  // b goes silent for 80 minutes; a keeps reporting.
  for (int s = 0; s < 480; ++s) {
    a.Step(3.4, 100, 0);
    clock_.Advance(absl::Seconds(10));
    if (s % 6 == 0) capacity_->RunOnce();
  }
  auto report = capacity_->ServiceReport("shop");
  ASSERT_TRUE(report.ok());
  const ResourceReport* cpu = Find(report->resources, Kind::kCpu);
  ASSERT_NE(cpu, nullptr);
  EXPECT_NEAR(cpu->utilization, 0.85, 1e-9);  // a alone: b's frozen 25 % is gone
  const WindowStats* hour = Window(*cpu, absl::Hours(1));
  ASSERT_NE(hour, nullptr);
  EXPECT_NEAR(hour->p95, 0.85, 1e-9);
  EXPECT_EQ(Find(report->resources, Kind::kFilesystem, "b"), nullptr);
  auto host_b = capacity_->HostReport("b");
  ASSERT_TRUE(host_b.ok());
  EXPECT_TRUE(host_b->resources.empty());
}

TEST_F(CapacityServiceTest, AServiceReportDoesNotChangeTheHostsOwnForecast) {
  // Refreshes from the history only on request here, so the cached forecast is what /metrics
  // falls back on once the last 30 minutes are stale.
  options_.history_refresh = absl::Hours(100);
  capacity_ = std::make_unique<CapacityService>(registry_, clock_, &store_, options_);
  registry_.SetSampleObserver(capacity_.get());
  SimHost h(registry_, clock_, "h", 4);
  auto cat = std::make_shared<Catalogue>();
  for (auto [id, warn, crit] : {std::tuple{"strict", 0.5, 0.6}, std::tuple{"lax", 0.8, 0.9}}) {
    Service s;
    s.id = id;
    s.components.hosts = {"h"};
    s.capacity = DefaultCapacitySpec();
    s.capacity.thresholds[CapacityResource::kFilesystem] = {warn, crit, CapacityStatistic::kCurrent,
                                                            absl::Hours(24)};
    cat->services.push_back(s);
  }
  capacity_->SetCatalogue(cat);
  // /data grows from 52 % at 0.05 % a second: past strict's 50 % warning already.
  for (int s = 0; s < 300; ++s) {
    h.Step(1, 520 + s * 0.5, 0);
    clock_.Advance(absl::Seconds(1));
    capacity_->RunOnce();
  }
  ASSERT_TRUE(capacity_->HostReport("h").ok());       // caches the host's (strict) forecast
  ASSERT_TRUE(capacity_->ServiceReport("lax").ok());  // must not replace it with lax's
  clock_.Advance(absl::Seconds(60));                  // the 5-second ring is stale now
  capacity_->RunOnce();
  std::string text;
  capacity_->RenderMetrics(&text);
  const std::string prefix =
      "accord_capacity_exhaustion_seconds{host=\"h\",resource=\"filesystem\",mountpoint=\"/data\","
      "level=\"warning\"} ";
  size_t at = text.find(prefix);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_EQ(std::stod(text.substr(at + prefix.size())), 0);  // strict's 50 %: reached
  EXPECT_NE(text.find("accord_capacity_threshold_ratio{host=\"h\",resource=\"filesystem\","
                      "mountpoint=\"/data\",level=\"warning\"} 0.5"),
            std::string::npos);
}

TEST_F(CapacityServiceTest, ADrainedRenderHandsOnPiecesThatJoinToTheWhole) {
  std::vector<std::unique_ptr<SimHost>> hosts;
  for (int i = 0; i < 1500; ++i) {
    hosts.push_back(std::make_unique<SimHost>(registry_, clock_,
                                              absl::StrCat("a-host-with-a-long-name-", i), 4));
  }
  for (int s = 0; s < 3; ++s) {
    for (auto& h : hosts) h->Step(1, 500 + s, 10);
    clock_.Advance(absl::Seconds(1));
  }
  capacity_->RunOnce();
  std::string whole;
  capacity_->RenderMetrics(&whole);
  ASSERT_GT(whole.size(), 2 * kExpositionDrainBytes);

  std::string joined, text;
  int drains = 0;
  capacity_->RenderMetrics(&text, [&](std::string* t) {
    ++drains;
    EXPECT_GE(t->size(), kExpositionDrainBytes);
    EXPECT_LT(t->size(), kExpositionDrainBytes + 4096);  // drained after the line that filled it
    joined.append(*t);
    t->clear();
    return true;
  });
  EXPECT_GE(drains, 2);
  joined.append(text);
  EXPECT_EQ(joined, whole);

  // A drain that says stop (the client went away) ends the render at that piece.
  std::string rest;
  int stops = 0;
  capacity_->RenderMetrics(&rest, [&](std::string* t) {
    ++stops;
    t->clear();
    return false;
  });
  EXPECT_EQ(stops, 1);
  EXPECT_TRUE(rest.empty()) << rest.size();
}

TEST_F(CapacityServiceTest, WhatIfUsesOnlyMinutesWhereEveryDemandHostReported) {
  SimHost a(registry_, clock_, "a", 4);
  SimHost b(registry_, clock_, "b", 4);
  SetServices({"a", "b"}, true);
  // Hosts with different demand; CPU = 0.2 + 0.02 x orders on each. For an hour b's
  // textfile is broken (no demand series in its batches) while its CPU still follows its
  // orders: those minutes, with only a's demand, must not enter the fit.
  for (int s = 0; s < 1080; ++s) {
    double oa = 40 + 25 * std::sin(s * 2 * M_PI / 90);
    double ob = 20 + 10 * std::cos(s * 2 * M_PI / 70);
    a.Step(0.2 + 0.02 * oa, 100, oa);
    b.Step(0.2 + 0.02 * ob, 100, ob, /*with_demand=*/s < 360 || s >= 720);
    clock_.Advance(absl::Seconds(10));
    if (s % 30 == 0) capacity_->RunOnce();
  }
  auto w = capacity_->WhatIfReport("shop", 0.5);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->fitted) << w->reason;
  EXPECT_NEAR(w->cores_per_unit, 0.02, 0.001);
  EXPECT_NEAR(w->intercept_cores, 0.4, 0.05);
}

TEST_F(CapacityServiceTest, ALateSampleJoinsAMinuteAlreadyInTheStore) {
  SimHost h(registry_, clock_, "h", 2);
  const absl::Time minute = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now()) / 60 * 60);
  h.StepAt(minute + absl::Seconds(10), 1, 200, 0);
  clock_.SetNow(minute + absl::Minutes(5));
  capacity_->RunOnce();            // the minute is written
  ASSERT_EQ(store_.merged(), 1u);  // the filesystem minute (no CPU rate from one batch)
  auto before =
      store_.LoadMinutes("h", {Kind::kFilesystem, "/data"}, minute, minute + absl::Minutes(1));
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].count, 1u);
  h.StepAt(minute + absl::Seconds(40), 1, 600, 0);  // late: backfill
  capacity_->RunOnce();
  auto after =
      store_.LoadMinutes("h", {Kind::kFilesystem, "/data"}, minute, minute + absl::Minutes(1));
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].count, 2u);
  EXPECT_NEAR((*after)[0].mean(), 0.4, 1e-9);
  EXPECT_NEAR((*after)[0].max, 0.6, 1e-9);
}

}  // namespace
}  // namespace accord::collector::capacity
