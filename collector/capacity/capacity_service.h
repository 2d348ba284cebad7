// CapacityService: ITIL capacity management over what the agents send.
//
//   resource capacity  each host's CPU, memory, swap, filesystems (bytes and inodes) and
//                      network interfaces: current utilisation, mean/p95/p99/max over 1h, 1d,
//                      7d and 30d, thresholds, headroom, status, forecast of exhaustion
//   service capacity   the same over a service's hosts (CPU, memory and network pooled:
//                      used / capacity of all hosts; filesystems, inodes and swap: the worst
//                      host), and N+1: does the service stay under its critical threshold
//                      without its largest host?
//   business capacity  resource use per unit of demand (a custom series the service's hosts
//                      publish), and what-ifs: with demand +g, the new utilisation, when the
//                      thresholds are crossed, and how many more hosts like the current ones
//
// Data flow: the HostRegistry calls OnSeries/OnSamples (SampleObserver) for every accepted
// batch; observations go to an in-memory ring (5 s, 30 min) and to pending minute rollups,
// which RunOnce flushes to the RollupStore. RunOnce also evaluates every series (fast
// forecasts from the ring each `evaluation_interval`; statistics and forecasts from the
// stored rollups each `history_refresh`) for /metrics. The API computes reports on demand.
//
// Thread safety: thread-safe. OnSeries/OnSamples are called under the registry's lock and
// only take this object's lock; this object never calls the registry while holding its lock.
#ifndef ACCORD_COLLECTOR_CAPACITY_CAPACITY_SERVICE_H_
#define ACCORD_COLLECTOR_CAPACITY_CAPACITY_SERVICE_H_

#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "collector/capacity/forecast/forecast.h"
#include "collector/capacity/rollup.h"
#include "collector/capacity/rollup_store.h"
#include "collector/capacity/utilisation.h"
#include "collector/catalogue/catalogue.h"
#include "collector/hosts/host_registry.h"
#include "common/clock.h"
#include "common/prom_text.h"

namespace accord::collector::capacity {

struct CapacityOptions {
  // Minute rollups are kept this long (and give exact percentiles), hour rollups this long.
  absl::Duration minute_retention = absl::Hours(24 * 7);
  absl::Duration hour_retention = absl::Hours(24 * 400);
  // How often every series is re-evaluated for /metrics (fast forecasts from the last 30
  // minutes), and how often its statistics and forecasts are refreshed from the stored
  // rollups (spread over the interval).
  absl::Duration evaluation_interval = absl::Seconds(30);
  absl::Duration history_refresh = absl::Minutes(10);
  // A minute is written to the store once its end is this old; samples arriving later
  // (backfill) are merged into it.
  absl::Duration flush_after = absl::Seconds(90);
  // A series without a sample for this long is not reported (an unmounted filesystem, a host
  // that went away), and is forgotten after minute_retention.
  absl::Duration stale_after = absl::Minutes(5);
  // Forecasts look this far ahead at most.
  absl::Duration horizon = absl::Hours(24 * 365);
};

// The statistics windows reported.
inline constexpr absl::Duration kWindows[] = {absl::Hours(1), absl::Hours(24), absl::Hours(24 * 7),
                                              absl::Hours(24 * 30)};
// "1h", "1d", "7d", "30d".
std::string WindowName(absl::Duration window);

enum class Status { kOk, kWarning, kCritical };
const char* StatusName(Status status);

// One resource of a host or service, as the API and the metrics show it.
struct ResourceReport {
  Kind kind = Kind::kCpu;
  std::string instance;     // mountpoint (filesystem, inodes) or device (network)
  std::string worst_host;   // services, worst-host kinds: the host the figures are from
  double utilization = 0;   // the latest value
  double capacity = 0;      // cores, bytes, inodes or bytes/s (pooled: the sum)
  absl::Time updated_at;    // time of the latest value
  std::vector<std::pair<absl::Duration, WindowStats>> windows;  // kWindows with data
  CapacityThreshold threshold;
  double value = 0;  // the threshold's statistic over its window (current: utilization)
  Status status = Status::kOk;
  Forecast forecast;  // levels: warning, critical, full (1.0)
};

struct NPlusOne {
  bool evaluated = false;
  bool ok = false;
  std::string reason;        // why not evaluated, or what fails
  std::string largest_host;  // the host whose loss is assumed
  double utilization_without_largest = 0;
};

struct HostCapacity {
  std::string host;
  std::vector<ResourceReport> resources;  // by kind, then instance
  struct Demand {
    std::string series;  // name{labels}
    double value = 0;    // latest per-second rate (counter) or value (gauge)
    WindowStats day;     // over the last day
  };
  std::vector<Demand> demand;
};

struct ServiceCapacity {
  std::string service;
  std::vector<std::string> hosts;
  std::vector<ResourceReport> resources;
  // Per pooled resource (cpu, memory, network) where evaluated.
  std::vector<std::pair<Kind, NPlusOne>> n_plus_one;
};

// Resource use per unit of demand, and a what-if on it.
struct WhatIf {
  std::string service;
  double demand_growth = 0;  // 0.4 = +40 %
  bool fitted = false;
  std::string reason;  // why there is no fit, when not fitted
  std::string demand_metric;
  std::string demand_unit;
  // busy CPU cores = intercept + slope x demand (per second), fitted on minute means.
  double intercept_cores = 0;
  double cores_per_unit = 0;
  double r_squared = 0;
  size_t points = 0;
  double demand_now = 0;  // the demand statistic (same statistic and window as the CPU threshold)
  double cpu_value_now = 0;       // CPU statistic now
  double cpu_value_projected = 0; // CPU statistic with the grown demand
  CapacityThreshold threshold;
  Status status_projected = Status::kOk;
  Forecast forecast;  // of the projected CPU series: warning, critical, full
  size_t hosts_now = 0;
  double cores_per_host = 0;
  // Hosts like the current ones to add so the projected statistic stays under the warning
  // threshold (0 when it already does).
  size_t hosts_to_add = 0;
};

class CapacityService final : public SampleObserver {
 public:
  CapacityService(HostRegistry& registry, Clock& clock, RollupStore* store,
                  CapacityOptions options = {});
  ~CapacityService() override;

  // The catalogue in force (thresholds, demand series). Thread-safe; swaps atomically.
  void SetCatalogue(std::shared_ptr<const Catalogue> catalogue);

  // SampleObserver.
  void OnSeries(const std::string& host, uint32_t slot, const SeriesDescriptor& desc) override;
  void OnSamples(const std::string& host, uint64_t sequence, int64_t timestamp_ms,
                 const std::vector<uint32_t>& slots, const std::vector<double>& values) override;

  // Background work (flushes and evaluations) on a thread of its own, about every second.
  void Start();
  void Stop();
  // One round of background work at the clock's now (tests call this directly).
  void RunOnce();

  // Reports computed now from the ring, the pending minutes and the store.
  // Errors: NotFound for a host without capacity data / an unknown service; Unavailable
  // when the store cannot be read.
  absl::StatusOr<HostCapacity> HostReport(const std::string& host);
  absl::StatusOr<ServiceCapacity> ServiceReport(const std::string& service);
  // Errors as ServiceReport; InvalidArgument for growth <= -1.
  absl::StatusOr<WhatIf> WhatIfReport(const std::string& service, double demand_growth);

  // The clock's now (for report timestamps).
  absl::Time Now() const { return clock_.Now(); }

  // The ids of the catalogue's services, in file order.
  std::vector<std::string> ServiceIds() const;

  // accord_capacity_* families from the last evaluation (and the service's own health). With a
  // `drain`, `out` is handed to it whenever it holds kExpositionDrainBytes or more.
  void RenderMetrics(std::string* out, const ExpositionDrain& drain = nullptr) const;

  struct Stats {
    uint64_t series = 0;
    uint64_t observations = 0;
    uint64_t minutes_written = 0;
    uint64_t evaluations = 0;
    uint64_t refreshes = 0;
    uint64_t store_errors = 0;
    double last_round_seconds = 0;
  };
  Stats GetStats() const;

 private:
  struct Series;
  struct HostState;
  // One host series' evaluation for /metrics: what RenderMetrics shows of a ResourceReport.
  struct MetricRow {
    uint32_t host = 0;  // index into HostResults::hosts
    Kind kind = Kind::kCpu;
    Status status = Status::kOk;
    ForecastStatus forecast_status = ForecastStatus::kInsufficientData;
    uint8_t levels = 0;  // entries of `seconds` that are levels of the forecast
    std::string instance;
    double utilization = 0;
    double value = 0;
    CapacityThreshold threshold;
    const std::string* method = nullptr;  // interned (methods_); never null once filled
    double seconds[3] = {NAN, NAN, NAN};  // warning, critical, full; NaN: not reached
  };
  struct HostResults {
    std::vector<std::string> hosts;
    std::vector<MetricRow> rows;  // by host, then kind and instance
  };

  std::shared_ptr<const Catalogue> catalogue() const;
  // Every known host with its labels (for service membership). Takes the registry's lock:
  // never call with mu_ held.
  std::vector<HostRef> HostRefs() const;
  // The forecast options every forecast here uses (the configured horizon).
  ForecastOptions Forecasting() const;
  // The thresholds that apply to a host's series: the strictest of the services it is a
  // component of, else the catalogue's defaults.
  CapacityThreshold HostThreshold(const Catalogue* catalogue,
                                  const std::vector<const Service*>& services, Kind kind,
                                  const std::string& instance) const;
  // Minute rows of a series over [from, to): stored plus pending in memory.
  absl::StatusOr<std::vector<RollupRow>> Minutes(const std::string& host, const SeriesRef& ref,
                                                 absl::Time from, absl::Time to);
  // Statistics and forecast from the stored rollups; `cache`: keep them as the host's own
  // (not for a service's thresholds).
  absl::StatusOr<ResourceReport> EvaluateSeries(const std::string& host, const SeriesRef& ref,
                                                const CapacityThreshold& threshold, bool cache);
  // The fast path for /metrics: a forecast from the ring combined with the cached one from
  // the last refresh. Appends one row to `out` (nothing when the series is gone). `scratch`
  // is reused between calls.
  void EvaluateFast(const std::string& host, uint32_t host_index, const SeriesRef& ref,
                    const CapacityThreshold& threshold, History* scratch,
                    std::vector<MetricRow>* out);
  // The series a host reports now (fresh ratio series), by kind then instance.
  absl::StatusOr<std::vector<SeriesRef>> FreshSeries(const std::string& host);
  absl::StatusOr<std::vector<ResourceReport>> HostResources(
      const std::string& host, const std::vector<const Service*>& services, bool cache);
  absl::StatusOr<ServiceCapacity> EvaluateService(const Catalogue& catalogue, const Service& service,
                                                  const std::vector<HostRef>& hosts);
  std::vector<const Service*> ServicesOf(const Catalogue* catalogue, const std::string& host,
                                         const std::map<std::string, std::string>& labels) const;
  std::vector<const Service*> ServicesOf(const Catalogue* catalogue, const std::string& host,
                                         const std::vector<HostRef>& hosts) const;
  const std::string* InternMethod(const std::string& method);
  void Flush(absl::Time now, bool all);
  void Evaluate(absl::Time now);

  HostRegistry& registry_;
  Clock& clock_;
  RollupStore* const store_;
  const CapacityOptions options_;

  mutable absl::Mutex catalogue_mu_;
  std::shared_ptr<const Catalogue> catalogue_ ABSL_GUARDED_BY(catalogue_mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<HostState>> hosts_ ABSL_GUARDED_BY(mu_);
  // Names of the catalogue's demand series.
  absl::flat_hash_set<std::string> demand_metrics_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  absl::Time last_evaluation_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_service_evaluation_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // The earliest pending minute of any host (Flush has nothing to do before it is due).
  int64_t first_pending_ ABSL_GUARDED_BY(mu_) = INT64_MAX;
  // OnSamples' observations (reused).
  std::vector<Observation> observations_ ABSL_GUARDED_BY(mu_);

  // Forecast method names, interned: rows point into it; never shrinks.
  absl::Mutex methods_mu_;
  absl::node_hash_set<std::string> methods_ ABSL_GUARDED_BY(methods_mu_);

  // Results of the last evaluation, for /metrics (immutable once published).
  mutable absl::Mutex results_mu_;
  std::shared_ptr<const HostResults> host_results_ ABSL_GUARDED_BY(results_mu_);
  std::shared_ptr<const std::vector<ServiceCapacity>> service_results_ ABSL_GUARDED_BY(results_mu_);

  std::thread thread_;
  std::unique_ptr<absl::Notification> stop_;
};

}  // namespace accord::collector::capacity

#endif  // ACCORD_COLLECTOR_CAPACITY_CAPACITY_SERVICE_H_
