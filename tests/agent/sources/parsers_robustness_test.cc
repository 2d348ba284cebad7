// Every parser, fed every prefix and single-byte corruption of the real and hand-crafted
// fixture files, must return a value or kInvalidArgument, and never crash (run under ASan).
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "agent/sources/file_reader.h"
#include "agent/sources/mounts.h"
#include "agent/sources/proc_parsers.h"
#include "agent/sources/self_usage.h"
#include "gtest/gtest.h"

namespace accord::agent {
namespace {

using ParseFn = std::function<absl::Status(absl::string_view)>;

template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

struct Case {
  const char* file;  // relative to a machine's directory
  ParseFn parse;
};

class ParsersRobustnessTest : public ::testing::TestWithParam<const char*> {
 protected:
  static std::vector<Case> Cases() {
    return {
        {"proc/stat", [](absl::string_view t) { return StatusOf(ParseProcStat(t, 100)); }},
        {"proc/meminfo", [](absl::string_view t) { return StatusOf(ParseMeminfo(t)); }},
        {"proc/loadavg", [](absl::string_view t) { return StatusOf(ParseLoadavg(t)); }},
        {"proc/uptime", [](absl::string_view t) { return StatusOf(ParseUptime(t)); }},
        {"proc/diskstats", [](absl::string_view t) { return StatusOf(ParseDiskstats(t)); }},
        {"proc/net/dev", [](absl::string_view t) { return StatusOf(ParseNetDev(t)); }},
        {"proc/1/mounts", [](absl::string_view t) { return StatusOf(ParseMounts(t)); }},
        {"proc/self/stat",
         [](absl::string_view t) { return StatusOf(ParsePidStatCpuSeconds(t, 100)); }},
        {"proc/self/statm", [](absl::string_view t) { return StatusOf(ParsePidStatm(t, 4096)); }},
    };
  }
  std::string Read(const char* file) {
    std::string text;
    const std::string path = std::string(ACCORD_TESTDATA_DIR) + "/" + GetParam() + "/" + file;
    EXPECT_TRUE(ReadFileToString(path, &text).ok()) << path;
    return text;
  }
  static void ExpectOkOrInvalid(const absl::Status& status, const char* file, size_t at) {
    EXPECT_TRUE(status.ok() || status.code() == absl::StatusCode::kInvalidArgument)
        << file << " at " << at << ": " << status;
  }
};

TEST_P(ParsersRobustnessTest, WholeFileParses) {
  for (const Case& c : Cases()) {
    EXPECT_TRUE(c.parse(Read(c.file)).ok()) << c.file << ": " << c.parse(Read(c.file));
  }
}

TEST_P(ParsersRobustnessTest, EveryPrefixParsesOrFailsCleanly) {
  for (const Case& c : Cases()) {
    const std::string text = Read(c.file);
    for (size_t n = 0; n <= text.size(); ++n) {
      // A copy, so ASan sees reads past the prefix.
      const std::string prefix = text.substr(0, n);
      ExpectOkOrInvalid(c.parse(prefix), c.file, n);
    }
  }
}

TEST_P(ParsersRobustnessTest, EveryByteCorruptionParsesOrFailsCleanly) {
  for (const Case& c : Cases()) {
    std::string text = Read(c.file);
    for (size_t i = 0; i < text.size(); ++i) {
      const char saved = text[i];
      for (char bad : {'\0', '\n', ' ', 'x', ':', ')', '-', '\\'}) {
        text[i] = bad;
        ExpectOkOrInvalid(c.parse(text), c.file, i);
      }
      text[i] = saved;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Machines, ParsersRobustnessTest,
                         ::testing::Values("multicore-server", "debian12-vm-2core"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace accord::agent
