#include "collector/capacity/utilisation.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/testing/series_descriptor.h"

namespace accord::collector::capacity {
namespace {

using accord::testing::Desc;

// A host with the agent's series: CPU aggregate modes, memory, swap, one filesystem, one
// network interface with a known speed, and a custom counter.
class HostUtilisationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* modes[] = {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"};
    uint32_t slot = 0;
    for (const char* m : modes) {
      u_.OnSeries(slot++, Desc(0, "accord_host_cpu_aggregate_seconds_total", {{"mode", m}},
                               SeriesKind::kCounter));
    }
    u_.OnSeries(8, Desc(0, "accord_host_memory_total_bytes"));
    u_.OnSeries(9, Desc(0, "accord_host_memory_available_bytes"));
    u_.OnSeries(10, Desc(0, "accord_host_swap_total_bytes"));
    u_.OnSeries(11, Desc(0, "accord_host_swap_free_bytes"));
    std::vector<std::pair<std::string, std::string>> fs = {
        {"device", "/dev/sda1"}, {"fstype", "ext4"}, {"mountpoint", "/var"}};
    u_.OnSeries(12, Desc(0, "accord_host_filesystem_size_bytes", fs));
    u_.OnSeries(13, Desc(0, "accord_host_filesystem_avail_bytes", fs));
    u_.OnSeries(14, Desc(0, "accord_host_filesystem_files", fs));
    u_.OnSeries(15, Desc(0, "accord_host_filesystem_files_free", fs));
    u_.OnSeries(16, Desc(0, "accord_host_network_receive_bytes_total", {{"device", "eth0"}},
                         SeriesKind::kCounter));
    u_.OnSeries(17, Desc(0, "accord_host_network_transmit_bytes_total", {{"device", "eth0"}},
                         SeriesKind::kCounter));
    u_.OnSeries(18, Desc(0, "accord_host_network_speed_bytes", {{"device", "eth0"}}));
    u_.OnSeries(19, Desc(0, "shop_orders_total", {{"shop", "eu"}}, SeriesKind::kCounter));
    u_.SetDemandMetrics({"shop_orders_total"});
  }

  // Values at step k: CPU 4 cores, each second 1 core user + 0.5 system + 0.5 iowait + 2
  // idle; memory 25 % used; swap 10 %; filesystem 60 % used, inodes 20 %; eth0 125 MB/s
  // link, receiving 25 MB/s and sending 12.5 MB/s; 7 orders per second.
  std::vector<Observation> Step(uint64_t sequence, double k, double dt = 10) {
    double s = k * dt;
    std::vector<uint32_t> slots;
    std::vector<double> values;
    auto put = [&](uint32_t slot, double v) {
      slots.push_back(slot);
      values.push_back(v);
    };
    put(0, 1.0 * s);  // user
    put(1, 0);
    put(2, 0.5 * s);  // system
    put(3, 2.0 * s);  // idle
    put(4, 0.5 * s);  // iowait
    put(5, 0);
    put(6, 0);
    put(7, 0);
    put(8, 8e9);
    put(9, 6e9);
    put(10, 1e9);
    put(11, 9e8);
    put(12, 100e9);
    put(13, 40e9);
    put(14, 1000);
    put(15, 800);
    put(16, 25e6 * s);
    put(17, 12.5e6 * s);
    put(18, 125e6);
    put(19, 7 * s);
    std::vector<Observation> out;
    u_.OnSamples(sequence, static_cast<int64_t>(1.7e12 + s * 1000), slots, values, &out);
    return out;
  }

  static const Observation* Find(const std::vector<Observation>& obs, Kind kind) {
    for (const Observation& o : obs) {
      if (o.kind == kind) return &o;
    }
    return nullptr;
  }

  HostUtilisation u_;
};

TEST_F(HostUtilisationTest, GaugesAtOnceCountersFromTheSecondBatch) {
  auto first = Step(1, 1);
  EXPECT_EQ(Find(first, Kind::kCpu), nullptr);
  EXPECT_EQ(Find(first, Kind::kNetwork), nullptr);
  EXPECT_EQ(Find(first, Kind::kDemand), nullptr);
  ASSERT_NE(Find(first, Kind::kMemory), nullptr);
  EXPECT_DOUBLE_EQ(Find(first, Kind::kMemory)->value, 0.25);
  EXPECT_DOUBLE_EQ(Find(first, Kind::kMemory)->capacity, 8e9);
  EXPECT_DOUBLE_EQ(Find(first, Kind::kSwap)->value, 0.1);
  const Observation* fs = Find(first, Kind::kFilesystem);
  ASSERT_NE(fs, nullptr);
  EXPECT_EQ(u_.series(fs->series).kind, Kind::kFilesystem);
  EXPECT_EQ(u_.series(fs->series).instance, "/var");
  EXPECT_DOUBLE_EQ(fs->value, 0.6);
  EXPECT_DOUBLE_EQ(Find(first, Kind::kInodes)->value, 0.2);

  auto second = Step(2, 2);
  const Observation* cpu = Find(second, Kind::kCpu);
  ASSERT_NE(cpu, nullptr);
  EXPECT_DOUBLE_EQ(cpu->value, 1.5 / 4.0);  // user + system busy; idle + iowait not
  EXPECT_DOUBLE_EQ(cpu->capacity, 4.0);
  const Observation* net = Find(second, Kind::kNetwork);
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(u_.series(net->series).instance, "eth0");
  EXPECT_DOUBLE_EQ(net->value, 0.2);  // max(25, 12.5) MB/s of 125 MB/s
  const Observation* orders = Find(second, Kind::kDemand);
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(u_.series(orders->series).instance, "shop_orders_total{shop=\"eu\"}");
  EXPECT_DOUBLE_EQ(orders->value, 7.0);
  EXPECT_DOUBLE_EQ(orders->t, 1.7e9 + 20);
}

TEST_F(HostUtilisationTest, RatesOnlyBetweenConsecutiveSequencesEvenWhenInterleaved) {
  // Live data (sequences 100, 101) and a backlog (5, 6) arrive interleaved.
  Step(100, 100);
  Step(5, 5);
  auto live = Step(101, 101);
  auto backlog = Step(6, 6);
  ASSERT_NE(Find(live, Kind::kCpu), nullptr);
  ASSERT_NE(Find(backlog, Kind::kCpu), nullptr);
  EXPECT_DOUBLE_EQ(Find(live, Kind::kCpu)->value, 0.375);
  EXPECT_DOUBLE_EQ(Find(backlog, Kind::kCpu)->value, 0.375);
  // A gap in sequences (a batch dropped from the spool) gives no rate.
  auto after_gap = Step(8, 8);
  EXPECT_EQ(Find(after_gap, Kind::kCpu), nullptr);
}

TEST_F(HostUtilisationTest, CounterResetGivesNoRate) {
  Step(1, 50);
  auto reset = Step(2, 1);  // counters went backwards: a reboot
  EXPECT_EQ(Find(reset, Kind::kCpu), nullptr);
  EXPECT_EQ(Find(reset, Kind::kDemand), nullptr);
  auto next = Step(3, 2);
  EXPECT_NE(Find(next, Kind::kCpu), nullptr);
}

TEST_F(HostUtilisationTest, DemandOnlyForCatalogueMetrics) {
  u_.SetDemandMetrics({});
  Step(1, 1);
  EXPECT_EQ(Find(Step(2, 2), Kind::kDemand), nullptr);
  u_.SetDemandMetrics({"shop_orders_total"});
  Step(3, 3);
  EXPECT_NE(Find(Step(4, 4), Kind::kDemand), nullptr);
}

TEST(HostUtilisation, NoSwapNoInodesNoSpeedMeansNoSeries) {
  HostUtilisation u;
  u.OnSeries(0, Desc(0, "accord_host_swap_total_bytes"));
  u.OnSeries(1, Desc(0, "accord_host_swap_free_bytes"));
  u.OnSeries(2, Desc(0, "accord_host_filesystem_files", {{"mountpoint", "/"}}));
  u.OnSeries(3, Desc(0, "accord_host_filesystem_files_free", {{"mountpoint", "/"}}));
  std::vector<Observation> out;
  u.OnSamples(1, 1000, {0, 1, 2, 3}, {0, 0, 0, 0}, &out);
  EXPECT_TRUE(out.empty());
}

TEST(HostUtilisation, UnknownSlotsAndNonFiniteValuesIgnored) {
  HostUtilisation u;
  u.OnSeries(0, Desc(0, "accord_host_memory_total_bytes"));
  u.OnSeries(1, Desc(0, "accord_host_memory_available_bytes"));
  std::vector<Observation> out;
  u.OnSamples(1, 1000, {0, 1, 77}, {NAN, 5, 1}, &out);
  EXPECT_TRUE(out.empty());
  u.OnSamples(2, 2000, {0, 1}, {10, 15}, &out);  // available > total: clamped to 0
  ASSERT_EQ(out.size(), 1u);
  EXPECT_DOUBLE_EQ(out[0].value, 0.0);
}

TEST_F(HostUtilisationTest, SeriesIdsAreDenseStableAndFindable) {
  // cpu, memory, swap, /var (bytes and inodes), eth0, the demand series.
  ASSERT_EQ(u_.series_count(), 7u);
  for (uint32_t id = 0; id < u_.series_count(); ++id) {
    EXPECT_EQ(u_.FindSeries(u_.series(id)), static_cast<int64_t>(id));
  }
  EXPECT_EQ(u_.FindSeries({Kind::kFilesystem, "/nope"}), -1);
  auto first = Step(1, 1);
  auto second = Step(2, 2);
  for (const auto* obs : {&first, &second}) {
    for (const Observation& o : *obs) EXPECT_EQ(u_.series(o.series).kind, o.kind);
  }
  // Describing the slots again (a reconnect) keeps the ids.
  u_.OnSeries(12, Desc(0, "accord_host_filesystem_size_bytes", {{"mountpoint", "/var"}}));
  u_.OnSeries(16, Desc(0, "accord_host_network_receive_bytes_total", {{"device", "eth0"}},
                       SeriesKind::kCounter));
  EXPECT_EQ(u_.series_count(), 7u);
  EXPECT_EQ(Find(Step(3, 3), Kind::kNetwork)->series, Find(second, Kind::kNetwork)->series);
}

TEST_F(HostUtilisationTest, ManyCursorsKeepRatesExact) {
  // Four interleaved runs (as many as cursors are kept): each run's batches get their rates
  // from the run's previous batch.
  for (int round = 0; round < 3; ++round) {
    for (uint64_t run = 0; run < 4; ++run) {
      auto obs = Step(run * 1000 + round + 1, run * 1000 + round + 1);
      const Observation* cpu = Find(obs, Kind::kCpu);
      if (round == 0) {
        EXPECT_EQ(cpu, nullptr);
      } else {
        ASSERT_NE(cpu, nullptr) << run << " " << round;
        EXPECT_DOUBLE_EQ(cpu->value, 0.375);
      }
    }
  }
}

}  // namespace
}  // namespace accord::collector::capacity
