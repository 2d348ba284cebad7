#include "collector/store/sqlite_store.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <sqlite3.h>

#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace accord::collector {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/store-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    options_.path = dir_ + "/accord.db";
    options_.commit_interval = absl::Milliseconds(1);
  }
  std::unique_ptr<SqliteStore> OpenStore() {
    auto s = SqliteStore::Open(options_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::string dir_;
  StoreOptions options_;
};

// Recent times: the store prunes transitions older than its 400-day retention.
constexpr int64_t kBase = 1790000000;  // 2026-09-21
absl::Time At(int64_t s) { return absl::FromUnixSeconds(kBase + s); }

Transition T(int64_t at, HostState from, HostState to, const char* cause, int64_t boot = 100) {
  return Transition{At(at), At(at + 1), from, to, cause, boot};
}

TEST_F(SqliteStoreTest, TransitionsAndHostsSurviveReopen) {
  {
    auto store = OpenStore();
    EXPECT_EQ(store->schema_version(), 3);
    store->AppendTransition("h1", T(1000, HostState::kUnknown, HostState::kUp, "first_seen"));
    store->AppendTransition("h1", T(2000, HostState::kUp, HostState::kUnreachable,
                                    "stream_broken"));
    HostRecord r;
    r.id = "h1";
    r.hostname = "web-1";
    r.labels = {{"role", "db"}};
    r.boot_time_seconds = 100;
    r.last_seen = At(1999);
    r.last_sequence = 42;
    r.samples_accepted = 4200;
    store->UpdateHost(r);
    ASSERT_TRUE(store->Flush().ok());
  }
  auto store = OpenStore();
  auto hosts = store->LoadHosts(At(0));
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->size(), 1u);
  const RestoredHost& h = (*hosts)[0];
  EXPECT_EQ(h.record.hostname, "web-1");
  EXPECT_EQ(h.record.labels.at("role"), "db");
  EXPECT_EQ(h.record.last_sequence, 42u);
  EXPECT_EQ(h.record.last_seen, At(1999));
  ASSERT_EQ(h.transitions.size(), 2u);
  EXPECT_EQ(h.transitions[1].to, HostState::kUnreachable);
  EXPECT_EQ(h.transitions[1].cause, "stream_broken");
  EXPECT_EQ(h.transitions[1].recorded_at, At(2001));
}

TEST_F(SqliteStoreTest, LoadKeepsTheNewestTransitionBeforeTheHorizon) {
  auto store = OpenStore();
  store->AppendTransition("h1", T(100, HostState::kUnknown, HostState::kUp, "first_seen"));
  store->AppendTransition("h1", T(200, HostState::kUp, HostState::kDown, "host_shutdown"));
  store->AppendTransition("h1", T(300, HostState::kDown, HostState::kUp, "reboot"));
  ASSERT_TRUE(store->Flush().ok());
  auto hosts = store->LoadHosts(At(250));
  ASSERT_EQ((*hosts)[0].transitions.size(), 2u);
  EXPECT_EQ((*hosts)[0].transitions[0].cause, "host_shutdown");
}

TEST_F(SqliteStoreTest, RegistryRestoreMarksUpHostsUnreachableAtLastSighting) {
  testing::FakeClock clock(At(0));
  {
    auto store = OpenStore();
    HostRegistry registry(clock, {}, store.get());
    Hello hello;
    hello.host_id = "h1";
    hello.boot_time_seconds = 100;
    ASSERT_TRUE(registry.Open(hello).ok());
    clock.Advance(absl::Seconds(30));
    registry.Heartbeat(1);
    registry.PersistHosts();
    ASSERT_TRUE(store->Flush().ok());
  }
  absl::Time last_seen = clock.Now();
  clock.Advance(absl::Seconds(60));  // the collector was away
  auto store = OpenStore();
  HostRegistry registry(clock, {}, store.get());
  registry.Restore(*store->LoadHosts(absl::InfinitePast()));
  auto t = registry.Transitions("h1");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1].cause, "collector_restart");
  EXPECT_EQ(t[1].at, last_seen);
  EXPECT_EQ(registry.Host("h1")->state, HostState::kUnreachable);
  // The synthesized transition is durable too.
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ((*store->LoadHosts(absl::InfinitePast()))[0].transitions.size(), 2u);
}

TEST_F(SqliteStoreTest, CatalogueVersionsAndPeriodResults) {
  auto store = OpenStore();
  ASSERT_TRUE(store->RecordCatalogueVersion({"v1", "a.yaml", absl::FromUnixSeconds(100)}, "x")
                  .ok());
  ASSERT_TRUE(store->RecordCatalogueVersion({"v2", "a.yaml", absl::FromUnixSeconds(500)}, "y")
                  .ok());
  auto v = store->CatalogueVersions(absl::FromUnixSeconds(200), absl::FromUnixSeconds(1000));
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0].version, "v1");  // active at the start of the range
  EXPECT_EQ((*v)[1].version, "v2");
  ASSERT_TRUE(store
                  ->SavePeriodResult("shop", absl::FromUnixSeconds(0), absl::FromUnixSeconds(10),
                                     "v1", "{\"a\":1}")
                  .ok());
  EXPECT_EQ(*store->PeriodResult("shop", absl::FromUnixSeconds(0)), "{\"a\":1}");
  EXPECT_EQ(store->PeriodResult("shop", absl::FromUnixSeconds(5)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, GarbageFileIsDataLoss) {
  {
    std::ofstream f(options_.path);
    f << std::string(8192, 'x');
  }
  auto s = SqliteStore::Open(options_);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  { auto store = OpenStore(); }
  // A newer collector migrated this file further.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES(99, 0)", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = SqliteStore::Open(options_);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << s.status();
}

TEST_F(SqliteStoreTest, MigrationsAreIdempotent) {
  { auto store = OpenStore(); }
  auto store = OpenStore();
  EXPECT_EQ(store->schema_version(), 3);
}

}  // namespace
}  // namespace accord::collector

namespace accord::collector {
namespace {

TEST(SqliteStorePruneTest, OldTransitionsArePrunedButTheStateAtTheHorizonIsKept) {
  std::string dir = ::testing::TempDir() + "/store-prune";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  StoreOptions options;
  options.path = dir + "/accord.db";
  options.commit_interval = absl::Milliseconds(1);
  options.retention = absl::Hours(24);
  absl::Time now = absl::Now();
  {
    auto store = *SqliteStore::Open(options);
    store->AppendTransition("h", {now - absl::Hours(72), now, HostState::kUnknown,
                                  HostState::kUp, "first_seen", 1});
    store->AppendTransition("h", {now - absl::Hours(48), now, HostState::kUp, HostState::kDown,
                                  "host_shutdown", 1});
    store->AppendTransition("h", {now - absl::Hours(1), now, HostState::kDown, HostState::kUp,
                                  "reboot", 2});
    ASSERT_TRUE(store->Flush().ok());
  }
  auto store = *SqliteStore::Open(options);  // prunes at start
  ASSERT_TRUE(store->Flush().ok());
  auto hosts = store->LoadHosts(absl::InfinitePast());
  ASSERT_EQ((*hosts)[0].transitions.size(), 2u);
  EXPECT_EQ((*hosts)[0].transitions[0].cause, "host_shutdown");
}

}  // namespace
}  // namespace accord::collector

namespace accord::collector {
namespace {

TEST(SqliteStoreReadOnlyTest, ReadOnlyOpenNeitherMigratesNorPrunes) {
  std::string dir = ::testing::TempDir() + "/store-ro";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  StoreOptions options;
  options.path = dir + "/accord.db";
  options.read_only = true;
  EXPECT_FALSE(SqliteStore::Open(options).ok());  // no file: nothing is created
  EXPECT_FALSE(std::filesystem::exists(options.path));
  options.read_only = false;
  options.commit_interval = absl::Milliseconds(1);
  absl::Time old = absl::Now() - absl::Hours(24 * 500);
  {
    auto store = *SqliteStore::Open(options);
    // Written directly (the registry never writes such old times): 500 days old.
    store->AppendTransition("h", {old, old, HostState::kUnknown, HostState::kUp, "first_seen", 1});
    store->AppendTransition("h", {old + absl::Hours(1), old, HostState::kUp, HostState::kDown,
                                  "host_shutdown", 1});
    ASSERT_TRUE(store->Flush().ok());
  }
  options.read_only = true;
  options.retention = absl::Hours(24);
  auto ro = SqliteStore::Open(options);
  ASSERT_TRUE(ro.ok()) << ro.status();
  EXPECT_EQ((*(*ro)->LoadHosts(absl::InfinitePast()))[0].transitions.size(), 2u);
}

}  // namespace
}  // namespace accord::collector

namespace accord::collector {
namespace {

TEST(SqliteStoreBackupTest, OnlineBackupOpensWithTheSameData) {
  std::string dir = ::testing::TempDir() + "/store-backup";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/restored");
  StoreOptions options;
  options.path = dir + "/accord.db";
  options.commit_interval = absl::Milliseconds(1);
  auto store = *SqliteStore::Open(options);
  absl::Time now = absl::Now();
  store->AppendTransition("h", {now, now, HostState::kUnknown, HostState::kUp, "first_seen", 1});
  ASSERT_TRUE(store->Flush().ok());
  ASSERT_TRUE(store->Backup(dir + "/restored/accord.db").ok());
  store->AppendTransition("h", {now + absl::Seconds(1), now, HostState::kUp,
                                HostState::kUnreachable, "stream_broken", 1});
  ASSERT_TRUE(store->Flush().ok());
  StoreOptions restored_options = options;
  restored_options.path = dir + "/restored/accord.db";
  auto restored = SqliteStore::Open(restored_options);
  ASSERT_TRUE(restored.ok()) << restored.status();
  auto hosts = (*restored)->LoadHosts(absl::InfinitePast());
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].transitions.size(), 1u);  // the copy is as of the backup
}

}  // namespace
}  // namespace accord::collector

namespace accord::collector {
namespace {

TEST(SqliteStoreBackfillTest, AliveSpansAndRevisionsSurviveReopen) {
  std::string dir = ::testing::TempDir() + "/store-alive";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  StoreOptions options;
  options.path = dir + "/accord.db";
  options.commit_interval = absl::Milliseconds(1);
  absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  {
    auto store = *SqliteStore::Open(options);
    store->AppendTransition("h", {now, now, HostState::kUnknown, HostState::kUp, "first_seen", 1});
    store->AppendAliveSpan("h", {now + absl::Seconds(5), now + absl::Seconds(9), 1});
    store->AppendAliveSpan("h", {now + absl::Seconds(8), now + absl::Seconds(20), 1});
    store->AppendRevision("h", {now + absl::Seconds(30), now + absl::Seconds(5),
                                now + absl::Seconds(20), "alive span backfilled"});
    ASSERT_TRUE(store->Flush().ok());
  }
  auto store = *SqliteStore::Open(options);
  auto hosts = *store->LoadHosts(absl::InfinitePast());
  ASSERT_EQ(hosts[0].alive.size(), 1u);  // merged on load
  EXPECT_EQ(hosts[0].alive[0].last, now + absl::Seconds(20));
  ASSERT_EQ(hosts[0].revisions.size(), 1u);
  EXPECT_EQ(hosts[0].revisions[0].reason, "alive span backfilled");
}

}  // namespace
}  // namespace accord::collector

namespace accord::collector {
namespace {

capacity::RollupRow Row(int64_t start, std::vector<double> values, double capacity = 4) {
  capacity::RollupRow r;
  r.start = start;
  for (double v : values) r.Add(v, capacity);
  return r;
}

TEST_F(SqliteStoreTest, CapacityMinutesMergeAndEndedHoursAreDerived) {
  // Two hours ago, aligned to the hour (rows older than 7 days would be pruned).
  const int64_t hour = (absl::ToUnixSeconds(absl::Now()) / 3600 - 2) * 3600;
  const capacity::SeriesRef fs{capacity::Kind::kFilesystem, "/var"};
  {
    auto store = OpenStore();
    capacity::MinuteWrite w{"h1", fs, {Row(hour, {0.2, 0.4}), Row(hour + 60, {0.6})}};
    // `now` inside the hour: the hour has not ended, no hour row yet.
    store->MergeMinutes({w}, absl::FromUnixSeconds(hour + 120));
    ASSERT_TRUE(store->Flush().ok());
    auto hours = store->LoadHours("h1", fs, absl::FromUnixSeconds(hour), absl::Now());
    ASSERT_TRUE(hours.ok());
    EXPECT_TRUE(hours->empty());
    // A late sample for the first minute merges into it; now the hour has ended.
    capacity::MinuteWrite late{"h1", fs, {Row(hour, {0.9})}};
    store->MergeMinutes({late}, absl::FromUnixSeconds(hour + 3700));
    ASSERT_TRUE(store->Flush().ok());
  }
  auto store = OpenStore();
  auto minutes = store->LoadMinutes("h1", fs, absl::FromUnixSeconds(hour), absl::Now());
  ASSERT_TRUE(minutes.ok()) << minutes.status();
  ASSERT_EQ(minutes->size(), 2u);
  EXPECT_EQ((*minutes)[0].count, 3u);
  EXPECT_NEAR((*minutes)[0].mean(), 0.5, 1e-12);
  EXPECT_DOUBLE_EQ((*minutes)[0].max, 0.9);
  EXPECT_DOUBLE_EQ((*minutes)[0].min, 0.2);
  EXPECT_DOUBLE_EQ((*minutes)[0].mean_capacity(), 4);
  auto hours = store->LoadHours("h1", fs, absl::FromUnixSeconds(hour), absl::Now());
  ASSERT_TRUE(hours.ok());
  ASSERT_EQ(hours->size(), 1u);
  EXPECT_EQ((*hours)[0].count, 2u);  // two minutes
  EXPECT_NEAR((*hours)[0].mean(), 0.55, 1e-12);
  EXPECT_DOUBLE_EQ((*hours)[0].max, 0.9);
  auto hist = capacity::RatioHistogram::Decode((*hours)[0].histogram);
  ASSERT_TRUE(hist.ok());
  EXPECT_EQ(hist->total(), 2u);
  // Another host's series and an unknown series are separate.
  auto other = store->LoadMinutes("h2", fs, absl::FromUnixSeconds(hour), absl::Now());
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
}

TEST_F(SqliteStoreTest, CapacityRollupsOlderThanRetentionArePruned) {
  options_.capacity_minute_retention = absl::Hours(1);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const capacity::SeriesRef cpu{capacity::Kind::kCpu, ""};
  {
    auto store = OpenStore();
    store->MergeMinutes({{"h1", cpu, {Row(now / 60 * 60 - 7200, {0.5}), Row(now / 60 * 60 - 60, {0.5})}}},
                        absl::FromUnixSeconds(now));
    ASSERT_TRUE(store->Flush().ok());
  }
  auto store = OpenStore();  // prunes at start
  ASSERT_TRUE(store->Flush().ok());
  auto minutes = store->LoadMinutes("h1", cpu, absl::FromUnixSeconds(now - 10000), absl::Now());
  ASSERT_TRUE(minutes.ok());
  EXPECT_EQ(minutes->size(), 1u);
}

}  // namespace
}  // namespace accord::collector

namespace accord::collector {
namespace {

TEST_F(SqliteStoreTest, AnHourIsDerivedEvenWhenItsLastMinutesNeverCame) {
  // A host reports 10:00-10:29 and goes silent; another host's writes after 11:00 derive
  // the first host's 10:00 hour.
  const int64_t hour = (absl::ToUnixSeconds(absl::Now()) / 3600 - 3) * 3600;
  const capacity::SeriesRef cpu{capacity::Kind::kCpu, ""};
  auto store = OpenStore();
  std::vector<capacity::RollupRow> minutes;
  for (int m = 0; m < 30; ++m) minutes.push_back(Row(hour + m * 60, {0.5}));
  store->MergeMinutes({{"silent", cpu, minutes}}, absl::FromUnixSeconds(hour + 31 * 60));
  store->MergeMinutes({{"other", cpu, {Row(hour + 3600 + 60, {0.1})}}},
                      absl::FromUnixSeconds(hour + 3600 + 180));
  ASSERT_TRUE(store->Flush().ok());
  auto hours = store->LoadHours("silent", cpu, absl::FromUnixSeconds(hour), absl::Now());
  ASSERT_TRUE(hours.ok());
  ASSERT_EQ(hours->size(), 1u);
  EXPECT_EQ((*hours)[0].count, 30u);
  EXPECT_NEAR((*hours)[0].mean(), 0.5, 1e-12);
}

TEST_F(SqliteStoreTest, NonFiniteRollupsAreRefusedWithoutLosingTheHostLog) {
  const int64_t minute = absl::ToUnixSeconds(absl::Now()) / 60 * 60 - 600;
  const capacity::SeriesRef demand{capacity::Kind::kDemand, "orders_total"};
  auto store = OpenStore();
  capacity::RollupRow inf = Row(minute, {1e308});
  inf.sum = INFINITY;
  capacity::RollupRow nan = Row(minute + 60, {1});
  nan.sum = NAN;
  store->MergeMinutes({{"h1", demand, {inf, nan, Row(minute + 120, {7})}}}, absl::Now());
  store->AppendTransition("h1", T(1000, HostState::kUnknown, HostState::kUp, "first_seen"));
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->Stats().rollup_errors, 2u);
  EXPECT_EQ(store->Stats().rollups_written, 1u);
  auto rows = store->LoadMinutes("h1", demand, absl::FromUnixSeconds(minute), absl::Now());
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_DOUBLE_EQ((*rows)[0].mean(), 7);
  auto hosts = store->LoadHosts(absl::InfinitePast());
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_EQ((*hosts)[0].transitions.size(), 1u);
}

}  // namespace
}  // namespace accord::collector
