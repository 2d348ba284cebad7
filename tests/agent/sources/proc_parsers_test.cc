#include "agent/sources/proc_parsers.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "agent/sources/parse_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace accord::agent {
namespace {

using ::testing::DoubleEq;
using ::testing::HasSubstr;

// Linux 6.x /proc/stat of a 2-core machine; guest columns are non-zero to check that they are
// not added to user again.
constexpr char kProcStat[] =
    "cpu  1758 3 1801 149131 304 0 26 40 77 5\n"
    "cpu0 540 1 657 75306 6 0 6 16 30 2\n"
    "cpu1 1218 2 1144 73825 297 0 19 23 47 3\n"
    "intr 124439 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 12\n"
    "ctxt 273413\n"
    "btime 1795849528\n"
    "processes 3749\n"
    "procs_running 1\n"
    "procs_blocked 2\n"
    "softirq 88425 0 11939 4 1128 33857 0 4 24918 0 16575\n";

class ProcParsersTest : public ::testing::Test {
 protected:
  // The error message of `status`, which must be kInvalidArgument.
  static std::string InvalidMessage(const absl::Status& status) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    return std::string(status.message());
  }
};

TEST_F(ProcParsersTest, ProcStatCpuTicksAreDividedByUserHz) {
  absl::StatusOr<ProcStat> stat = ParseProcStat(kProcStat, 100);
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_THAT(stat->total.user, DoubleEq(17.58));
  EXPECT_THAT(stat->total.nice, DoubleEq(0.03));
  EXPECT_THAT(stat->total.system, DoubleEq(18.01));
  EXPECT_THAT(stat->total.idle, DoubleEq(1491.31));
  EXPECT_THAT(stat->total.iowait, DoubleEq(3.04));
  EXPECT_THAT(stat->total.irq, DoubleEq(0));
  EXPECT_THAT(stat->total.softirq, DoubleEq(0.26));
  EXPECT_THAT(stat->total.steal, DoubleEq(0.40));
  ASSERT_EQ(stat->cores.size(), 2u);
  EXPECT_EQ(stat->cores[1].cpu, "1");
  EXPECT_THAT(stat->cores[1].times.user, DoubleEq(12.18));  // guest (47) not added
  EXPECT_THAT(stat->cores[1].times.nice, DoubleEq(0.02));   // guest_nice (3) not added
}

TEST_F(ProcParsersTest, ProcStatOtherUserHzScales) {
  absl::StatusOr<ProcStat> stat = ParseProcStat(kProcStat, 1000);
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_THAT(stat->cores[0].times.user, DoubleEq(0.540));
}

TEST_F(ProcParsersTest, ProcStatScalarLines) {
  absl::StatusOr<ProcStat> stat = ParseProcStat(kProcStat, 100);
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->boot_time_seconds, 1795849528);
  EXPECT_EQ(stat->context_switches, 273413u);
  EXPECT_EQ(stat->forks, 3749u);
  EXPECT_EQ(stat->procs_running, 1u);
  EXPECT_EQ(stat->procs_blocked, 2u);
}

TEST_F(ProcParsersTest, ProcStatKeepsCoreNumbersWithGaps) {
  // An offline cpu1 has no line; cpu labels come from the file, not from the position.
  const std::string text =
      absl::StrCat("cpu  2 0 2 2 0 0 0 0\n", "cpu0 1 0 1 1 0 0 0 0\n", "cpu2 1 0 1 1 0 0 0 0\n",
                   "ctxt 1\nbtime 2\nprocesses 3\nprocs_running 4\n"
                   "procs_blocked 5\n");
  absl::StatusOr<ProcStat> stat = ParseProcStat(text, 100);
  ASSERT_TRUE(stat.ok()) << stat.status();
  ASSERT_EQ(stat->cores.size(), 2u);
  EXPECT_EQ(stat->cores[1].cpu, "2");
}

TEST_F(ProcParsersTest, ProcStatNonNumericTickNamesLineAndField) {
  std::string text = kProcStat;
  text.replace(text.find("1218"), 4, "12x8");
  EXPECT_EQ(InvalidMessage(ParseProcStat(text, 100).status()),
            "/proc/stat line 3: field cpu1 user: not a number: \"12x8\"");
}

TEST_F(ProcParsersTest, ProcStatTruncatedCpuLineIsMissingField) {
  const std::string text = absl::StrCat("cpu  1 2 3 4 5\n", kProcStat);
  EXPECT_EQ(InvalidMessage(ParseProcStat(text, 100).status()),
            "/proc/stat line 1: field cpu irq: missing");
}

TEST_F(ProcParsersTest, ProcStatMissingLineIsNamed) {
  std::string text = kProcStat;
  text.erase(text.find("btime"), text.find("processes") - text.find("btime"));
  EXPECT_EQ(InvalidMessage(ParseProcStat(text, 100).status()), "/proc/stat: field btime: missing");
}

TEST_F(ProcParsersTest, ProcStatEmptyFileIsAnError) {
  EXPECT_EQ(InvalidMessage(ParseProcStat("", 100).status()), "/proc/stat: field cpu: missing");
}

TEST_F(ProcParsersTest, ProcStatBadCoreNumber) {
  const std::string text = absl::StrCat("cpuX 1 2 3 4 5 6 7 8\n", kProcStat);
  EXPECT_THAT(InvalidMessage(ParseProcStat(text, 100).status()), HasSubstr("line 1: field cpu"));
}

TEST_F(ProcParsersTest, ProcStatRejectsNonPositiveUserHz) {
  EXPECT_EQ(ParseProcStat(kProcStat, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcStat(kProcStat, -100).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ProcParsersTest, ProcStatOverflowingCounterIsNotANumber) {
  std::string text = kProcStat;
  text.replace(text.find("ctxt 273413"), 11, "ctxt 99999999999999999999999");
  EXPECT_THAT(InvalidMessage(ParseProcStat(text, 100).status()),
              HasSubstr("line 5: field ctxt: not a number"));
}

TEST_F(ProcParsersTest, ProcStatSurvivesAnExtremelyLongLine) {
  std::string intr = "intr";
  for (int i = 0; i < 200000; ++i) intr += " 0";
  const std::string text = absl::StrCat(intr, "\n", kProcStat);
  absl::StatusOr<ProcStat> stat = ParseProcStat(text, 100);
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->cores.size(), 2u);
  // The same line without a newline at the end of a file: still no crash.
  EXPECT_FALSE(ParseProcStat(std::string(1 << 20, '7'), 100).ok());
}

TEST_F(ProcParsersTest, ProcStatErrorCutsLongTokens) {
  std::string text = kProcStat;
  text.replace(text.find("273413"), 6, std::string(100000, 'z'));
  const std::string message = InvalidMessage(ParseProcStat(text, 100).status());
  EXPECT_LT(message.size(), 120u);
  EXPECT_THAT(message, HasSubstr("...\""));
}

constexpr char kMeminfo[] =
    "MemTotal:       24683652 kB\n"
    "MemFree:        24520352 kB\n"
    "MemAvailable:   24434480 kB\n"
    "Buffers:             836 kB\n"
    "Cached:            28716 kB\n"
    "SwapCached:            0 kB\n"
    "SwapTotal:       8388604 kB\n"
    "SwapFree:        8201212 kB\n"
    "HugePages_Total:       0\n"
    "Hugepagesize:       2048 kB\n";

TEST_F(ProcParsersTest, MeminfoKibibytesBecomeBytes) {
  absl::StatusOr<MemInfo> mem = ParseMeminfo(kMeminfo);
  ASSERT_TRUE(mem.ok()) << mem.status();
  EXPECT_EQ(mem->total_bytes, 24683652ull * 1024);
  EXPECT_EQ(mem->free_bytes, 24520352ull * 1024);
  EXPECT_EQ(mem->available_bytes, 24434480ull * 1024);
  EXPECT_EQ(mem->buffers_bytes, 836ull * 1024);
  EXPECT_EQ(mem->cached_bytes, 28716ull * 1024);
  EXPECT_EQ(mem->swap_total_bytes, 8388604ull * 1024);
  EXPECT_EQ(mem->swap_free_bytes, 8201212ull * 1024);
}

TEST_F(ProcParsersTest, MeminfoNonNumericFieldNamesLine) {
  std::string text = kMeminfo;
  text.replace(text.find("24520352"), 8, "lots");
  EXPECT_EQ(InvalidMessage(ParseMeminfo(text).status()),
            "/proc/meminfo line 2: field MemFree: not a number: \"lots\"");
}

TEST_F(ProcParsersTest, MeminfoMissingFieldIsNamed) {
  std::string text = kMeminfo;
  text.erase(text.find("MemAvailable"), text.find("Buffers") - text.find("MemAvailable"));
  EXPECT_EQ(InvalidMessage(ParseMeminfo(text).status()),
            "/proc/meminfo: field MemAvailable: missing");
}

TEST_F(ProcParsersTest, MeminfoTruncatedLines) {
  EXPECT_EQ(InvalidMessage(ParseMeminfo("MemTotal:").status()),
            "/proc/meminfo line 1: field MemTotal: missing value");
  EXPECT_EQ(InvalidMessage(ParseMeminfo("MemTotal: 12").status()),
            "/proc/meminfo line 1: field MemTotal: unit is not kB");
  EXPECT_EQ(InvalidMessage(ParseMeminfo("MemTotal: 12 MB\n").status()),
            "/proc/meminfo line 1: field MemTotal: unit is not kB");
}

TEST_F(ProcParsersTest, MeminfoOutOfRangeValue) {
  EXPECT_EQ(InvalidMessage(ParseMeminfo("MemTotal: 18446744073709551615 kB\n").status()),
            "/proc/meminfo line 1: field MemTotal: out of range");
}

TEST_F(ProcParsersTest, MeminfoEmptyAndGarbage) {
  EXPECT_EQ(InvalidMessage(ParseMeminfo("").status()), "/proc/meminfo: field MemTotal: missing");
  EXPECT_FALSE(ParseMeminfo(std::string("\0\0\xff:\n\n::", 8)).ok());
  EXPECT_FALSE(ParseMeminfo(std::string(1 << 20, ':')).ok());
}

TEST_F(ProcParsersTest, Loadavg) {
  absl::StatusOr<LoadAvg> load = ParseLoadavg("3.42 2.87 2.51 4/1873 3392211\n");
  ASSERT_TRUE(load.ok()) << load.status();
  EXPECT_THAT(load->load1, DoubleEq(3.42));
  EXPECT_THAT(load->load5, DoubleEq(2.87));
  EXPECT_THAT(load->load15, DoubleEq(2.51));
}

TEST_F(ProcParsersTest, LoadavgMalformed) {
  EXPECT_EQ(InvalidMessage(ParseLoadavg("").status()),
            "/proc/loadavg line 1: field load1: missing");
  EXPECT_EQ(InvalidMessage(ParseLoadavg("0.1 0.2").status()),
            "/proc/loadavg line 1: field load15: missing");
  EXPECT_EQ(InvalidMessage(ParseLoadavg("0.1 x 0.3").status()),
            "/proc/loadavg line 1: field load5: not a number: \"x\"");
  EXPECT_EQ(InvalidMessage(ParseLoadavg("\n0.1 0.2 0.3").status()),
            "/proc/loadavg line 1: field load1: missing");
}

TEST_F(ProcParsersTest, Uptime) {
  absl::StatusOr<double> uptime = ParseUptime("767.21 1491.31\n");
  ASSERT_TRUE(uptime.ok()) << uptime.status();
  EXPECT_THAT(*uptime, DoubleEq(767.21));
  EXPECT_EQ(InvalidMessage(ParseUptime("").status()), "/proc/uptime line 1: field uptime: missing");
  EXPECT_EQ(InvalidMessage(ParseUptime("seven 1.0\n").status()),
            "/proc/uptime line 1: field uptime: not a number: \"seven\"");
}

TEST_F(ProcParsersTest, DiskstatsAllThreeKernelFormats) {
  const char* text =
      // 14 columns (Linux < 4.18).
      "   8       0 sda 982113 22101 401223456 8812334 2211345 998812 612334890 19923441 2 "
      "7712334 28835775\n"
      // 18 columns (discards, Linux 4.18+).
      "   8      16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
      // 20 columns (flushes, Linux 5.5+).
      " 259       0 nvme0n1 1843220 402311 98234110 412093 5203377 3902113 301288432 6012340 0 "
      "4821330 6520112 12034 0 283712344 2311 402113 98123\n"
      "\n";
  absl::StatusOr<std::vector<DiskStats>> disks = ParseDiskstats(text);
  ASSERT_TRUE(disks.ok()) << disks.status();
  ASSERT_EQ(disks->size(), 3u);
  const DiskStats& sda = (*disks)[0];
  EXPECT_EQ(sda.device, "sda");
  EXPECT_EQ(sda.reads_completed, 982113u);
  EXPECT_EQ(sda.sectors_read, 401223456u);
  EXPECT_EQ(sda.writes_completed, 2211345u);
  EXPECT_EQ(sda.sectors_written, 612334890u);
  EXPECT_EQ(sda.io_time_ms, 7712334u);
  EXPECT_EQ((*disks)[1].io_time_ms, 10u);
  EXPECT_EQ((*disks)[2].device, "nvme0n1");
  EXPECT_EQ((*disks)[2].io_time_ms, 4821330u);
}

TEST_F(ProcParsersTest, DiskstatsMalformed) {
  EXPECT_EQ(InvalidMessage(ParseDiskstats("   8       0 sda 1 2 3 4 5 6 7 8 9 10\n").status()),
            "/proc/diskstats line 1: field weighted time doing ios: missing");
  EXPECT_EQ(InvalidMessage(ParseDiskstats("   8       0\n").status()),
            "/proc/diskstats line 1: field device: missing");
  EXPECT_EQ(InvalidMessage(ParseDiskstats("sda 8 0 1 2 3 4 5 6 7 8 9 10 11\n").status()),
            "/proc/diskstats line 1: field major: not a number: \"sda\"");
  EXPECT_EQ(
      InvalidMessage(ParseDiskstats("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 1 sda1 1 2 -3\n").status()),
      "/proc/diskstats line 2: field sectors read: not a number: \"-3\"");
  absl::StatusOr<std::vector<DiskStats>> empty = ParseDiskstats("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

constexpr char kNetDev[] =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
    "    lo:    3319      30    0    0    0     0          0         0     3319      30    0    "
    "0    0     0       0          0\n"
    "  eth0: 41353146    1099    2    3    0     0          0         0    43382     541    4    "
    "5    0     0       0          0\n"
    // Old kernels print no blank between a long name's colon and a large first counter.
    "wlp2s0:12345678901 11 0 1 0 0 0 0 22 33 0 0 0 0 0 0\n";

TEST_F(ProcParsersTest, NetDev) {
  absl::StatusOr<std::vector<NetDevStats>> devs = ParseNetDev(kNetDev);
  ASSERT_TRUE(devs.ok()) << devs.status();
  ASSERT_EQ(devs->size(), 3u);
  EXPECT_EQ((*devs)[0].device, "lo");
  const NetDevStats& eth0 = (*devs)[1];
  EXPECT_EQ(eth0.device, "eth0");
  EXPECT_EQ(eth0.receive_bytes, 41353146u);
  EXPECT_EQ(eth0.receive_packets, 1099u);
  EXPECT_EQ(eth0.receive_errs, 2u);
  EXPECT_EQ(eth0.receive_drop, 3u);
  EXPECT_EQ(eth0.transmit_bytes, 43382u);
  EXPECT_EQ(eth0.transmit_packets, 541u);
  EXPECT_EQ(eth0.transmit_errs, 4u);
  EXPECT_EQ(eth0.transmit_drop, 5u);
  EXPECT_EQ((*devs)[2].device, "wlp2s0");
  EXPECT_EQ((*devs)[2].receive_bytes, 12345678901u);
  EXPECT_EQ((*devs)[2].transmit_bytes, 22u);
}

TEST_F(ProcParsersTest, NetDevMalformed) {
  EXPECT_EQ(InvalidMessage(ParseNetDev("eth0 1 2 3\n").status()),
            "/proc/net/dev line 1: field interface: missing ':'");
  EXPECT_EQ(InvalidMessage(ParseNetDev("  : 1 2 3\n").status()),
            "/proc/net/dev line 1: field interface: empty name");
  EXPECT_EQ(InvalidMessage(ParseNetDev("eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n").status()),
            "/proc/net/dev line 1: field transmit compressed: missing");
  EXPECT_EQ(InvalidMessage(ParseNetDev("eth0: 1 2 x 4 5 6 7 8 9 10 11 12 13 14 15 16\n").status()),
            "/proc/net/dev line 1: field receive errs: not a number: \"x\"");
  absl::StatusOr<std::vector<NetDevStats>> headers_only = ParseNetDev("Inter-|\n face |\n\n");
  ASSERT_TRUE(headers_only.ok());
  EXPECT_TRUE(headers_only->empty());
}

TEST_F(ProcParsersTest, NetSpeed) {
  EXPECT_EQ(*ParseNetSpeedMbps("10000\n"), 10000);
  EXPECT_EQ(*ParseNetSpeedMbps("-1\n"), -1);
  EXPECT_EQ(InvalidMessage(ParseNetSpeedMbps("").status()),
            "/sys/class/net/<dev>/speed line 1: field speed: missing");
  EXPECT_FALSE(ParseNetSpeedMbps("fast\n").ok());
  EXPECT_FALSE(ParseNetSpeedMbps("99999999999999999999\n").ok());
}

TEST(ParseUtilTest, IntegersRejectSignsBlanksAndOverflow) {
  uint64_t u = 0;
  int64_t i = 0;
  EXPECT_TRUE(internal::ParseU64("18446744073709551615", &u));
  EXPECT_EQ(u, 18446744073709551615ull);
  EXPECT_FALSE(internal::ParseU64("18446744073709551616", &u));
  EXPECT_FALSE(internal::ParseU64("", &u));
  EXPECT_FALSE(internal::ParseU64("+1", &u));
  EXPECT_FALSE(internal::ParseU64("-1", &u));
  EXPECT_FALSE(internal::ParseU64(" 1", &u));
  EXPECT_TRUE(internal::ParseI64("-9223372036854775808", &i));
  EXPECT_EQ(i, INT64_MIN);
  EXPECT_FALSE(internal::ParseI64("9223372036854775808", &i));
  EXPECT_FALSE(internal::ParseI64("-", &i));
}

}  // namespace
}  // namespace accord::agent
