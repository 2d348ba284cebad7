#include "collector/availability/evaluation.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "collector/availability/calendar.h"

namespace accord::collector::availability {
namespace {

// A segment of the timeline, or a stretch of the needed range the timeline does not cover
// (segment == nullptr: Unknown "no_data", all components).
struct SegmentView {
  absl::Time start;
  absl::Time end;
  Condition condition;
  absl::string_view cause;
  const Segment* segment;
};

// Calls fn(SegmentView) in time order for the timeline's segments and for the parts of
// `range` they leave uncovered.
template <typename Fn>
void ForEachSegment(const Timeline& timeline, Interval range, Fn fn) {
  const std::vector<Segment>& segs = timeline.segments;
  if (segs.empty()) {
    if (!range.empty())
      fn(SegmentView{range.start, range.end, Condition::kUnknown, kCauseNoData, nullptr});
    return;
  }
  if (range.start < segs.front().start) {
    fn(SegmentView{range.start, segs.front().start, Condition::kUnknown, kCauseNoData, nullptr});
  }
  for (const Segment& s : segs) fn(SegmentView{s.start, s.end, s.condition, s.cause, &s});
  if (segs.back().end < range.end) {
    fn(SegmentView{segs.back().end, range.end, Condition::kUnknown, kCauseNoData, nullptr});
  }
}

// Appends [start, end) ∩ range to a set built in time order, merging with a touching tail.
void AppendClipped(IntervalSet* set, absl::Time start, absl::Time end, Interval range) {
  start = std::max(start, range.start);
  end = std::min(end, range.end);
  if (end <= start) return;
  if (!set->empty() && set->back().end == start) {
    set->back().end = end;
  } else {
    set->push_back({start, end});
  }
}

double Ratio(absl::Duration numerator, absl::Duration denominator) {
  return absl::FDivDuration(numerator, denominator);
}

}  // namespace

std::vector<absl::Duration> DefaultBurnWindows() {
  return {absl::Minutes(5), absl::Minutes(30), absl::Hours(1), absl::Hours(2),
          absl::Hours(6),   absl::Hours(24),   absl::Hours(72)};
}

absl::StatusOr<AgreedHours> ResolveAgreedHours(const ServiceHours& hours,
                                               absl::Span<const MaintenanceWindow> maintenance,
                                               Interval range) {
  AgreedHours agreed;
  agreed.range = range;
  absl::StatusOr<IntervalSet> service_hours = ServiceHoursIntervals(hours, range);
  if (!service_hours.ok()) return service_hours.status();
  agreed.service_hours = *std::move(service_hours);
  absl::StatusOr<IntervalSet> maint = MaintenanceIntervals(maintenance, range);
  if (!maint.ok()) return maint.status();
  agreed.maintenance = *std::move(maint);
  return agreed;
}

Interval CoverageNeeded(Interval period, absl::Time now,
                        absl::Span<const absl::Duration> burn_windows) {
  absl::Duration longest;
  for (absl::Duration w : burn_windows) longest = std::max(longest, w);
  return Interval{std::min(period.start, now - longest), std::max(period.end, now)};
}

absl::StatusOr<Evaluation> Evaluate(const Timeline& timeline, const AgreedHours& agreed,
                                    const SlaTerms& terms, Interval period, absl::Time now) {
  if (!(terms.target >= 0.0 && terms.target < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("availability target ", terms.target, " is not in [0, 1)"));
  }
  if (period.end < period.start) {
    return absl::InvalidArgumentError("period ends before it starts");
  }
  for (absl::Duration w : terms.burn_windows) {
    if (w <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("burn-rate windows must be positive");
    }
  }
  const Interval needed = CoverageNeeded(period, now, terms.burn_windows);
  if (agreed.range.start > needed.start || agreed.range.end < needed.end) {
    return absl::InvalidArgumentError(
        absl::StrCat("agreed hours cover [", absl::FormatTime(agreed.range.start), ", ",
                     absl::FormatTime(agreed.range.end), ") but the evaluation needs [",
                     absl::FormatTime(needed.start), ", ", absl::FormatTime(needed.end), ")"));
  }
  const UnknownPolicy policy = terms.unknown_policy;

  Evaluation ev;
  ev.period = period;
  ev.evaluated = {period.start, std::clamp(now, period.start, period.end)};
  const Interval e = ev.evaluated;

  // Classify the needed range: down, ordinary unknown, not monitored (each normalized).
  IntervalSet down, unknown, not_monitored;
  down.reserve(timeline.segments.size() / 2 + 2);
  unknown.reserve(timeline.segments.size() / 2 + 2);
  ForEachSegment(timeline, needed, [&](const SegmentView& s) {
    if (s.end <= needed.start || s.start >= needed.end) return;
    if (s.condition == Condition::kDown) {
      AppendClipped(&down, s.start, s.end, needed);
    } else if (s.condition == Condition::kUnknown) {
      AppendClipped(s.cause == kCauseNotMonitored ? &not_monitored : &unknown, s.start, s.end,
                    needed);
    }
  });

  // Agreed hours H = service hours − maintenance, then the sets inside H.
  const IntervalSet h = Subtract(agreed.service_hours, agreed.maintenance);
  IntervalSet outage = policy == UnknownPolicy::kDown ? Union(down, unknown) : down;
  IntervalSet excluded =
      policy == UnknownPolicy::kExcluded ? Union(unknown, not_monitored) : not_monitored;
  const IntervalSet h_outage = Intersect(h, outage);
  const IntervalSet h_excluded = Intersect(h, excluded);
  auto ast_within = [&](Interval r) { return LengthWithin(h, r) - LengthWithin(h_excluded, r); };
  auto downtime_within = [&](Interval r) { return LengthWithin(h_outage, r); };

  ev.agreed_service_time = ast_within(e);
  ev.agreed_service_time_whole_period = LengthWithin(h, period) - LengthWithin(h_excluded, e);
  ev.downtime = downtime_within(e);
  ev.unknown = OverlapLength(Clip(h, e), unknown);
  ev.not_monitored = OverlapLength(Clip(h, e), not_monitored);
  ev.maintenance = OverlapLength(Clip(agreed.service_hours, e), agreed.maintenance);
  ev.availability = ev.agreed_service_time > absl::ZeroDuration()
                        ? Ratio(ev.agreed_service_time - ev.downtime, ev.agreed_service_time)
                        : 1.0;

  // Incidents: maximal runs of outage segments in real time, clipped to E, that overlap AST.
  auto is_outage = [&](const SegmentView& s) {
    return s.condition == Condition::kDown ||
           (s.condition == Condition::kUnknown && policy == UnknownPolicy::kDown &&
            s.cause != kCauseNotMonitored);
  };
  const size_t n_components = timeline.component_ids.size();
  std::vector<char> involved(n_components, 0);
  bool in_run = false;
  Incident run;
  auto finish_run = [&](absl::Time run_end) {
    in_run = false;
    Interval clipped{std::max(run.start, e.start), std::min(run_end, e.end)};
    absl::Duration in_ast =
        clipped.empty() ? absl::ZeroDuration() : LengthWithin(h_outage, clipped);
    if (in_ast > absl::ZeroDuration()) {
      run.started_before_range = run.start < e.start;
      run.continues_after_range = run_end > e.end || (run_end == e.end && e.end == now);
      run.start = clipped.start;
      run.end = clipped.end;
      run.duration = in_ast;
      for (size_t c = 0; c < n_components; ++c) {
        if (involved[c]) run.components.push_back(timeline.component_ids[c]);
      }
      ev.incidents.push_back(std::move(run));
    }
    run = Incident();
    std::fill(involved.begin(), involved.end(), 0);
  };
  absl::Time run_end;
  ForEachSegment(timeline, needed, [&](const SegmentView& s) {
    if (!is_outage(s)) {
      if (in_run) finish_run(run_end);
      return;
    }
    if (!in_run) {
      in_run = true;
      run.start = s.start;
      run.cause = s.cause.empty() ? kCauseUnknown : std::string(s.cause);
    }
    run_end = s.end;
    if (s.start < e.end && s.end > e.start) {
      if (s.segment == nullptr) {
        std::fill(involved.begin(), involved.end(), 1);
      } else {
        for (uint32_t c : s.segment->not_up) {
          if (c < n_components) involved[c] = 1;
        }
      }
    }
  });
  if (in_run) finish_run(run_end);

  if (!ev.incidents.empty()) {
    const int64_t n = static_cast<int64_t>(ev.incidents.size());
    ev.mtrs = ev.downtime / n;
    ev.mtbf = (ev.agreed_service_time - ev.downtime) / n;
    ev.mtbsi = *ev.mtbf + *ev.mtrs;
  }

  // Error budget.
  ErrorBudget& budget = ev.error_budget;
  budget.total = ev.agreed_service_time_whole_period * (1.0 - terms.target);
  budget.consumed = ev.downtime;
  budget.remaining = budget.total - budget.consumed;
  budget.remaining_ratio =
      budget.total > absl::ZeroDuration() ? Ratio(budget.remaining, budget.total) : 1.0;

  // Burn rates over windows ending at now.
  ev.burn_rates.reserve(terms.burn_windows.size());
  for (absl::Duration w : terms.burn_windows) {
    const Interval window{now - w, now};
    const absl::Duration ast = ast_within(window);
    double rate = 0;
    if (ast > absl::ZeroDuration()) {
      rate = Ratio(downtime_within(window), ast) / (1.0 - terms.target);
    }
    ev.burn_rates.push_back({w, rate});
  }

  // OLA breaches.
  for (size_t i = 0; i < ev.incidents.size(); ++i) {
    const absl::Duration d = ev.incidents[i].duration;
    if (terms.restore_target && d > *terms.restore_target) {
      ev.ola_breaches.push_back({i, "restore_target", *terms.restore_target, d});
    }
    if (terms.max_single_outage && d > *terms.max_single_outage) {
      ev.ola_breaches.push_back({i, "max_single_outage", *terms.max_single_outage, d});
    }
  }
  return ev;
}

absl::StatusOr<Evaluation> Evaluate(const Timeline& timeline, const ServiceHours& hours,
                                    absl::Span<const MaintenanceWindow> maintenance,
                                    const SlaTerms& terms, Interval period, absl::Time now) {
  absl::StatusOr<AgreedHours> agreed =
      ResolveAgreedHours(hours, maintenance, CoverageNeeded(period, now, terms.burn_windows));
  if (!agreed.ok()) return agreed.status();
  return Evaluate(timeline, *agreed, terms, period, now);
}

}  // namespace accord::collector::availability
