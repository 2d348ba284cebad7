// The service catalogue: every service, its owner, its components (hosts) and its SLA, plus
// the support teams (OLAs) and suppliers (underpinning contracts) it relies on. Plain values
// produced by LoadCatalogue (catalogue_loader.h) and read by the availability engine; the two
// functions below decide which hosts make up a service.
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
  std::string source_file;          // the file name given to the loader
  // Identifies this version of the catalogue: 16 lower-case hex digits of a 64-bit FNV-1a
  // hash of the `teams`, `suppliers` and `services` sections re-emitted in canonical form, so
  // comments, formatting and the flags sharing the file do not change it.
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
