#include "collector/catalogue/catalogue.h"

#include "collector/catalogue/diagnostic.h"
#include "gtest/gtest.h"

namespace accord::collector {
namespace {

Service MakeService(std::vector<std::string> hosts, std::map<std::string, std::string> selector) {
  Service s;
  s.id = "shop";
  s.components.hosts = std::move(hosts);
  s.components.selector = std::move(selector);
  return s;
}

TEST(SelectorMatchesTest, ListedHostMatchesWhateverItsLabels) {
  Service s = MakeService({"db-1", "db-2"}, {});
  EXPECT_TRUE(SelectorMatches(s, "db-1", {}));
  EXPECT_FALSE(SelectorMatches(s, "db-3", {{"role", "db"}}));
}

TEST(SelectorMatchesTest, EverySelectorPairMustMatch) {
  Service s = MakeService({}, {{"role", "db"}, {"env", "prod"}});
  EXPECT_TRUE(SelectorMatches(s, "x", {{"role", "db"}, {"env", "prod"}, {"dc", "lon"}}));
  EXPECT_FALSE(SelectorMatches(s, "x", {{"role", "db"}}));
  EXPECT_FALSE(SelectorMatches(s, "x", {{"role", "db"}, {"env", "test"}}));
  EXPECT_FALSE(SelectorMatches(s, "x", {}));
}

TEST(SelectorMatchesTest, EmptySelectorMatchesNothing) {
  Service s = MakeService({}, {});
  EXPECT_FALSE(SelectorMatches(s, "x", {}));
  EXPECT_FALSE(SelectorMatches(s, "x", {{"role", "db"}}));
}

TEST(ComponentHostsTest, ListedHostsFirstThenSelectedSortedWithoutDuplicates) {
  Service s = MakeService({"web-2", "web-9"}, {{"role", "web"}});
  std::vector<HostRef> hosts = {
      {"web-3", {{"role", "web"}}},
      {"web-2", {{"role", "web"}}},  // listed and selected: once
      {"db-1", {{"role", "db"}}},
      {"web-1", {{"role", "web"}, {"env", "prod"}}},
  };
  // web-9 is listed but not among the hosts: still a component (no evidence yet).
  EXPECT_EQ(ComponentHosts(s, hosts),
            (std::vector<std::string>{"web-2", "web-9", "web-1", "web-3"}));
}

TEST(ComponentHostsTest, ExplicitListOnly) {
  Service s = MakeService({"b", "a"}, {});
  EXPECT_EQ(ComponentHosts(s, {{"c", {}}}), (std::vector<std::string>{"b", "a"}));
}

TEST(CatalogueTest, FindById) {
  Catalogue c;
  c.services.push_back(MakeService({"h"}, {}));
  c.teams.push_back({"dba", "Database team", absl::Hours(4), std::nullopt});
  c.suppliers.push_back({"isp-a", "ISP A", absl::Hours(2), absl::Hours(8)});
  EXPECT_EQ(c.FindService("shop"), &c.services[0]);
  EXPECT_EQ(c.FindService("nope"), nullptr);
  EXPECT_EQ(c.FindTeam("dba"), &c.teams[0]);
  EXPECT_EQ(c.FindSupplier("isp-a"), &c.suppliers[0]);
  EXPECT_EQ(c.FindSupplier("dba"), nullptr);
}

TEST(CatalogueTest, PriorityNames) {
  EXPECT_STREQ(PriorityName(Priority::kCritical), "critical");
  EXPECT_STREQ(PriorityName(Priority::kLow), "low");
}

TEST(CapacityTest, ResourceAndStatisticNamesRoundTrip) {
  std::vector<std::string> names;
  for (CapacityResource r : kCapacityResources) {
    names.push_back(CapacityResourceName(r));
    EXPECT_EQ(ParseCapacityResource(CapacityResourceName(r)), r);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"cpu", "memory", "swap", "filesystem", "inodes", "network"}));
  EXPECT_EQ(ParseCapacityResource("disk"), std::nullopt);
  EXPECT_EQ(ParseCapacityResource("CPU"), std::nullopt);  // exact, lower case

  for (CapacityStatistic s :
       {CapacityStatistic::kCurrent, CapacityStatistic::kMean, CapacityStatistic::kP95,
        CapacityStatistic::kP99, CapacityStatistic::kMax}) {
    EXPECT_EQ(ParseCapacityStatistic(CapacityStatisticName(s)), s);
  }
  EXPECT_STREQ(CapacityStatisticName(CapacityStatistic::kCurrent), "current");
  EXPECT_STREQ(CapacityStatisticName(CapacityStatistic::kP95), "p95");
  EXPECT_EQ(ParseCapacityStatistic("p90"), std::nullopt);
}

TEST(CapacityTest, BuiltInDefaultsCoverEveryResource) {
  CapacitySpec spec = DefaultCapacitySpec();
  ASSERT_EQ(spec.thresholds.size(), 6u);
  struct Want {
    CapacityResource resource;
    double warning;
    double critical;
    CapacityStatistic statistic;
  };
  for (const Want& w :
       {Want{CapacityResource::kCpu, 0.70, 0.85, CapacityStatistic::kP95},
        Want{CapacityResource::kMemory, 0.80, 0.90, CapacityStatistic::kP95},
        Want{CapacityResource::kSwap, 0.50, 0.80, CapacityStatistic::kCurrent},
        Want{CapacityResource::kFilesystem, 0.80, 0.90, CapacityStatistic::kCurrent},
        Want{CapacityResource::kInodes, 0.80, 0.90, CapacityStatistic::kCurrent},
        Want{CapacityResource::kNetwork, 0.70, 0.85, CapacityStatistic::kP95}}) {
    SCOPED_TRACE(CapacityResourceName(w.resource));
    const CapacityThreshold& t = spec.thresholds.at(w.resource);
    EXPECT_EQ(t.warning, w.warning);
    EXPECT_EQ(t.critical, w.critical);
    EXPECT_EQ(t.statistic, w.statistic);
    EXPECT_EQ(t.window, absl::Hours(24));
  }
  EXPECT_TRUE(spec.mountpoints.empty());
  EXPECT_FALSE(spec.demand.has_value());
  EXPECT_TRUE(spec.n_plus_one);
  // A hand-built service or catalogue starts from the built-in defaults.
  EXPECT_EQ(Service().capacity.thresholds.size(), 6u);
  EXPECT_EQ(Catalogue().capacity_defaults.thresholds.size(), 6u);
}

TEST(CapacityTest, ThresholdForUsesMountpointOverridesForFilesystemAndInodesOnly) {
  CapacitySpec spec = DefaultCapacitySpec();
  CapacityThreshold db;
  db.warning = 0.7;
  db.critical = 0.85;
  spec.mountpoints["/var/lib/postgresql"] = db;
  EXPECT_EQ(&ThresholdFor(spec, CapacityResource::kFilesystem, "/var/lib/postgresql"),
            &spec.mountpoints.at("/var/lib/postgresql"));
  EXPECT_EQ(&ThresholdFor(spec, CapacityResource::kInodes, "/var/lib/postgresql"),
            &spec.mountpoints.at("/var/lib/postgresql"));
  EXPECT_EQ(&ThresholdFor(spec, CapacityResource::kFilesystem, "/"),
            &spec.thresholds.at(CapacityResource::kFilesystem));
  EXPECT_EQ(&ThresholdFor(spec, CapacityResource::kInodes, "/var/lib"),
            &spec.thresholds.at(CapacityResource::kInodes));
  EXPECT_EQ(&ThresholdFor(spec, CapacityResource::kCpu, "/var/lib/postgresql"),
            &spec.thresholds.at(CapacityResource::kCpu));
}

TEST(CapacityTest, ThresholdForFallsBackToTheBuiltInDefault) {
  CapacitySpec empty;  // hand-built, without thresholds
  const CapacityThreshold& swap = ThresholdFor(empty, CapacityResource::kSwap, "");
  EXPECT_EQ(swap.warning, 0.5);
  EXPECT_EQ(swap.critical, 0.8);
  EXPECT_EQ(ThresholdFor(empty, CapacityResource::kCpu, "").statistic, CapacityStatistic::kP95);
}

TEST(DiagnosticTest, ToStringWithAndWithoutField) {
  Diagnostic d{Diagnostic::Severity::kError, "c.yaml", 3, 7, "services[0].sla.target", "bad"};
  EXPECT_EQ(d.ToString(), "c.yaml:3:7: error: field services[0].sla.target: bad");
  d.severity = Diagnostic::Severity::kWarning;
  d.field.clear();
  EXPECT_EQ(d.ToString(), "c.yaml:3:7: warning: bad");
}

TEST(DiagnosticTest, JoinKeepsOneSeverity) {
  std::vector<Diagnostic> all = {
      {Diagnostic::Severity::kError, "f", 1, 1, "a", "one"},
      {Diagnostic::Severity::kWarning, "f", 2, 1, "b", "two"},
      {Diagnostic::Severity::kError, "f", 3, 1, "", "three"},
  };
  EXPECT_EQ(JoinDiagnostics(all, Diagnostic::Severity::kError),
            "f:1:1: error: field a: one\nf:3:1: error: three");
  EXPECT_EQ(JoinDiagnostics({}, Diagnostic::Severity::kError), "");
}

}  // namespace
}  // namespace accord::collector
