#include "agent/transport/series_table.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace accord::agent {
namespace {

TEST(SeriesTableTest, SameSeriesSameId) {
  SeriesTable t;
  Sample a{
      "accord_host_cpu_seconds_total", {{"cpu", "0"}, {"mode", "user"}}, MetricKind::kCounter, 1};
  Sample b = a;
  b.labels[1].second = "system";
  uint32_t ia = t.Intern(a);
  uint32_t ib = t.Intern(b);
  EXPECT_NE(ia, ib);
  EXPECT_EQ(t.Intern(a), ia);
  EXPECT_EQ(t.size(), 2u);
  ASSERT_TRUE(t.Find(ib).has_value());
  EXPECT_EQ(t.Find(ib)->labels[1].second, "system");
  EXPECT_FALSE(t.Find(2).has_value());  // unknown ids are not a crash
  // Label boundaries are unambiguous.
  Sample c{"x", {{"a", "bc"}}, MetricKind::kGauge, 0};
  Sample d{"x", {{"ab", "c"}}, MetricKind::kGauge, 0};
  EXPECT_NE(t.Intern(c), t.Intern(d));
}

class SeriesJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/journal-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ + "/series.journal";
  }
  static Sample S(std::string name, std::string cpu) {
    return Sample{std::move(name), {{"cpu", std::move(cpu)}}, MetricKind::kCounter, 0};
  }
  std::string dir_, path_;
};

TEST_F(SeriesJournalTest, IdsSurviveARestart) {
  {
    SeriesTable t;
    ASSERT_TRUE(t.OpenJournal(path_, false).ok());
    EXPECT_EQ(t.Intern(S("a", "0")), 0u);
    EXPECT_EQ(t.Intern(S("a", "1")), 1u);
    ASSERT_TRUE(t.Sync().ok());
    EXPECT_EQ(t.Intern(S("b", "0")), 2u);
    ASSERT_TRUE(t.Sync().ok());
  }
  SeriesTable t;  // a new process
  ASSERT_TRUE(t.OpenJournal(path_, false).ok());
  EXPECT_EQ(t.size(), 3u);
  ASSERT_TRUE(t.Find(1).has_value());
  EXPECT_EQ(t.Find(1)->name, "a");
  EXPECT_EQ(t.Find(1)->labels[0].second, "1");
  EXPECT_EQ(t.Find(1)->kind, MetricKind::kCounter);
  // Known series keep their ids; new ones continue after them.
  EXPECT_EQ(t.Intern(S("b", "0")), 2u);
  EXPECT_EQ(t.Intern(S("c", "0")), 3u);
}

TEST_F(SeriesJournalTest, ResetStartsEmpty) {
  {
    SeriesTable t;
    ASSERT_TRUE(t.OpenJournal(path_, false).ok());
    t.Intern(S("a", "0"));
    ASSERT_TRUE(t.Sync().ok());
  }
  SeriesTable t;
  ASSERT_TRUE(t.OpenJournal(path_, /*reset=*/true).ok());
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.Intern(S("z", "9")), 0u);
}

TEST_F(SeriesJournalTest, UnsyncedSeriesAreNotDurable) {
  {
    SeriesTable t;
    ASSERT_TRUE(t.OpenJournal(path_, false).ok());
    t.Intern(S("a", "0"));
    ASSERT_TRUE(t.Sync().ok());
    t.Intern(S("b", "0"));  // never synced (the process dies here)
  }
  SeriesTable t;
  ASSERT_TRUE(t.OpenJournal(path_, false).ok());
  EXPECT_EQ(t.size(), 1u);
}

TEST_F(SeriesJournalTest, EveryTornOrDamagedTailIsCutAndTheRestKept) {
  {
    SeriesTable t;
    ASSERT_TRUE(t.OpenJournal(path_, false).ok());
    for (int i = 0; i < 5; ++i) t.Intern(S("series_" + std::to_string(i), "0"));
    ASSERT_TRUE(t.Sync().ok());
  }
  std::string whole;
  {
    std::ifstream in(path_, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Every truncation (a crash mid-append) and a flipped byte at every position.
  size_t last_kept = 0;
  for (size_t cut = 0; cut <= whole.size(); ++cut) {
    {
      std::ofstream out(path_, std::ios::binary | std::ios::trunc);
      out.write(whole.data(), static_cast<std::streamsize>(cut));
    }
    SeriesTable t;
    ASSERT_TRUE(t.OpenJournal(path_, false).ok()) << cut;
    EXPECT_GE(t.size(), last_kept) << "a longer prefix never keeps fewer series";
    last_kept = t.size();
    for (uint32_t id = 0; id < t.size(); ++id) {
      EXPECT_EQ(t.Find(id)->name, "series_" + std::to_string(id)) << cut;
    }
    // The cut tail is gone: new series continue from what was kept.
    const size_t kept = t.size();
    EXPECT_EQ(t.Intern(S("new", "0")), kept);
    ASSERT_TRUE(t.Sync().ok());
  }
  EXPECT_EQ(last_kept, 5u);
  for (size_t at = 0; at < whole.size(); ++at) {
    std::string bad = whole;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    {
      std::ofstream out(path_, std::ios::binary | std::ios::trunc);
      out.write(bad.data(), static_cast<std::streamsize>(bad.size()));
    }
    SeriesTable t;
    ASSERT_TRUE(t.OpenJournal(path_, false).ok()) << at;
    EXPECT_LT(t.size(), 5u) << "damage at byte " << at << " went unnoticed";
    for (uint32_t id = 0; id < t.size(); ++id) {
      EXPECT_EQ(t.Find(id)->name, "series_" + std::to_string(id)) << at;
    }
  }
}

}  // namespace
}  // namespace accord::agent
