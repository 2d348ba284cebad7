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

}  // namespace
}  // namespace accord
