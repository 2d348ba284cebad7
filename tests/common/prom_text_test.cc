#include "common/prom_text.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace accord {
namespace {

TEST(PromTextTest, Names) {
  EXPECT_TRUE(IsValidMetricName("accord_host_up"));
  EXPECT_TRUE(IsValidMetricName("a:b_c1"));
  EXPECT_FALSE(IsValidMetricName("1abc"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_TRUE(IsValidLabelName("mode"));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
}

TEST(PromTextTest, EscapesLabelValues) {
  std::string out;
  AppendEscapedLabelValue(&out, "a\"b\\c\nd");
  EXPECT_EQ(out, "a\\\"b\\\\c\\nd");
}

TEST(PromTextTest, ValuesRoundTrip) {
  std::string out;
  AppendPromValue(&out, 123456789012345.0);
  EXPECT_EQ(out, "123456789012345");
  out.clear();
  AppendPromValue(&out, 0.1);
  EXPECT_EQ(out, "0.1");
  out.clear();
  AppendPromValue(&out, std::numeric_limits<double>::infinity());
  EXPECT_EQ(out, "+Inf");
  out.clear();
  AppendPromValue(&out, std::nan(""));
  EXPECT_EQ(out, "NaN");
}

TEST(FamilyFilterTest, ParsesAListAndMatchesExactly) {
  auto f = FamilyFilter::Parse(" accord_host_up , accord_host_state,accord_host_up");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->all());
  EXPECT_TRUE(f->Matches("accord_host_up"));
  EXPECT_TRUE(f->Matches("accord_host_state"));
  EXPECT_FALSE(f->Matches("accord_host_up_total"));
  EXPECT_FALSE(f->Matches("accord_host"));
  EXPECT_TRUE(f->AnyWithPrefix("accord_host_"));
  EXPECT_FALSE(f->AnyWithPrefix("accord_sla_"));
  FamilyFilter all;
  EXPECT_TRUE(all.all());
  EXPECT_TRUE(all.Matches("anything"));
  EXPECT_TRUE(all.AnyWithPrefix("accord_sla_"));
}

TEST(FamilyFilterTest, ABadEntryIsNamed) {
  auto f = FamilyFilter::Parse("accord_host_up,1bad");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(), "family: \"1bad\" is not a metric name");
  EXPECT_FALSE(FamilyFilter::Parse("").ok());
  EXPECT_FALSE(FamilyFilter::Parse("a,,b").ok());
}

TEST(FamilyFilterTest, FilteredExpositionKeepsWholeFamilies) {
  const std::string text =
      "# HELP x Things.\n# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"2\"} 2\n"
      "# HELP x_count A family whose name extends another's.\n# TYPE x_count counter\n"
      "x_count 7\n"
      "# HELP lat Latency.\n# TYPE lat histogram\nlat_bucket{le=\"1\"} 3\n"
      "lat_bucket{le=\"+Inf\"} 4\nlat_sum 2.5\nlat_count 4\n"
      "bare_sample 9\n";
  auto only = [&](const char* list) {
    std::string out;
    AppendFilteredExposition(text, *FamilyFilter::Parse(list), &out);
    return out;
  };
  EXPECT_EQ(only("x"), "# HELP x Things.\n# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"2\"} 2\n");
  EXPECT_EQ(only("x_count"),
            "# HELP x_count A family whose name extends another's.\n# TYPE x_count counter\n"
            "x_count 7\n");
  EXPECT_EQ(only("lat"),
            "# HELP lat Latency.\n# TYPE lat histogram\nlat_bucket{le=\"1\"} 3\n"
            "lat_bucket{le=\"+Inf\"} 4\nlat_sum 2.5\nlat_count 4\n");
  EXPECT_EQ(only("bare_sample"), "bare_sample 9\n");
  EXPECT_EQ(only("lat_bucket"), "");  // a histogram's series are not families of their own
  EXPECT_EQ(only("nothing"), "");
  std::string all;
  AppendFilteredExposition(text, FamilyFilter(), &all);
  EXPECT_EQ(all, text);
}

}  // namespace
}  // namespace accord
