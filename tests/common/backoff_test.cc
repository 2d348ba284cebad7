#include "common/backoff.h"

#include "gtest/gtest.h"

namespace accord {
namespace {

TEST(BackoffTest, DoublesWithJitterUpToMaxAndResets) {
  Backoff b(absl::Seconds(1), absl::Seconds(60), 42);
  absl::Duration ceiling = absl::Seconds(1);
  for (int i = 0; i < 10; ++i) {
    absl::Duration d = b.Next();
    EXPECT_GE(d, ceiling / 2) << i;
    EXPECT_LE(d, ceiling) << i;
    ceiling = std::min(ceiling * 2, absl::Seconds(60));
  }
  b.Reset();
  EXPECT_LE(b.Next(), absl::Seconds(1));
}

}  // namespace
}  // namespace accord
