// Condition timelines: what state a host or a service was in over a range of time, exactly,
// as a sequence of contiguous segments. Built from a host's liveness log (HostRegistry's
// Transition list) and combined across a service's components by an AvailabilityRule.
//
// Thread safety: pure functions on values; safe from any thread.
#ifndef ACCORD_COLLECTOR_AVAILABILITY_TIMELINE_H_
#define ACCORD_COLLECTOR_AVAILABILITY_TIMELINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "collector/availability/sla_types.h"
#include "collector/hosts/host_registry.h"

namespace accord::collector::availability {

// The condition of a host or service at an instant.
//   kUp      evidence that it worked;
//   kDown    evidence that it did not (a shutdown goodbye, a reboot gap);
//   kUnknown no evidence either way (a monitoring gap); counted per UnknownPolicy.
enum class Condition { kUp, kDown, kUnknown };
const char* ConditionName(Condition condition);

// Causes that the timeline builders produce themselves (besides the Transition causes they
// copy: first_seen, connected, resumed, reboot, stream_broken, heartbeat_timeout,
// host_shutdown).
inline constexpr char kCauseNoData[] = "no_data";              // no transition covers it
inline constexpr char kCauseNotMonitored[] = "not_monitored";  // before the host's first_seen
inline constexpr char kCauseAgentStopped[] = "agent_stopped";  // clean agent stop, no reboot
inline constexpr char kCauseReboot[] = "reboot";               // gap ended by a new boot
inline constexpr char kCauseUnknown[] = "unknown";             // fallback: no cause recorded

// [start, end) in one condition.
struct Segment {
  absl::Time start;
  absl::Time end;
  Condition condition = Condition::kUnknown;
  // Why it is in this condition: for a host, the cause of the transition that began it
  // (kDown/kUnknown) or the way it came up (kUp); for a service's non-Up segment, the cause of
  // the component interval that has been not-Up the longest (earliest start; ties go to the
  // lower component index); empty for a service's Up segments.
  std::string cause;
  // Non-Up segments: indices into Timeline::component_ids of the components not Up, ascending.
  // A host's non-Up segment lists {0} (the host itself). Empty for Up segments.
  absl::InlinedVector<uint32_t, 4> not_up;
};

// The condition of one host or service over [start, end).
// Invariants: segments are contiguous (segments[i].end == segments[i+1].start), non-empty,
// cover exactly [start, end), and no two neighbours have the same condition, cause and
// not_up (they are merged; a host's neighbouring Up segments are merged whatever their cause
// and keep the first one's).
struct Timeline {
  std::string id;  // host id or service id
  absl::Time start;
  absl::Time end;
  std::vector<std::string> component_ids;  // a host: {id}; a service: its components in order
  std::vector<Segment> segments;
};

// A host's timeline over [from, to) from its liveness log.
//
// Each transition's `to` state holds from its `at` until the next transition's `at` (or `to`):
//   up                           → kUp, cause = the transition's cause;
//   down (host_shutdown goodbye) → kDown, cause "host_shutdown" (also when a reboot follows:
//                                  it stays down until the reboot transition);
//   unreachable                  → kUnknown, cause = stream_broken / heartbeat_timeout;
//                                  but kDown, cause "reboot", when the next transition's cause
//                                  is "reboot" (the boot time changed: it was down until the
//                                  first message after the boot, the reboot transition's `at`);
//   stopped (agent_stopping)     → kUnknown, cause "agent_stopped"; kDown "reboot" when the
//                                  next transition is a reboot.
// Before the first transition: kUnknown with cause "not_monitored" when that transition is
// first_seen (the host did not exist for us yet; Evaluate() leaves that time out of agreed
// service time under every UnknownPolicy), otherwise "no_data" (the log was truncated).
// No transitions at all: all kUnknown "no_data". After the last transition its state lasts
// until `to`: pass to = min(period end, now).
// The lookahead for a reboot uses the whole log, so a gap that a reboot after `to` explains
// is kDown too (re-evaluating a past period gives the answer known now).
//
// `transitions` should be sorted by `at` (HostRegistry::Transitions() is); an unsorted log is
// stably sorted first. REQUIRES: from <= to (a reversed range yields an empty timeline).
Timeline BuildHostTimeline(std::string host_id, absl::Span<const Transition> transitions,
                           absl::Time from, absl::Time to);

// Cuts `timeline` to [from, to) ∩ its own range, keeping the invariants.
void ClipTimeline(Timeline* timeline, absl::Time from, absl::Time to);

// A service's timeline from its components' timelines by `rule`, over the union of their
// ranges (where a component has no segment it counts as kUnknown "no_data"):
//   kAll:     Up iff all Up; Down if any Down; else Unknown.
//   kAny:     Up if any Up; Down if all Down; else Unknown.
//   kAtLeast: Up if #Up >= k; Down if #Up + #Unknown < k; else Unknown.
// The result's component_ids[i] is components[i]->id. A linear sweep over the components'
// segment edges, merged in time order: O(E log N) for E segments of N components.
// Errors: InvalidArgument when `components` is empty, has a null entry, or when
// rule.kind == kAtLeast and k is not in [1, components.size()].
absl::StatusOr<Timeline> CombineTimelines(std::string service_id,
                                          absl::Span<const Timeline* const> components,
                                          const AvailabilityRule& rule);

}  // namespace accord::collector::availability

#endif  // ACCORD_COLLECTOR_AVAILABILITY_TIMELINE_H_
