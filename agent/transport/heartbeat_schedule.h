// HeartbeatSchedule: when the agent's stream thread runs its heartbeat tick (a heartbeat
// unless a batch went out since the last tick, the backfill budget, proof of life in the
// spool). Pure timing, no I/O; times are monotonic.
//
// The tick runs at its deadline, or earlier on a wake for something else (a write done, an
// ack) once it is half due, so it does not need a wake of its own. When the tick finds that a
// batch went out since the last one (the heartbeat is skipped), the next deadline is 1.25
// intervals after that batch: the next batch's write completion then normally comes first
// and carries the tick. With batches every heartbeat interval (1 s samples, 1 s heartbeats)
// the tick never wakes the thread by itself, where a deadline a whisker before each batch
// would wake it every second. The longest silence between messages is 1.25 intervals after a
// batch and one interval after a heartbeat (up to 2 when every tick kept a fixed period).
#ifndef ACCORD_AGENT_TRANSPORT_HEARTBEAT_SCHEDULE_H_
#define ACCORD_AGENT_TRANSPORT_HEARTBEAT_SCHEDULE_H_

#include <algorithm>
#include <optional>

#include "absl/time/time.h"

namespace accord::agent {

class HeartbeatSchedule {
 public:
  HeartbeatSchedule(absl::Duration interval, absl::Duration now)
      : interval_(interval), last_(now), next_(now + interval) {}

  // When the tick is due at the latest.
  absl::Duration deadline() const { return next_; }
  // Whether a thread awake at `now` for something else should run the tick now.
  bool DueOnWake(absl::Duration now) const { return now >= next_ - interval_ / 2; }
  // Time since the last tick (the backfill budget to add).
  absl::Duration SinceLast(absl::Duration now) const { return now - last_; }
  // The tick ran at `now`. `batch_sent_at`: when the newest batch went out, if one did since
  // the last tick (the heartbeat was skipped); nullopt: a heartbeat was sent.
  // `backlog_paced`: a backlog is being sent at a bounded rate, which the tick's refills
  // pace; the next tick is then one interval on (1.25 intervals after a burst of the backlog
  // would slow it to 0.8 of its rate).
  void Ticked(absl::Duration now, std::optional<absl::Duration> batch_sent_at,
              bool backlog_paced = false) {
    last_ = now;
    next_ = batch_sent_at.has_value() && !backlog_paced
                ? std::max(*batch_sent_at + interval_ + interval_ / 4, now + interval_ / 8)
                : now + interval_;
  }

 private:
  absl::Duration interval_;
  absl::Duration last_;
  absl::Duration next_;
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_TRANSPORT_HEARTBEAT_SCHEDULE_H_
