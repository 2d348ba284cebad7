#include "collector/availability/intervals.h"

#include <random>

#include "gtest/gtest.h"

namespace accord::collector::availability {
namespace {

// Minutes after an arbitrary epoch, to keep the literals short.
absl::Time M(int minutes) { return absl::FromUnixSeconds(1'700'000'000) + absl::Minutes(minutes); }
Interval I(int a, int b) { return {M(a), M(b)}; }

TEST(IntervalsTest, NormalizeSortsDropsEmptyAndMergesTouching) {
  IntervalSet s = {I(50, 60), I(0, 10), I(5, 20), I(20, 30), I(40, 40), I(45, 44)};
  Normalize(&s);
  EXPECT_EQ(s, (IntervalSet{I(0, 30), I(50, 60)}));
}

TEST(IntervalsTest, IntersectKeepsOnlyCommonTime) {
  EXPECT_EQ(Intersect({I(0, 10), I(20, 30)}, {I(5, 25)}), (IntervalSet{I(5, 10), I(20, 25)}));
  EXPECT_TRUE(Intersect({I(0, 10)}, {I(10, 20)}).empty());
}

TEST(IntervalsTest, SubtractSplitsAndHandlesOneHoleAcrossSeveralMembers) {
  // [0,100) − {[10,20), [30,40)} = [0,10) [20,30) [40,100).
  EXPECT_EQ(Subtract({I(0, 100)}, {I(10, 20), I(30, 40)}),
            (IntervalSet{I(0, 10), I(20, 30), I(40, 100)}));
  // One hole [5,35) covering the end of the first and the start of the third member.
  EXPECT_EQ(Subtract({I(0, 10), I(15, 20), I(30, 40)}, {I(5, 35)}),
            (IntervalSet{I(0, 5), I(35, 40)}));
  EXPECT_EQ(Subtract({I(0, 10)}, {}), (IntervalSet{I(0, 10)}));
}

TEST(IntervalsTest, UnionMergesOverlaps) {
  EXPECT_EQ(Union({I(0, 10), I(30, 40)}, {I(10, 20), I(35, 50)}),
            (IntervalSet{I(0, 20), I(30, 50)}));
}

TEST(IntervalsTest, LengthsWithinARange) {
  IntervalSet s = {I(0, 10), I(20, 30), I(40, 50)};
  EXPECT_EQ(TotalLength(s), absl::Minutes(30));
  // [5, 45) holds 5 + 10 + 5 = 20 minutes.
  EXPECT_EQ(LengthWithin(s, I(5, 45)), absl::Minutes(20));
  EXPECT_EQ(LengthWithin(s, I(10, 20)), absl::ZeroDuration());
  EXPECT_EQ(OverlapLength(s, {I(8, 22), I(48, 100)}), absl::Minutes(2 + 2 + 2));
  EXPECT_EQ(Clip(s, I(5, 45)), (IntervalSet{I(5, 10), I(20, 30), I(40, 45)}));
}

// Property: the set operations agree with a brute-force minute-by-minute model.
TEST(IntervalsTest, OperationsMatchAMinuteByMinuteModel) {
  std::mt19937 rng(7);
  constexpr int kSpan = 200;
  auto random_set = [&](std::vector<bool>* bits) {
    IntervalSet s;
    bits->assign(kSpan, false);
    int n = rng() % 8;
    for (int i = 0; i < n; ++i) {
      int a = rng() % kSpan, len = rng() % 30;
      int b = std::min(kSpan, a + len);
      s.push_back(I(a, b));
      for (int m = a; m < b; ++m) (*bits)[m] = true;
    }
    Normalize(&s);
    return s;
  };
  auto minutes_of = [&](const IntervalSet& s) {
    std::vector<bool> bits(kSpan, false);
    for (const Interval& in : s) {
      for (absl::Time t = in.start; t < in.end; t += absl::Minutes(1)) {
        bits[(t - M(0)) / absl::Minutes(1)] = true;
      }
    }
    return bits;
  };
  for (int round = 0; round < 500; ++round) {
    std::vector<bool> ba, bb;
    IntervalSet a = random_set(&ba), b = random_set(&bb);
    std::vector<bool> inter(kSpan), diff(kSpan), uni(kSpan);
    int overlap = 0;
    for (int m = 0; m < kSpan; ++m) {
      inter[m] = ba[m] && bb[m];
      diff[m] = ba[m] && !bb[m];
      uni[m] = ba[m] || bb[m];
      overlap += inter[m];
    }
    ASSERT_EQ(minutes_of(Intersect(a, b)), inter);
    ASSERT_EQ(minutes_of(Subtract(a, b)), diff);
    ASSERT_EQ(minutes_of(Union(a, b)), uni);
    ASSERT_EQ(OverlapLength(a, b), absl::Minutes(overlap));
    IntervalSet norm = Union(a, b);
    for (size_t i = 1; i < norm.size(); ++i) ASSERT_LT(norm[i - 1].end, norm[i].start);
  }
}

}  // namespace
}  // namespace accord::collector::availability
