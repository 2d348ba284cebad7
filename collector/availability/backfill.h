// Backfill: alive evidence that arrives after the fact (alive spans an agent recorded while
// it could not reach the collector) rewrites the past. Time a host's log shows as Unknown
// (a monitoring gap) or as Down because of a reboot gap becomes Up where an alive span covers
// it (cause "backfill"): the host was up, only unreachable. A shutdown the agent announced
// (Down "host_shutdown") is never overridden, and neither is time before the host was first
// seen. Pure; thread-safe.
#ifndef ACCORD_COLLECTOR_AVAILABILITY_BACKFILL_H_
#define ACCORD_COLLECTOR_AVAILABILITY_BACKFILL_H_

#include "absl/types/span.h"
#include "collector/availability/intervals.h"
#include "collector/availability/timeline.h"

namespace accord::collector::availability {

inline constexpr char kCauseBackfill[] = "backfill";

// Rewrites a host timeline (BuildHostTimeline) with `alive` (any order, may overlap).
// Keeps the Timeline invariants (contiguous, neighbours merged).
//
// `bridge`: heartbeats are discrete, so evidence ends a little before the reconnect that
// follows it (the last recorded heartbeat, then the new stream's hello). A gap of at most
// `bridge` left between backfilled Up time and the Up time that follows it is Up too. Real
// outages are not shortened: a gap counts only when Up evidence lies on both sides of it.
void OverlayAlive(Timeline* timeline, absl::Span<const Interval> alive,
                  absl::Duration bridge = absl::ZeroDuration());

// A host's timeline over [from, to): BuildHostTimeline with `alive` overlaid by OverlayAlive.
// The seams are judged on the log around the range, not inside it: the timeline is built
// `bridge` wider on both sides and then cut, so a range that ends (or begins) inside the
// seam before a reconnect is bridged just as a range spanning the reconnect is.
Timeline BuildBackfilledHostTimeline(std::string host_id, absl::Span<const Transition> transitions,
                                     absl::Span<const Interval> alive, absl::Time from,
                                     absl::Time to, absl::Duration bridge);

}  // namespace accord::collector::availability

#endif  // ACCORD_COLLECTOR_AVAILABILITY_BACKFILL_H_
