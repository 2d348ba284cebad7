#include "bench/loadgen/host_model.h"

#include <set>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace accord::bench {
namespace {

TEST(HostModelTest, DefaultShapeHasTheAgentsSeriesSet) {
  HostModel model(HostShape{}, 7);
  // 4 CPUs x 8 modes + 8 aggregate + 4 (ctxt, forks, procs) + 7 memory + 4 load/uptime +
  // 3 filesystems x 5 + 2 disks x 5 + 2 interfaces x 9 + 10 accord_agent_*.
  EXPECT_EQ(model.series().size(), 32u + 8 + 4 + 7 + 4 + 15 + 10 + 18 + 10);
  EXPECT_EQ(model.series().size(), HostModel::SeriesCount(HostShape{}));
}

TEST(HostModelTest, SeriesAreValidForTheCollector) {
  HostModel model(HostShape{}, 7);
  std::set<std::string> keys;
  for (const SeriesSpec& s : model.series()) {
    EXPECT_TRUE(absl::StartsWith(s.name, "accord_host_") ||
                absl::StartsWith(s.name, "accord_agent_"))
        << s.name;
    EXPECT_NE(s.name, "accord_host_boot_time_seconds");  // reserved: travels in the hello
    std::string key = s.name;
    for (size_t i = 0; i < s.labels.size(); ++i) {
      EXPECT_NE(s.labels[i].first, "host");
      if (i > 0) {
        EXPECT_LT(s.labels[i - 1].first, s.labels[i].first) << s.name;
      }
      key += "," + s.labels[i].first + "=" + s.labels[i].second;
    }
    EXPECT_TRUE(keys.insert(key).second) << "duplicate " << key;
  }
}

TEST(HostModelTest, CountersNeverDecreaseAndValuesChange) {
  HostModel model(HostShape{}, 3);
  std::vector<double> prev, cur;
  model.Advance(absl::Seconds(1), &prev);
  size_t changed = 0;
  for (int step = 0; step < 50; ++step) {
    model.Advance(absl::Seconds(1), &cur);
    ASSERT_EQ(cur.size(), model.series().size());
    for (size_t i = 0; i < cur.size(); ++i) {
      if (model.series()[i].counter) {
        EXPECT_GE(cur[i], prev[i]) << model.series()[i].name;
      }
      if (cur[i] != prev[i]) ++changed;
    }
    prev = cur;
  }
  EXPECT_GT(changed, 50u * model.series().size() / 3);
}

TEST(HostModelTest, SameSeedSameValues) {
  HostModel a(HostShape{}, 11), b(HostShape{}, 11);
  std::vector<double> va, vb;
  a.Advance(absl::Seconds(10), &va);
  b.Advance(absl::Seconds(10), &vb);
  EXPECT_EQ(va, vb);
  EXPECT_EQ(a.boot_time_seconds(), b.boot_time_seconds());
}

}  // namespace
}  // namespace accord::bench
