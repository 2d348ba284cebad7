// The service catalogue: every service, its owner, its components (hosts), its SLA and its
// capacity settings (thresholds per resource, business demand), plus the support teams (OLAs)
// and suppliers (underpinning contracts) it relies on. Plain values produced by LoadCatalogue
// (catalogue_loader.h) and read by the availability and capacity engines; the functions below
// decide which hosts make up a service and which capacity threshold applies.
//
// Thread safety: plain values; the functions are pure and thread-safe. A Catalogue is
// immutable once loaded; share it by const reference (or shared_ptr<const Catalogue> when it
// is swapped on reload).
#ifndef ACCORD_COLLECTOR_CATALOGUE_CATALOGUE_H_
#define ACCORD_COLLECTOR_CATALOGUE_CATALOGUE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "collector/availability/sla_types.h"

namespace accord::collector {

// ITIL priority of a service (impact × urgency agreed up front).
enum class Priority { kCritical, kHigh, kMedium, kLow };
// "critical", "high", "medium", "low".
const char* PriorityName(Priority priority);

// Which hosts make up a service: the union of the explicit `hosts` and every host whose labels
// contain all `selector` pairs. An empty selector selects nothing (it is not "match all").
struct Components {
  std::vector<std::string> hosts;  // in file order, no duplicates
  std::map<std::string, std::string> selector;
};

// A service level agreement (IT <-> business).
struct Sla {
  double target = 0;  // ratio in (0, 1): 99.9 % in the file is 0.999 here
  PeriodSpec period;  // period.time_zone: sla.time_zone (default "UTC")
  // `always` (24x7) unless the file gives windows. When not always, `windows` is sorted by
  // (weekday, start_minute), non-empty, and no two windows of one weekday overlap or touch
  // (the loader merges them); midnight-crossing windows are already split.
  ServiceHours service_hours;
  // In file order. A weekly entry on several days ("Mon-Fri 02:00") becomes one
  // MaintenanceWindow per day, all with the entry's name.
  std::vector<MaintenanceWindow> maintenance;
  UnknownPolicy unknown = UnknownPolicy::kDown;
};

// --- Capacity ----------------------------------------------------------------------------------

// A resource whose utilisation (a ratio, normally in [0, 1]) is compared with thresholds: cpu
// busy time / available CPU time; memory and swap in use / total; filesystem used bytes / size
// and inodes used / total, each per mountpoint; network throughput / link speed.
enum class CapacityResource { kCpu, kMemory, kSwap, kFilesystem, kInodes, kNetwork };
// Every resource, in declaration order.
inline constexpr CapacityResource kCapacityResources[] = {
    CapacityResource::kCpu,        CapacityResource::kMemory, CapacityResource::kSwap,
    CapacityResource::kFilesystem, CapacityResource::kInodes, CapacityResource::kNetwork};
// "cpu", "memory", "swap", "filesystem", "inodes", "network".
const char* CapacityResourceName(CapacityResource resource);
// The inverse of CapacityResourceName (exact, lower case); nullopt for any other text.
std::optional<CapacityResource> ParseCapacityResource(absl::string_view name);

// What is compared with a resource's thresholds: the latest value, or a statistic of the
// values over CapacityThreshold::window.
enum class CapacityStatistic { kCurrent, kMean, kP95, kP99, kMax };
// "current", "mean", "p95", "p99", "max".
const char* CapacityStatisticName(CapacityStatistic statistic);
// The inverse of CapacityStatisticName (exact, lower case); nullopt for any other text.
std::optional<CapacityStatistic> ParseCapacityStatistic(absl::string_view name);

// When a resource is short of capacity. Utilisation u (the statistic) is "warning" when
// u >= warning, "critical" when u >= critical; headroom = threshold - u. After loading,
// 0 < warning < critical <= 1.
struct CapacityThreshold {
  double warning = 0.8;   // ratio in (0, 1]: "80%" or 0.8 in the file
  double critical = 0.9;  // ratio in (0, 1]; greater than warning
  CapacityStatistic statistic = CapacityStatistic::kCurrent;  // compared with the thresholds
  // Window of the statistic: 1h, 1d, 7d or 30d (ignored for kCurrent).
  absl::Duration window = absl::Hours(24);
};

// A service's business volume (users, orders/s): a custom series its hosts publish (through
// the agent's textfile directory), summed over the service's hosts. The capacity engine fits
// resource use per unit of demand from it.
struct DemandSpec {
  std::string metric;  // a Prometheus metric name not starting with "accord_"; no default
  std::map<std::string, std::string> labels;  // exact-match label selector; default: none
  bool counter = true;  // true (`type: counter`, default): its per-second rate; false: its value
  std::string unit;     // e.g. "orders", for reports only; default empty
};

// The capacity settings of a service (Service::capacity) or of every host outside a service
// (Catalogue::capacity_defaults).
struct CapacitySpec {
  // One threshold per resource. After loading it always has all six resources; in order of
  // precedence: the service's `capacity.<resource>` fields, then `capacity_defaults`, then the
  // built-in defaults (DefaultCapacitySpec).
  std::map<CapacityResource, CapacityThreshold> thresholds;
  // Per-mountpoint overrides (absolute paths as the agent reports them, no trailing '/'), used
  // for kFilesystem and kInodes on that mountpoint. Each entry is complete: fields the file
  // does not give come from the same mountpoint in `capacity_defaults` if there, else from the
  // section's merged filesystem threshold. A service inherits every mountpoint of
  // `capacity_defaults` and may override or add to them. Default: none.
  std::map<std::string, CapacityThreshold> mountpoints;
  std::optional<DemandSpec> demand;  // the service's business volume; default: none
  // Evaluate whether the service survives losing its largest host (N+1). Default true.
  bool n_plus_one = true;
};

// The built-in defaults: cpu p95 over 1d 0.70/0.85; memory p95 over 1d 0.80/0.90; swap current
// 0.50/0.80; filesystem current 0.80/0.90; inodes current 0.80/0.90; network p95 over 1d
// 0.70/0.85; no mountpoints, no demand, n_plus_one true.
CapacitySpec DefaultCapacitySpec();

// The threshold that applies to `resource` (on `mountpoint`, for kFilesystem and kInodes; the
// mountpoint is ignored for other resources): spec.mountpoints[mountpoint] if present, else
// spec.thresholds[resource], else (a hand-built spec lacking the resource) the built-in
// default. The reference lives as long as `spec` (or forever, for a built-in default).
const CapacityThreshold& ThresholdFor(const CapacitySpec& spec, CapacityResource resource,
                                      absl::string_view mountpoint);

// --- Services ------------------------------------------------------------------------------------

struct Service {
  std::string id;    // unique among services; [A-Za-z0-9][A-Za-z0-9._-]*
  std::string name;  // defaults to id
  std::string description;
  std::string owner;  // the accountable team or person; free text, not checked against teams
  Priority priority = Priority::kMedium;
  Components components;
  AvailabilityRule rule;  // available_when; default kAll
  Sla sla;
  std::string support_team;            // id of a Team (the OLA), or empty
  std::vector<std::string> suppliers;  // ids of Suppliers (underpinning contracts)
  // `capacity:` merged over Catalogue::capacity_defaults; complete (see CapacitySpec).
  CapacitySpec capacity = DefaultCapacitySpec();
};

// An internal support team and its operational level agreement.
struct Team {
  std::string id;
  std::string name;               // defaults to id
  absl::Duration restore_target;  // restore service within this, per incident (target MTRS)
  std::optional<absl::Duration> max_single_outage;  // no single outage may last longer
};

// A supplier and its underpinning contract; same targets as a Team.
struct Supplier {
  std::string id;
  std::string name;  // defaults to id
  absl::Duration restore_target;
  std::optional<absl::Duration> max_single_outage;
};

struct Catalogue {
  std::vector<Service> services;    // in file order
  std::vector<Team> teams;          // in file order
  std::vector<Supplier> suppliers;  // in file order
  // `capacity_defaults:` merged over DefaultCapacitySpec(): the settings of every host outside
  // any service, and the base of every service's `capacity`. Never has a demand.
  CapacitySpec capacity_defaults = DefaultCapacitySpec();
  std::string source_file;  // the file name given to the loader
  // Identifies this version of the catalogue: 16 lower-case hex digits of a 64-bit FNV-1a
  // hash of the `capacity_defaults`, `teams`, `suppliers` and `services` sections re-emitted in
  // canonical form, so comments, formatting and the flags sharing the file do not change it.
  std::string content_hash;

  // Lookups by id; nullptr when absent. Pointers live as long as the Catalogue is unchanged.
  const Service* FindService(absl::string_view id) const;
  const Team* FindTeam(absl::string_view id) const;
  const Supplier* FindSupplier(absl::string_view id) const;
};

// A host as the catalogue sees it: its id and its labels (from the agent's hello).
struct HostRef {
  std::string id;
  std::map<std::string, std::string> labels;
};

// True if the host is a component of `service`: its id is in components.hosts, or the
// selector is non-empty and every selector pair is present with the same value in
// `host_labels`.
bool SelectorMatches(const Service& service, const std::string& host_id,
                     const std::map<std::string, std::string>& host_labels);

// The ids of the service's component hosts: first components.hosts in file order (always,
// whether or not they are in `hosts`: a listed host never seen is still a component, with
// no evidence), then the hosts of `hosts` matched by the selector and not already listed,
// sorted by id. No duplicates.
std::vector<std::string> ComponentHosts(const Service& service, const std::vector<HostRef>& hosts);

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_CATALOGUE_CATALOGUE_H_
