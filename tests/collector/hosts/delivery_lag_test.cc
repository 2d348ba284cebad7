#include "collector/hosts/delivery_lag.h"

#include "gtest/gtest.h"

namespace accord::collector {
namespace {

absl::Duration S(double seconds) { return absl::Seconds(seconds); }

TEST(DeliveryLagTest, NoEstimateFromTooFewMessages) {
  DeliveryLag lag;
  for (int i = 0; i < 19; ++i) lag.Add(S(10), S(5));
  EXPECT_EQ(lag.Current(S(10.5)), absl::ZeroDuration());
  lag.Add(S(10), S(5));
  // 5 s lies in the bucket up to 6 s: the estimate is its upper bound.
  EXPECT_EQ(lag.Current(S(10.5)), S(6));
}

TEST(DeliveryLagTest, EveryHostLateIsSeen) {
  DeliveryLag lag;
  for (int i = 0; i < 100; ++i) lag.Add(S(20 + i * 0.01), S(2.5));
  EXPECT_EQ(lag.Current(S(21)), S(3));
}

TEST(DeliveryLagTest, AFewSlowMessagesMoveNoQuantile) {
  DeliveryLag lag;
  for (int i = 0; i < 500; ++i) lag.Add(S(30), absl::Milliseconds(i % 40));
  for (int i = 0; i < 4; ++i) lag.Add(S(30), S(20));  // under 1 %
  EXPECT_EQ(lag.Current(S(30)), absl::ZeroDuration());
  for (int i = 0; i < 10; ++i) lag.Add(S(30), S(20));  // now over 1 %
  EXPECT_EQ(lag.Current(S(30)), S(30));
}

TEST(DeliveryLagTest, OnlyTheLastWindowCounts) {
  DeliveryLag lag;  // window 3 s: the current second and the two before it
  for (int i = 0; i < 50; ++i) lag.Add(S(10.2), S(1.2));
  EXPECT_EQ(lag.Current(S(10.9)), S(1.5));
  EXPECT_EQ(lag.Current(S(12.9)), S(1.5));
  EXPECT_EQ(lag.Current(S(13.0)), absl::ZeroDuration());
  // A slot is reused for a later second: the old counts are gone.
  for (int i = 0; i < 50; ++i) lag.Add(S(13.5), absl::Milliseconds(10));
  EXPECT_EQ(lag.Current(S(13.6)), absl::ZeroDuration());
}

TEST(DeliveryLagTest, ExcessIsCappedAndNegativeIsZero) {
  DeliveryLag lag;
  for (int i = 0; i < 50; ++i) lag.Add(S(1), S(600));
  EXPECT_EQ(lag.Current(S(1)), S(30));
  DeliveryLag early;
  for (int i = 0; i < 50; ++i) early.Add(S(1), S(-3));
  EXPECT_EQ(early.Current(S(1)), absl::ZeroDuration());
}

}  // namespace
}  // namespace accord::collector
