#include "bench/loadgen/latency_histogram.h"

#include "gtest/gtest.h"

namespace accord::bench {
namespace {

TEST(LatencyHistogramTest, BucketsCoverEveryValueWithinOneSixteenth) {
  for (uint64_t us : {0ull, 1ull, 15ull, 16ull, 17ull, 31ull, 32ull, 33ull, 1000ull, 123456ull,
                      (1ull << 34) + 5}) {
    int b = LatencyHistogram::BucketOf(us);
    uint64_t upper = LatencyHistogram::UpperBoundUs(b);
    EXPECT_GT(upper, us) << us;
    EXPECT_LE(static_cast<double>(upper), static_cast<double>(us) * (1 + 1.0 / 16) + 1) << us;
    if (b > 0) {
      EXPECT_LE(LatencyHistogram::UpperBoundUs(b - 1), us) << us;
    }
  }
}

TEST(LatencyHistogramTest, QuantilesOfUniformMilliseconds) {
  LatencyHistogram h;
  for (int ms = 1; ms <= 100; ++ms) h.Record(absl::Milliseconds(ms));
  EXPECT_EQ(h.Count(), 100u);
  EXPECT_NEAR(absl::ToDoubleMilliseconds(h.Quantile(0.5)), 50, 50 / 16.0 + 0.01);
  EXPECT_NEAR(absl::ToDoubleMilliseconds(h.Quantile(0.99)), 99, 99 / 16.0 + 0.01);
  EXPECT_EQ(h.Max(), absl::Milliseconds(100));
  EXPECT_LE(h.Quantile(1.0), absl::Milliseconds(100));
}

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.Quantile(0.5), absl::ZeroDuration());
}

}  // namespace
}  // namespace accord::bench
