#include "collector/catalogue/catalogue_loader.h"

#include <fstream>
#include <sstream>
#include <tuple>

#include "gtest/gtest.h"

namespace accord::collector {
namespace {

using W = std::tuple<int, int, int>;
std::vector<W> AsTuples(const std::vector<WeeklyWindow>& windows) {
  std::vector<W> out;
  for (const WeeklyWindow& w : windows) out.emplace_back(w.weekday, w.start_minute, w.end_minute);
  return out;
}

absl::Time Utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), absl::UTCTimeZone());
}

const std::vector<HostRef> kHosts = {
    {"db-1", {{"role", "db"}, {"env", "prod"}}},
    {"db-2", {{"role", "db"}, {"env", "prod"}}},
    {"db-3", {{"role", "db"}, {"env", "prod"}}},
    {"web-1", {{"role", "web"}, {"env", "prod"}}},
};

// Loads `yaml` as "c.yaml" and returns every diagnostic as text.
std::vector<std::string> Diagnose(const std::string& yaml,
                                  const std::vector<HostRef>& hosts = kHosts,
                                  const CatalogueLoadOptions& options = {}) {
  std::vector<Diagnostic> diagnostics;
  (void)LoadCatalogue(yaml, "c.yaml", hosts, &diagnostics, options);
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics) out.push_back(d.ToString());
  return out;
}

using Texts = std::vector<std::string>;

constexpr char kFull[] = R"(# flags of the collector share the file
grpc:
  listen-address: 0.0.0.0:7470
log.level: debug
teams:
  - id: dba
    name: Database team
    restore_target: 4h
    max_single_outage: 8h
  - id: web-team
    restore_target: 1h30m
suppliers:
  - id: isp-a
    name: ISP A
    restore_target: 2h
services:
  - id: shop
    name: Web shop
    description: Customer-facing shop
    owner: web-team
    priority: high
    components:
      hosts: [db-1, db-2, db-3]
    available_when: 2 of 3
    support_team: dba
    suppliers: [isp-a]
    sla:
      target: 99.9
      period: quarter
      time_zone: Europe/London
      service_hours:
        windows: ["Mon-Fri 08:00-18:00", "Sat 09:00-13:00", "Sun 22:00-02:00"]
      maintenance:
        - {name: upgrade, start: 2026-12-05T22:00:00Z, end: 2026-12-06T02:00:00Z}
        - {name: hotfix, start: "2026-12-07T09:00:00+01:00", duration: 30m}
        - {name: patching, weekly: "Sat,Sun 02:00", duration: 2h, time_zone: America/New_York}
        - {name: backup-check, monthly: "last Sunday 23:00-01:00"}
      unknown: excluded
  - id: web
    components:
      selector: {role: web, env: prod}
    available_when: {at_least: 1}
    sla:
      target: "99.5%"
      period: rolling 28d
      service_hours: 24x7
  - id: reports
    priority: low
    components:
      hosts: [db-1]
      selector: {role: db}
    available_when: any
    sla: {target: 95}
)";

TEST(CatalogueLoaderTest, FullCatalogueParsesToTheExpectedValues) {
  std::vector<Diagnostic> diagnostics;
  absl::StatusOr<Catalogue> c = LoadCatalogue(kFull, "c.yaml", kHosts, &diagnostics);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(diagnostics.empty()) << diagnostics[0].ToString();
  EXPECT_EQ(c->source_file, "c.yaml");
  EXPECT_EQ(c->content_hash.size(), 16u);

  ASSERT_EQ(c->teams.size(), 2u);
  EXPECT_EQ(c->teams[0].id, "dba");
  EXPECT_EQ(c->teams[0].name, "Database team");
  EXPECT_EQ(c->teams[0].restore_target, absl::Hours(4));
  EXPECT_EQ(c->teams[0].max_single_outage, absl::Hours(8));
  EXPECT_EQ(c->teams[1].name, "web-team");
  EXPECT_EQ(c->teams[1].restore_target, absl::Minutes(90));
  EXPECT_FALSE(c->teams[1].max_single_outage.has_value());
  ASSERT_EQ(c->suppliers.size(), 1u);
  EXPECT_EQ(c->suppliers[0].id, "isp-a");
  EXPECT_EQ(c->suppliers[0].name, "ISP A");
  EXPECT_EQ(c->suppliers[0].restore_target, absl::Hours(2));

  ASSERT_EQ(c->services.size(), 3u);
  const Service& shop = c->services[0];
  EXPECT_EQ(shop.id, "shop");
  EXPECT_EQ(shop.name, "Web shop");
  EXPECT_EQ(shop.description, "Customer-facing shop");
  EXPECT_EQ(shop.owner, "web-team");
  EXPECT_EQ(shop.priority, Priority::kHigh);
  EXPECT_EQ(shop.components.hosts, (std::vector<std::string>{"db-1", "db-2", "db-3"}));
  EXPECT_TRUE(shop.components.selector.empty());
  EXPECT_EQ(shop.rule.kind, AvailabilityRule::Kind::kAtLeast);
  EXPECT_EQ(shop.rule.k, 2);
  EXPECT_EQ(shop.support_team, "dba");
  EXPECT_EQ(shop.suppliers, (std::vector<std::string>{"isp-a"}));
  const Sla& sla = shop.sla;
  EXPECT_EQ(sla.target, 0.999);  // exactly the double an operator means, not 0.9990000000000001
  EXPECT_EQ(sla.period.kind, PeriodSpec::Kind::kQuarter);
  EXPECT_EQ(sla.period.time_zone, "Europe/London");
  EXPECT_FALSE(sla.service_hours.always);
  EXPECT_EQ(sla.service_hours.time_zone, "Europe/London");  // from sla.time_zone
  EXPECT_EQ(AsTuples(sla.service_hours.windows),
            (std::vector<W>{{0, 1320, 1440},  // Sun 22:00-24:00
                            {1, 0, 120},      // ... to Mon 02:00
                            {1, 480, 1080},
                            {2, 480, 1080},
                            {3, 480, 1080},
                            {4, 480, 1080},
                            {5, 480, 1080},
                            {6, 540, 780}}));
  ASSERT_EQ(sla.maintenance.size(), 5u);
  const MaintenanceWindow& upgrade = sla.maintenance[0];
  EXPECT_EQ(upgrade.kind, MaintenanceWindow::Kind::kOneOff);
  EXPECT_EQ(upgrade.name, "upgrade");
  EXPECT_EQ(upgrade.start, Utc(2026, 12, 5, 22, 0));
  EXPECT_EQ(upgrade.end, Utc(2026, 12, 6, 2, 0));
  EXPECT_EQ(upgrade.duration, absl::Hours(4));
  const MaintenanceWindow& hotfix = sla.maintenance[1];
  EXPECT_EQ(hotfix.kind, MaintenanceWindow::Kind::kOneOff);
  EXPECT_EQ(hotfix.start, Utc(2026, 12, 7, 8, 0));
  EXPECT_EQ(hotfix.end, Utc(2026, 12, 7, 8, 30));
  for (int i : {2, 3}) {
    const MaintenanceWindow& w = sla.maintenance[i];
    EXPECT_EQ(w.kind, MaintenanceWindow::Kind::kWeekly);
    EXPECT_EQ(w.name, "patching");
    EXPECT_EQ(w.time_zone, "America/New_York");
    EXPECT_EQ(w.start_minute, 120);
    EXPECT_EQ(w.duration, absl::Hours(2));
  }
  EXPECT_EQ(sla.maintenance[2].weekday, 0);  // Sun
  EXPECT_EQ(sla.maintenance[3].weekday, 6);  // Sat
  const MaintenanceWindow& backup = sla.maintenance[4];
  EXPECT_EQ(backup.kind, MaintenanceWindow::Kind::kMonthly);
  EXPECT_EQ(backup.name, "backup-check");
  EXPECT_EQ(backup.time_zone, "Europe/London");  // from sla.time_zone
  EXPECT_EQ(backup.nth, -1);
  EXPECT_EQ(backup.weekday, 0);
  EXPECT_EQ(backup.start_minute, 23 * 60);
  EXPECT_EQ(backup.duration, absl::Hours(2));
  EXPECT_EQ(sla.unknown, UnknownPolicy::kExcluded);

  const Service& web = c->services[1];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.priority, Priority::kMedium);
  EXPECT_TRUE(web.components.hosts.empty());
  EXPECT_EQ(web.components.selector,
            (std::map<std::string, std::string>{{"role", "web"}, {"env", "prod"}}));
  EXPECT_EQ(web.rule.kind, AvailabilityRule::Kind::kAtLeast);
  EXPECT_EQ(web.rule.k, 1);
  EXPECT_DOUBLE_EQ(web.sla.target, 0.995);
  EXPECT_EQ(web.sla.period.kind, PeriodSpec::Kind::kRolling);
  EXPECT_EQ(web.sla.period.rolling, absl::Hours(24 * 28));
  EXPECT_EQ(web.sla.period.time_zone, "UTC");
  EXPECT_TRUE(web.sla.service_hours.always);
  EXPECT_TRUE(web.sla.maintenance.empty());
  EXPECT_EQ(web.sla.unknown, UnknownPolicy::kDown);
  EXPECT_TRUE(web.support_team.empty());

  const Service& reports = c->services[2];
  EXPECT_EQ(reports.priority, Priority::kLow);
  EXPECT_EQ(reports.rule.kind, AvailabilityRule::Kind::kAny);
  EXPECT_EQ(reports.sla.period.kind, PeriodSpec::Kind::kMonth);
  EXPECT_DOUBLE_EQ(reports.sla.target, 0.95);
  EXPECT_EQ(ComponentHosts(reports, kHosts), (std::vector<std::string>{"db-1", "db-2", "db-3"}));
}

TEST(CatalogueLoaderTest, EmptyFileIsAnEmptyCatalogue) {
  std::vector<Diagnostic> diagnostics;
  absl::StatusOr<Catalogue> c = LoadCatalogue("", "c.yaml", {}, &diagnostics);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->services.empty());
  EXPECT_TRUE(diagnostics.empty());
  // Only the flags: still no catalogue, no error.
  c = LoadCatalogue("web:\n  listen-address: x\n", "c.yaml", {}, nullptr);
  ASSERT_TRUE(c.ok()) << c.status();
}

TEST(CatalogueLoaderTest, ContentHashIgnoresCommentsFormattingAndFlags) {
  const std::string a = "services:\n  - {id: s, components: {hosts: [h]}, sla: {target: 99}}\n";
  const std::string b =
      "log:\n  level: debug\n# a comment\nservices:\n  - id: s\n    components:\n      hosts: "
      "[h]\n    sla:\n      target: 99\n";
  const std::string c = "services:\n  - {id: s, components: {hosts: [h]}, sla: {target: 98}}\n";
  auto hash = [](const std::string& text) {
    absl::StatusOr<Catalogue> cat = LoadCatalogue(text, "c.yaml", kHosts, nullptr);
    EXPECT_TRUE(cat.ok()) << cat.status();
    return cat.ok() ? cat->content_hash : "";
  };
  EXPECT_EQ(hash(a), hash(b));
  EXPECT_NE(hash(a), hash(c));
}

// --- errors: one kind per test, exact text and place ----------------------------------------

TEST(CatalogueLoaderTest, TargetOutsideRange) {
  EXPECT_EQ(
      Diagnose(R"(services:
  - id: shop
    components: {hosts: [db-1]}
    sla:
      target: 120
)"),
      Texts{"c.yaml:5:15: error: field services[0].sla.target: target 120 is outside (0, 100)"});
  EXPECT_EQ(
      Diagnose("services:\n  - {id: s, components: {hosts: [db-1]}, sla: {target: 0}}\n"),
      Texts{"c.yaml:2:56: error: field services[0].sla.target: target 0 is outside (0, 100)"});
  EXPECT_EQ(Diagnose("services:\n  - {id: s, components: {hosts: [db-1]}, sla: {target: x}}\n"),
            Texts{"c.yaml:2:56: error: field services[0].sla.target: invalid number \"x\""});
}

TEST(CatalogueLoaderTest, InvalidArgumentListsEveryError) {
  std::vector<Diagnostic> diagnostics;
  absl::StatusOr<Catalogue> c = LoadCatalogue(R"(services:
  - id: shop
    components: {hosts: [db-1]}
    sla:
      target: 120
      unknown: sideways
)",
                                              "c.yaml", kHosts, &diagnostics);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "c.yaml:5:15: error: field services[0].sla.target: target 120 is outside (0, 100)\n"
            "c.yaml:6:16: error: field services[0].sla.unknown: unknown policy \"sideways\" "
            "(want down, up or excluded)");
  ASSERT_EQ(diagnostics.size(), 2u);
  EXPECT_EQ(diagnostics[1].line, 6);
  EXPECT_EQ(diagnostics[1].column, 16);
  EXPECT_EQ(diagnostics[1].field, "services[0].sla.unknown");
}

TEST(CatalogueLoaderTest, UnknownKeysAtEveryLevelButFlagSectionsAndIgnoredKeysAreSkipped) {
  CatalogueLoadOptions options;
  options.ignore_keys = {"capacity"};
  EXPECT_EQ(Diagnose(R"(grpc: {listen-address: x}
web.listen-address: y
storage: {}
ingest: {}
log: {}
capacity: {anything: 1}
capacity.more: 2
servicess: []
teams:
  - {id: dba, restore_target: 4h, colour: red}
services:
  - id: shop
    components: {hosts: [db-1], labels: {a: b}}
    sla:
      target: 99
      service_hours: {windows: ["Mon 08:00-09:00"], tz: UTC}
      maintenance:
        - {name: m, weekly: "Sun 02:00", duration: 1h, every: 2}
    colour: blue
)",
                     kHosts, options),
            (Texts{
                "c.yaml:8:1: error: field servicess: unknown key",
                "c.yaml:10:35: error: field teams[0].colour: unknown key",
                "c.yaml:13:33: error: field services[0].components.labels: unknown key",
                "c.yaml:16:53: error: field services[0].sla.service_hours.tz: unknown key",
                "c.yaml:18:56: error: field services[0].sla.maintenance[0].every: unknown key",
                "c.yaml:19:5: error: field services[0].colour: unknown key",
            }));
}

TEST(CatalogueLoaderTest, DuplicateKeys) {
  EXPECT_EQ(Diagnose(R"(services:
  - id: shop
    id: shop2
    components: {hosts: [db-1]}
    sla: {target: 99}
)"),
            Texts{"c.yaml:3:5: error: field services[0].id: duplicate key"});
}

TEST(CatalogueLoaderTest, WrongTypes) {
  EXPECT_EQ(Diagnose(R"(teams: {id: dba}
services:
  - id: [shop]
    components: [db-1]
    sla:
      target: {value: 99}
  - just-a-string
)"),
            (Texts{
                "c.yaml:1:8: error: field teams: want a list, got a map",
                "c.yaml:3:9: error: field services[0].id: want a single value, got a list",
                "c.yaml:4:17: error: field services[0].components: want a map, got a list",
                "c.yaml:6:15: error: field services[0].sla.target: want a single value, got a map",
                "c.yaml:7:5: error: field services[1]: want a map, got a single value",
            }));
}

TEST(CatalogueLoaderTest, MissingRequiredFields) {
  EXPECT_EQ(Diagnose(R"(teams:
  - name: no id
suppliers:
  - id: isp-a
services:
  - name: nameless
    components: {hosts: [db-1]}
    sla: {period: month}
  - id: no-sla
    components: {}
  - id: m
    components: {hosts: [db-1]}
    sla:
      target: 99
      maintenance:
        - {start: 2026-01-01T00:00:00Z}
        - {name: w, weekly: "Sun 02:00"}
        - {name: x}
)"),
            (Texts{
                "c.yaml:2:5: error: field teams[0].id: missing required field",
                "c.yaml:2:5: error: field teams[0].restore_target: missing required field",
                "c.yaml:4:5: error: field suppliers[0].restore_target: missing required field",
                "c.yaml:6:5: error: field services[0].id: missing required field",
                "c.yaml:8:10: error: field services[0].sla.target: missing required field",
                "c.yaml:9:5: error: field services[1].sla: missing required field",
                "c.yaml:10:17: error: field services[1].components: want hosts and/or a "
                "selector (a service needs at least one component)",
                "c.yaml:16:11: error: field services[2].sla.maintenance[0].name: missing required "
                "field",
                "c.yaml:16:11: error: field services[2].sla.maintenance[0].end: missing required "
                "field (or give a duration)",
                "c.yaml:17:11: error: field services[2].sla.maintenance[1].duration: missing "
                "required field (or give an end time, e.g. \"Sun 02:00-04:00\")",
                "c.yaml:18:11: error: field services[2].sla.maintenance[2]: want one of start "
                "(one-off), weekly or monthly",
            }));
}

TEST(CatalogueLoaderTest, DuplicateAndInvalidIds) {
  EXPECT_EQ(Diagnose(R"(teams:
  - {id: dba, restore_target: 4h}
  - {id: dba, restore_target: 2h}
suppliers:
  - {id: isp a, restore_target: 4h}
services:
  - {id: shop, components: {hosts: [db-1]}, sla: {target: 99}}
  - {id: shop, components: {hosts: [db-1]}, sla: {target: 99}}
)"),
            (Texts{
                "c.yaml:3:10: error: field teams[1].id: duplicate team id \"dba\" (first defined "
                "at line 2)",
                "c.yaml:5:10: error: field suppliers[0].id: invalid id \"isp a\" (want letters, "
                "digits, '.', '_' or '-', starting with a letter or digit)",
                "c.yaml:8:10: error: field services[1].id: duplicate service id \"shop\" (first "
                "defined at line 7)",
            }));
}

TEST(CatalogueLoaderTest, UnknownTimeZones) {
  EXPECT_EQ(Diagnose(R"(services:
  - id: shop
    components: {hosts: [db-1]}
    sla:
      target: 99
      time_zone: Mars/Olympus
      service_hours: {time_zone: localtime, windows: ["Mon 08:00-09:00"]}
      maintenance:
        - {name: p, weekly: "Sun 02:00", duration: 1h, time_zone: Europe/Londres}
)"),
            (Texts{
                "c.yaml:6:18: error: field services[0].sla.time_zone: unknown time zone "
                "\"Mars/Olympus\" (want an IANA name such as Europe/London, or UTC)",
                "c.yaml:7:34: error: field services[0].sla.service_hours.time_zone: unknown time "
                "zone \"localtime\" (want an IANA name such as Europe/London, or UTC)",
                "c.yaml:9:67: error: field services[0].sla.maintenance[0].time_zone: unknown time "
                "zone \"Europe/Londres\" (want an IANA name such as Europe/London, or UTC)",
            }));
}

TEST(CatalogueLoaderTest, AvailabilityRuleErrors) {
  EXPECT_EQ(Diagnose(R"(services:
  - id: a
    components: {hosts: [db-1, db-2, db-3]}
    available_when: 4 of 3
    sla: {target: 99}
  - id: b
    components: {hosts: [db-1, db-2, db-3]}
    available_when: 0 of 3
    sla: {target: 99}
  - id: c
    components: {hosts: [db-1, db-2, db-3]}
    available_when: 2 of 4
    sla: {target: 99}
  - id: d
    components: {hosts: [db-1, db-2]}
    available_when: {at_least: 3}
    sla: {target: 99}
  - id: e
    components: {hosts: [db-1]}
    available_when: {at_least: 0}
    sla: {target: 99}
  - id: f
    components: {hosts: [db-1]}
    available_when: most
    sla: {target: 99}
)"),
            (Texts{
                "c.yaml:4:21: error: field services[0].available_when: K 4 is greater than N 3",
                "c.yaml:8:21: error: field services[1].available_when: K must be at least 1, got 0",
                "c.yaml:12:21: error: field services[2].available_when: N 4 does not match the 3 "
                "hosts in components.hosts",
                "c.yaml:16:32: error: field services[3].available_when.at_least: at_least 3 is "
                "more than the 2 hosts in components.hosts",
                "c.yaml:20:32: error: field services[4].available_when.at_least: K must be at "
                "least 1, got 0",
                "c.yaml:24:21: error: field services[5].available_when: invalid rule \"most\" "
                "(want all, any, \"K of N\" or at_least: K)",
            }));
}

TEST(CatalogueLoaderTest, KOfNWithASelectorIsNotCheckedAgainstTheList) {
  EXPECT_TRUE(Diagnose(R"(services:
  - id: a
    components: {hosts: [db-1], selector: {role: db}}
    available_when: 2 of 3
    sla: {target: 99}
)")
                  .empty());
}

TEST(CatalogueLoaderTest, WindowErrors) {
  EXPECT_EQ(Diagnose(R"(services:
  - id: shop
    components: {hosts: [db-1]}
    sla:
      target: 99
      service_hours:
        windows:
          - Mon-Fry 08:00-18:00
          - Mon 18:00-18:00
          - Tue 25:00-26:00
          - "Mon-Fri 18:00-08:00"
      maintenance:
        - {name: u, start: 2026-12-06T02:00:00Z, end: 2026-12-05T22:00:00Z}
        - {name: v, start: 2026-12-06T02:00:00Z, end: 2026-12-06T02:00:00Z}
        - {name: w, start: "2026-12-06 02:00", duration: 1h}
        - {name: x, weekly: "Sun 02:00", duration: 8d}
        - {name: y, monthly: "first Sunday 02:00-04:00", duration: 1h}
        - {name: z, start: 2026-12-06T02:00:00Z, duration: 1h, time_zone: UTC}
)"),
            (Texts{
                "c.yaml:8:13: error: field services[0].sla.service_hours.windows[0]: bad weekday "
                "\"Fry\" (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)",
                "c.yaml:9:13: error: field services[0].sla.service_hours.windows[1]: window \"Mon "
                "18:00-18:00\" is empty",
                "c.yaml:10:13: error: field services[0].sla.service_hours.windows[2]: invalid time "
                "of day \"25:00\" (want HH:MM, 00:00 to 23:59)",
                "c.yaml:13:55: error: field services[0].sla.maintenance[0].end: end "
                "2026-12-05T22:00:00Z is not after start 2026-12-06T02:00:00Z",
                "c.yaml:14:55: error: field services[0].sla.maintenance[1].end: end "
                "2026-12-06T02:00:00Z is not after start 2026-12-06T02:00:00Z",
                "c.yaml:15:28: error: field services[0].sla.maintenance[2].start: invalid time "
                "\"2026-12-06 02:00\" (want RFC 3339 with an offset, e.g. 2026-12-05T22:00:00Z)",
                "c.yaml:16:52: error: field services[0].sla.maintenance[3].duration: duration 8d "
                "must be shorter than a week",
                "c.yaml:17:58: error: field services[0].sla.maintenance[4].duration: give an end "
                "time in monthly or a duration, not both",
                "c.yaml:18:64: error: field services[0].sla.maintenance[5].time_zone: time_zone "
                "applies to weekly and monthly maintenance only (one-off times carry their "
                "offset)",
            }));
}

TEST(CatalogueLoaderTest, BadDurationsAndEnums) {
  EXPECT_EQ(Diagnose(R"(teams:
  - {id: a, restore_target: 4 hours}
  - {id: b, restore_target: 0s}
services:
  - id: shop
    priority: urgent
    components: {hosts: [db-1]}
    sla: {target: 99, period: week}
)"),
            (Texts{
                "c.yaml:2:29: error: field teams[0].restore_target: invalid duration \"4 hours\" "
                "(want e.g. 500ms, 10s, 5m, 7d)",
                "c.yaml:3:29: error: field teams[1].restore_target: duration 0s must be positive",
                "c.yaml:6:15: error: field services[0].priority: unknown priority \"urgent\" "
                "(want critical, high, medium or low)",
                "c.yaml:8:31: error: field services[0].sla.period: unknown period \"week\" (want "
                "month, quarter, year, rolling 7d, rolling 28d or rolling 30d)",
            }));
}

TEST(CatalogueLoaderTest, UnknownTeamsAndSuppliers) {
  EXPECT_EQ(Diagnose(R"(teams:
  - {id: dba, restore_target: 4h}
suppliers:
  - {id: isp-a, restore_target: 4h}
services:
  - id: shop
    components: {hosts: [db-1]}
    support_team: dbas
    suppliers: [isp-a, isp-b, isp-a]
    sla: {target: 99}
)"),
            (Texts{
                "c.yaml:8:19: error: field services[0].support_team: unknown team \"dbas\"",
                "c.yaml:9:24: error: field services[0].suppliers[1]: unknown supplier \"isp-b\"",
                "c.yaml:9:31: error: field services[0].suppliers[2]: supplier \"isp-a\" is listed "
                "twice",
            }));
}

TEST(CatalogueLoaderTest, SelectorErrors) {
  EXPECT_EQ(Diagnose(R"(services:
  - id: shop
    components:
      hosts: [db-1, db-1]
      selector: {role-name: db, env: [prod]}
    sla: {target: 99}
)"),
            (Texts{
                "c.yaml:4:21: error: field services[0].components.hosts[1]: host \"db-1\" is "
                "listed twice",
                "c.yaml:5:18: error: field services[0].components.selector.role-name: invalid "
                "label name \"role-name\" (want [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)",
                "c.yaml:5:38: error: field services[0].components.selector.env: want a single "
                "value, got a list",
            }));
}

TEST(CatalogueLoaderTest, SeveralErrorsInOneFileAreAllReportedInFileOrder) {
  std::vector<Diagnostic> diagnostics;
  absl::StatusOr<Catalogue> c = LoadCatalogue(R"(services:
  - id: shop
    support_team: nobody
    components: {hosts: [db-1]}
    sla:
      target: 100
      period: fortnight
      time_zone: Nowhere/Land
      unknown: maybe
teams:
  - {id: dba, restore_target: soon}
)",
                                              "c.yaml", kHosts, &diagnostics);
  EXPECT_FALSE(c.ok());
  std::vector<std::pair<int, std::string>> got;
  for (const Diagnostic& d : diagnostics) got.emplace_back(d.line, d.field);
  EXPECT_EQ(got, (std::vector<std::pair<int, std::string>>{
                     {3, "services[0].support_team"},
                     {6, "services[0].sla.target"},
                     {7, "services[0].sla.period"},
                     {8, "services[0].sla.time_zone"},
                     {9, "services[0].sla.unknown"},
                     {11, "teams[0].restore_target"},
                 }));
}

TEST(CatalogueLoaderTest, MalformedYamlGivesOneDiagnosticWithItsPosition) {
  std::vector<Diagnostic> diagnostics;
  absl::StatusOr<Catalogue> c =
      LoadCatalogue("services:\n  - id: [shop\n    name: x\n", "c.yaml", kHosts, &diagnostics);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].severity, Diagnostic::Severity::kError);
  EXPECT_EQ(diagnostics[0].field, "");
  EXPECT_GT(diagnostics[0].line, 1);
  EXPECT_GT(diagnostics[0].column, 0);
  EXPECT_EQ(c.status().message(), diagnostics[0].ToString());

  diagnostics.clear();
  c = LoadCatalogue("services:\n  - id: shop\n   bad: indent\n", "c.yaml", kHosts, &diagnostics);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].ToString(), "c.yaml:3:4: error: end of sequence not found");
}

TEST(CatalogueLoaderTest, EmptyValuesAreMissingValues) {
  EXPECT_EQ(Diagnose(R"(services:
  - id:
    components: {hosts: [db-1]}
    sla: {target: 99, period: }
)"),
            (Texts{
                "c.yaml:2:5: error: field services[0].id: missing value",
                "c.yaml:4:23: error: field services[0].sla.period: missing value",
            }));
}

TEST(CatalogueLoaderTest, AnchorsAndAliasesShareDefinitions) {
  absl::StatusOr<Catalogue> c = LoadCatalogue(R"(services:
  - id: a
    components: {hosts: [db-1]}
    sla: &standard
      target: 99.5
      service_hours: {windows: ["Mon-Fri 09:00-17:00"]}
  - id: b
    components: {hosts: [db-2]}
    sla: *standard
)",
                                              "c.yaml", kHosts, nullptr);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->services.size(), 2u);
  EXPECT_DOUBLE_EQ(c->services[1].sla.target, 0.995);
  EXPECT_EQ(c->services[1].sla.service_hours.windows.size(), 5u);
}

TEST(CatalogueLoaderTest, FileMustBeAMap) {
  EXPECT_EQ(Diagnose("- a\n- b\n"), Texts{"c.yaml:1:1: error: the file must be a YAML map"});
}

// --- warnings ---------------------------------------------------------------------------------

constexpr char kUnmatched[] = R"(services:
  - id: shop
    components:
      hosts: [db-1, db-9]
      selector: {role: cache}
    sla: {target: 99}
  - id: web
    components: {selector: {role: web}}
    available_when: 2 of 3
    sla: {target: 99}
)";

TEST(CatalogueLoaderTest, WarnsAboutHostsAndSelectorsMatchingNoKnownHost) {
  std::vector<Diagnostic> diagnostics;
  absl::StatusOr<Catalogue> c = LoadCatalogue(kUnmatched, "c.yaml", kHosts, &diagnostics);
  ASSERT_TRUE(c.ok()) << c.status();  // warnings do not fail the load
  std::vector<std::string> texts;
  for (const Diagnostic& d : diagnostics) texts.push_back(d.ToString());
  EXPECT_EQ(texts,
            (Texts{
                "c.yaml:4:21: warning: field services[0].components.hosts[1]: host \"db-9\" is "
                "not a known host",
                "c.yaml:5:17: warning: field services[0].components.selector: selector matches "
                "no known host",
                "c.yaml:9:21: warning: field services[1].available_when: the selector matches 1 "
                "known hosts, not N 3",
            }));
}

TEST(CatalogueLoaderTest, NoUnmatchedWarningsWhenSwitchedOff) {
  CatalogueLoadOptions options;
  options.warn_unmatched = false;
  EXPECT_TRUE(Diagnose(kUnmatched, {}, options).empty());
}

TEST(CatalogueLoaderTest, TeamOutageLimitShorterThanRestoreTargetWarns) {
  EXPECT_EQ(Diagnose("teams:\n  - {id: a, restore_target: 4h, max_single_outage: 1h}\n"),
            Texts{"c.yaml:2:52: warning: field teams[0].max_single_outage: max_single_outage 1h "
                  "is shorter than restore_target 4h"});
}

// --- the shipped example --------------------------------------------------------------------

TEST(CatalogueLoaderTest, ExampleFileLoadsWithoutDiagnostics) {
  std::ifstream in(ACCORD_EXAMPLE_CATALOGUE);
  ASSERT_TRUE(in) << ACCORD_EXAMPLE_CATALOGUE;
  std::stringstream text;
  text << in.rdbuf();
  std::vector<Diagnostic> diagnostics;
  CatalogueLoadOptions options;
  options.warn_unmatched = false;
  absl::StatusOr<Catalogue> c =
      LoadCatalogue(text.str(), ACCORD_EXAMPLE_CATALOGUE, {}, &diagnostics, options);
  ASSERT_TRUE(c.ok()) << c.status();
  for (const Diagnostic& d : diagnostics) ADD_FAILURE() << d.ToString();
  EXPECT_GE(c->services.size(), 3u);
  EXPECT_FALSE(c->teams.empty());
  EXPECT_FALSE(c->suppliers.empty());
}

}  // namespace
}  // namespace accord::collector
