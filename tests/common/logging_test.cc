#include "common/logging.h"

#include "gtest/gtest.h"

namespace accord {
namespace {

TEST(LoggingTest, LogfmtQuotesAndEscapes) {
  std::string line = FormatLogLine(LogLevel::kWarn, "stream ended",
                                   {{"host", "a b"}, {"n", "3"}, {"err", "x=\"y\"\n"}});
  EXPECT_NE(line.find(" level=warn msg=\"stream ended\" host=\"a b\" n=3 "
                      "err=\"x=\\\"y\\\"\\n\""),
            std::string::npos)
      << line;
  EXPECT_EQ(line.rfind("ts=", 0), 0u);
}

TEST(LoggingTest, ParseLevel) {
  LogLevel l;
  EXPECT_TRUE(ParseLogLevel("debug", &l));
  EXPECT_EQ(l, LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("loud", &l));
}

}  // namespace
}  // namespace accord
