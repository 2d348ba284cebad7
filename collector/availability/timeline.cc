#include "collector/availability/timeline.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace accord::collector::availability {
namespace {

// Appends segments in time order, clipped to the timeline's range, merging equal neighbours.
class SegmentAppender {
 public:
  explicit SegmentAppender(Timeline* timeline) : timeline_(timeline) {}

  void Append(absl::Time start, absl::Time end, Condition condition, absl::string_view cause,
              absl::Span<const uint32_t> not_up) {
    start = std::max(start, timeline_->start);
    end = std::min(end, timeline_->end);
    if (end <= start) return;
    std::vector<Segment>& segments = timeline_->segments;
    if (!segments.empty()) {
      Segment& last = segments.back();
      if (last.end == start && last.condition == condition &&
          (condition == Condition::kUp ||
           (last.cause == cause && absl::MakeConstSpan(last.not_up) == not_up))) {
        last.end = end;
        return;
      }
    }
    Segment& s = segments.emplace_back();
    s.start = start;
    s.end = end;
    s.condition = condition;
    s.cause.assign(cause.data(), cause.size());
    if (condition != Condition::kUp) s.not_up.assign(not_up.begin(), not_up.end());
  }

 private:
  Timeline* timeline_;
};

bool IsReboot(const Transition& t) { return t.cause == kCauseReboot; }

}  // namespace

const char* ConditionName(Condition condition) {
  switch (condition) {
    case Condition::kUp:
      return "up";
    case Condition::kDown:
      return "down";
    case Condition::kUnknown:
      return "unknown";
  }
  return "unknown";
}

void ClipTimeline(Timeline* timeline, absl::Time from, absl::Time to) {
  timeline->start = std::max(timeline->start, from);
  timeline->end = std::max(timeline->start, std::min(timeline->end, to));
  std::vector<Segment>& segments = timeline->segments;
  segments.erase(std::remove_if(segments.begin(), segments.end(),
                                [&](const Segment& s) {
                                  return s.end <= timeline->start || s.start >= timeline->end;
                                }),
                 segments.end());
  if (segments.empty()) return;
  segments.front().start = std::max(segments.front().start, timeline->start);
  segments.back().end = std::min(segments.back().end, timeline->end);
}

Timeline BuildHostTimeline(std::string host_id, absl::Span<const Transition> transitions,
                           absl::Time from, absl::Time to) {
  Timeline timeline;
  timeline.start = from;
  timeline.end = std::max(from, to);
  timeline.component_ids.push_back(host_id);
  timeline.id = std::move(host_id);

  auto by_at = [](const Transition& a, const Transition& b) { return a.at < b.at; };
  std::vector<Transition> sorted;
  if (!std::is_sorted(transitions.begin(), transitions.end(), by_at)) {
    sorted.assign(transitions.begin(), transitions.end());
    std::stable_sort(sorted.begin(), sorted.end(), by_at);
    transitions = sorted;
  }

  SegmentAppender out(&timeline);
  static constexpr uint32_t kSelf[] = {0};
  const absl::Span<const uint32_t> self(kSelf);
  if (transitions.empty()) {
    out.Append(timeline.start, timeline.end, Condition::kUnknown, kCauseNoData, self);
    return timeline;
  }
  const Transition& first = transitions.front();
  out.Append(timeline.start, first.at, Condition::kUnknown,
             first.cause == "first_seen" ? kCauseNotMonitored : kCauseNoData, self);

  // The last transition at or before `from` sets the state at `from`; skip those before it.
  size_t i = std::upper_bound(transitions.begin(), transitions.end(), timeline.start,
                              [](absl::Time t, const Transition& tr) { return t < tr.at; }) -
             transitions.begin();
  if (i > 0) --i;
  timeline.segments.reserve(transitions.size() - i + 1);
  for (; i < transitions.size() && transitions[i].at < timeline.end; ++i) {
    const Transition& t = transitions[i];
    const Transition* next = i + 1 < transitions.size() ? &transitions[i + 1] : nullptr;
    absl::Time end = next != nullptr ? next->at : timeline.end;
    bool reboot_follows = next != nullptr && IsReboot(*next);
    switch (t.to) {
      case HostState::kUp:
        out.Append(t.at, end, Condition::kUp, t.cause, {});
        break;
      case HostState::kDown:
        out.Append(t.at, end, Condition::kDown, t.cause.empty() ? kCauseUnknown : t.cause, self);
        break;
      case HostState::kUnreachable:
        if (reboot_follows) {
          out.Append(t.at, end, Condition::kDown, kCauseReboot, self);
        } else {
          out.Append(t.at, end, Condition::kUnknown, t.cause.empty() ? kCauseUnknown : t.cause,
                     self);
        }
        break;
      case HostState::kStopped:
        if (reboot_follows) {
          out.Append(t.at, end, Condition::kDown, kCauseReboot, self);
        } else {
          out.Append(t.at, end, Condition::kUnknown, kCauseAgentStopped, self);
        }
        break;
      case HostState::kUnknown:
        out.Append(t.at, end, Condition::kUnknown, kCauseUnknown, self);
        break;
    }
  }
  return timeline;
}

absl::StatusOr<Timeline> CombineTimelines(std::string service_id,
                                          absl::Span<const Timeline* const> components,
                                          const AvailabilityRule& rule) {
  const size_t n = components.size();
  if (n == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("service \"", service_id, "\": no components to combine"));
  }
  for (const Timeline* c : components) {
    if (c == nullptr) return absl::InvalidArgumentError("null component timeline");
  }
  if (rule.kind == AvailabilityRule::Kind::kAtLeast &&
      (rule.k < 1 || static_cast<size_t>(rule.k) > n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("service \"", service_id, "\": at_least ", rule.k, " of ", n, " components"));
  }

  Timeline out_timeline;
  out_timeline.id = std::move(service_id);
  out_timeline.start = components[0]->start;
  out_timeline.end = components[0]->end;
  out_timeline.component_ids.reserve(n);
  size_t total_segments = 0;
  for (const Timeline* c : components) {
    out_timeline.start = std::min(out_timeline.start, c->start);
    out_timeline.end = std::max(out_timeline.end, c->end);
    out_timeline.component_ids.push_back(c->id);
    total_segments += c->segments.size();
  }

  // The components' edges in time order by a k-way merge (each component's segments are
  // already sorted): a min-heap holding each component's next edge. A component's edges are
  // its segment starts, then a "no data" edge where its range ends before the service's.
  struct Cursor {
    size_t next = 0;            // next segment whose start is an edge
    absl::Time covered_end;     // where its segments end
    bool tail_pending = false;  // the "no data" edge at covered_end is still to come
  };
  std::vector<Cursor> cursors(n);
  using HeapEntry = std::pair<absl::Time, uint32_t>;  // (edge time, component)
  std::vector<HeapEntry> heap;
  heap.reserve(n);
  auto later = [](const HeapEntry& a, const HeapEntry& b) { return a.first > b.first; };
  auto push_next_edge = [&](uint32_t c) {
    const Cursor& cur = cursors[c];
    const std::vector<Segment>& segs = components[c]->segments;
    if (cur.next < segs.size()) {
      heap.emplace_back(segs[cur.next].start, c);
    } else if (cur.tail_pending) {
      heap.emplace_back(cur.covered_end, c);
    } else {
      return;
    }
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (uint32_t c = 0; c < n; ++c) {
    const Timeline& t = *components[c];
    cursors[c].covered_end = t.segments.empty() ? t.start : t.segments.back().end;
    cursors[c].tail_pending = cursors[c].covered_end < out_timeline.end;
    push_next_edge(c);
  }

  // Sweep state. Every component starts with no data at the start of the range.
  std::vector<int32_t> current(n, -1);
  std::vector<absl::Time> since(n, out_timeline.start);
  std::vector<uint32_t> not_up;  // ascending
  not_up.reserve(n);
  for (uint32_t c = 0; c < n; ++c) not_up.push_back(c);
  size_t up = 0, down = 0, unknown = n;

  auto condition_of = [&](uint32_t c) {
    int32_t s = current[c];
    return s < 0 ? Condition::kUnknown : components[c]->segments[s].condition;
  };
  auto count = [&](Condition cond, int delta) {
    switch (cond) {
      case Condition::kUp:
        up += delta;
        break;
      case Condition::kDown:
        down += delta;
        break;
      case Condition::kUnknown:
        unknown += delta;
        break;
    }
  };
  auto service_condition = [&]() {
    switch (rule.kind) {
      case AvailabilityRule::Kind::kAll:
        if (up == n) return Condition::kUp;
        return down > 0 ? Condition::kDown : Condition::kUnknown;
      case AvailabilityRule::Kind::kAny:
        if (up > 0) return Condition::kUp;
        return down == n ? Condition::kDown : Condition::kUnknown;
      case AvailabilityRule::Kind::kAtLeast: {
        const size_t k = static_cast<size_t>(rule.k);
        if (up >= k) return Condition::kUp;
        return up + unknown < k ? Condition::kDown : Condition::kUnknown;
      }
    }
    return Condition::kUnknown;
  };

  SegmentAppender out(&out_timeline);
  out_timeline.segments.reserve(total_segments);
  absl::Time pos = out_timeline.start;
  while (pos < out_timeline.end) {
    while (!heap.empty() && heap.front().first <= pos) {
      const auto [at, c] = heap.front();
      std::pop_heap(heap.begin(), heap.end(), later);
      heap.pop_back();
      Cursor& cur = cursors[c];
      const Condition before = condition_of(c);
      if (cur.next < components[c]->segments.size()) {
        current[c] = static_cast<int32_t>(cur.next++);
      } else {
        current[c] = -1;
        cur.tail_pending = false;
      }
      push_next_edge(c);
      const Condition after = condition_of(c);
      since[c] = at;
      if (before == after) continue;
      count(before, -1);
      count(after, +1);
      if (before == Condition::kUp) {
        not_up.insert(std::lower_bound(not_up.begin(), not_up.end(), c), c);
      } else if (after == Condition::kUp) {
        not_up.erase(std::lower_bound(not_up.begin(), not_up.end(), c));
      }
    }
    const absl::Time next = heap.empty() ? out_timeline.end : heap.front().first;
    const Condition cond = service_condition();
    if (cond == Condition::kUp) {
      out.Append(pos, next, cond, "", {});
    } else {
      // The component not up for the longest: earliest `since`, ties to the lower index.
      uint32_t first = not_up.front();
      for (uint32_t c : not_up) {
        if (since[c] < since[first]) first = c;
      }
      const int32_t s = current[first];
      absl::string_view cause =
          s < 0 ? absl::string_view(kCauseNoData) : components[first]->segments[s].cause;
      if (cause.empty()) cause = kCauseUnknown;
      out.Append(pos, next, cond, cause, not_up);
    }
    pos = next;
  }
  return out_timeline;
}

}  // namespace accord::collector::availability
