// LoadCatalogue's capacity settings: `capacity_defaults:` and each service's `capacity:`.
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "collector/catalogue/catalogue_loader.h"
#include "gtest/gtest.h"

namespace accord::collector {
namespace {

const std::vector<HostRef> kHosts = {
    {"db-1", {{"role", "db"}}},
    {"db-2", {{"role", "db"}}},
    {"web-1", {{"role", "web"}}},
};

using Texts = std::vector<std::string>;

// Loads `yaml` as "c.yaml" and returns every diagnostic as text.
Texts Diagnose(const std::string& yaml) {
  std::vector<Diagnostic> diagnostics;
  (void)LoadCatalogue(yaml, "c.yaml", kHosts, &diagnostics);
  Texts out;
  for (const Diagnostic& d : diagnostics) out.push_back(d.ToString());
  return out;
}

// Loads `yaml`, expecting no diagnostic but those about hosts matching no known host.
Catalogue LoadOk(const std::string& yaml) {
  std::vector<Diagnostic> diagnostics;
  CatalogueLoadOptions options;
  options.warn_unmatched = false;
  absl::StatusOr<Catalogue> c = LoadCatalogue(yaml, "c.yaml", kHosts, &diagnostics, options);
  EXPECT_TRUE(c.ok()) << c.status();
  for (const Diagnostic& d : diagnostics) ADD_FAILURE() << d.ToString();
  return c.ok() ? *std::move(c) : Catalogue();
}

// (warning, critical, statistic, window in hours), for comparing thresholds in one line.
using T = std::tuple<double, double, CapacityStatistic, int64_t>;
T AsTuple(const CapacityThreshold& t) {
  return {t.warning, t.critical, t.statistic, absl::ToInt64Hours(t.window)};
}
T Of(const CapacitySpec& spec, CapacityResource resource) {
  return AsTuple(spec.thresholds.at(resource));
}

constexpr CapacityStatistic kCurrent = CapacityStatistic::kCurrent;
constexpr CapacityStatistic kMean = CapacityStatistic::kMean;
constexpr CapacityStatistic kP95 = CapacityStatistic::kP95;
constexpr CapacityStatistic kP99 = CapacityStatistic::kP99;
constexpr CapacityStatistic kMax = CapacityStatistic::kMax;
constexpr CapacityResource kCpu = CapacityResource::kCpu;
constexpr CapacityResource kMemory = CapacityResource::kMemory;
constexpr CapacityResource kSwap = CapacityResource::kSwap;
constexpr CapacityResource kFilesystem = CapacityResource::kFilesystem;
constexpr CapacityResource kInodes = CapacityResource::kInodes;
constexpr CapacityResource kNetwork = CapacityResource::kNetwork;

void ExpectBuiltInThresholds(const CapacitySpec& spec) {
  CapacitySpec built_in = DefaultCapacitySpec();
  ASSERT_EQ(spec.thresholds.size(), 6u);
  for (CapacityResource r : kCapacityResources) {
    EXPECT_EQ(Of(spec, r), Of(built_in, r)) << CapacityResourceName(r);
  }
}

constexpr char kOneService[] =
    "services:\n  - {id: s, components: {hosts: [db-1]}, sla: {target: 99}}\n";

TEST(CapacityLoaderTest, WithoutCapacitySectionsEverythingIsTheBuiltInDefault) {
  Catalogue c = LoadOk(kOneService);
  ExpectBuiltInThresholds(c.capacity_defaults);
  EXPECT_TRUE(c.capacity_defaults.mountpoints.empty());
  EXPECT_TRUE(c.capacity_defaults.n_plus_one);
  ASSERT_EQ(c.services.size(), 1u);
  const CapacitySpec& s = c.services[0].capacity;
  ExpectBuiltInThresholds(s);
  EXPECT_TRUE(s.mountpoints.empty());
  EXPECT_FALSE(s.demand.has_value());
  EXPECT_TRUE(s.n_plus_one);
  EXPECT_EQ(Of(s, kCpu), (T{0.70, 0.85, kP95, 24}));
  EXPECT_EQ(Of(s, kSwap), (T{0.50, 0.80, kCurrent, 24}));
}

TEST(CapacityLoaderTest, EmptySectionsInheritEverything) {
  Catalogue c = LoadOk(R"(capacity_defaults:
services:
  - id: s
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity: {}
)");
  ExpectBuiltInThresholds(c.capacity_defaults);
  ASSERT_EQ(c.services.size(), 1u);
  ExpectBuiltInThresholds(c.services[0].capacity);
}

constexpr char kLayered[] = R"(capacity_defaults:
  cpu: {warning: 65%, critical: 0.8}
  memory: {statistic: max, window: 7d}
  mountpoints:
    /data: {warning: 85%, critical: 95%}
  n_plus_one: false
services:
  - id: shop
    components: {hosts: [db-1, db-2]}
    sla: {target: 99.9}
    capacity:
      cpu: {warning: 60%}
      filesystem: {warning: 75%}
      inodes: {statistic: mean, window: 1h}
      network: {statistic: P99, window: 720h}
      mountpoints:
        /var/lib/postgresql: {warning: 70%, critical: 85%}
        /data: {critical: 97%}
        /srv: {statistic: max, window: 30d}
      demand: {metric: shop_orders_total, type: counter, unit: orders, labels: {shop: eu}}
      n_plus_one: true
  - id: web
    components: {hosts: [web-1]}
    sla: {target: 99}
)";

TEST(CapacityLoaderTest, CapacityDefaultsOverrideTheBuiltInsFieldByField) {
  Catalogue c = LoadOk(kLayered);
  const CapacitySpec& d = c.capacity_defaults;
  EXPECT_EQ(Of(d, kCpu), (T{0.65, 0.8, kP95, 24}));        // statistic, window: built-in
  EXPECT_EQ(Of(d, kMemory), (T{0.8, 0.9, kMax, 24 * 7}));  // thresholds: built-in
  EXPECT_EQ(Of(d, kSwap), (T{0.5, 0.8, kCurrent, 24}));    // untouched
  EXPECT_EQ(Of(d, kFilesystem), (T{0.8, 0.9, kCurrent, 24}));
  ASSERT_EQ(d.mountpoints.size(), 1u);
  EXPECT_EQ(AsTuple(d.mountpoints.at("/data")), (T{0.85, 0.95, kCurrent, 24}));
  EXPECT_FALSE(d.n_plus_one);
  EXPECT_FALSE(d.demand.has_value());

  // A service without a capacity section gets the defaults as they are.
  ASSERT_EQ(c.services.size(), 2u);
  const CapacitySpec& web = c.services[1].capacity;
  for (CapacityResource r : kCapacityResources) {
    EXPECT_EQ(Of(web, r), Of(d, r)) << CapacityResourceName(r);
  }
  ASSERT_EQ(web.mountpoints.size(), 1u);
  EXPECT_EQ(AsTuple(web.mountpoints.at("/data")), (T{0.85, 0.95, kCurrent, 24}));
  EXPECT_FALSE(web.n_plus_one);
  EXPECT_FALSE(web.demand.has_value());
}

TEST(CapacityLoaderTest, ServiceOverridesPerResourceAndKeepsTheOtherFields) {
  Catalogue c = LoadOk(kLayered);
  const CapacitySpec& shop = c.services[0].capacity;
  EXPECT_EQ(Of(shop, kCpu), (T{0.6, 0.8, kP95, 24}));  // critical from capacity_defaults
  EXPECT_EQ(Of(shop, kMemory), (T{0.8, 0.9, kMax, 24 * 7}));
  EXPECT_EQ(Of(shop, kSwap), (T{0.5, 0.8, kCurrent, 24}));
  EXPECT_EQ(Of(shop, kFilesystem), (T{0.75, 0.9, kCurrent, 24}));
  EXPECT_EQ(Of(shop, kInodes), (T{0.8, 0.9, kMean, 1}));
  EXPECT_EQ(Of(shop, kNetwork), (T{0.7, 0.85, kP99, 24 * 30}));  // any case; 720h is 30d
  EXPECT_TRUE(shop.n_plus_one);
}

TEST(CapacityLoaderTest, MountpointsStartFromTheDefaultsEntryOrTheServiceFilesystem) {
  Catalogue c = LoadOk(kLayered);
  const CapacitySpec& shop = c.services[0].capacity;
  ASSERT_EQ(shop.mountpoints.size(), 3u);
  EXPECT_EQ(AsTuple(shop.mountpoints.at("/var/lib/postgresql")), (T{0.7, 0.85, kCurrent, 24}));
  // Inherited from capacity_defaults.mountpoints, critical overridden.
  EXPECT_EQ(AsTuple(shop.mountpoints.at("/data")), (T{0.85, 0.97, kCurrent, 24}));
  // New: from the service's filesystem threshold (warning 75%).
  EXPECT_EQ(AsTuple(shop.mountpoints.at("/srv")), (T{0.75, 0.9, kMax, 24 * 30}));

  EXPECT_EQ(AsTuple(ThresholdFor(shop, kFilesystem, "/var/lib/postgresql")),
            (T{0.7, 0.85, kCurrent, 24}));
  EXPECT_EQ(AsTuple(ThresholdFor(shop, kInodes, "/srv")), (T{0.75, 0.9, kMax, 24 * 30}));
  EXPECT_EQ(AsTuple(ThresholdFor(shop, kInodes, "/")), (T{0.8, 0.9, kMean, 1}));
  EXPECT_EQ(AsTuple(ThresholdFor(shop, kFilesystem, "/home")), (T{0.75, 0.9, kCurrent, 24}));
}

TEST(CapacityLoaderTest, DemandIsReadWithItsDefaults) {
  Catalogue c = LoadOk(kLayered);
  const std::optional<DemandSpec>& shop = c.services[0].capacity.demand;
  ASSERT_TRUE(shop.has_value());
  EXPECT_EQ(shop->metric, "shop_orders_total");
  EXPECT_TRUE(shop->counter);
  EXPECT_EQ(shop->unit, "orders");
  EXPECT_EQ(shop->labels, (std::map<std::string, std::string>{{"shop", "eu"}}));

  c = LoadOk(R"(services:
  - id: a
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      demand: {metric: "shop:users:sum", type: Gauge}
  - id: b
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      demand:
        metric: shop_orders_total
)");
  ASSERT_EQ(c.services.size(), 2u);
  const std::optional<DemandSpec>& a = c.services[0].capacity.demand;
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->metric, "shop:users:sum");
  EXPECT_FALSE(a->counter);
  EXPECT_TRUE(a->unit.empty());
  EXPECT_TRUE(a->labels.empty());
  const std::optional<DemandSpec>& b = c.services[1].capacity.demand;
  ASSERT_TRUE(b.has_value());
  EXPECT_TRUE(b->counter);  // counter by default
}

TEST(CapacityLoaderTest, RatiosAndPercentagesMeanTheSame) {
  Catalogue c = LoadOk(R"(capacity_defaults:
  cpu: {warning: 0.5, critical: 100%}
  memory: {warning: "62.5%", critical: 1}
  swap: {warning: 0.01%, critical: 0.25}
)");
  EXPECT_EQ(Of(c.capacity_defaults, kCpu), (T{0.5, 1.0, kP95, 24}));
  EXPECT_EQ(Of(c.capacity_defaults, kMemory), (T{0.625, 1.0, kP95, 24}));
  EXPECT_EQ(Of(c.capacity_defaults, kSwap), (T{0.0001, 0.25, kCurrent, 24}));
}

// --- errors: exact text and place -------------------------------------------------------------

TEST(CapacityLoaderTest, UnknownKeysAndResources) {
  EXPECT_EQ(Diagnose(R"(capacity_defaults:
  disk: {warning: 80%}
  cpu: {warning: 70%, level: 2}
services:
  - id: s
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      memory: {warning: 70%}
      demand: {metric: shop_orders_total, kind: counter}
      gpu: {}
  - id: t
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity: [cpu]
)"),
            (Texts{
                "c.yaml:2:3: error: field capacity_defaults.disk: unknown key (want cpu, memory, "
                "swap, filesystem, inodes, network, mountpoints, demand or n_plus_one)",
                "c.yaml:3:23: error: field capacity_defaults.cpu.level: unknown key (want "
                "warning, critical, statistic or window)",
                "c.yaml:10:43: error: field services[0].capacity.demand.kind: unknown key (want "
                "metric, labels, type or unit)",
                "c.yaml:11:7: error: field services[0].capacity.gpu: unknown key (want cpu, "
                "memory, swap, filesystem, inodes, network, mountpoints, demand or n_plus_one)",
                "c.yaml:15:15: error: field services[1].capacity: want a map, got a list",
            }));
}

TEST(CapacityLoaderTest, BadThresholdValues) {
  EXPECT_EQ(
      Diagnose(R"(capacity_defaults:
  cpu: {warning: 0%, critical: 101%}
  memory: {warning: 80, critical: 1.5}
  swap: {warning: lots, critical: -0.1}
  network: {statistic: p90, window: 2d}
  inodes: {window: 1 day}
  filesystem: {warning: [80%]}
)"),
      (Texts{
          "c.yaml:2:18: error: field capacity_defaults.cpu.warning: percentage 0% is outside "
          "(0, 100]",
          "c.yaml:2:32: error: field capacity_defaults.cpu.critical: percentage 101% is outside "
          "(0, 100]",
          "c.yaml:3:21: error: field capacity_defaults.memory.warning: ratio 80 is outside (0, 1] "
          "(write 80% for a percentage)",
          "c.yaml:3:35: error: field capacity_defaults.memory.critical: ratio 1.5 is outside (0, "
          "1] (write 1.5% for a percentage)",
          "c.yaml:4:19: error: field capacity_defaults.swap.warning: invalid number \"lots\" (want "
          "a percentage such as 80% or a ratio such as 0.8)",
          "c.yaml:4:35: error: field capacity_defaults.swap.critical: ratio -0.1 is outside (0, 1]",
          "c.yaml:5:24: error: field capacity_defaults.network.statistic: unknown statistic "
          "\"p90\" (want current, mean, p95, p99 or max)",
          "c.yaml:5:37: error: field capacity_defaults.network.window: window 2d is not one of "
          "1h, 1d, 7d or 30d",
          "c.yaml:6:20: error: field capacity_defaults.inodes.window: invalid duration \"1 day\" "
          "(want e.g. 500ms, 10s, 5m, 7d)",
          "c.yaml:7:25: error: field capacity_defaults.filesystem.warning: want a single value, "
          "got a list",
      }));
}

TEST(CapacityLoaderTest, WarningMustBeBelowCriticalInTheDefaults) {
  EXPECT_EQ(Diagnose(R"(capacity_defaults:
  cpu: {warning: 90%}
  memory: {warning: 85%, critical: 85%}
  swap: {critical: 40%}
  filesystem: {warning: 50%, critical: 60%}
)"),
            (Texts{
                "c.yaml:2:18: error: field capacity_defaults.cpu.warning: warning 90% must be "
                "below critical 85% (critical inherited from the built-in default)",
                "c.yaml:3:21: error: field capacity_defaults.memory.warning: warning 85% must be "
                "below critical 85%",
                "c.yaml:4:20: error: field capacity_defaults.swap.critical: warning 50% must be "
                "below critical 40% (warning inherited from the built-in default)",
            }));
}

TEST(CapacityLoaderTest, WarningMustBeBelowCriticalAfterMergingWithTheDefaults) {
  EXPECT_EQ(Diagnose(R"(capacity_defaults:
  network: {warning: 75%}
services:
  - id: s
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      filesystem: {warning: 95%}
      network: {critical: 0.5}
  - id: t
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      filesystem: {critical: 95%}
      mountpoints:
        /data: {warning: 96%}
        /srv: {critical: 60%, warning: 0.6}
        /ok: {warning: 94%}
)"),
            (Texts{
                "c.yaml:8:29: error: field services[0].capacity.filesystem.warning: warning 95% "
                "must be below critical 90% (critical inherited from the defaults)",
                "c.yaml:9:27: error: field services[0].capacity.network.critical: warning 75% "
                "must be below critical 50% (warning inherited from the defaults)",
                "c.yaml:16:26: error: field services[1].capacity.mountpoints[\"/data\"].warning: "
                "warning 96% must be below critical 95% (critical inherited from filesystem)",
                "c.yaml:17:40: error: field services[1].capacity.mountpoints[\"/srv\"].warning: "
                "warning 60% must be below critical 60%",
            }));
}

TEST(CapacityLoaderTest, InheritedMountpointIsCheckedAgainstItsOwnValues) {
  EXPECT_EQ(
      Diagnose(R"(capacity_defaults:
  mountpoints:
    /data: {warning: 85%, critical: 95%}
services:
  - id: s
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      mountpoints:
        /data: {critical: 80%}
)"),
      Texts{"c.yaml:10:27: error: field services[0].capacity.mountpoints[\"/data\"].critical: "
            "warning 85% must be below critical 80% (warning inherited from "
            "capacity_defaults)"});
}

TEST(CapacityLoaderTest, AnErrorInTheDefaultsIsNotRepeatedForEveryService) {
  // The defaults' cpu is wrong (99% >= the built-in 85%); a service giving only critical 95% is
  // not blamed for the inherited 99%. A service giving both is still checked.
  EXPECT_EQ(Diagnose(R"(capacity_defaults:
  cpu: {warning: 99%}
services:
  - id: s
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      cpu: {critical: 95%}
  - id: t
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      cpu: {warning: 95%, critical: 90%}
)"),
            (Texts{
                "c.yaml:2:18: error: field capacity_defaults.cpu.warning: warning 99% must be "
                "below critical 85% (critical inherited from the built-in default)",
                "c.yaml:13:22: error: field services[1].capacity.cpu.warning: warning 95% must be "
                "below critical 90%",
            }));
}

TEST(CapacityLoaderTest, MountpointDemandAndNPlusOneErrors) {
  EXPECT_EQ(
      Diagnose(R"(capacity_defaults:
  demand: {metric: shop_orders_total}
  mountpoints: [/data]
services:
  - id: s
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      mountpoints:
        var/lib/postgresql: {warning: 70%}
        /data/: {warning: 70%}
        /srv: {warning: 70%}
        /srv: {warning: 75%}
        /tmp: 70%
      demand: {metric: accord_agent_up, type: histogram, labels: {shop-id: eu}}
      n_plus_one: maybe
  - id: t
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      demand: {metric: shop-orders}
  - id: u
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      demand: {unit: orders}
)"),
      (Texts{
          "c.yaml:2:3: error: field capacity_defaults.demand: demand is per service (give it in "
          "the service's capacity section)",
          "c.yaml:3:16: error: field capacity_defaults.mountpoints: want a map of mountpoint: "
          "threshold, got a list",
          "c.yaml:10:9: error: field services[0].capacity.mountpoints[\"var/lib/postgresql\"]: "
          "mountpoint \"var/lib/postgresql\" is not an absolute path (want e.g. "
          "/var/lib/postgresql)",
          "c.yaml:11:9: error: field services[0].capacity.mountpoints[\"/data/\"]: mountpoint "
          "\"/data/\" ends with '/' (write /data, as the agent reports it)",
          "c.yaml:13:9: error: field services[0].capacity.mountpoints[\"/srv\"]: duplicate key",
          "c.yaml:14:15: error: field services[0].capacity.mountpoints[\"/tmp\"]: want a map, got "
          "a single value",
          "c.yaml:15:24: error: field services[0].capacity.demand.metric: metric "
          "\"accord_agent_up\" is one of Accord's own series (want a custom series the service's "
          "hosts publish, e.g. shop_orders_total)",
          "c.yaml:15:47: error: field services[0].capacity.demand.type: unknown type "
          "\"histogram\" (want counter or gauge)",
          "c.yaml:15:67: error: field services[0].capacity.demand.labels.shop-id: invalid label "
          "name \"shop-id\" (want [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)",
          "c.yaml:16:19: error: field services[0].capacity.n_plus_one: invalid boolean \"maybe\" "
          "(want true or false)",
          "c.yaml:21:24: error: field services[1].capacity.demand.metric: invalid metric name "
          "\"shop-orders\" (want [a-zA-Z_:][a-zA-Z0-9_:]*, at most 200 bytes)",
          "c.yaml:26:15: error: field services[2].capacity.demand.metric: missing required field",
      }));
}

TEST(CapacityLoaderTest, EmptyValuesPointAtTheirKey) {
  EXPECT_EQ(Diagnose(R"(services:
  - id: s
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      cpu: {warning: }
      mountpoints:
        /data:
)"),
            (Texts{
                "c.yaml:6:13: error: field services[0].capacity.cpu.warning: missing value",
                "c.yaml:8:9: error: field services[0].capacity.mountpoints[\"/data\"]: want a "
                "map, got nothing",
            }));
}

TEST(CapacityLoaderTest, WindowWithStatisticCurrentWarns) {
  std::vector<Diagnostic> diagnostics;
  absl::StatusOr<Catalogue> c = LoadCatalogue(R"(services:
  - id: s
    components: {hosts: [db-1]}
    sla: {target: 99}
    capacity:
      filesystem: {window: 7d}
      cpu: {statistic: current}
)",
                                              "c.yaml", kHosts, &diagnostics);
  ASSERT_TRUE(c.ok()) << c.status();  // a warning does not fail the load
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].ToString(),
            "c.yaml:6:28: warning: field services[0].capacity.filesystem.window: window is "
            "ignored for statistic current");
  // cpu's window (1d) is inherited, not written: no warning.
  EXPECT_EQ(Of(c->services[0].capacity, kCpu), (T{0.7, 0.85, kCurrent, 24}));
}

TEST(CapacityLoaderTest, DemandMetricLongerThanTheCollectorAcceptsIsInvalid) {
  const std::string name(201, 'x');
  Texts got = Diagnose(
      "services:\n  - {id: s, components: {hosts: [db-1]}, sla: {target: 99}, "
      "capacity: {demand: {metric: " +
      name + "}}}\n");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].find("at most 200 bytes"), std::string::npos) << got[0];
  EXPECT_TRUE(Diagnose("services:\n  - {id: s, components: {hosts: [db-1]}, sla: {target: 99}, "
                       "capacity: {demand: {metric: " +
                       std::string(200, 'x') + "}}}\n")
                  .empty());
}

// --- the documented and shipped examples --------------------------------------------------------

// docs/catalogue.md, "A complete example", and what its text says about it.
TEST(CapacityLoaderTest, DocumentedExampleMeansWhatTheDocsSay) {
  Catalogue c = LoadOk(R"(capacity_defaults:
  cpu: {warning: 70%, critical: 85%, statistic: p95, window: 1d}
  filesystem: {warning: 85%}            # critical stays 90%, statistic current
  mountpoints:
    /var/lib/docker: {warning: 70%, critical: 80%}
  n_plus_one: true

services:
  - id: shop
    components: {hosts: [db-1, db-2, db-3]}
    sla: {target: 99.9}
    capacity:
      cpu: {warning: 60%, critical: 80%}            # statistic p95 over 1d, from the defaults
      memory: {statistic: max, window: 7d}          # thresholds 80%/90%, built in
      filesystem: {warning: 75%}                    # critical 90%
      mountpoints:
        /var/lib/postgresql: {warning: 70%, critical: 85%}
        /var/lib/docker: {critical: 90%}            # warning 70% from capacity_defaults
      demand: {metric: shop_orders_total, type: counter, unit: orders, labels: {shop: eu}}
      n_plus_one: true
)");
  ASSERT_EQ(c.services.size(), 1u);
  const CapacitySpec& shop = c.services[0].capacity;
  EXPECT_EQ(Of(shop, kCpu), (T{0.6, 0.8, kP95, 24}));
  EXPECT_EQ(Of(shop, kMemory), (T{0.8, 0.9, kMax, 24 * 7}));
  EXPECT_EQ(AsTuple(ThresholdFor(shop, kFilesystem, "/var/lib/postgresql")),
            (T{0.7, 0.85, kCurrent, 24}));
  EXPECT_EQ(AsTuple(ThresholdFor(shop, kFilesystem, "/var/lib/docker")),
            (T{0.7, 0.9, kCurrent, 24}));
  EXPECT_EQ(AsTuple(ThresholdFor(shop, kInodes, "/")), (T{0.8, 0.9, kCurrent, 24}));
  EXPECT_EQ(AsTuple(ThresholdFor(shop, kFilesystem, "/")), (T{0.75, 0.9, kCurrent, 24}));
  const CapacitySpec& other = c.capacity_defaults;  // hosts outside any service
  EXPECT_EQ(AsTuple(ThresholdFor(other, kFilesystem, "/")), (T{0.85, 0.9, kCurrent, 24}));
  EXPECT_EQ(AsTuple(ThresholdFor(other, kFilesystem, "/var/lib/docker")),
            (T{0.7, 0.8, kCurrent, 24}));
  ASSERT_TRUE(shop.demand.has_value());
  EXPECT_EQ(shop.demand->unit, "orders");
}

TEST(CapacityLoaderTest, ShippedExampleHasCapacitySettings) {
  std::ifstream in(ACCORD_EXAMPLE_CATALOGUE);
  ASSERT_TRUE(in) << ACCORD_EXAMPLE_CATALOGUE;
  std::stringstream text;
  text << in.rdbuf();
  Catalogue c = LoadOk(text.str());
  EXPECT_EQ(Of(c.capacity_defaults, kFilesystem), (T{0.85, 0.9, kCurrent, 24}));
  const Service* db = c.FindService("orders-db");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Of(db->capacity, kCpu), (T{0.6, 0.8, kP95, 24}));
  EXPECT_EQ(db->capacity.mountpoints.size(), 2u);  // its own and the defaults' /var/lib/docker
  const Service* shop = c.FindService("web-shop");
  ASSERT_NE(shop, nullptr);
  ASSERT_TRUE(shop->capacity.demand.has_value());
  EXPECT_EQ(shop->capacity.demand->metric, "shop_orders_total");
  const Service* batch = c.FindService("batch-reports");
  ASSERT_NE(batch, nullptr);
  EXPECT_FALSE(batch->capacity.n_plus_one);
}

TEST(CapacityLoaderTest, CatalogueSectionsNameEveryTopLevelKeyTheLoaderReads) {
  EXPECT_EQ(CatalogueSections(),
            (std::vector<std::string>{"capacity_defaults", "teams", "suppliers", "services"}));
  // Any other top-level key that is not a flag section is an error. `capacity` is the
  // collector flags' section (rollup retention, evaluation cadence), not the catalogue's.
  EXPECT_EQ(Diagnose("capacity_default: {}\n"),
            Texts{"c.yaml:1:1: error: field capacity_default: unknown key"});
  EXPECT_TRUE(Diagnose("capacity: {minute-retention: 7d}\ncapacity.hour-retention: 400d\n" +
                       std::string(kOneService))
                  .empty());
}

// --- version ------------------------------------------------------------------------------------

std::string Hash(const std::string& text) {
  absl::StatusOr<Catalogue> c = LoadCatalogue(text, "c.yaml", kHosts, nullptr);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? c->content_hash : "";
}

TEST(CapacityLoaderTest, ContentHashChangesWithTheCapacitySettings) {
  const std::string base = kOneService;
  const std::string defaults_60 = "capacity_defaults: {cpu: {warning: 60%}}\n" + base;
  const std::string defaults_65 = "capacity_defaults: {cpu: {warning: 65%}}\n" + base;
  const std::string defaults_60_block =
      "# same content, other layout\ncapacity_defaults:\n  cpu:\n    warning: 60%\n" + base;
  const std::string service_60 =
      "services:\n  - {id: s, components: {hosts: [db-1]}, sla: {target: 99}, capacity: {cpu: "
      "{warning: 60%}}}\n";
  const std::string service_65 =
      "services:\n  - {id: s, components: {hosts: [db-1]}, sla: {target: 99}, capacity: {cpu: "
      "{warning: 65%}}}\n";
  const std::string service_demand =
      "services:\n  - {id: s, components: {hosts: [db-1]}, sla: {target: 99}, capacity: {demand: "
      "{metric: shop_orders_total}}}\n";

  EXPECT_NE(Hash(base), Hash(defaults_60));
  EXPECT_NE(Hash(defaults_60), Hash(defaults_65));
  EXPECT_EQ(Hash(defaults_60), Hash(defaults_60_block));
  EXPECT_NE(Hash(base), Hash(service_60));
  EXPECT_NE(Hash(service_60), Hash(service_65));
  EXPECT_NE(Hash(service_60), Hash(defaults_60));
  EXPECT_NE(Hash(base), Hash(service_demand));
}

}  // namespace
}  // namespace accord::collector
