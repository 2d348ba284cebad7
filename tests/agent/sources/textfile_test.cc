// Tests of ParseTextfile (on literals) and TextfileSource (on temporary directories).
#include "agent/sources/textfile.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/sources/metric_names.h"
#include "common/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/sources/temp_tree.h"

namespace accord::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A valid file using every feature of the format the parser accepts.
constexpr char kGoodFile[] =
    "# A comment, then a blank line.\n"
    "\n"
    "# HELP shop_orders_total Orders taken, by shop. Escapes: \\\\ and \\n.\n"
    "# TYPE shop_orders_total counter\n"
    "shop_orders_total{shop=\"eu\",channel=\"web\"} 1027\n"
    "shop_orders_total{ channel = \"app\" , shop = \"eu\" , } 3.5e2\n"
    "# TYPE shop_users gauge\n"
    "shop_users 1234\n"
    "# TYPE shop_queue untyped\n"
    "shop_queue{name=\"a \\\"quoted\\\" \\\\ back\\nslash\"} NaN\n"
    "shop_ratio{bound=\"hi\"} +Inf\n"
    "shop_ratio{bound=\"lo\"}\t-Inf\n"
    "   shop_no_labels{} -0.25\n"
    "# TYPE shop_latency_seconds histogram\n"
    "shop_latency_seconds_bucket{le=\"0.1\"} 10\n"
    "shop_latency_seconds_bucket{le=\"+Inf\"} 12\n"
    "shop_latency_seconds_sum 1.5\n"
    "shop_latency_seconds_count 12\n"
    "# TYPE shop_rpc_seconds summary\n"
    "shop_rpc_seconds{quantile=\"0.99\"} 0.2\n"
    "shop_rpc_seconds_sum 7\n"
    "shop_rpc_seconds_count 40\n"
    "shop_windows_line 1\r\n"
    "shop_last_line_without_newline 2";

const Sample* Find(const std::vector<Sample>& samples, absl::string_view name,
                   const Labels& labels) {
  for (const Sample& s : samples) {
    if (s.name == name && s.labels == labels) return &s;
  }
  return nullptr;
}

TEST(ParseTextfileTest, GoodFileYieldsEverySeriesWithItsKind) {
  std::vector<int> lines;
  absl::StatusOr<std::vector<Sample>> samples = ParseTextfile(kGoodFile, TextfileLimits(), &lines);
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 16u);
  EXPECT_THAT(lines, ElementsAre(5, 6, 8, 10, 11, 12, 13, 15, 16, 17, 18, 20, 21, 22, 23, 24));

  const Sample* web = Find(*samples, "shop_orders_total", {{"channel", "web"}, {"shop", "eu"}});
  ASSERT_NE(web, nullptr);  // labels sorted by name
  EXPECT_EQ(web->kind, MetricKind::kCounter);
  EXPECT_EQ(web->value, 1027);
  const Sample* app = Find(*samples, "shop_orders_total", {{"channel", "app"}, {"shop", "eu"}});
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->value, 350);

  const Sample* users = Find(*samples, "shop_users", {});
  ASSERT_NE(users, nullptr);
  EXPECT_EQ(users->kind, MetricKind::kGauge);
  EXPECT_EQ(users->value, 1234);

  const Sample* queue = Find(*samples, "shop_queue", {{"name", "a \"quoted\" \\ back\nslash"}});
  ASSERT_NE(queue, nullptr);
  EXPECT_EQ(queue->kind, MetricKind::kGauge);  // untyped
  EXPECT_TRUE(std::isnan(queue->value));

  const Sample* hi = Find(*samples, "shop_ratio", {{"bound", "hi"}});
  ASSERT_NE(hi, nullptr);
  EXPECT_EQ(hi->kind, MetricKind::kGauge);  // no TYPE line: untyped
  EXPECT_TRUE(std::isinf(hi->value) && hi->value > 0);
  const Sample* lo = Find(*samples, "shop_ratio", {{"bound", "lo"}});
  ASSERT_NE(lo, nullptr);
  EXPECT_TRUE(std::isinf(lo->value) && lo->value < 0);
  ASSERT_NE(Find(*samples, "shop_no_labels", {}), nullptr);
  EXPECT_EQ(Find(*samples, "shop_no_labels", {})->value, -0.25);
  ASSERT_NE(Find(*samples, "shop_windows_line", {}), nullptr);
  EXPECT_EQ(Find(*samples, "shop_last_line_without_newline", {})->value, 2);
}

TEST(ParseTextfileTest, HistogramAndSummaryArePassedAsPlainSeries) {
  absl::StatusOr<std::vector<Sample>> samples = ParseTextfile(kGoodFile);
  ASSERT_TRUE(samples.ok()) << samples.status();
  const Sample* bucket = Find(*samples, "shop_latency_seconds_bucket", {{"le", "0.1"}});
  ASSERT_NE(bucket, nullptr);
  EXPECT_EQ(bucket->kind, MetricKind::kCounter);
  EXPECT_EQ(bucket->value, 10);
  ASSERT_NE(Find(*samples, "shop_latency_seconds_bucket", {{"le", "+Inf"}}), nullptr);
  EXPECT_EQ(Find(*samples, "shop_latency_seconds_sum", {})->kind, MetricKind::kCounter);
  EXPECT_EQ(Find(*samples, "shop_latency_seconds_count", {})->kind, MetricKind::kCounter);
  const Sample* quantile = Find(*samples, "shop_rpc_seconds", {{"quantile", "0.99"}});
  ASSERT_NE(quantile, nullptr);
  EXPECT_EQ(quantile->kind, MetricKind::kGauge);
  EXPECT_EQ(Find(*samples, "shop_rpc_seconds_sum", {})->kind, MetricKind::kCounter);
  EXPECT_EQ(Find(*samples, "shop_rpc_seconds_count", {})->kind, MetricKind::kCounter);
}

TEST(ParseTextfileTest, EmptyAndCommentOnlyFilesHaveNoSeries) {
  for (const char* text :
       {"", "\n\n", "# just a comment\n", "# HELP x y\n# TYPE x gauge\n", "#\n", "   \t\n"}) {
    absl::StatusOr<std::vector<Sample>> samples = ParseTextfile(text);
    ASSERT_TRUE(samples.ok()) << text << ": " << samples.status();
    EXPECT_TRUE(samples->empty()) << text;
  }
}

TEST(ParseTextfileTest, ValuesAreReadAsGoParseFloatReadsThem) {
  const std::pair<const char*, double> cases[] = {
      {"1", 1},
      {"-2", -2},
      {"+3", 3},
      {"1.5e3", 1500},
      {".5", 0.5},
      {"5.", 5},
      {"1E-2", 0.01},
      {"0", 0},
      {"-0", 0},
      {"inf", INFINITY},
      {"+Infinity", INFINITY},
      {"-INF", -INFINITY},
      {"12345678901234567890", 12345678901234567890.0},
  };
  for (const auto& [text, want] : cases) {
    absl::StatusOr<std::vector<Sample>> samples = ParseTextfile(absl::StrCat("x ", text, "\n"));
    ASSERT_TRUE(samples.ok()) << text << ": " << samples.status();
    EXPECT_EQ(samples->at(0).value, want) << text;
  }
  for (const char* text : {"nan", "NaN", "NAN"}) {
    absl::StatusOr<std::vector<Sample>> samples = ParseTextfile(absl::StrCat("x ", text, "\n"));
    ASSERT_TRUE(samples.ok()) << text << ": " << samples.status();
    EXPECT_TRUE(std::isnan(samples->at(0).value)) << text;
  }
}

struct BadCase {
  const char* text;
  int line;
  const char* problem;  // a substring of the message
};

TEST(ParseTextfileTest, EveryMalformedInputNamesItsLine) {
  const BadCase cases[] = {
      // Names.
      {"ok 1\n9bad 1\n", 2, "expected a metric name"},
      {"ok 1\n\n{a=\"b\"} 1\n", 3, "expected a metric name"},
      {"# TYPE 9bad gauge\n", 1, "invalid metric name"},
      {"# HELP\n", 1, "HELP line without a metric name"},
      {"# TYPE \n", 1, "TYPE line without a metric name"},
      {"x 1\naccord_host_fake 1\n", 2, "starts with accord_"},
      {"# HELP accord_x mine\n", 1, "starts with accord_"},
      // Values and timestamps.
      {"x\n", 1, "no value for x"},
      {"x{a=\"b\"}\n", 1, "no value for x"},
      {"x abc\n", 1, "is not a number"},
      {"x 0x10\n", 1, "is not a number"},
      {"x 1_000\n", 1, "is not a number"},
      {"x +NaN\n", 1, "is not a number"},
      {"x nan(1)\n", 1, "is not a number"},
      {"x 1e400\n", 1, "out of the range"},
      {"a 1\nx 1 1700000000000\n", 2, "timestamps are not supported"},
      {"x 1 -5\n", 1, "timestamps are not supported"},
      {"x 1 2 3\n", 1, "timestamps are not supported"},
      {"x 1 junk\n", 1, "unexpected text \"junk\""},
      // Labels.
      {"x{a=\"b\" 1\n", 1, "expected ',' or '}'"},
      {"x{a=\"b\",\n", 1, "missing '}'"},
      {"x{a=\"b\n", 1, "not closed"},
      {"x{a=\"b\\\"} 1\n", 1, "not closed"},
      {"x{a=\"b\\", 1, "not closed"},
      {"x{a=b} 1\n", 1, "expected '\"'"},
      {"x{a} 1\n", 1, "expected '='"},
      {"x{=\"b\"} 1\n", 1, "expected a label name"},
      {"x{,} 1\n", 1, "expected a label name"},
      {"x{a=\"1\",,b=\"2\"} 1\n", 1, "expected a label name"},
      {"x{1a=\"b\"} 1\n", 1, "expected a label name"},
      {"x{__name__=\"b\"} 1\n", 1, "reserved"},
      {"x{a=\"1\",a=\"2\"} 1\n", 1, "label a appears twice"},
      {"x{a=\"\\t\"} 1\n", 1, "invalid escape sequence \\t in the value of label a"},
      {"x{a=\"\xff\"} 1\n", 1, "not valid UTF-8"},
      {"x{a=\"\xc0\xaf\"} 1\n", 1, "not valid UTF-8"},      // overlong '/'
      {"x{a=\"\xed\xa0\x80\"} 1\n", 1, "not valid UTF-8"},  // surrogate
      {"x{a=\"\xe2\x82\"} 1\n", 1, "not valid UTF-8"},      // truncated sequence
      // HELP and TYPE.
      {"# HELP x a\n# HELP x b\n", 2, "second HELP line for x (first on line 1)"},
      {"# TYPE x gauge\n\n# TYPE x counter\n", 3, "second TYPE line for x (first on line 1)"},
      {"x 1\n# TYPE x gauge\n", 2, "TYPE line for x after its first sample (line 1)"},
      {"# TYPE x gauges\n", 1, "unknown type"},
      {"# TYPE x\n", 1, "unknown type"},
      {"# TYPE x info\n", 1, "unknown type"},
      {"# TYPE x counter extra\n", 1, "unknown type"},
      {"# HELP x bad \\t escape\n", 1, "invalid escape sequence \\t in HELP text"},
      {"# HELP x trailing backslash \\\n", 1, "ends in a lone backslash"},
      // Histograms and summaries.
      {"# TYPE h histogram\nh 1\n", 2, "must be h_bucket, h_sum or h_count"},
      {"# TYPE h histogram\nh_bucket 1\n", 2, "has no le label"},
      {"# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", 2, "label le of h_bucket is not a number"},
      {"# TYPE s summary\ns 1\n", 2, "has no quantile label"},
      {"# TYPE s summary\ns{quantile=\"high\"} 1\n", 2, "label quantile of s is not a number"},
      // Duplicates within one file (label order does not matter).
      {"x{a=\"1\",b=\"2\"} 1\n\nx{b=\"2\",a=\"1\"} 2\n", 3, "repeats line 1"},
      {"x 1\nx 1\n", 2, "series x repeats line 1"},
      // One name, one kind (here through a HELP line that makes s_sum a family of its own).
      {"# TYPE s summary\ns_sum 1\n# HELP s_sum other\ns_sum{a=\"b\"} 2\n", 4,
       "s_sum is a gauge here but a counter on line 2"},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<std::vector<Sample>> samples = ParseTextfile(c.text);
    ASSERT_FALSE(samples.ok()) << c.text;
    EXPECT_EQ(samples.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(std::string(samples.status().message()),
                StartsWith(absl::StrCat("line ", c.line, ": ")))
        << c.text;
    EXPECT_THAT(std::string(samples.status().message()), HasSubstr(c.problem)) << c.text;
  }
}

TEST(ParseTextfileTest, HostLabelIsRenamedExportedHost) {
  absl::StatusOr<std::vector<Sample>> samples = ParseTextfile(
      "x{host=\"web1\",zone=\"a\"} 1\n"
      "y{host=\"web1\",exported_host=\"lb\"} 2\n");
  ASSERT_TRUE(samples.ok()) << samples.status();
  EXPECT_EQ(samples->at(0).labels, (Labels{{"exported_host", "web1"}, {"zone", "a"}}));
  // As Prometheus does: prefix exported_ until the name is free.
  EXPECT_EQ(samples->at(1).labels,
            (Labels{{"exported_exported_host", "web1"}, {"exported_host", "lb"}}));
}

TEST(ParseTextfileTest, HostRenamingCanMakeADuplicate) {
  absl::StatusOr<std::vector<Sample>> samples =
      ParseTextfile("x{host=\"a\"} 1\nx{exported_host=\"a\"} 2\n");
  ASSERT_FALSE(samples.ok());
  EXPECT_THAT(std::string(samples.status().message()),
              StartsWith("line 2: series x{exported_host=\"a\"}"));
}

TEST(ParseTextfileTest, LimitsMatchTheCollectorsChecks) {
  const std::string name200 = "n" + std::string(199, 'x');
  EXPECT_TRUE(ParseTextfile(name200 + " 1\n").ok());
  absl::StatusOr<std::vector<Sample>> long_name = ParseTextfile("a 1\n" + name200 + "x 1\n");
  ASSERT_FALSE(long_name.ok());
  EXPECT_THAT(std::string(long_name.status().message()), StartsWith("line 2: metric name"));
  EXPECT_THAT(std::string(long_name.status().message()), HasSubstr("longer than 200 bytes"));
  absl::StatusOr<std::vector<Sample>> long_label = ParseTextfile("x{" + name200 + "x=\"v\"} 1\n");
  ASSERT_FALSE(long_label.ok());
  EXPECT_THAT(std::string(long_label.status().message()), HasSubstr("longer than 200 bytes"));

  std::string labels16;
  for (int i = 0; i < 16; ++i) absl::StrAppend(&labels16, i > 0 ? "," : "", "l", i, "=\"v\"");
  EXPECT_TRUE(ParseTextfile("x{" + labels16 + "} 1\n").ok());
  absl::StatusOr<std::vector<Sample>> seventeen =
      ParseTextfile("x{" + labels16 + ",host=\"h\"} 1\n");
  ASSERT_FALSE(seventeen.ok());
  EXPECT_EQ(seventeen.status().message(), "line 1: x has 17 labels, more than the limit of 16");

  const std::string value1024(1024, 'v');
  EXPECT_TRUE(ParseTextfile("x{a=\"" + value1024 + "\"} 1\n").ok());
  // The limit is on the unescaped value: 1023 bytes + an escaped quote is 1024.
  EXPECT_TRUE(ParseTextfile("x{a=\"" + value1024.substr(1) + "\\\"\"} 1\n").ok());
  absl::StatusOr<std::vector<Sample>> long_value =
      ParseTextfile("\nx{a=\"" + value1024 + "v\"} 1\n");
  ASSERT_FALSE(long_value.ok());
  EXPECT_EQ(long_value.status().message(), "line 2: value of label a is longer than 1024 bytes");

  TextfileLimits limits;
  limits.max_series = 2;
  EXPECT_TRUE(ParseTextfile("a 1\nb 1\n", limits).ok());
  absl::StatusOr<std::vector<Sample>> three = ParseTextfile("a 1\nb 1\n# c\nc 1\n", limits);
  ASSERT_FALSE(three.ok());
  EXPECT_EQ(three.status().message(), "line 4: more than 2 series in one file");
}

// Every prefix of a valid file (what a reader sees of a file written in place, not renamed)
// and every single-byte corruption yields samples or kInvalidArgument, never a crash.
TEST(ParseTextfileTest, EveryPrefixAndCorruptionIsHandled) {
  const std::string text = kGoodFile;
  for (size_t n = 0; n <= text.size(); ++n) {
    absl::StatusOr<std::vector<Sample>> samples = ParseTextfile(text.substr(0, n));
    EXPECT_TRUE(samples.ok() || samples.status().code() == absl::StatusCode::kInvalidArgument)
        << n << ": " << samples.status();
  }
  for (size_t i = 0; i < text.size(); ++i) {
    for (char c : {'\0', '\n', '"', '{', '}', '\\', ',', '=', ' ', '#', 'x', '\xff'}) {
      std::string bad = text;
      bad[i] = c;
      absl::StatusOr<std::vector<Sample>> samples = ParseTextfile(bad);
      EXPECT_TRUE(samples.ok() || samples.status().code() == absl::StatusCode::kInvalidArgument)
          << i << ": " << samples.status();
    }
  }
}

// ---- TextfileSource on temporary directories ----

class TextfileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLogLevel(LogLevel::kError); }
  void TearDown() override { SetLogLevel(LogLevel::kInfo); }

  TextfileOptions Options() const {
    TextfileOptions options;
    options.directory = tree_.root();
    return options;
  }
  // Sets the modification time of root/relative to `seconds` since the epoch.
  void SetMtime(absl::string_view relative, double seconds) {
    const std::string path = tree_.Path(relative);
    struct timeval times[2];
    times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(seconds);
    times[0].tv_usec = times[1].tv_usec =
        static_cast<suseconds_t>((seconds - std::floor(seconds)) * 1e6);
    ASSERT_EQ(utimes(path.c_str(), times), 0) << path;
  }
  std::optional<double> Value(absl::string_view name, const Labels& labels = {}) const {
    const Sample* s = Find(samples_, name, labels);
    return s == nullptr ? std::nullopt : std::optional<double>(s->value);
  }
  // Names of the custom (non-accord_) samples, in order.
  std::vector<std::string> CustomNames() const {
    std::vector<std::string> out;
    for (const Sample& s : samples_) {
      if (!absl::StartsWith(s.name, "accord_")) out.push_back(s.name);
    }
    return out;
  }
  std::vector<std::string> MtimeFiles() const {
    std::vector<std::string> out;
    for (const Sample& s : samples_) {
      if (s.name == metrics::kTextfileMtimeSeconds) out.push_back(s.labels.at(0).second);
    }
    return out;
  }

  testing::TempTree tree_;
  std::vector<Sample> samples_;
};

TEST_F(TextfileSourceTest, ReadsPromFilesByNameAndAddsSelfSeries) {
  tree_.Write("b.prom", "# TYPE shop_users gauge\nshop_users 12\n");
  tree_.Write("a.prom", "shop_orders_total{shop=\"eu\"} 3\n");
  tree_.Write("c.prom", "");                 // empty: applied, no series
  tree_.Write("notes.txt", "ignored 1\n");   // not *.prom
  tree_.Write("d.prom.tmp", "ignored 1\n");  // a writer's temporary file
  tree_.Write("sub/e.prom", "ignored 1\n");  // not recursive
  SetMtime("a.prom", 1700000000.5);
  TextfileSource source(Options());
  TextfileStats stats = source.Collect(&samples_);
  EXPECT_EQ(stats.files, 3u);
  EXPECT_EQ(stats.files_applied, 3u);
  EXPECT_EQ(stats.file_errors, 0u);
  EXPECT_EQ(stats.directory_errors, 0u);
  EXPECT_EQ(stats.samples, 2u);
  EXPECT_THAT(CustomNames(), ElementsAre("shop_orders_total", "shop_users"));
  EXPECT_EQ(Value("shop_users"), 12);
  EXPECT_THAT(MtimeFiles(), ElementsAre("a.prom", "b.prom", "c.prom"));
  EXPECT_EQ(Value(metrics::kTextfileMtimeSeconds, {{"file", "a.prom"}}), 1700000000.5);
  EXPECT_EQ(Value(metrics::kTextfileScrapeError), 0);
  EXPECT_EQ(Value(metrics::kTextfileErrorsTotal), 0);
  // 2 custom + 3 mtimes + scrape_error + errors_total.
  EXPECT_EQ(samples_.size(), 7u);
  for (const Sample& s : samples_) {
    if (!absl::StartsWith(s.name, "accord_")) continue;
    bool declared = false;
    for (const metrics::MetricInfo& info : metrics::AllTextfileMetrics()) {
      if (info.name == s.name) {
        declared = true;
        EXPECT_EQ(info.kind, s.kind) << s.name;
      }
    }
    EXPECT_TRUE(declared) << s.name;
  }
}

TEST_F(TextfileSourceTest, AFailingFileIsSkippedWholeWhileOthersCount) {
  tree_.Write("a.prom", "good_a 1\n");
  tree_.Write("b.prom", "half_b 1\nhalf_b{x=\"y\"} 2\nhalf_b{bad 3\n");
  tree_.Write("c.prom", "good_c 1\n");
  TextfileSource source(Options());
  TextfileStats stats = source.Collect(&samples_);
  EXPECT_EQ(stats.files, 3u);
  EXPECT_EQ(stats.files_applied, 2u);
  EXPECT_EQ(stats.file_errors, 1u);
  EXPECT_THAT(CustomNames(), ElementsAre("good_a", "good_c"));  // nothing of b
  EXPECT_THAT(MtimeFiles(), ElementsAre("a.prom", "c.prom"));
  EXPECT_EQ(Value(metrics::kTextfileScrapeError), 1);
  EXPECT_EQ(Value(metrics::kTextfileErrorsTotal), 1);

  samples_.clear();
  source.Collect(&samples_);
  EXPECT_EQ(Value(metrics::kTextfileErrorsTotal), 2);  // cumulative

  tree_.Write("b.prom", "half_b 1\n");
  samples_.clear();
  stats = source.Collect(&samples_);
  EXPECT_EQ(stats.file_errors, 0u);
  EXPECT_THAT(CustomNames(), ElementsAre("good_a", "half_b", "good_c"));
  EXPECT_EQ(Value(metrics::kTextfileScrapeError), 0);
  EXPECT_EQ(Value(metrics::kTextfileErrorsTotal), 2);
}

TEST_F(TextfileSourceTest, ASeriesAlsoInAnEarlierFileFailsTheLaterFile) {
  tree_.Write("a.prom", "shop_users{shop=\"eu\"} 1\n");
  tree_.Write("b.prom", "shop_other 5\n# dup\nshop_users{shop=\"eu\"} 2\n");
  tree_.Write("c.prom", "shop_users{shop=\"us\"} 3\n");
  TextfileSource source(Options());
  SetLogLevel(LogLevel::kWarn);
  ::testing::internal::CaptureStderr();
  TextfileStats stats = source.Collect(&samples_);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stats.file_errors, 1u);
  EXPECT_EQ(stats.dropped_samples, 2u);
  EXPECT_EQ(Value("shop_users", {{"shop", "eu"}}), 1);  // the earlier file wins
  EXPECT_EQ(Value("shop_users", {{"shop", "us"}}), 3);
  EXPECT_FALSE(Value("shop_other").has_value());
  EXPECT_THAT(log, HasSubstr("b.prom"));
  EXPECT_THAT(log, HasSubstr("line 3: series shop_users{shop=\\\"eu\\\"} is already in a.prom"));
}

TEST_F(TextfileSourceTest, ANameOfTheOtherKindThanInAnEarlierFileFailsTheLaterFile) {
  tree_.Write("a.prom", "# TYPE shop_orders counter\nshop_orders{shop=\"eu\"} 1\n");
  tree_.Write("b.prom", "\nshop_orders{shop=\"us\"} 2\n");  // untyped: a gauge
  TextfileSource source(Options());
  SetLogLevel(LogLevel::kWarn);
  ::testing::internal::CaptureStderr();
  TextfileStats stats = source.Collect(&samples_);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stats.file_errors, 1u);
  EXPECT_THAT(CustomNames(), ElementsAre("shop_orders"));
  EXPECT_THAT(log, HasSubstr("line 2: shop_orders is a gauge here but a counter in a.prom"));
}

TEST_F(TextfileSourceTest, HostLabelIsRenamedInFiles) {
  tree_.Write("a.prom", "shop_users{host=\"db1\"} 1\n");
  TextfileSource source(Options());
  source.Collect(&samples_);
  EXPECT_EQ(Value("shop_users", {{"exported_host", "db1"}}), 1);
}

TEST_F(TextfileSourceTest, AccordNamesFailTheFile) {
  tree_.Write("a.prom", "shop_users 1\naccord_agent_fake 1\n");
  TextfileSource source(Options());
  SetLogLevel(LogLevel::kWarn);
  ::testing::internal::CaptureStderr();
  TextfileStats stats = source.Collect(&samples_);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stats.file_errors, 1u);
  EXPECT_TRUE(CustomNames().empty());
  EXPECT_THAT(log, HasSubstr("line 2: metric name"));
  EXPECT_THAT(log, HasSubstr("reserved"));
}

TEST_F(TextfileSourceTest, FileSizeLimit) {
  TextfileOptions options = Options();
  options.max_file_bytes = 16;
  tree_.Write("a.prom", "x 1\n");               // 4 bytes
  tree_.Write("b.prom", "y 1234567890123\n");   // exactly 16 bytes
  tree_.Write("c.prom", "z 12345678901234\n");  // 17 bytes
  TextfileSource source(options);
  TextfileStats stats = source.Collect(&samples_);
  EXPECT_EQ(stats.files_applied, 2u);
  EXPECT_EQ(stats.file_errors, 1u);
  EXPECT_THAT(CustomNames(), ElementsAre("x", "y"));
}

TEST_F(TextfileSourceTest, SeriesCapSkipsTheFileThatWouldExceedIt) {
  TextfileOptions options = Options();
  options.max_series = 3;
  tree_.Write("a.prom", "a 1\nb 1\n");
  tree_.Write("b.prom", "c 1\nd 1\n");  // 4 > 3: skipped whole
  tree_.Write("c.prom", "e 1\n");       // 3: fits
  tree_.Write("d.prom", "f 1\n");       // 4: skipped
  TextfileSource source(options);
  TextfileStats stats = source.Collect(&samples_);
  EXPECT_EQ(stats.samples, 3u);
  EXPECT_EQ(stats.file_errors, 2u);
  EXPECT_EQ(stats.dropped_samples, 3u);
  EXPECT_THAT(CustomNames(), ElementsAre("a", "b", "e"));
  EXPECT_THAT(MtimeFiles(), ElementsAre("a.prom", "c.prom"));

  // One file alone above the cap fails in the parser, whatever else there is.
  tree_.Write("b.prom", "c 1\nd 1\ng 1\nh 1\n");
  samples_.clear();
  SetLogLevel(LogLevel::kWarn);
  ::testing::internal::CaptureStderr();
  source.Collect(&samples_);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("line 4: more than 3 series in one file"));
}

TEST_F(TextfileSourceTest, SeriesChurnStopsAtTheLifetimeCapWhileKnownSeriesFlow) {
  TextfileOptions options = Options();
  options.max_lifetime_series = 4;
  TextfileSource source(options);
  // A request id as a label value: a new series every cycle.
  tree_.Write("a.prom", "up 1\n");
  for (int cycle = 0; cycle < 6; ++cycle) {
    tree_.Write("b.prom", absl::StrCat("req{id=\"", cycle, "\"} 1\n"));
    samples_.clear();
    TextfileStats stats = source.Collect(&samples_);
    if (cycle < 3) {
      EXPECT_EQ(stats.file_errors, 0u) << cycle;  // 1 + (cycle + 1) distinct series <= 4
      EXPECT_THAT(CustomNames(), ElementsAre("up", "req")) << cycle;
    } else {
      EXPECT_EQ(stats.file_errors, 1u) << cycle;  // the 5th distinct series is refused
      EXPECT_EQ(stats.dropped_samples, 1u);
      EXPECT_THAT(CustomNames(), ElementsAre("up")) << cycle;  // the known one still flows
    }
  }
  // A file of known series only is still accepted.
  tree_.Write("b.prom", "req{id=\"1\"} 2\n");
  samples_.clear();
  EXPECT_EQ(source.Collect(&samples_).file_errors, 0u);
  EXPECT_THAT(CustomNames(), ElementsAre("up", "req"));
}

TEST_F(TextfileSourceTest, FilesBeyondMaxFilesAreSkippedAndCounted) {
  TextfileOptions options = Options();
  options.max_files = 2;
  tree_.Write("c.prom", "c 1\n");
  tree_.Write("a.prom", "a 1\n");
  tree_.Write("b.prom", "b 1\n");
  TextfileSource source(options);
  TextfileStats stats = source.Collect(&samples_);
  EXPECT_EQ(stats.files, 3u);
  EXPECT_EQ(stats.file_errors, 1u);
  EXPECT_THAT(CustomNames(), ElementsAre("a", "b"));
  EXPECT_EQ(Value(metrics::kTextfileScrapeError), 1);
}

TEST_F(TextfileSourceTest, NonRegularFilesAreErrorsAndNeverBlock) {
  tree_.Write("a.prom", "a 1\n");
  tree_.Write("dir.prom/x", "");
  ASSERT_EQ(mkfifo(tree_.Path("fifo.prom").c_str(), 0600), 0);  // open() would block
  TextfileSource source(Options());
  TextfileStats stats = source.Collect(&samples_);
  EXPECT_EQ(stats.files, 3u);
  EXPECT_EQ(stats.file_errors, 2u);
  EXPECT_THAT(CustomNames(), ElementsAre("a"));
}

TEST_F(TextfileSourceTest, MissingDirectoryIsCountedAndLoggedOnce) {
  TextfileOptions options = Options();
  options.directory = tree_.Path("missing");
  TextfileSource source(options);
  SetLogLevel(LogLevel::kInfo);
  ::testing::internal::CaptureStderr();
  TextfileStats stats = source.Collect(&samples_);
  source.Collect(&samples_);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stats.directory_errors, 1u);
  EXPECT_EQ(stats.files, 0u);
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_THAT(log, HasSubstr("textfile directory unreadable"));
  EXPECT_THAT(log, HasSubstr("missing"));
  // Only the self series.
  EXPECT_TRUE(CustomNames().empty());
  EXPECT_EQ(samples_.size(), 4u);
  EXPECT_EQ(samples_[0].name, metrics::kTextfileScrapeError);
  EXPECT_EQ(samples_[0].value, 1);
  EXPECT_EQ(samples_[1].name, metrics::kTextfileErrorsTotal);
  EXPECT_EQ(samples_[1].value, 1);
  EXPECT_EQ(samples_[3].name, metrics::kTextfileErrorsTotal);
  EXPECT_EQ(samples_[3].value, 2);

  tree_.Write("missing/a.prom", "a 1\n");
  samples_.clear();
  ::testing::internal::CaptureStderr();
  stats = source.Collect(&samples_);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stats.directory_errors, 0u);
  EXPECT_THAT(CustomNames(), ElementsAre("a"));
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_THAT(log, HasSubstr("readable again"));
}

TEST_F(TextfileSourceTest, ErrorsAreLoggedOncePerChangeWithFileAndLine) {
  tree_.Write("shop.prom", "shop_users 1\nshop_users{a=\"b\" 2\n");
  TextfileSource source(Options());
  SetLogLevel(LogLevel::kInfo);
  ::testing::internal::CaptureStderr();
  source.Collect(&samples_);
  source.Collect(&samples_);  // same error: not logged again
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_THAT(log, HasSubstr("textfile skipped"));
  EXPECT_THAT(log, HasSubstr(tree_.Path("shop.prom")));
  EXPECT_THAT(log, HasSubstr("line 2: expected ',' or '}'"));

  tree_.Write("shop.prom", "shop_users 1 17\n");  // a different error: logged
  ::testing::internal::CaptureStderr();
  source.Collect(&samples_);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_THAT(log, HasSubstr("line 1: sample of shop_users has a timestamp"));

  tree_.Write("shop.prom", "shop_users 1\n");  // recovered: logged once
  ::testing::internal::CaptureStderr();
  source.Collect(&samples_);
  source.Collect(&samples_);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_THAT(log, HasSubstr("textfile recovered"));

  // A file that fails again after recovering is logged again.
  tree_.Write("shop.prom", "shop_users 1 17\n");
  ::testing::internal::CaptureStderr();
  source.Collect(&samples_);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
}

}  // namespace
}  // namespace accord::agent
