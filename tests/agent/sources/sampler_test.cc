#include "agent/sources/sampler.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/sources/metric_names.h"
#include "common/logging.h"
#include "common/utf8.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/sources/private_mount_namespace.h"
#include "tests/agent/sources/temp_tree.h"

namespace accord::agent {
namespace {

using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::Optional;
using ::testing::UnorderedElementsAre;

// Returns canned statvfs results by path; unknown paths fail with kNotFound. Records calls.
class FakeFsStatter : public FsStatter {
 public:
  void Set(const std::string& path, FsStats stats) { results_[path] = stats; }
  void Fail(const std::string& path, absl::Status status) { results_[path] = status; }
  absl::StatusOr<FsStats> Stat(const std::string& path) override {
    calls_.push_back(path);
    auto it = results_.find(path);
    if (it == results_.end()) return absl::NotFoundError(absl::StrCat("no fake for ", path));
    return it->second;
  }
  const std::vector<std::string>& calls() const { return calls_; }

 private:
  std::map<std::string, absl::StatusOr<FsStats>> results_;
  std::vector<std::string> calls_;
};

FsStats MakeStats(uint64_t gib) {
  FsStats s;
  s.size_bytes = gib << 30;
  s.free_bytes = (gib << 30) / 2;
  s.avail_bytes = (gib << 30) / 4;
  s.files = gib * 65536;
  s.files_free = gib * 1000;
  return s;
}

class SamplerTest : public ::testing::Test {
 protected:
  // Expected warnings (the failing fake mount) would clutter the output; tests of logging
  // raise the level back.
  void SetUp() override { SetLogLevel(LogLevel::kError); }
  void TearDown() override { SetLogLevel(LogLevel::kInfo); }

  SamplerOptions OptionsFor(const std::string& root) const {
    SamplerOptions options;
    options.procfs = root + "/proc";
    options.sysfs = root + "/sys";
    options.rootfs = "/";
    options.user_hz = 100;
    return options;
  }
  SamplerOptions Fixture(const std::string& machine) const {
    return OptionsFor(testdata_ + "/" + machine);
  }

  // Stats for every mount the multicore-server fixture reports; /run/user/1000 fails.
  void SetUpMulticoreStatter(const std::string& rootfs_prefix = "") {
    uint64_t gib = 1;
    for (const char* mp :
         {"/run", "/", "/run/lock", "/var", "/boot/efi", "/srv/backup data", "/mnt/scratch"}) {
      statter_.Set(rootfs_prefix + (std::string(mp) == "/" && !rootfs_prefix.empty() ? "" : mp),
                   MakeStats(gib++));
    }
    statter_.Fail(rootfs_prefix + "/run/user/1000", absl::PermissionDeniedError("EACCES"));
  }

  SamplerStats Collect(const SamplerOptions& options) {
    Sampler sampler(options, statter_);
    return sampler.Collect(&samples_);
  }

  // Value of the one sample with this name and these labels, if any.
  std::optional<double> Value(absl::string_view name, const Labels& labels) const {
    std::optional<double> found;
    for (const Sample& s : samples_) {
      if (s.name == name && s.labels == labels) {
        EXPECT_FALSE(found.has_value()) << "duplicate series " << name;
        found = s.value;
      }
    }
    return found;
  }
  const Sample* Find(absl::string_view name, const Labels& labels) const {
    for (const Sample& s : samples_) {
      if (s.name == name && s.labels == labels) return &s;
    }
    return nullptr;
  }
  int Count(absl::string_view name) const {
    return static_cast<int>(std::count_if(samples_.begin(), samples_.end(),
                                          [&](const Sample& s) { return s.name == name; }));
  }
  // Distinct values of label `label` among samples named `name`, in first-seen order.
  std::vector<std::string> LabelValues(absl::string_view name, absl::string_view label) const {
    std::vector<std::string> out;
    for (const Sample& s : samples_) {
      if (s.name != name) continue;
      for (const auto& [k, v] : s.labels) {
        if (k == label && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
      }
    }
    return out;
  }

  const std::string testdata_ = ACCORD_TESTDATA_DIR;
  FakeFsStatter statter_;
  std::vector<Sample> samples_;
};

// ---- multicore-server: hand-crafted 8-core host, Linux 6.1 formats ----

TEST_F(SamplerTest, MulticoreServerSeriesCounts) {
  SetUpMulticoreStatter();
  SamplerStats stats = Collect(Fixture("multicore-server"));
  EXPECT_EQ(stats.source_errors, 0u);
  EXPECT_EQ(stats.fs_stat_errors, 1u);  // /run/user/1000
  // cpu 8x8 + aggregate 8 + 5 stat scalars, meminfo 7, loadavg 3, uptime 1,
  // filesystems 7x5, disks 3x5, network 3x8 + 2 speeds.
  EXPECT_EQ(stats.samples, 64u + 8 + 5 + 7 + 3 + 1 + 35 + 15 + 26);
  EXPECT_EQ(samples_.size(), stats.samples);
  EXPECT_EQ(Count(metrics::kCpuSecondsTotal), 64);
  EXPECT_EQ(Count(metrics::kCpuAggregateSecondsTotal), 8);
}

TEST_F(SamplerTest, MulticoreServerCpuSeconds) {
  SetUpMulticoreStatter();
  Collect(Fixture("multicore-server"));
  const Sample* user3 = Find(metrics::kCpuSecondsTotal, {{"cpu", "3"}, {"mode", "user"}});
  ASSERT_NE(user3, nullptr);
  EXPECT_THAT(user3->value, DoubleEq(4213942 / 100.0));  // guest 121534 is not added again
  EXPECT_EQ(user3->kind, MetricKind::kCounter);
  EXPECT_THAT(Value(metrics::kCpuSecondsTotal, {{"cpu", "7"}, {"mode", "idle"}}),
              Optional(DoubleEq((81223410 + 7 * 99991) / 100.0)));
  EXPECT_THAT(Value(metrics::kCpuSecondsTotal, {{"cpu", "0"}, {"mode", "steal"}}),
              Optional(DoubleEq(15.23)));
  EXPECT_THAT(Value(metrics::kCpuAggregateSecondsTotal, {{"mode", "system"}}),
              Optional(DoubleEq(8266996 / 100.0)));
  EXPECT_THAT(LabelValues(metrics::kCpuSecondsTotal, "mode"),
              ElementsAre("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"));
  EXPECT_THAT(LabelValues(metrics::kCpuSecondsTotal, "cpu"),
              ElementsAre("0", "1", "2", "3", "4", "5", "6", "7"));
}

TEST_F(SamplerTest, MulticoreServerStatScalars) {
  SetUpMulticoreStatter();
  Collect(Fixture("multicore-server"));
  EXPECT_THAT(Value(metrics::kBootTimeSeconds, {}), Optional(1764576000.0));
  EXPECT_THAT(Value(metrics::kContextSwitchesTotal, {}), Optional(5834412973.0));
  EXPECT_THAT(Value(metrics::kForksTotal, {}), Optional(18934211.0));
  EXPECT_THAT(Value(metrics::kProcsRunning, {}), Optional(3.0));
  EXPECT_THAT(Value(metrics::kProcsBlocked, {}), Optional(1.0));
  EXPECT_EQ(Find(metrics::kForksTotal, {})->kind, MetricKind::kCounter);
  EXPECT_EQ(Find(metrics::kProcsRunning, {})->kind, MetricKind::kGauge);
}

TEST_F(SamplerTest, MulticoreServerMemoryLoadUptime) {
  SetUpMulticoreStatter();
  Collect(Fixture("multicore-server"));
  EXPECT_THAT(Value(metrics::kMemoryTotalBytes, {}), Optional(65837212.0 * 1024));
  EXPECT_THAT(Value(metrics::kMemoryAvailableBytes, {}), Optional(41023884.0 * 1024));
  EXPECT_THAT(Value(metrics::kMemoryFreeBytes, {}), Optional(3188420.0 * 1024));
  EXPECT_THAT(Value(metrics::kMemoryBuffersBytes, {}), Optional(912344.0 * 1024));
  EXPECT_THAT(Value(metrics::kMemoryCachedBytes, {}), Optional(35120788.0 * 1024));
  EXPECT_THAT(Value(metrics::kSwapTotalBytes, {}), Optional(8388604.0 * 1024));
  EXPECT_THAT(Value(metrics::kSwapFreeBytes, {}), Optional(8201212.0 * 1024));
  EXPECT_THAT(Value(metrics::kLoad1, {}), Optional(DoubleEq(3.42)));
  EXPECT_THAT(Value(metrics::kLoad5, {}), Optional(DoubleEq(2.87)));
  EXPECT_THAT(Value(metrics::kLoad15, {}), Optional(DoubleEq(2.51)));
  EXPECT_THAT(Value(metrics::kUptimeSeconds, {}), Optional(DoubleEq(2592134.77)));
}

TEST_F(SamplerTest, MulticoreServerFilesystems) {
  SetUpMulticoreStatter();
  Collect(Fixture("multicore-server"));
  // Pseudo filesystems, /dev, /sys, /proc, /run/credentials and /var/lib/docker are excluded;
  // /mnt/scratch is the tmpfs mounted last over the ext4; /run/user/1000 failed to stat.
  EXPECT_THAT(LabelValues(metrics::kFilesystemSizeBytes, "mountpoint"),
              ElementsAre("/run", "/", "/run/lock", "/var", "/boot/efi", "/srv/backup data",
                          "/mnt/scratch"));
  for (const char* name :
       {metrics::kFilesystemSizeBytes, metrics::kFilesystemFreeBytes,
        metrics::kFilesystemAvailBytes, metrics::kFilesystemFiles, metrics::kFilesystemFilesFree}) {
    EXPECT_EQ(Count(name), 7) << name;
  }
  const Labels var = {{"device", "/dev/mapper/vg0-var"}, {"fstype", "xfs"}, {"mountpoint", "/var"}};
  EXPECT_THAT(Value(metrics::kFilesystemSizeBytes, var), Optional(double(4ull << 30)));
  EXPECT_THAT(Value(metrics::kFilesystemFreeBytes, var), Optional(double(2ull << 30)));
  EXPECT_THAT(Value(metrics::kFilesystemAvailBytes, var), Optional(double(1ull << 30)));
  EXPECT_THAT(Value(metrics::kFilesystemFiles, var), Optional(4.0 * 65536));
  EXPECT_THAT(Value(metrics::kFilesystemFilesFree, var), Optional(4000.0));
  EXPECT_TRUE(
      Value(metrics::kFilesystemSizeBytes,
            {{"device", "/dev/sda1"}, {"fstype", "ext4"}, {"mountpoint", "/srv/backup data"}})
          .has_value());
  EXPECT_TRUE(Value(metrics::kFilesystemSizeBytes,
                    {{"device", "tmpfs"}, {"fstype", "tmpfs"}, {"mountpoint", "/mnt/scratch"}})
                  .has_value());
  EXPECT_THAT(statter_.calls(), ElementsAre("/run", "/", "/run/lock", "/var", "/boot/efi",
                                            "/srv/backup data", "/mnt/scratch", "/run/user/1000"));
}

TEST_F(SamplerTest, RootfsPrefixesStatPaths) {
  SetUpMulticoreStatter("/host");
  SamplerOptions options = Fixture("multicore-server");
  options.rootfs = "/host/";
  SamplerStats stats = Collect(options);
  EXPECT_EQ(stats.fs_stat_errors, 1u);
  EXPECT_EQ(statter_.calls().front(), "/host/run");
  EXPECT_EQ(statter_.calls()[1], "/host");
  EXPECT_EQ(statter_.calls()[5], "/host/srv/backup data");
  // Labels keep the host's mount point, not the prefixed path.
  EXPECT_EQ(LabelValues(metrics::kFilesystemSizeBytes, "mountpoint")[1], "/");
}

TEST_F(SamplerTest, MulticoreServerDisks) {
  SetUpMulticoreStatter();
  Collect(Fixture("multicore-server"));
  EXPECT_THAT(LabelValues(metrics::kDiskReadsCompletedTotal, "device"),
              ElementsAre("nvme0n1", "sda", "dm-0"));
  const Labels nvme = {{"device", "nvme0n1"}};
  EXPECT_THAT(Value(metrics::kDiskReadsCompletedTotal, nvme), Optional(1843220.0));
  EXPECT_THAT(Value(metrics::kDiskWritesCompletedTotal, nvme), Optional(5203377.0));
  EXPECT_THAT(Value(metrics::kDiskReadBytesTotal, nvme), Optional(98234110.0 * 512));
  EXPECT_THAT(Value(metrics::kDiskWrittenBytesTotal, nvme), Optional(301288432.0 * 512));
  EXPECT_THAT(Value(metrics::kDiskIoTimeSecondsTotal, nvme), Optional(DoubleEq(4821.330)));
  EXPECT_THAT(Value(metrics::kDiskIoTimeSecondsTotal, {{"device", "dm-0"}}),
              Optional(DoubleEq(7700.112)));
  EXPECT_EQ(Find(metrics::kDiskReadBytesTotal, nvme)->kind, MetricKind::kCounter);
}

TEST_F(SamplerTest, DiskPartitionsOptionKeepsPartitionsButNotLoop) {
  SetUpMulticoreStatter();
  SamplerOptions options = Fixture("multicore-server");
  options.disk_partitions = true;
  Collect(options);
  EXPECT_THAT(LabelValues(metrics::kDiskReadsCompletedTotal, "device"),
              ElementsAre("nvme0n1", "nvme0n1p1", "nvme0n1p2", "sda", "sda1", "sda2", "dm-0"));
}

TEST_F(SamplerTest, MulticoreServerNetwork) {
  SetUpMulticoreStatter();
  Collect(Fixture("multicore-server"));
  EXPECT_THAT(LabelValues(metrics::kNetworkReceiveBytesTotal, "device"),
              ElementsAre("eth0", "eth1", "docker0"));
  const Labels eth0 = {{"device", "eth0"}};
  EXPECT_THAT(Value(metrics::kNetworkReceiveBytesTotal, eth0), Optional(9123347788112.0));
  EXPECT_THAT(Value(metrics::kNetworkTransmitBytesTotal, eth0), Optional(4412334566778.0));
  EXPECT_THAT(Value(metrics::kNetworkReceivePacketsTotal, eth0), Optional(7012334412.0));
  EXPECT_THAT(Value(metrics::kNetworkTransmitPacketsTotal, eth0), Optional(5112334455.0));
  EXPECT_THAT(Value(metrics::kNetworkReceiveErrsTotal, eth0), Optional(12.0));
  EXPECT_THAT(Value(metrics::kNetworkTransmitErrsTotal, eth0), Optional(0.0));
  EXPECT_THAT(Value(metrics::kNetworkReceiveDropTotal, eth0), Optional(331.0));
  EXPECT_THAT(Value(metrics::kNetworkTransmitDropTotal, eth0), Optional(7.0));
  // 10000 Mb/s and 1000 Mb/s; docker0 reports -1 (no carrier) and gets no speed series.
  EXPECT_THAT(Value(metrics::kNetworkSpeedBytes, eth0), Optional(1.25e9));
  EXPECT_THAT(Value(metrics::kNetworkSpeedBytes, {{"device", "eth1"}}), Optional(1.25e8));
  EXPECT_EQ(Count(metrics::kNetworkSpeedBytes), 2);
  EXPECT_EQ(Find(metrics::kNetworkSpeedBytes, eth0)->kind, MetricKind::kGauge);
}

TEST_F(SamplerTest, NetDevicesExcludeIsConfigurable) {
  SetUpMulticoreStatter();
  SamplerOptions options = Fixture("multicore-server");
  options.net_devices_exclude = {"docker0"};
  Collect(options);
  EXPECT_THAT(LabelValues(metrics::kNetworkReceiveBytesTotal, "device"),
              ElementsAre("lo", "eth0", "eth1"));
}

TEST_F(SamplerTest, FsTypesExcludeIsConfigurable) {
  SetUpMulticoreStatter();
  SamplerOptions options = Fixture("multicore-server");
  options.fs_types_exclude.push_back("tmpfs");
  options.mount_points_exclude.push_back("/boot");
  Collect(options);
  EXPECT_THAT(LabelValues(metrics::kFilesystemSizeBytes, "mountpoint"),
              ElementsAre("/", "/var", "/srv/backup data"));
}

// ---- debian12-vm-2core: files captured from a real Debian 12 VM (kernel 6.x) ----

TEST_F(SamplerTest, RealVmFixture) {
  statter_.Set("/", MakeStats(100));
  SamplerStats stats = Collect(Fixture("debian12-vm-2core"));
  EXPECT_EQ(stats.source_errors, 0u);
  EXPECT_EQ(stats.fs_stat_errors, 0u);
  // cpu 2x8 + 8 + 5, meminfo 7, loadavg 3, uptime 1, "/" 5, vda 5, eth0+ifb0+ifb1 3x8.
  EXPECT_EQ(stats.samples, 16u + 8 + 5 + 7 + 3 + 1 + 5 + 5 + 24);
  EXPECT_THAT(Value(metrics::kCpuSecondsTotal, {{"cpu", "1"}, {"mode", "user"}}),
              Optional(DoubleEq(12.18)));
  EXPECT_THAT(Value(metrics::kCpuAggregateSecondsTotal, {{"mode", "idle"}}),
              Optional(DoubleEq(1491.31)));
  EXPECT_THAT(Value(metrics::kBootTimeSeconds, {}), Optional(1795849528.0));
  EXPECT_THAT(Value(metrics::kMemoryTotalBytes, {}), Optional(24683652.0 * 1024));
  EXPECT_THAT(Value(metrics::kUptimeSeconds, {}), Optional(DoubleEq(767.21)));
  EXPECT_THAT(LabelValues(metrics::kFilesystemSizeBytes, "mountpoint"), ElementsAre("/"));
  EXPECT_THAT(LabelValues(metrics::kDiskReadsCompletedTotal, "device"), ElementsAre("vda"));
  EXPECT_THAT(Value(metrics::kDiskReadBytesTotal, {{"device", "vda"}}), Optional(2173858.0 * 512));
  EXPECT_THAT(LabelValues(metrics::kNetworkReceiveBytesTotal, "device"),
              UnorderedElementsAre("eth0", "ifb0", "ifb1"));
  EXPECT_THAT(Value(metrics::kNetworkReceiveBytesTotal, {{"device", "eth0"}}),
              Optional(41353146.0));
  EXPECT_EQ(Count(metrics::kNetworkSpeedBytes), 0);  // eth0 reports -1
}

// ---- invariants over every sample ----

TEST_F(SamplerTest, EverySampleIsDeclaredWithItsKindAndHasSortedUniqueLabels) {
  SetUpMulticoreStatter();
  Collect(Fixture("multicore-server"));
  std::map<std::string, MetricKind> declared;
  for (const metrics::MetricInfo& info : metrics::AllHostMetrics()) declared[info.name] = info.kind;
  std::set<std::string> seen;
  for (const Sample& s : samples_) {
    auto it = declared.find(s.name);
    ASSERT_NE(it, declared.end()) << s.name;
    EXPECT_EQ(it->second, s.kind) << s.name;
    for (size_t i = 1; i < s.labels.size(); ++i) {
      EXPECT_LT(s.labels[i - 1].first, s.labels[i].first) << s.name;
    }
    seen.insert(s.name);
  }
  EXPECT_EQ(seen.size(), declared.size());  // the fixture exercises every metric
}

TEST_F(SamplerTest, CollectAppendsWithoutClearing) {
  SetUpMulticoreStatter();
  samples_.push_back(Sample{"keep_me", {}, MetricKind::kGauge, 1});
  Sampler sampler(Fixture("multicore-server"), statter_);
  SamplerStats first = sampler.Collect(&samples_);
  SamplerStats second = sampler.Collect(&samples_);
  EXPECT_EQ(first.samples, second.samples);
  EXPECT_EQ(samples_.size(), 1 + first.samples + second.samples);
  EXPECT_EQ(samples_.front().name, "keep_me");
}

TEST_F(SamplerTest, BootTimeSeconds) {
  Sampler sampler(Fixture("multicore-server"), statter_);
  absl::StatusOr<int64_t> boot = sampler.BootTimeSeconds();
  ASSERT_TRUE(boot.ok()) << boot.status();
  EXPECT_EQ(*boot, 1764576000);
  Sampler missing(Fixture("no-such-machine"), statter_);
  EXPECT_EQ(missing.BootTimeSeconds().status().code(), absl::StatusCode::kNotFound);
}

// ---- broken hosts: a bad source is skipped and counted, the rest is still sampled ----

class BrokenHostTest : public SamplerTest {
 protected:
  void SetUp() override {
    SamplerTest::SetUp();
    tree_.CopyFrom(testdata_ + "/multicore-server");
    SetUpMulticoreStatter();
  }
  testing::TempTree tree_;
};

TEST_F(BrokenHostTest, BadSourcesAreSkippedAndCounted) {
  std::filesystem::remove(tree_.Path("proc/stat"));
  tree_.Write("proc/meminfo", "MemTotal: 1 kB\nMemFree: abc kB\n");
  tree_.Write("proc/loadavg", "");
  tree_.Write("proc/diskstats", "   8       0 sda 1 2 3\n");  // truncated line
  SamplerStats stats = Collect(OptionsFor(tree_.root()));
  EXPECT_EQ(stats.source_errors, 4u);
  EXPECT_EQ(Count(metrics::kCpuSecondsTotal), 0);
  EXPECT_EQ(Count(metrics::kMemoryTotalBytes), 0);  // nothing partial from a bad source
  EXPECT_EQ(Count(metrics::kLoad1), 0);
  EXPECT_EQ(Count(metrics::kDiskReadsCompletedTotal), 0);
  EXPECT_EQ(Count(metrics::kUptimeSeconds), 1);
  EXPECT_EQ(Count(metrics::kFilesystemSizeBytes), 7);
  EXPECT_EQ(Count(metrics::kNetworkReceiveBytesTotal), 3);
  EXPECT_EQ(stats.samples, 1u + 35 + 26);
}

TEST_F(BrokenHostTest, MountsFallBackToProcMounts) {
  std::filesystem::remove(tree_.Path("proc/1/mounts"));
  tree_.Write("proc/mounts", "/dev/vda / ext4 rw 0 0\nproc /proc proc rw 0 0\n");
  SamplerStats stats = Collect(OptionsFor(tree_.root()));
  EXPECT_EQ(stats.source_errors, 0u);
  EXPECT_THAT(LabelValues(metrics::kFilesystemSizeBytes, "mountpoint"), ElementsAre("/"));
}

TEST_F(BrokenHostTest, AFixtureMountTableIsReadEveryCycleSoChangesAreSeen) {
  Sampler sampler(OptionsFor(tree_.root()), statter_);
  SamplerStats first = sampler.Collect(&samples_);
  EXPECT_EQ(first.mount_table_reads, 1u);
  EXPECT_EQ(Count(metrics::kFilesystemSizeBytes), 7);
  tree_.Write("proc/1/mounts", "/dev/vda / ext4 rw 0 0\n");
  samples_.clear();
  SamplerStats second = sampler.Collect(&samples_);
  EXPECT_EQ(second.mount_table_reads, 1u);
  EXPECT_THAT(LabelValues(metrics::kFilesystemSizeBytes, "mountpoint"), ElementsAre("/"));
}

// On procfs the mount table is read again only when the kernel reports a change: here a
// tmpfs mounted in a private mount namespace, seen through <procfs>/1/mounts -> /proc/self.
TEST_F(SamplerTest, RealMountTableIsReadAgainOnlyWhenItChanges) {
  testing::TempTree tree;
  const std::string dir = tree.Path("mnt");
  tree.Write("mnt/.keep", "");
  std::filesystem::create_directories(tree.Path("proc"));
  std::filesystem::create_directory_symlink("/proc/self", tree.Path("proc/1"));
  SamplerOptions options = OptionsFor(tree.root());
  options.fs_types_exclude.clear();
  options.mount_points_exclude.clear();
  int result = testing::RunInPrivateMountNamespace([&]() -> int {
    Sampler sampler(options, statter_);
    std::vector<Sample> out;
    if (sampler.Collect(&out).mount_table_reads != 1) return 1;
    if (sampler.Collect(&out).mount_table_reads != 0) return 2;  // unchanged: not read
    if (!testing::MountTmpfs(dir.c_str())) return 3;
    const size_t calls_before = statter_.calls().size();
    if (sampler.Collect(&out).mount_table_reads != 1) return 4;  // changed: read again
    bool stat_new = false;
    for (size_t i = calls_before; i < statter_.calls().size(); ++i) {
      if (statter_.calls()[i] == dir) stat_new = true;
    }
    if (!stat_new) return 5;  // the new filesystem is sampled
    if (sampler.Collect(&out).mount_table_reads != 0) return 6;
    return 0;
  });
  if (result == testing::kNoMountNamespace) GTEST_SKIP() << "no private mount namespace here";
  EXPECT_EQ(result, 0) << "step " << result << " failed";
}

TEST_F(BrokenHostTest, NoMountTableAtAllIsOneSourceError) {
  std::filesystem::remove(tree_.Path("proc/1/mounts"));
  SamplerStats stats = Collect(OptionsFor(tree_.root()));
  EXPECT_EQ(stats.source_errors, 1u);
  EXPECT_EQ(Count(metrics::kFilesystemSizeBytes), 0);
  EXPECT_TRUE(statter_.calls().empty());
}

TEST_F(BrokenHostTest, EmptyTreeYieldsNothingButDoesNotFail) {
  testing::TempTree empty;
  SamplerStats stats = Collect(OptionsFor(empty.root()));
  EXPECT_EQ(stats.samples, 0u);
  EXPECT_EQ(stats.source_errors, 7u);
}

TEST_F(BrokenHostTest, ErrorsAreLoggedOncePerChangeAndRecoveryIsLogged) {
  SetLogLevel(LogLevel::kInfo);
  Sampler sampler(OptionsFor(tree_.root()), statter_);
  tree_.Write("proc/loadavg", "garbage\n");
  ::testing::internal::CaptureStderr();
  sampler.Collect(&samples_);
  sampler.Collect(&samples_);  // same error: not logged again
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 2) << log;  // loadavg + /run/user/1000
  EXPECT_NE(log.find("source=loadavg"), std::string::npos) << log;
  EXPECT_NE(log.find("not a number"), std::string::npos) << log;

  tree_.Write("proc/loadavg", "0.1 x 0.3\n");  // a different error: logged
  ::testing::internal::CaptureStderr();
  sampler.Collect(&samples_);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_NE(log.find("load5"), std::string::npos) << log;

  tree_.Write("proc/loadavg", "0.1 0.2 0.3 1/2 3\n");
  ::testing::internal::CaptureStderr();
  SamplerStats stats = sampler.Collect(&samples_);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stats.source_errors, 0u);
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_NE(log.find("recovered"), std::string::npos) << log;
}

TEST_F(BrokenHostTest, InterfacesThatComeAndGoAreFollowedAcrossCycles) {
  const std::string head =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n";
  const std::string eth1 = "  eth1: 1 2 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n";
  const std::string eth9 = "  eth9: 1 2 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n";
  Sampler sampler(OptionsFor(tree_.root()), statter_);
  const Labels labels9 = {{"device", "eth9"}};
  auto cycle = [&] {
    samples_.clear();
    sampler.Collect(&samples_);
  };
  tree_.Write("proc/net/dev", head + eth1 + eth9);
  tree_.Write("sys/class/net/eth9/speed", "10000\n");
  cycle();
  EXPECT_THAT(Value(metrics::kNetworkSpeedBytes, labels9), Optional(1.25e9));
  // Gone, then back with another speed (a new device under the old name).
  tree_.Write("proc/net/dev", head + eth1);
  std::filesystem::remove_all(tree_.Path("sys/class/net/eth9"));
  cycle();
  EXPECT_EQ(Find(metrics::kNetworkSpeedBytes, labels9), nullptr);
  EXPECT_THAT(Value(metrics::kNetworkSpeedBytes, {{"device", "eth1"}}), Optional(1.25e8));
  tree_.Write("proc/net/dev", head + eth1 + eth9);
  tree_.Write("sys/class/net/eth9/speed", "1000\n");
  cycle();
  EXPECT_THAT(Value(metrics::kNetworkSpeedBytes, labels9), Optional(1.25e8));
}

// Linux names are bytes: a mount point, a block device or an interface may hold a Latin-1 byte
// that is not UTF-8. The series still reach the batch, with the byte escaped (a proto3 string
// field with invalid UTF-8 would make the collector refuse the whole batch), while statvfs and
// /sys are still asked with the real bytes.
TEST_F(BrokenHostTest, NamesThatAreNotUtf8AreSentEscaped) {
  const std::string head =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n";
  tree_.Write("proc/1/mounts",
              "/dev/sdb1 /srv/caf\xe9 ext4 rw,relatime 0 0\n"
              "/dev/sdc\xff /mnt/\xc3\xa9t\xc3\xa9 xfs\xe9 rw 0 0\n");
  tree_.Write("proc/diskstats", "   8      16 sd\xe9 1 0 8 0 2 0 16 0 0 3 0\n");
  tree_.Write("proc/net/dev", head + "wl\xe9: 1 2 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n");
  tree_.Write("sys/class/net/wl\xe9/speed", "1000\n");
  statter_.Set("/srv/caf\xe9", MakeStats(3));
  statter_.Set("/mnt/\xc3\xa9t\xc3\xa9", MakeStats(4));

  SamplerStats stats = Collect(OptionsFor(tree_.root()));
  EXPECT_EQ(stats.source_errors, 0u);
  EXPECT_EQ(stats.fs_stat_errors, 0u);  // stat'ed under their real names
  for (const Sample& s : samples_) {
    for (const auto& [name, value] : s.labels) {
      EXPECT_TRUE(IsValidUtf8(value)) << s.name << " " << name << "=" << value;
    }
  }
  EXPECT_THAT(Value(metrics::kFilesystemSizeBytes,
                    {{"device", "/dev/sdb1"}, {"fstype", "ext4"}, {"mountpoint", "/srv/caf\\xe9"}}),
              Optional(DoubleEq(3.0 * (1 << 30))));
  // Valid UTF-8 (é) is kept as it is; only the invalid bytes are escaped.
  EXPECT_THAT(Value(metrics::kFilesystemSizeBytes, {{"device", "/dev/sdc\\xff"},
                                                    {"fstype", "xfs\\xe9"},
                                                    {"mountpoint", "/mnt/\xc3\xa9t\xc3\xa9"}}),
              Optional(DoubleEq(4.0 * (1 << 30))));
  EXPECT_THAT(Value(metrics::kDiskReadsCompletedTotal, {{"device", "sd\\xe9"}}), Optional(1.0));
  EXPECT_THAT(Value(metrics::kNetworkReceiveBytesTotal, {{"device", "wl\\xe9"}}), Optional(1.0));
  EXPECT_THAT(Value(metrics::kNetworkSpeedBytes, {{"device", "wl\\xe9"}}), Optional(1.25e8));
}

// ---- textfile directory: custom series after the host's ----

TEST_F(SamplerTest, TextfileDirectoryIsOffByDefault) {
  SetUpMulticoreStatter();
  SamplerStats stats = Collect(Fixture("multicore-server"));
  EXPECT_EQ(stats.textfile.files, 0u);
  EXPECT_EQ(stats.textfile.directory_errors, 0u);
  EXPECT_EQ(Count(metrics::kTextfileScrapeError), 0);
}

TEST_F(SamplerTest, TextfileSeriesFollowTheHostsAndAreCounted) {
  SetUpMulticoreStatter();
  testing::TempTree textfiles;
  textfiles.Write("shop.prom",
                  "# TYPE shop_orders_total counter\nshop_orders_total{host=\"web1\"} 42\n");
  textfiles.Write("broken.prom", "shop_users 1 1700000000000\n");
  SamplerOptions options = Fixture("multicore-server");
  options.textfile.directory = textfiles.root();
  SamplerStats stats = Collect(options);
  EXPECT_EQ(stats.source_errors, 0u);
  EXPECT_EQ(stats.textfile.files, 2u);
  EXPECT_EQ(stats.textfile.files_applied, 1u);
  EXPECT_EQ(stats.textfile.file_errors, 1u);
  EXPECT_EQ(stats.textfile.samples, 1u);
  // Host series as before, then 1 custom + 1 mtime + scrape_error + errors_total.
  EXPECT_EQ(stats.samples, 64u + 8 + 5 + 7 + 3 + 1 + 35 + 15 + 26 + 4);
  EXPECT_EQ(samples_.size(), stats.samples);
  const Sample* orders = Find("shop_orders_total", {{"exported_host", "web1"}});
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->kind, MetricKind::kCounter);
  EXPECT_EQ(orders->value, 42);
  EXPECT_EQ(Count("shop_users"), 0);
  EXPECT_EQ(Count(metrics::kTextfileMtimeSeconds), 1);
  EXPECT_THAT(Value(metrics::kTextfileScrapeError, {}), Optional(1.0));
  EXPECT_THAT(Value(metrics::kTextfileErrorsTotal, {}), Optional(1.0));
  EXPECT_EQ(samples_.back().name, metrics::kTextfileErrorsTotal);
}

TEST_F(SamplerTest, MissingTextfileDirectoryDoesNotStopSampling) {
  SetUpMulticoreStatter();
  SamplerOptions options = Fixture("multicore-server");
  options.textfile.directory = testdata_ + "/no-such-textfile-dir";
  SamplerStats stats = Collect(options);
  EXPECT_EQ(stats.source_errors, 0u);
  EXPECT_EQ(stats.textfile.directory_errors, 1u);
  EXPECT_EQ(Count(metrics::kCpuSecondsTotal), 64);
  EXPECT_THAT(Value(metrics::kTextfileScrapeError, {}), Optional(1.0));
}

// ---- this machine ----

TEST_F(SamplerTest, SamplesThisHost) {
  std::unique_ptr<FsStatter> real = NewRealFsStatter();
  SamplerOptions options;  // /proc, /sys, /
  Sampler sampler(options, *real);
  SamplerStats stats = sampler.Collect(&samples_);
  EXPECT_EQ(stats.source_errors, 0u);
  EXPECT_GT(stats.samples, 20u);
  EXPECT_EQ(samples_.size(), stats.samples);
  EXPECT_GT(Count(metrics::kCpuSecondsTotal), 0);
  EXPECT_EQ(Count(metrics::kMemoryTotalBytes), 1);
}

TEST_F(SamplerTest, SamplesThisHostAgainThroughTheFilesItKeptOpen) {
  std::unique_ptr<FsStatter> real = NewRealFsStatter();
  Sampler sampler(SamplerOptions(), *real);
  sampler.Collect(&samples_);
  const std::vector<Sample> first = samples_;
  samples_.clear();
  SamplerStats stats = sampler.Collect(&samples_);
  EXPECT_EQ(stats.source_errors, 0u);
  ASSERT_EQ(samples_.size(), first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(samples_[i].name, first[i].name);
    EXPECT_EQ(samples_[i].labels, first[i].labels);
    if (samples_[i].kind == MetricKind::kCounter) {
      EXPECT_GE(samples_[i].value, first[i].value) << samples_[i].name;
    }
  }
}

TEST_F(SamplerTest, RealStatterStatsRootAndReportsMissingPaths) {
  std::unique_ptr<FsStatter> real = NewRealFsStatter();
  absl::StatusOr<FsStats> root = real->Stat("/");
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_GT(root->size_bytes, 0u);
  EXPECT_LE(root->avail_bytes, root->free_bytes);
  EXPECT_LE(root->free_bytes, root->size_bytes);
  EXPECT_EQ(real->Stat("/no/such/mount/point").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace accord::agent
