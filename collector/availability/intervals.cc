#include "collector/availability/intervals.h"

#include <algorithm>

namespace accord::collector::availability {

void Normalize(IntervalSet* set) {
  auto by_start = [](const Interval& a, const Interval& b) { return a.start < b.start; };
  if (!std::is_sorted(set->begin(), set->end(), by_start)) {
    std::sort(set->begin(), set->end(), by_start);
  }
  size_t out = 0;
  for (const Interval& in : *set) {
    if (in.empty()) continue;
    if (out > 0 && in.start <= (*set)[out - 1].end) {
      (*set)[out - 1].end = std::max((*set)[out - 1].end, in.end);
    } else {
      (*set)[out++] = in;
    }
  }
  set->resize(out);
}

IntervalSet Clip(absl::Span<const Interval> set, Interval range) {
  IntervalSet out;
  if (range.empty()) return out;
  auto it = std::lower_bound(set.begin(), set.end(), range.start,
                             [](const Interval& i, absl::Time t) { return i.end <= t; });
  for (; it != set.end() && it->start < range.end; ++it) {
    out.push_back({std::max(it->start, range.start), std::min(it->end, range.end)});
  }
  return out;
}

IntervalSet Intersect(absl::Span<const Interval> a, absl::Span<const Interval> b) {
  IntervalSet out;
  out.reserve(std::max(a.size(), b.size()));
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    absl::Time start = std::max(a[i].start, b[j].start);
    absl::Time end = std::min(a[i].end, b[j].end);
    if (start < end) out.push_back({start, end});
    if (a[i].end < b[j].end) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

IntervalSet Subtract(absl::Span<const Interval> a, absl::Span<const Interval> b) {
  IntervalSet out;
  out.reserve(a.size() + b.size());
  size_t j = 0;
  for (const Interval& in : a) {
    absl::Time cursor = in.start;
    while (j < b.size() && b[j].end <= cursor) ++j;
    size_t k = j;
    while (k < b.size() && b[k].start < in.end) {
      if (b[k].start > cursor) out.push_back({cursor, b[k].start});
      cursor = std::max(cursor, b[k].end);
      if (b[k].end > in.end) break;  // b[k] may also cover the next member of `a`
      ++k;
    }
    if (cursor < in.end) out.push_back({cursor, in.end});
    j = k;
  }
  return out;
}

IntervalSet Union(absl::Span<const Interval> a, absl::Span<const Interval> b) {
  IntervalSet out;
  out.reserve(a.size() + b.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out),
             [](const Interval& x, const Interval& y) { return x.start < y.start; });
  Normalize(&out);
  return out;
}

absl::Duration TotalLength(absl::Span<const Interval> set) {
  absl::Duration total;
  for (const Interval& in : set) total += in.length();
  return total;
}

absl::Duration LengthWithin(absl::Span<const Interval> set, Interval range) {
  absl::Duration total;
  if (range.empty()) return total;
  auto it = std::lower_bound(set.begin(), set.end(), range.start,
                             [](const Interval& i, absl::Time t) { return i.end <= t; });
  for (; it != set.end() && it->start < range.end; ++it) {
    total += std::min(it->end, range.end) - std::max(it->start, range.start);
  }
  return total;
}

absl::Duration OverlapLength(absl::Span<const Interval> a, absl::Span<const Interval> b) {
  absl::Duration total;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    absl::Time start = std::max(a[i].start, b[j].start);
    absl::Time end = std::min(a[i].end, b[j].end);
    if (start < end) total += end - start;
    if (a[i].end < b[j].end) {
      ++i;
    } else {
      ++j;
    }
  }
  return total;
}

}  // namespace accord::collector::availability
