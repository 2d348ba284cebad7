// Half-open intervals of absolute time and the set algebra the availability engine is built
// on. An `IntervalSet` here is a plain sorted vector of disjoint, non-empty, non-touching
// intervals ("normalized"); every function documents whether it needs normalized input and
// whether it returns normalized output. All operations are exact (absl::Time arithmetic, no
// sampling) and linear in the sizes of their inputs unless stated otherwise.
//
// Thread safety: pure functions on values; safe from any thread.
#ifndef ACCORD_COLLECTOR_AVAILABILITY_INTERVALS_H_
#define ACCORD_COLLECTOR_AVAILABILITY_INTERVALS_H_

#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"

namespace accord::collector::availability {

// [start, end). Empty when end <= start.
struct Interval {
  absl::Time start;
  absl::Time end;

  bool empty() const { return end <= start; }
  absl::Duration length() const { return empty() ? absl::ZeroDuration() : end - start; }
  friend bool operator==(const Interval& a, const Interval& b) {
    return a.start == b.start && a.end == b.end;
  }
  friend bool operator!=(const Interval& a, const Interval& b) { return !(a == b); }
};

// A normalized set: sorted by start, disjoint, no empty members, and no two members touching
// (touching intervals are merged, so [a,b) and [b,c) become [a,c)).
using IntervalSet = std::vector<Interval>;

// Sorts, drops empty intervals and merges overlapping or touching ones, in place.
// O(n log n); O(n) when the input is already sorted.
void Normalize(IntervalSet* set);

// The set clipped to `range`. REQUIRES: `set` normalized. Returns a normalized set.
IntervalSet Clip(absl::Span<const Interval> set, Interval range);

// a ∩ b. REQUIRES: both normalized. Returns a normalized set.
IntervalSet Intersect(absl::Span<const Interval> a, absl::Span<const Interval> b);

// a − b. REQUIRES: both normalized. Returns a normalized set.
IntervalSet Subtract(absl::Span<const Interval> a, absl::Span<const Interval> b);

// a ∪ b. REQUIRES: both normalized. Returns a normalized set.
IntervalSet Union(absl::Span<const Interval> a, absl::Span<const Interval> b);

// Sum of the lengths. REQUIRES: `set` normalized (else overlaps are counted twice).
absl::Duration TotalLength(absl::Span<const Interval> set);

// |set ∩ range| without building the intersection: O(log n + k) for k members in range.
// REQUIRES: `set` normalized.
absl::Duration LengthWithin(absl::Span<const Interval> set, Interval range);

// |a ∩ b| without building the intersection. REQUIRES: both normalized.
absl::Duration OverlapLength(absl::Span<const Interval> a, absl::Span<const Interval> b);

}  // namespace accord::collector::availability

#endif  // ACCORD_COLLECTOR_AVAILABILITY_INTERVALS_H_
