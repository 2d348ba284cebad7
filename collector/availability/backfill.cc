#include "collector/availability/backfill.h"

#include <algorithm>
#include <utility>

namespace accord::collector::availability {
namespace {

bool Rewritable(const Segment& s) {
  if (s.condition == Condition::kUnknown) return s.cause != kCauseNotMonitored;
  return s.condition == Condition::kDown && s.cause == kCauseReboot;
}

bool SameAs(const Segment& a, const Segment& b) {
  if (a.condition != b.condition) return false;
  if (a.condition == Condition::kUp) return true;  // host Up neighbours merge, first cause kept
  return a.cause == b.cause && a.not_up == b.not_up;
}

}  // namespace

void OverlayAlive(Timeline* timeline, absl::Span<const Interval> alive, absl::Duration bridge) {
  if (alive.empty() || timeline->segments.empty()) return;
  IntervalSet evidence(alive.begin(), alive.end());
  Normalize(&evidence);
  std::vector<Segment> out;
  out.reserve(timeline->segments.size() + 2 * evidence.size());
  std::vector<absl::Time> backfill_ends;  // where backfilled Up time ends, ascending
  auto push = [&out](Segment s) {
    if (s.start >= s.end) return;
    if (!out.empty() && SameAs(out.back(), s)) {
      out.back().end = s.end;
      return;
    }
    out.push_back(std::move(s));
  };
  for (const Segment& seg : timeline->segments) {
    if (!Rewritable(seg)) {
      push(seg);
      continue;
    }
    IntervalSet up = Intersect(evidence, IntervalSet{Interval{seg.start, seg.end}});
    absl::Time cursor = seg.start;
    for (const Interval& u : up) {
      Segment before = seg;
      before.start = cursor;
      before.end = u.start;
      push(std::move(before));
      Segment fixed;
      fixed.start = u.start;
      fixed.end = u.end;
      fixed.condition = Condition::kUp;
      fixed.cause = kCauseBackfill;
      backfill_ends.push_back(u.end);
      push(std::move(fixed));
      cursor = u.end;
    }
    Segment after = seg;
    after.start = cursor;
    push(std::move(after));
  }
  if (bridge > absl::ZeroDuration()) {
    std::vector<Segment> bridged;
    bridged.reserve(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
      Segment s = std::move(out[i]);
      bool after_backfill = std::binary_search(backfill_ends.begin(), backfill_ends.end(), s.start);
      bool seam = i > 0 && i + 1 < out.size() && Rewritable(s) && s.end - s.start <= bridge &&
                  after_backfill && !bridged.empty() &&
                  bridged.back().condition == Condition::kUp &&
                  out[i + 1].condition == Condition::kUp;
      if (seam) {
        bridged.back().end = s.end;  // the backfilled span reaches the reconnect
        continue;
      }
      if (!bridged.empty() && SameAs(bridged.back(), s)) {
        bridged.back().end = s.end;
      } else {
        bridged.push_back(std::move(s));
      }
    }
    out = std::move(bridged);
  }
  timeline->segments = std::move(out);
}

Timeline BuildBackfilledHostTimeline(std::string host_id, absl::Span<const Transition> transitions,
                                     absl::Span<const Interval> alive, absl::Time from,
                                     absl::Time to, absl::Duration bridge) {
  // Without evidence or a bridge there is no seam to judge: no widening.
  const absl::Duration pad =
      alive.empty() || bridge <= absl::ZeroDuration() || to <= from ? absl::ZeroDuration() : bridge;
  Timeline timeline = BuildHostTimeline(std::move(host_id), transitions, from - pad, to + pad);
  OverlayAlive(&timeline, alive, bridge);
  if (pad > absl::ZeroDuration()) ClipTimeline(&timeline, from, to);
  return timeline;
}

}  // namespace accord::collector::availability
