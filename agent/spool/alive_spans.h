// AliveSpans: compact evidence that the agent was up while it could not reach the collector.
//
// Each heartbeat (`Record(t, boot_time)`) extends the newest span {first, last, boot_time} when
// it comes from the same boot and within `max_gap` after `last`; otherwise it opens a new
// span. A week of 1-second heartbeats in one boot is a single span. Times are kept at
// millisecond resolution (what the state file stores). At most `max_spans` are kept: beyond
// that the oldest span is dropped and counted. Acknowledging never removes the newest span
// (see Ack): there is always an anchor for the next heartbeat once one was recorded.
//
// Pure logic, no I/O; DiskSpool persists the spans in its state file.
// Thread safety: not thread-safe (DiskSpool guards it with its mutex).
#ifndef ACCORD_AGENT_SPOOL_ALIVE_SPANS_H_
#define ACCORD_AGENT_SPOOL_ALIVE_SPANS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "agent/transport/spool.h"

namespace accord::agent {

// AliveSpan (declared with the Spool seam in agent/transport/spool.h): the agent was seen
// alive at `first`, at `last`, and at least every max_gap in between, all in the boot
// identified by `boot_time` (e.g. btime from /proc/stat).

class AliveSpans {
 public:
  // REQUIRES: max_gap > 0, max_spans >= 1.
  AliveSpans(absl::Duration max_gap, size_t max_spans) : max_gap_(max_gap), max_spans_(max_spans) {}

  // Adds a heartbeat. A heartbeat inside the newest span (first <= t <= last) changes nothing;
  // one before its `first` (the wall clock stepped back), from another boot, or more than
  // max_gap after `last` opens a new span. Returns true if the spans changed.
  bool Record(absl::Time t, int64_t boot_time);

  // The collector holds the evidence up to and including `up_to`: spans with last <= up_to
  // are removed, except the newest one, which becomes the point {last, last}; a span with
  // first < up_to < last keeps only (up_to, last] and becomes {up_to, last}. Returns true if
  // the spans changed.
  //
  // Why the newest span stays: it may still be growing (heartbeats go on while connected).
  // Kept as an anchor at the acknowledged point, the next heartbeat within max_gap extends
  // it, so the evidence stays continuous from what the collector holds; removing it would
  // leave the time from the acknowledged point to the next heartbeat covered by nothing, and
  // a collector that dies before it saved a later sighting would count that time as
  // downtime. The point is sent again after a reconnect (the collector merges it: a resend
  // of what it holds adds nothing).
  bool Ack(absl::Time up_to);

  // Replaces the spans (restoring from the state file); keeps the newest max_spans.
  void Restore(std::vector<AliveSpan> spans);

  // Oldest first (in the order they were opened).
  const std::vector<AliveSpan>& spans() const { return spans_; }
  // Spans dropped to stay within max_spans since construction.
  uint64_t dropped() const { return dropped_; }

 private:
  void Trim();

  const absl::Duration max_gap_;
  const size_t max_spans_;
  std::vector<AliveSpan> spans_;
  uint64_t dropped_ = 0;
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SPOOL_ALIVE_SPANS_H_
