// LoadCatalogue: the edge that turns the catalogue sections of the collector's YAML file
// (`capacity_defaults:`, `teams:`, `suppliers:`, `services:`) into a Catalogue, reporting every
// problem at once with its place. It parses text; reading the file is the caller's job. The file
// format is documented in docs/catalogue.md; deploy/examples/catalogue.yaml is a complete example.
//
// yaml-cpp throws; nothing escapes this function (syntax errors become a Diagnostic).
// Thread safety: a pure function, thread-safe.
#ifndef ACCORD_COLLECTOR_CATALOGUE_CATALOGUE_LOADER_H_
#define ACCORD_COLLECTOR_CATALOGUE_CATALOGUE_LOADER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "collector/catalogue/catalogue.h"
#include "collector/catalogue/diagnostic.h"

namespace accord::collector {

struct CatalogueLoadOptions {
  // Top-level keys that belong to other loaders and are skipped, in addition to the collector
  // flags' sections `grpc`, `web`, `storage`, `ingest`, `log` and `capacity` (the flags'
  // rollup and evaluation settings; the catalogue's thresholds are `capacity_defaults`). A
  // top-level key is skipped when it, or its part before the first '.', is in either list (the
  // flags loader also accepts flat keys such as `grpc.listen-address`). Every other unknown
  // key is an error.
  std::vector<std::string> ignore_keys;
  // Warn about listed hosts and selectors that match no host of `known_hosts`. Set it to false
  // when the hosts are not known yet (e.g. the first start, before any agent connected), or
  // every service would warn.
  bool warn_unmatched = true;
};

// The top-level keys the catalogue loader reads: "capacity_defaults", "teams", "suppliers" and
// "services". Other loaders of the same file skip exactly these (ConfigSchema::IgnoreYamlKeys).
const std::vector<std::string>& CatalogueSections();

// Parses `yaml_text` (named `file_name` in diagnostics) and checks it against itself and
// against `known_hosts`.
//
// Appends every diagnostic found, in file order (line, then column), to `*diagnostics` when it
// is non-null. Checks: YAML syntax (one diagnostic); unknown and duplicate keys at every level;
// wrong node types; missing required fields; invalid or duplicate ids; unknown time zones;
// targets outside (0, 100); bad periods, weekdays, times of day, windows, schedules and
// durations; one-off maintenance ending at or before its start; rules with K < 1, K > N, or N
// different from the number of listed hosts; references to unknown teams or suppliers; capacity
// settings: unknown resources, ratios outside (0, 1] (percentages outside (0, 100]), warning
// not below critical after merging with the defaults, unknown statistics, windows other than
// 1h/1d/7d/30d, demand metrics that are invalid or Accord's own (accord_*), mountpoints that are
// not absolute. Warnings (which do not fail the load) cover hosts and selectors matching no
// known host, and a capacity window given with statistic current (it is ignored).
//
// Returns the catalogue when there is no error (warnings allowed); otherwise InvalidArgument
// (do not retry: the file must be fixed) whose message is every error's ToString(), one per
// line.
absl::StatusOr<Catalogue> LoadCatalogue(absl::string_view yaml_text, const std::string& file_name,
                                        const std::vector<HostRef>& known_hosts,
                                        std::vector<Diagnostic>* diagnostics,
                                        const CatalogueLoadOptions& options = {});

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_CATALOGUE_CATALOGUE_LOADER_H_
