#include "agent/transport/series_table.h"

#include "gtest/gtest.h"

namespace accord::agent {
namespace {

TEST(SeriesTableTest, SameSeriesSameId) {
  SeriesTable t;
  Sample a{
      "accord_host_cpu_seconds_total", {{"cpu", "0"}, {"mode", "user"}}, MetricKind::kCounter, 1};
  Sample b = a;
  b.labels[1].second = "system";
  uint32_t ia = t.Intern(a);
  uint32_t ib = t.Intern(b);
  EXPECT_NE(ia, ib);
  EXPECT_EQ(t.Intern(a), ia);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.Get(ib).labels[1].second, "system");
  // Label boundaries are unambiguous.
  Sample c{"x", {{"a", "bc"}}, MetricKind::kGauge, 0};
  Sample d{"x", {{"ab", "c"}}, MetricKind::kGauge, 0};
  EXPECT_NE(t.Intern(c), t.Intern(d));
}

}  // namespace
}  // namespace accord::agent
