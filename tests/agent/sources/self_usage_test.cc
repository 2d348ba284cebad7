#include "agent/sources/self_usage.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "agent/sources/file_reader.h"
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

TEST_F(SelfUsageTest, StatmRssAndAnon) {
  absl::StatusOr<PidStatmMemory> mem = ParsePidStatm("125083 9216 3584 1200 0 20000 0\n", 4096);
  ASSERT_TRUE(mem.ok()) << mem.status();
  EXPECT_EQ(mem->rss_bytes, 9216u * 4096);
  EXPECT_EQ(mem->anon_bytes, (9216u - 3584u) * 4096);
}

TEST_F(SelfUsageTest, StatmMalformed) {
  EXPECT_EQ(ParsePidStatm("", 4096).status().message(),
            "/proc/self/statm line 1: field size: missing");
  EXPECT_EQ(ParsePidStatm("x 5 2\n", 4096).status().message(),
            "/proc/self/statm line 1: field size: not a number: \"x\"");
  EXPECT_EQ(ParsePidStatm("10\n", 4096).status().message(),
            "/proc/self/statm line 1: field resident: missing");
  EXPECT_EQ(ParsePidStatm("10 5\n", 4096).status().message(),
            "/proc/self/statm line 1: field shared: missing");
  EXPECT_EQ(ParsePidStatm("10 many 2\n", 4096).status().message(),
            "/proc/self/statm line 1: field resident: not a number: \"many\"");
  EXPECT_EQ(ParsePidStatm("10 5 6 1 0 2 0\n", 4096).status().message(),
            "/proc/self/statm line 1: field shared: larger than resident");
  EXPECT_EQ(ParsePidStatm("1 18446744073709551615 0 0 0 0 0\n", 4096).status().message(),
            "/proc/self/statm line 1: field resident: out of range");
  EXPECT_EQ(ParsePidStatm("10 5 2\n", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SelfUsageTest, ReadsFixtureTree) {
  absl::StatusOr<SelfUsage> usage = ReadSelfUsage(testdata_ + "/multicore-server/proc", 100);
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_THAT(usage->cpu_seconds, DoubleEq(18.01));
  // The fixture's statm is in pages; this process's page size converts them.
  const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  EXPECT_EQ(usage->rss_bytes, 9216u * page);
  EXPECT_EQ(usage->anon_bytes, (9216u - 3584u) * page);
}

TEST_F(SelfUsageTest, ReadsThisProcess) {
  absl::StatusOr<SelfUsage> usage = ReadSelfUsage("/proc");
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_GT(usage->rss_bytes, 0u);
  EXPECT_GT(usage->anon_bytes, 0u);
  EXPECT_LE(usage->anon_bytes, usage->rss_bytes);
  EXPECT_GE(usage->cpu_seconds, 0);
  // The same figures /proc/self/status gives (as of a moment later: within a few MiB).
  std::string status;
  ASSERT_TRUE(ReadFileToString("/proc/self/status", &status).ok());
  auto kib = [&](const char* key) -> double {
    const size_t at = status.find(key);
    return at == std::string::npos ? -1 : std::strtod(status.c_str() + at + strlen(key), nullptr);
  };
  EXPECT_NEAR(usage->rss_bytes / 1024.0, kib("VmRSS:"), 4096);
  EXPECT_NEAR(usage->anon_bytes / 1024.0, kib("RssAnon:"), 4096);
}

TEST_F(SelfUsageTest, MissingProcIsNotFound) {
  EXPECT_EQ(ReadSelfUsage(testdata_ + "/no-such-machine/proc").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace accord::agent
