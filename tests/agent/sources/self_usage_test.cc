#include "agent/sources/self_usage.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace accord::agent {
namespace {

using ::testing::DoubleEq;

constexpr char kStat[] =
    "3392190 (accord-agent) S 1 3392190 3392190 0 -1 4194560 5412 0 3 0 1234 567 0 0 20 0 9 0 "
    "259213477 512339968 9216 18446744073709551615 1 1 0 0 0 0 0 4096 17987 0 0 0 17 5 0 0 0 0 0\n";

class SelfUsageTest : public ::testing::Test {
 protected:
  const std::string testdata_ = ACCORD_TESTDATA_DIR;
};

TEST_F(SelfUsageTest, StatCpuIsUtimePlusStime) {
  absl::StatusOr<double> cpu = ParsePidStatCpuSeconds(kStat, 100);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_THAT(*cpu, DoubleEq((1234 + 567) / 100.0));
}

TEST_F(SelfUsageTest, StatCommMayContainSpacesAndParens) {
  absl::StatusOr<double> cpu = ParsePidStatCpuSeconds(
      "42 (a) b (c)) S 1 1 1 0 -1 0 0 0 0 0 250 150 0 0 20 0 1 0 5 1 1\n", 100);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_THAT(*cpu, DoubleEq(4.0));
}

TEST_F(SelfUsageTest, StatMalformed) {
  EXPECT_EQ(ParsePidStatCpuSeconds("", 100).status().message(),
            "/proc/self/stat line 1: field comm: missing ')'");
  EXPECT_EQ(ParsePidStatCpuSeconds("1 (x) S 1 1 1 0 -1 0 0 0 0 0 12\n", 100).status().message(),
            "/proc/self/stat line 1: field stime: missing");
  EXPECT_EQ(ParsePidStatCpuSeconds("1 (x) S 1 1 1 0 -1 0 0 0 0 0 1x 2\n", 100).status().message(),
            "/proc/self/stat line 1: field utime: not a number: \"1x\"");
  EXPECT_EQ(ParsePidStatCpuSeconds(kStat, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SelfUsageTest, StatusRssAndAnon) {
  absl::StatusOr<PidStatusMemory> mem =
      ParsePidStatus("Name:\tx\nVmRSS:\t   36864 kB\nRssAnon:\t   22528 kB\nRssFile:\t 1 kB\n");
  ASSERT_TRUE(mem.ok()) << mem.status();
  EXPECT_EQ(mem->rss_bytes, 36864u * 1024);
  EXPECT_EQ(mem->anon_bytes, 22528u * 1024);
}

TEST_F(SelfUsageTest, StatusMalformed) {
  EXPECT_EQ(ParsePidStatus("").status().message(), "/proc/self/status: field VmRSS: missing");
  EXPECT_EQ(ParsePidStatus("VmRSS:\t1 kB\n").status().message(),
            "/proc/self/status: field RssAnon: missing");
  EXPECT_EQ(ParsePidStatus("VmRSS:\tmany kB\n").status().message(),
            "/proc/self/status line 1: field VmRSS: not a number: \"many\"");
  EXPECT_EQ(ParsePidStatus("Name:\tx\nVmRSS:\n").status().message(),
            "/proc/self/status line 2: field VmRSS: missing value");
}

TEST_F(SelfUsageTest, ReadsFixtureTree) {
  absl::StatusOr<SelfUsage> usage = ReadSelfUsage(testdata_ + "/multicore-server/proc", 100);
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_THAT(usage->cpu_seconds, DoubleEq(18.01));
  EXPECT_EQ(usage->rss_bytes, 36864u * 1024);
  EXPECT_EQ(usage->anon_bytes, 22528u * 1024);
}

TEST_F(SelfUsageTest, ReadsThisProcess) {
  absl::StatusOr<SelfUsage> usage = ReadSelfUsage("/proc");
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_GT(usage->rss_bytes, 0u);
  EXPECT_GT(usage->anon_bytes, 0u);
  EXPECT_LE(usage->anon_bytes, usage->rss_bytes);
  EXPECT_GE(usage->cpu_seconds, 0);
}

TEST_F(SelfUsageTest, MissingProcIsNotFound) {
  EXPECT_EQ(ReadSelfUsage(testdata_ + "/no-such-machine/proc").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace accord::agent
